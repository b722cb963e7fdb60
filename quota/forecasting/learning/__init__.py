"""The learned win probability: features as known at a moment (features), the model (model), training and
its evaluation on a strict time split (training)."""
