"""Training and evaluating the win-probability model: the time split, the fallback, the JSON, and that it learns."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import numpy as np
import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse

from quota.crm.models import Deal
from quota.crm.services import deal_close_lost, deal_create, deal_move_stage
from quota.forecasting.learning import model as model_module
from quota.forecasting.learning.features import CATEGORICAL, FACTOR_OF, NUMERIC, training_examples
from quota.forecasting.learning.model import WinModelParameters, fit
from quota.forecasting.learning.training import evaluate
from quota.forecasting.models import DealScore, WinModel
from quota.forecasting.probability import probability_method, win_probability
from quota.forecasting.services import win_model_train
from quota.forecasting.tasks import retrain_win_model, score_changed_deals, score_open_deals
from quota.forecasting.tests.worlds import by_source, closed_deals, coin
from quota.testing.factories import loss_reason

pytestmark = pytest.mark.django_db

SPLIT = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def small_minimum(settings):
    settings.FORECAST_MIN_CLOSED_DEALS = 100


def test_no_deal_closed_after_the_split_is_trained_or_calibrated_on(monkeypatch):
    closed_deals(300, by_source)
    seen = []
    real_fit = model_module.fit

    def spying_fit(examples):
        seen.append(examples)
        return real_fit(examples)

    monkeypatch.setattr(model_module, "fit", spying_fit)  # everything fitted and calibrated on goes through it
    result = evaluate(split=SPLIT)
    (trained,) = seen
    assert (trained.closed_at < SPLIT.timestamp()).all()
    closed = Deal.objects.filter(closed_at__isnull=False)
    assert result.n_train == len(np.unique(trained.deal_id)) == closed.filter(closed_at__lt=SPLIT).count()
    assert result.n_test == closed.filter(closed_at__gte=SPLIT).count()
    # Calibration is on predictions for training deals, each by a regression fitted without it: never the test deals.
    held_out = model_module.out_of_fold_probabilities(trained)
    assert len(held_out) == len(trained) and ((held_out > 0) & (held_out < 1)).all()


def test_the_model_beats_the_stage_probabilities_when_the_outcome_depends_on_a_feature():
    closed_deals(500, by_source)
    result = evaluate(split=SPLIT)
    assert result.model["brier"] < result.baseline["brier"] - 0.05
    assert result.model["log_loss"] < result.baseline["log_loss"]


def test_calibrated_probabilities_match_the_win_rate():
    closed_deals(500, coin(0.3), seed=3)
    result = evaluate(split=SPLIT)
    bands = result.calibration["model"]
    predicted = sum(b["predicted"] * b["n"] for b in bands) / sum(b["n"] for b in bands)
    actual = sum(b["actual"] * b["n"] for b in bands) / sum(b["n"] for b in bands)
    assert predicted == pytest.approx(actual, abs=0.08)
    assert 0.2 < predicted < 0.4
    # With features that say nothing, the model cannot claim much confidence either way.
    assert all(b["predicted"] < 0.7 for b in bands)


def test_the_stored_json_scores_as_the_fitted_model():
    closed_deals(300, by_source)
    examples = training_examples()
    parameters = fit(examples)
    stored = WinModelParameters.from_json(json.loads(json.dumps(parameters.as_json())))
    assert np.allclose(stored.predict(examples), parameters.predict(examples))
    base, terms = stored.contributions(examples)
    assert np.allclose(1 / (1 + np.exp(-(base + terms.sum(axis=1)))), stored.raw_probability(examples))
    factors = stored.factors(examples.take(np.arange(1)))[0]
    assert factors and factors[0]["feature"] == "source"


def reference_factors(parameters, examples, labels):
    """The top three factors by plain Python, feature by feature and deal by deal (what factors_json writes as text)."""
    _, terms = parameters.contributions(examples)
    names = [*NUMERIC, *CATEGORICAL]
    shown = [name for name in names if name not in FACTOR_OF]
    column = {name: i for i, name in enumerate(NUMERIC)}
    out = []
    for row in range(len(examples)):
        merged = dict.fromkeys(shown, 0.0)
        for i, name in enumerate(names):
            merged[FACTOR_OF.get(name, name)] += terms[row, i]
        numbers = examples.numeric[row]

        def value(name, numbers=numbers, row=row):
            if name in CATEGORICAL:
                shown_value = examples.categorical[row, CATEGORICAL.index(name)]
                return labels.get(name, {}).get(str(shown_value), shown_value)
            x = numbers[column[name]]
            if name == "amount":
                return None if numbers[column["amount_unknown"]] else float(round(np.expm1(x), 2))
            if name == "existing_customer":
                return bool(x > 0)
            if name == "owner_win_rate":
                return float(np.round(x, 3))
            if name == "days_to_expected_close":
                return None if numbers[column["no_expected_close"]] else int(x)
            return int(np.round(np.expm1(x)))

        # Ties (two features with the same term) in the order numpy's sort leaves them, as factors_json's.
        top = [shown[k] for k in np.argsort(-np.abs(np.array(list(merged.values()))))[:3]]
        out.append(
            [
                {"feature": name, "value": value(name), "effect": round(float(merged[name]), 3)}
                for name in top
                if abs(merged[name]) >= 0.005
            ]
        )
    return out


def test_the_factors_json_is_the_top_factors_as_json_dumps_writes_them():
    closed_deals(300, by_source)
    examples = training_examples()
    parameters = fit(examples)
    labels = {"source": {"referral": "Referral (named)"}}
    texts = parameters.factors_json(examples, labels=labels)
    expected = reference_factors(parameters, examples, labels)
    assert [json.loads(text) for text in texts] == expected
    assert texts == [json.dumps(factors) for factors in expected]
    assert any(f["value"] == "Referral (named)" for factors in expected for f in factors)
    assert parameters.factors(examples) == reference_factors(parameters, examples, {})


def test_below_the_minimum_it_falls_back_to_the_stage_probabilities_and_says_so(settings):
    closed_deals(40, by_source, open_deals=5)
    win_model = win_model_train()
    assert not win_model.is_learned and win_model.evaluation["fallback"] == "too_few"
    assert not DealScore.objects.exists()
    method = probability_method()
    assert not method.learned and "40" in method.description and "100" in method.description
    deal = Deal.objects.filter(status="open").annotate(p=win_probability()).first()
    assert deal.p == pytest.approx(deal.stage.probability / 100)
    with pytest.raises(CommandError, match=r"only .* deals closed before"):
        call_command("forecast", "evaluate", "--split", "2025-03-01")


def test_train_scores_the_open_deals_and_the_expression_reads_the_scores():
    closed_deals(400, by_source, open_deals=30)
    win_model = win_model_train()
    assert win_model.is_learned, win_model.evaluation
    assert win_model.version == 1 and win_model.training_deals == 400
    assert DealScore.objects.count() == 30
    rows = Deal.objects.filter(status="open").annotate(p=win_probability()).select_related("score")
    assert all(row.p == pytest.approx(row.score.probability) for row in rows)
    referral = [row.p for row in rows if row.source.key == "referral"]
    website = [row.p for row in rows if row.source.key == "website"]
    assert min(referral) > max(website)
    assert probability_method().learned
    assert WinModel.objects.get().evaluation["model"]["brier"] < WinModel.objects.get().evaluation["baseline"]["brier"]


def test_evaluate_prints_the_json_shape():
    closed_deals(300, by_source)
    out = StringIO()
    call_command("forecast", "evaluate", "--split", "2025-03-01", "--format", "json", stdout=out)
    data = json.loads(out.getvalue())
    assert set(data) >= {"model", "baseline", "n_train", "n_test"}
    assert set(data["model"]) == set(data["baseline"]) == {"brier", "log_loss"}
    assert isinstance(data["n_train"], int) and isinstance(data["n_test"], int)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--split", "2025-13-01"], "--split takes a date as YYYY-MM-DD"),
        (["--format", "xml"], "--format must be table or json"),
    ],
)
def test_evaluate_refuses_bad_input_in_one_line(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("forecast", "evaluate", *args)


def test_the_deal_page_shows_the_probability_and_its_factors(client):
    closed_deals(400, by_source, open_deals=3)
    win_model_train()
    deal = Deal.objects.filter(status="open").select_related("score", "owner").first()
    client.force_login(deal.owner)
    page = client.get(reverse("crm:deal_detail", args=[deal.pk])).content.decode()
    assert "Win probability" in page and f"{round(100 * deal.score.probability)}%" in page
    assert "Source" in page  # the factor that decides this world's outcomes
    closed = Deal.objects.exclude(status="open").first()
    client.force_login(closed.owner)
    assert "Win probability" not in client.get(reverse("crm:deal_detail", args=[closed.pk])).content.decode()


def test_the_retrain_and_rescore_tasks_are_scheduled():
    from django.conf import settings

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "quota.forecasting.tasks.retrain_win_model",
        "quota.forecasting.tasks.score_open_deals",
        "quota.forecasting.tasks.score_changed_deals",
    } <= tasks
    closed_deals(150, by_source, open_deals=2)
    assert retrain_win_model.apply().result.startswith("v1 learned")
    assert score_open_deals.apply().result == 2


def test_a_deal_that_moves_or_opens_is_scored_again_within_the_minutes_task_and_a_closed_one_loses_its_score():
    closed_deals(400, by_source, open_deals=4)
    win_model_train()
    moved, closing, untouched, *_ = Deal.objects.filter(status="open").order_by("pk")
    before = {score.deal_id: score for score in DealScore.objects.all()}
    assert score_changed_deals.apply().result == 0  # nothing changed since the training scored them
    later = before[moved.pk].scored_at + dt.timedelta(hours=2)
    with time_machine.travel(later, tick=False):
        deal_move_stage(deal=moved, stage=moved.pipeline.stages.order_by("-position").first(), by=None)
        deal_close_lost(deal=closing, by=None, reason=loss_reason())
        opened = deal_create(by=None, title="New", owner=untouched.owner, source=untouched.source, amount=untouched.amount)
        assert score_changed_deals.apply().result == 2  # the moved deal and the new one
    rescored = DealScore.objects.get(deal=moved)
    assert rescored.scored_at == later and rescored.probability != before[moved.pk].probability
    assert DealScore.objects.get(deal=untouched).scored_at == before[untouched.pk].scored_at
    assert DealScore.objects.filter(deal=opened).exists() and not DealScore.objects.filter(deal=closing).exists()
