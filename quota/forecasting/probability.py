"""A deal's win probability as the forecast reads it: the learned score when there is one, else its stage's.

    Deal.objects.annotate(p=win_probability())   # 0..1, one LEFT JOIN on the scores, no query per deal
    probability_method().description             # which it is, in words

The learned model's scores are stored per open deal (forecasting.services.open_deals_score); when the latest
model version is not a learned one (too few closed deals, or it did not beat the stages) there are no scores,
so every deal reads its stage's probability / 100. A deal opened since the last scoring reads its stage's too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.db.models import ExpressionWrapper, F, FloatField, Value
from django.db.models.functions import Cast, Coalesce
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from quota.forecasting.models import WinModel


def win_probability() -> Any:
    """An expression for Deal querysets: the stored learned probability, else the stage's probability / 100."""
    stage = ExpressionWrapper(Cast(F("stage__probability"), FloatField()) / Value(100.0), output_field=FloatField())
    return Coalesce(F("score__probability"), stage, output_field=FloatField())


@dataclass(frozen=True)
class ProbabilityMethod:
    learned: bool
    model: WinModel | None

    @property
    def description(self) -> str:
        model = self.model
        if model is None:
            return _("Stage win probabilities: no model has been trained yet (quota forecast train).")
        if self.learned:
            return _(
                "Learned win probability (model version %(version)s, trained %(date)s on %(deals)s closed deals); "
                "deals are scored again within minutes of a change, and a deal opened since then uses its stage's "
                "probability until it is."
            ) % {
                "version": model.version,
                "date": date_format(model.trained_at, "SHORT_DATE_FORMAT"),
                "deals": model.training_deals,
            }
        reason = model.evaluation.get("fallback")
        if reason == "too_few":
            return _(
                "Stage win probabilities: only %(closed)s closed deals, fewer than the %(minimum)s needed to learn from."
            ) % {
                "closed": model.evaluation.get("closed", model.closed_deals),
                "minimum": model.evaluation.get("minimum", "?"),
            }
        if reason == "not_better":
            return _("Stage win probabilities: the learned model did not predict the latest closed deals better than the stages.")
        return _("Stage win probabilities: the model could not be trained on the closed deals.")


def probability_method(*, using: str = DEFAULT_DB_ALIAS) -> ProbabilityMethod:
    """Which probability `win_probability()` gives now: the latest model version decides."""
    latest = WinModel.objects.using(using).order_by("-version").first()
    return ProbabilityMethod(learned=latest is not None and latest.is_learned, model=latest)
