"""Rollups answer instead of the records, stay current through ORM writes, and are never read when stale."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import FloatField, Value
from django.test.utils import CaptureQueriesContext

from quota.accounts.models import User
from quota.activities.models import Activity
from quota.crm.models import Deal
from quota.crm.services import deal_close_lost, deal_close_won, deal_create, deal_reopen, deal_update
from quota.kpi import rollups
from quota.kpi.engine import evaluate, evaluate_spans, reading_once
from quota.kpi.models import Metric, Rollup, RollupState
from quota.kpi.periods import Span
from quota.kpi.rollups import keeping, reading
from quota.testing.factories import CallFactory, LeadFactory, UserFactory, default_pipeline, loss_reason

pytestmark = pytest.mark.django_db

KPIS = ["won_revenue", "won_deals", "win_rate", "sales_cycle_days", "pipeline_value", "open_deals", "avg_days_open", "calls_made"]
WINDOW = {"start": dt.date(2024, 1, 1), "end": dt.date(2024, 6, 30), "every": "month"}


def at(month, day):
    return dt.datetime(2024, month, day, 10, tzinfo=dt.UTC)


def values(by="person", **window):
    evaluation = evaluate(KPIS, user=None, by=by, **(window or WINDOW))
    return {r.key: [(p.period, p.group and p.group.id, p.value, p.previous, p.last_year) for p in r.points] for r in evaluation}


def assert_same_as_records(by="person", **window):
    from_rollups = values(by, **window)
    with rollups.bypassed():
        from_records = values(by, **window)
    assert from_rollups.keys() == from_records.keys()
    for key, points in from_records.items():
        assert len(from_rollups[key]) == len(points), key
        for mine, theirs in zip(from_rollups[key], points, strict=True):
            assert mine[:2] == theirs[:2], key
            for a, b in zip(mine[2:], theirs[2:], strict=True):
                assert (a is None and b is None) or a == pytest.approx(b, rel=1e-9), (key, mine, theirs)


@pytest.fixture
def sales():
    reps = [UserFactory(), UserFactory()]
    for month in range(1, 6):
        for rep in reps:
            deal = deal_create(by=None, title="d", owner=rep, amount=Decimal(100 * month), created_at=at(month, 2))
            deal_close_won(deal=deal, by=None, at=at(month, 20))
            deal_create(by=None, title="open", owner=rep, amount=Decimal(50), created_at=at(month, 3))
            CallFactory(owner=rep, occurred_at=at(month, 4))
    rollups.rebuild()
    return reps


def test_fresh_rollups_answer_instead_of_the_records(sales):
    with CaptureQueriesContext(connection) as captured:
        evaluate(KPIS, user=None, by="person", **WINDOW)
    # Besides the freshness check (the newest id of each source), only rollups are read.
    sql = " ".join(q["sql"] for q in captured.captured_queries if "kpi_rollupstate" not in q["sql"])
    assert "kpi_rollup" in sql
    assert "crm_deal" not in sql and "activities_activity" not in sql
    assert_same_as_records()
    assert_same_as_records(by="team")
    assert_same_as_records(by="none", start=dt.date(2024, 2, 1), end=dt.date(2024, 4, 30), every="none")  # month-aligned
    assert_same_as_records(by="none", start=dt.date(2024, 2, 10), end=dt.date(2024, 4, 3), every="none")  # by day
    assert_same_as_records(by="person", start=dt.date(2024, 1, 1), end=dt.date(2024, 3, 31), every="week")


def test_writes_through_the_orm_keep_them_current(sales, django_capture_on_commit_callbacks):
    rep, other = sales
    with django_capture_on_commit_callbacks(execute=True):
        new = deal_create(by=None, title="new", owner=rep, amount=Decimal("75.5"), created_at=at(3, 7))
        deal_close_won(deal=new, by=None, at=at(4, 1))
        deal_update(deal=new, by=None, data={"owner": other, "amount": Decimal(80)})
        moved = Deal.objects.filter(status="open", owner=rep).first()
        deal_close_lost(deal=moved, by=None, reason=loss_reason(), at=at(5, 30))
        deal_reopen(deal=Deal.objects.filter(status="won").first(), by=None, at=at(6, 1))
        Deal.objects.filter(title="open").last().delete()
        call = Activity.objects.first()
        call.occurred_at = at(6, 15)
        call.save()
        CallFactory(owner=None, occurred_at=at(2, 2))
    assert rollups.all_fresh()
    assert_same_as_records()
    assert_same_as_records(by="none")


def test_rows_inserted_behind_the_orms_back_make_them_stale_not_wrong(sales):
    rep, pipeline = sales[0], default_pipeline()
    first = pipeline.stages.order_by("position").first()
    Deal.objects.bulk_create(
        [Deal(title="copied", owner=rep, pipeline=pipeline, stage=first, created_at=at(2, 2), amount=Decimal(999))]
    )
    deals = [leaf for leaf in rollups.rollup_leaves() if leaf.source == "deals"]
    assert not rollups.fresh_leaves(deals, "default")
    assert_same_as_records()  # the records answer until the next rebuild
    rollups.rebuild()
    assert rollups.fresh_leaves(deals, "default").keys() == {leaf.key for leaf in deals}


def lookups(captured) -> list[str]:
    """The queries that look up KPI versions or the rollups' freshness."""
    return [q["sql"] for q in captured.captured_queries if "kpi_rollupstate" in q["sql"] or 'FROM "kpi_metric"' in q["sql"]]


def test_reading_once_looks_the_versions_and_freshness_up_once_for_many_evaluations(sales):
    with CaptureQueriesContext(connection) as each_time:
        expected = [values(), values(by="team"), values(by="none")]
    with reading_once(), CaptureQueriesContext(connection) as once:
        assert [values(), values(by="team"), values(by="none")] == expected
    assert len(lookups(each_time)) == 6
    assert len(lookups(once)) == 2
    assert "kpi_rollup" in " ".join(q["sql"] for q in once.captured_queries if q["sql"] not in lookups(once))


def test_reading_once_sees_rollups_marked_stale_or_rebuilt_inside_the_block(sales, django_capture_on_commit_callbacks):
    deals = [leaf for leaf in rollups.rollup_leaves() if leaf.source == "deals"]
    with reading_once():
        before = rollups.fresh_leaves(deals, "default")
        assert before.keys() == {leaf.key for leaf in deals}
        rollups.mark_stale(["deals"])
        assert not rollups.fresh_leaves(deals, "default")  # read again, not remembered
        rollups.rebuild()
        after = rollups.fresh_leaves(deals, "default")
        assert after.keys() == before.keys() and set(after.values()).isdisjoint(before.values())  # the new states' ids
        assert_same_as_records()


def test_another_time_zone_makes_them_stale(sales, settings):
    settings.TIME_ZONE = "Asia/Tehran"
    assert not rollups.fresh_leaves(rollups.rollup_leaves(), "default")
    assert_same_as_records()


def test_a_record_loaded_without_its_dates_makes_its_source_stale_on_save(sales, django_capture_on_commit_callbacks):
    deal = Deal.objects.only("id", "title").first()
    with django_capture_on_commit_callbacks(execute=True):
        deal.title = "renamed"
        deal.save(update_fields=["title"])
    assert set(RollupState.objects.filter(source="deals").values_list("max_pk", flat=True)) == {-1}
    assert_same_as_records()


def test_a_refresh_that_fails_leaves_them_stale(sales, django_capture_on_commit_callbacks, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(keeping, "refresh", broken)
    with django_capture_on_commit_callbacks(execute=True):
        LeadFactory(owner=sales[0], created_at=at(2, 2))
    assert not RollupState.objects.filter(source="leads", max_pk__gte=0).exists()


def test_deleting_an_owner_moves_their_rollups_to_unassigned(sales):
    leaving = sales[1]
    pk, rows = leaving.pk, Rollup.objects.filter(owner=leaving).count()
    leaving.delete()  # their records' owner becomes empty (SET_NULL)
    assert rows and not Rollup.objects.filter(owner_id=pk).exists()
    assert_same_as_records()


# -- windows: whole months from year rows' month columns, the days around them from day rows


@pytest.mark.parametrize(
    ("start", "end", "cumulative", "months", "plus", "minus"),
    [
        # This month so far (a card): the month less the days still to come (fewer than those gone).
        (
            dt.date(2024, 3, 1),
            dt.date(2024, 3, 18),
            False,
            (dt.date(2024, 3, 1), dt.date(2024, 4, 1)),
            [],
            [(dt.date(2024, 3, 18), dt.date(2024, 4, 1))],
        ),
        # The first days of a month: only those days.
        (dt.date(2024, 3, 1), dt.date(2024, 3, 5), False, None, [(dt.date(2024, 3, 1), dt.date(2024, 3, 5))], []),
        # Whole months only.
        (dt.date(2024, 2, 1), dt.date(2024, 5, 1), False, (dt.date(2024, 2, 1), dt.date(2024, 5, 1)), [], []),
        # Most of February (its month less 9 days), March, two days of April.
        (
            dt.date(2024, 2, 10),
            dt.date(2024, 4, 3),
            False,
            (dt.date(2024, 2, 1), dt.date(2024, 4, 1)),
            [(dt.date(2024, 4, 1), dt.date(2024, 4, 3))],
            [(dt.date(2024, 2, 1), dt.date(2024, 2, 10))],
        ),
        # Within one month, fewer days than the rest of it.
        (dt.date(2024, 2, 10), dt.date(2024, 2, 20), False, None, [(dt.date(2024, 2, 10), dt.date(2024, 2, 20))], []),
        # Across a month's end without a whole month: the days on both sides.
        (
            dt.date(2024, 2, 25),
            dt.date(2024, 3, 3),
            False,
            None,
            [(dt.date(2024, 2, 25), dt.date(2024, 3, 1)), (dt.date(2024, 3, 1), dt.date(2024, 3, 3))],
            [],
        ),
        # Everything up to a day: every month up to its month's end, less the days after it.
        (
            dt.date(2024, 3, 1),
            dt.date(2024, 3, 18),
            True,
            (None, dt.date(2024, 4, 1)),
            [],
            [(dt.date(2024, 3, 18), dt.date(2024, 4, 1))],
        ),
        (
            dt.date(2024, 3, 1),
            dt.date(2024, 3, 5),
            True,
            (None, dt.date(2024, 3, 1)),
            [(dt.date(2024, 3, 1), dt.date(2024, 3, 5))],
            [],
        ),
        (dt.date(2024, 3, 1), dt.date(2024, 4, 1), True, (None, dt.date(2024, 4, 1)), [], []),
    ],
)
def test_a_window_reads_whole_months_and_the_fewest_days(start, end, cumulative, months, plus, minus):
    assert reading._window_parts(Span(start, end), cumulative) == (months, plus, minus)


def test_windows_to_date_read_the_same_as_the_records(sales):
    """The cards' windows: this period so far and the same days of the previous one, flows and snapshots alike."""
    metrics = list(Metric.objects.current().filter(key__in=KPIS))
    spans = [Span(dt.date(2024, 3, 1), dt.date(2024, 3, 18)), Span(dt.date(2024, 2, 1), dt.date(2024, 2, 18))]
    quarter = [Span(dt.date(2024, 4, 1), dt.date(2024, 5, 12)), Span(dt.date(2024, 1, 1), dt.date(2024, 2, 12))]
    mixed = [Span(dt.date(2024, 3, 1), dt.date(2024, 3, 18)), Span(dt.date(2024, 1, 1), dt.date(2024, 3, 1))]
    for windows in (spans, quarter, mixed):
        for by, groups in (("none", [None]), ("person", [rep.pk for rep in sales])):
            from_rollups = evaluate_spans(metrics, windows, user=None, by=by, groups=groups)
            with rollups.bypassed():
                from_records = evaluate_spans(metrics, windows, user=None, by=by, groups=groups)
            for metric in metrics:
                for span in windows:
                    for group in groups:
                        mine, theirs = from_rollups.value(metric, span, group), from_records.value(metric, span, group)
                        assert (mine is None and theirs is None) or mine == pytest.approx(theirs), (metric.key, span, group)


def test_a_window_to_date_reads_year_rows_before_its_month(sales):
    """Pipeline value so far this month: every earlier month from year rows, not every day since the start."""
    metrics = list(Metric.objects.current().filter(key="pipeline_value"))
    with CaptureQueriesContext(connection) as captured:
        evaluate_spans(metrics, [Span(dt.date(2024, 5, 1), dt.date(2024, 5, 18))], user=None, by="none", groups=[None])
    reads = [q["sql"] for q in captured.captured_queries if 'FROM "kpi_rollup"' in q["sql"]]
    assert len(reads) == 1, reads  # months and days in one query
    assert "UNION ALL" in reads[0].upper() and reads[0].count('"kpi_rollup"."grain" =') == 2


def test_a_read_refuses_rows_with_an_empty_value():
    """A NULL would silently drop its row from a packed read (PostgreSQL) or be NaN (SQLite): both refuse it."""
    UserFactory()
    rows = User.objects.annotate(nothing=Value(None, output_field=FloatField()))
    with pytest.raises(ValueError, match="empty value"):
        reading._fetch(rows.values_list("id", "nothing"), "default", columns=2)


def test_windows_across_years_read_the_same_as_the_records():
    """Whole months from the first year's last months, whole years between, the last year's first months."""
    rep = UserFactory()
    for year, month in [(2022, 6), (2023, 11), (2024, 2), (2024, 12), (2025, 1), (2025, 3)]:
        deal = deal_create(
            by=None, title="d", owner=rep, amount=Decimal(year - 2000 + month), created_at=at(month, 3).replace(year=year)
        )
        deal_close_won(deal=deal, by=None, at=at(month, 20).replace(year=year))
        deal_create(by=None, title="open", owner=rep, amount=Decimal(7), created_at=at(month, 4).replace(year=year))
    rollups.rebuild()
    metrics = list(Metric.objects.current().filter(key__in=KPIS))
    windows = [
        Span(dt.date(2023, 12, 10), dt.date(2025, 3, 5)),  # days, Jan 2024 .. Feb 2025, days
        Span(dt.date(2023, 11, 1), dt.date(2024, 3, 1)),  # Nov 2023 .. Feb 2024
        Span(dt.date(2022, 1, 1), dt.date(2025, 1, 1)),  # whole years only
        Span(dt.date(2024, 12, 1), dt.date(2025, 2, 1)),  # Dec .. Jan, across one new year
    ]
    from_rollups = evaluate_spans(metrics, windows, user=None, by="person", groups=[rep.pk])
    with rollups.bypassed():
        from_records = evaluate_spans(metrics, windows, user=None, by="person", groups=[rep.pk])
    for metric in metrics:
        for span in windows:
            mine, theirs = from_rollups.value(metric, span, rep.pk), from_records.value(metric, span, rep.pk)
            assert (mine is None and theirs is None) or mine == pytest.approx(theirs), (metric.key, span)
    won = next(metric for metric in metrics if metric.key == "won_deals")
    assert [from_rollups.value(won, span, rep.pk) for span in windows] == [3, 2, 4, 2]


def test_a_refresh_that_fails_after_an_api_write_still_answers_201_and_the_scheduled_rebuild_repairs_it(
    sales, django_capture_on_commit_callbacks, monkeypatch
):
    from rest_framework.test import APIClient

    from quota.kpi.tasks import rebuild_stale_rollups

    def broken(*args, **kwargs):
        raise RuntimeError("connection lost")

    monkeypatch.setattr(keeping, "refresh", broken)
    api = APIClient()
    api.force_authenticate(sales[0])
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/deals/", {"title": "After commit", "amount": "70", "owner": sales[0].pk, "currency": "EUR"}, format="json"
        )
    assert response.status_code == 201 and Deal.objects.filter(title="After commit").exists()
    assert set(RollupState.objects.filter(source="deals").values_list("max_pk", flat=True)) == {-1}
    assert [leaf.source for leaf in rollups.stale_leaves()] and {leaf.source for leaf in rollups.stale_leaves()} == {"deals"}
    assert_same_as_records()  # stale: the records answer meanwhile

    monkeypatch.undo()
    assert rebuild_stale_rollups.apply().get() > 0
    assert rollups.all_fresh() and rollups.stale_leaves() == []
    assert_same_as_records()
    assert rebuild_stale_rollups.apply().get() == 0  # nothing stale: nothing rebuilt


def test_the_stale_mark_is_retried_on_a_new_connection(sales, monkeypatch):
    from django.db import OperationalError, connections

    calls = []
    real_update = type(RollupState.objects.all()).update

    def update_once_broken(queryset, **kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real_update(queryset, **kwargs)

    monkeypatch.setattr(type(RollupState.objects.all()), "update", update_once_broken)
    closed = []
    wrapper = connections["default"]
    monkeypatch.setattr(wrapper, "in_atomic_block", False)  # as after a commit, outside the test's transaction
    monkeypatch.setattr(wrapper, "close", lambda: closed.append(True))
    rollups.mark_stale(["deals"])
    monkeypatch.undo()
    assert closed == [True] and len(calls) == 2
    assert set(RollupState.objects.filter(source="deals").values_list("max_pk", flat=True)) == {-1}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="kills a PostgreSQL backend, as the outage did")
@pytest.mark.django_db(transaction=True)
def test_a_connection_killed_after_the_commit_still_answers_201_and_leaves_them_stale(sales, monkeypatch):
    from django.db import connections
    from rest_framework.test import APIClient

    real_refresh_safely = keeping._refresh_safely

    def killed_then_refresh(*args, **kwargs):
        """The connection dies between the commit and the refresh (a server restart, a killed backend)."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        finally:
            other.close()
        return real_refresh_safely(*args, **kwargs)

    monkeypatch.setattr(keeping, "_refresh_safely", killed_then_refresh)
    api = APIClient()
    api.force_authenticate(sales[0])
    response = api.post(
        "/api/deals/", {"title": "Killed", "amount": "70", "owner": sales[0].pk, "currency": "EUR"}, format="json"
    )
    assert response.status_code == 201
    assert Deal.objects.filter(title="Killed").exists()  # committed, and answered as such
    assert set(RollupState.objects.filter(source="deals").values_list("max_pk", flat=True)) == {-1}


def test_a_registered_unsaved_definition_is_rolled_up_with_the_kpis(monkeypatch):
    from quota.kpi.rollups import eligibility

    disqualified = Metric(
        key="disqualified_leads",
        name="Disqualified leads",
        definition={
            "source": "leads",
            "filters": [{"field": "status", "op": "eq", "value": "disqualified"}],
            "measure": {"kind": "count"},
            "unit": "count",
            "better": "lower",
        },
    )
    (leaf,) = eligibility.plan(disqualified.parsed).leaves
    monkeypatch.setattr(eligibility, "_UNSAVED", {})
    before = {leaf.key for leaf in rollups.rollup_leaves()}
    assert leaf.key not in before  # no saved KPI counts them
    rollups.roll_up_too("disqualified_leads", lambda: disqualified)
    assert {leaf.key for leaf in rollups.rollup_leaves()} == before | {leaf.key}


def test_the_periodic_rebuild_builds_the_leaves_of_a_kpi_added_since(sales):
    from quota.kpi.definitions import parse
    from quota.kpi.plans import plan
    from quota.kpi.services import metric_save_version
    from quota.kpi.tasks import rebuild_stale_rollups

    definition = {
        "source": "deals",
        "filters": [{"field": "status", "op": "eq", "value": "open"}, {"field": "amount", "op": "gte", "value": 100}],
        "measure": {"kind": "count"},
        "unit": "count",
        "better": "higher",
    }
    big_deals = metric_save_version(
        key="big_open_deals", name="Big open deals", description="Open deals of 100 or more", definition=parse(definition)
    )
    (leaf,) = plan(big_deals.parsed).leaves
    assert [unbuilt.key for unbuilt in rollups.unbuilt_leaves()] == [leaf.key]
    assert rollups.stale_leaves() == []  # never built is not stale: the records answer meanwhile
    assert rebuild_stale_rollups.apply().get() > 0
    assert rollups.unbuilt_leaves() == [] and rollups.all_fresh()
    assert leaf.key in rollups.fresh_leaves([leaf], "default")


def test_where_no_rollups_are_built_the_periodic_rebuild_builds_none(db):
    from quota.kpi.tasks import rebuild_stale_rollups

    rollups.drop()
    assert rollups.unbuilt_leaves() == []  # such an install reads the records by choice
    assert rebuild_stale_rollups.apply().get() == 0
    assert not RollupState.objects.exists()
