"""Training the win-probability model and scoring the open deals with it (the writes of the learned probability).

`win_model_train` writes a new `WinModel` version every time. It learns only from enough closed deals
(settings.FORECAST_MIN_CLOSED_DEALS) and keeps the learned model only if, on the latest fifth of the closed deals
(trained without them), it scored better than the stage probabilities by Brier score; otherwise the version
records why the forecast stays with the stage probabilities. Either way the open deals are scored (or their
scores removed) at once, so `probability.win_probability()` always reads the latest version.

`open_deals_score` scores every open deal now: its features read at once, its factors chunk by chunk, the scores
upserted in one statement. Scores are as of their `scored_at`; `changed_deals_score`, every few minutes, scores
again the deals that moved (or opened) since, so a probability follows its deal within minutes, not the next night.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from quota.core.collector import collector_paused
from quota.crm.choices import DealStatus
from quota.crm.models import Deal, LeadSource, Stage
from quota.forecasting.learning import features as feature_reader
from quota.forecasting.learning.features import CATEGORICAL, training_examples
from quota.forecasting.learning.model import TooFewExamples, WinModelParameters, fit
from quota.forecasting.learning.training import (
    closed_deal_count,
    default_split,
    evaluate,
    max_training_deals,
    min_closed_deals,
)
from quota.forecasting.models import DealScore, WinModel, WinModelMethod

SCORE_CHUNK = 20_000


def win_model_train(*, by: Any = None, now: dt.datetime | None = None, using: str = DEFAULT_DB_ALIAS) -> WinModel:
    """Train a new version from the closed deals, or record why the stages' probabilities stay; then score."""
    now = now or timezone.now()
    closed = closed_deal_count(using=using)
    common: dict[str, Any] = {"trained_at": now, "closed_deals": closed, "trained_by": by, "features": _feature_names()}
    if closed < min_closed_deals():
        fallback = {"fallback": "too_few", "closed": closed, "minimum": min_closed_deals()}
        return _save_and_score(WinModel(method=WinModelMethod.STAGE, evaluation=fallback, **common), now, using)
    examples = training_examples(max_deals=max_training_deals(), using=using)
    evaluation: dict[str, Any]
    try:
        evaluation = evaluate(split=default_split(examples), examples=examples, using=using).as_json()
    except TooFewExamples as exc:
        evaluation = {"error": str(exc)}
    try:
        parameters = fit(examples)
    except TooFewExamples as exc:
        fallback = {"fallback": "cannot_fit", "error": str(exc), **evaluation}
        return _save_and_score(WinModel(method=WinModelMethod.STAGE, evaluation=fallback, **common), now, using)
    trained = {
        "training_deals": len(np.unique(examples.deal_id)),
        "training_examples": len(examples),
        "parameters": parameters.as_json(),
    }
    if "model" in evaluation and evaluation["model"]["brier"] >= evaluation["baseline"]["brier"]:
        evaluation = {"fallback": "not_better", **evaluation}
        return _save_and_score(WinModel(method=WinModelMethod.STAGE, evaluation=evaluation, **common, **trained), now, using)
    return _save_and_score(WinModel(method=WinModelMethod.LEARNED, evaluation=evaluation, **common, **trained), now, using)


def _feature_names() -> list[str]:
    return [*feature_reader.NUMERIC, *CATEGORICAL]


def _save_and_score(win_model: WinModel, now: dt.datetime, using: str) -> WinModel:
    with transaction.atomic(using=using):
        latest = WinModel.objects.using(using).select_for_update().aggregate(latest=Max("version"))["latest"] or 0
        win_model.version = latest + 1
        win_model.save(using=using)
    open_deals_score(win_model=win_model, now=now, using=using)
    return win_model


def current_win_model(*, using: str = DEFAULT_DB_ALIAS) -> WinModel | None:
    return WinModel.objects.using(using).order_by("-version").first()


def open_deals_score(*, win_model: WinModel | None = None, now: dt.datetime | None = None, using: str = DEFAULT_DB_ALIAS) -> int:
    """Score every open deal with the latest model (or `win_model`); how many were scored.

    With no learned model, every stored score is removed: the deals then read their stage's probability.
    """
    now = now or timezone.now()
    win_model = win_model or current_win_model(using=using)
    if win_model is None or not win_model.is_learned:
        DealScore.objects.using(using).all().delete()
        return 0
    with transaction.atomic(using=using):
        scored = _score(_open_deals(now, using), win_model, now, using)
        DealScore.objects.using(using).filter(~Q(model=win_model) | ~Q(deal__status=DealStatus.OPEN)).delete()
    return scored


def changed_deals_score(*, now: dt.datetime | None = None, using: str = DEFAULT_DB_ALIAS) -> int:
    """Score again, with the latest learned model, the open deals that changed since they were scored (their
    current state began after their score: a new stage, amount, close date or owner) or that opened since; the
    scores of deals closed since are removed. How many were scored (0 without a learned model).

    Run every few minutes (CELERY_BEAT_SCHEDULE), so a deal's probability follows its moves the same hour
    rather than the next night; the query finds them through the current states and the scores, both indexed.
    """
    now = now or timezone.now()
    win_model = current_win_model(using=using)
    if win_model is None or not win_model.is_learned:
        return 0
    stale = Q(score__isnull=True) | Q(states__valid_to__isnull=True, states__valid_from__gt=F("score__scored_at"))
    with transaction.atomic(using=using):
        scored = _score(_open_deals(now, using, stale), win_model, now, using)
        DealScore.objects.using(using).exclude(deal__status=DealStatus.OPEN).delete()
    return scored


def _open_deals(now: dt.datetime, using: str, *conditions: Q) -> Any:
    """The ids of the deals open at `now` (and meeting `conditions`), in id order, as a numpy array."""
    deals = Deal.objects.using(using).filter(*conditions, status=DealStatus.OPEN, created_at__lte=now)
    return np.fromiter(deals.order_by("pk").values_list("pk", flat=True).distinct().iterator(), dtype=np.int64)


def _score(open_ids: Any, win_model: WinModel, now: dt.datetime, using: str) -> int:
    """Score these open deals with `win_model` as of `now`; how many."""
    if len(open_ids) == 0:
        return 0
    parameters = WinModelParameters.from_json(win_model.parameters)
    # One read of the features (the closes before now are read once, not per chunk), then scores in chunks.
    with collector_paused():
        every = feature_reader.features(open_ids, np.full(len(open_ids), int(now.timestamp())), using=using)
        probability = parameters.predict(every)
        labels = _labels(using)
        factors: list[str] = []  # each deal's as JSON text
        for lo in range(0, len(open_ids), SCORE_CHUNK):
            chunk = np.arange(lo, min(lo + SCORE_CHUNK, len(open_ids)))
            factors.extend(parameters.factors_json(every.take(chunk), labels=labels))
    with transaction.atomic(using=using):
        _save_scores(open_ids.tolist(), probability.tolist(), factors, win_model, now, using)
    return len(open_ids)


def _save_scores(
    deals: list[int], probabilities: list[float], factors: list[str], win_model: WinModel, now: dt.datetime, using: str
) -> None:
    """Each deal's score (its probability and factors, JSON text) written over its last one, as of `now`.

    On PostgreSQL in one statement with three parameters: the deals and the probabilities as arrays, and every
    deal's factors in one JSON array; an INSERT with a placeholder per value, as bulk_create builds, took most of
    the scoring's time. Elsewhere bulk_create.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        DealScore.objects.using(using).bulk_create(
            [
                DealScore(deal_id=deal, model=win_model, probability=p, factors=json.loads(f), scored_at=now)
                for deal, p, f in zip(deals, probabilities, factors, strict=True)
            ],
            batch_size=5_000,
            update_conflicts=True,
            unique_fields=["deal"],
            update_fields=["model", "probability", "factors", "scored_at"],
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {DealScore._meta.db_table} (deal_id, model_id, probability, factors, scored_at)
            SELECT score.deal_id, %s, score.probability, score.factors, %s
            FROM unnest(
                %s::bigint[],
                %s::double precision[],
                ARRAY(SELECT f FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS listed (f, n) ORDER BY n)
            ) AS score (deal_id, probability, factors)
            ON CONFLICT (deal_id) DO UPDATE SET model_id = EXCLUDED.model_id, probability = EXCLUDED.probability,
                factors = EXCLUDED.factors, scored_at = EXCLUDED.scored_at
            """,
            [win_model.pk, now, deals, probabilities, "[" + ", ".join(factors) + "]"],
        )


def _labels(using: str) -> dict[str, dict[str, str]]:
    """Names for the categories the factors show: stages by id, sources by key (products are names already)."""
    stages = {str(stage.pk): str(stage) for stage in Stage.objects.using(using).select_related("pipeline")}
    sources = {source.key: str(source) for source in LeadSource.objects.using(using).all()}
    return {"stage": stages, "source": sources}
