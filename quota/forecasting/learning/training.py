"""Training and evaluating the win-probability model on a strict time split.

`evaluate(split)`: the model is fitted (and calibrated, see model.fit) on the examples of deals closed before the
split, and tested on the examples of deals closed on or after it; no deal closed after the split is trained or
calibrated on. The baseline is each example's stage probability at its moment. Both are scored over the same
test examples (a deal counts once per moment it is scored at) by Brier score and log loss, lower is better.

Below `settings.FORECAST_MIN_CLOSED_DEALS` closed deals there is nothing worth learning: `min_closed_deals()`
says how many, and the callers fall back to the stage probabilities. At the largest sizes a seeded sample of
`settings.FORECAST_MAX_TRAINING_DEALS` deals is trained on (features.training_examples).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

from quota.crm.choices import DealStatus
from quota.crm.models import Deal
from quota.forecasting.learning import model
from quota.forecasting.learning.features import Features, training_examples
from quota.forecasting.learning.model import TooFewExamples, WinModelParameters


def min_closed_deals() -> int:
    return int(settings.FORECAST_MIN_CLOSED_DEALS)


def max_training_deals() -> int:
    return int(settings.FORECAST_MAX_TRAINING_DEALS)


def closed_deal_count(*, before: dt.datetime | None = None, using: str = DEFAULT_DB_ALIAS) -> int:
    closed = Deal.objects.using(using).filter(status__in=[DealStatus.WON, DealStatus.LOST])
    return closed.filter(closed_at__lt=before).count() if before is not None else closed.count()


@dataclass(frozen=True)
class Evaluation:
    split: dt.datetime
    n_train: int  # deals
    n_test: int
    train_examples: int
    test_examples: int
    model: dict[str, float]
    baseline: dict[str, float]
    calibration: dict[str, list[dict[str, Any]]]
    parameters: WinModelParameters

    def as_json(self) -> dict[str, Any]:
        """The shape `quota forecast evaluate --format json` prints (the first five keys are the contract)."""
        return {
            "model": self.model,
            "baseline": self.baseline,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "split": self.split.date().isoformat(),
            "train_examples": self.train_examples,
            "test_examples": self.test_examples,
            "calibration": self.calibration,
        }


def evaluate(*, split: dt.datetime, examples: Features | None = None, using: str = DEFAULT_DB_ALIAS) -> Evaluation:
    """Fit on deals closed before `split`, test on deals closed from it on (raises TooFewExamples)."""
    if examples is None:
        examples = training_examples(max_deals=max_training_deals(), using=using)
    cut = int(split.timestamp())
    train = np.flatnonzero(examples.closed_at < cut)
    test = np.flatnonzero(examples.closed_at >= cut)
    n_train = len(np.unique(examples.deal_id[train]))
    if n_train < min_closed_deals():
        raise TooFewExamples(
            f"only {n_train} deals closed before {split.date()}: at least {min_closed_deals()} are needed to learn from "
            "(FORECAST_MIN_CLOSED_DEALS)"
        )
    if not len(test):
        raise TooFewExamples(f"no deal closed on or after {split.date()}: nothing to test on")
    test_examples = examples.take(test)
    parameters = model.fit(examples.take(train))
    predicted = parameters.predict(test_examples)
    baseline = np.clip(test_examples.stage_probability, model.CLIP, 1 - model.CLIP)
    won = test_examples.won
    return Evaluation(
        split=split,
        n_train=n_train,
        n_test=len(np.unique(test_examples.deal_id)),
        train_examples=len(train),
        test_examples=len(test),
        model=_scores(predicted, won),
        baseline=_scores(baseline, won),
        calibration={"model": model.calibration_bands(predicted, won), "baseline": model.calibration_bands(baseline, won)},
        parameters=parameters,
    )


def default_split(examples: Features) -> dt.datetime:
    """The close date that leaves the last fifth of the closed deals to test on."""
    closes = np.sort(np.unique(np.stack([examples.deal_id, examples.closed_at]), axis=1)[1])
    if not len(closes):
        raise TooFewExamples("there are no closed deals")
    return dt.datetime.fromtimestamp(int(closes[int(len(closes) * 0.8)]), tz=dt.UTC)


def _scores(probability: np.ndarray, won: np.ndarray) -> dict[str, float]:
    return {"brier": round(model.brier(probability, won), 5), "log_loss": round(model.log_loss(probability, won), 5)}
