"""The learned win probability: training it and scoring every open deal, per seeded PostgreSQL database.

    run(sizes=["large"]) -> {"forecast_model": {"large": {"train_s": .., "train_peak_mb": .., "score_s": .., ...}}}

Training is `forecasting.services.win_model_train` without its scoring (features of a seeded sample of at most
FORECAST_MAX_TRAINING_DEALS closed deals, the evaluation on the latest fifth, the final fit); scoring is
`open_deals_score` (features of every open deal now, the prediction, the upsert of the scores). Peak memory is
Python's (tracemalloc: numpy arrays and the rows read) above what the process held before; `max_rss_mb` is the
process's high-water mark as the operating system saw it. A new model version is written each run.
"""

from __future__ import annotations

import resource
import time
import tracemalloc
from typing import Any

from django.db import DEFAULT_DB_ALIAS

from quota.bench.databases import measure_each


def run(*, sizes: list[str] | tuple[str, ...]) -> dict[str, Any]:
    results = measure_each(sizes, lambda: _measure(DEFAULT_DB_ALIAS))
    return {"forecast_model": results}


def _measure(using: str) -> dict[str, Any]:
    from unittest import mock

    from quota.crm.models import Deal
    from quota.forecasting import services
    from quota.forecasting.models import DealScore

    tracemalloc.start()
    started = time.perf_counter()
    with mock.patch.object(services, "open_deals_score", return_value=0):  # timed apart below
        win_model = services.win_model_train(using=using)
    train_s = time.perf_counter() - started
    _, train_peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    scored = services.open_deals_score(win_model=win_model, using=using)
    score_s = time.perf_counter() - started
    _, score_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    evaluation = win_model.evaluation
    return {
        "closed_deals": win_model.closed_deals,
        "training_deals": win_model.training_deals,
        "training_examples": win_model.training_examples,
        "method": win_model.method,
        "train_s": round(train_s, 1),
        "train_peak_mb": round(train_peak / 2**20, 1),
        "open_deals": Deal.objects.using(using).filter(status="open").count(),
        "scored": scored,
        "scores_stored": DealScore.objects.using(using).count(),
        "score_s": round(score_s, 1),
        "score_peak_mb": round(score_peak / 2**20, 1),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "model": evaluation.get("model"),
        "baseline": evaluation.get("baseline"),
    }
