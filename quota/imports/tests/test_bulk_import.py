"""What makes a million-row import fast keeps its guarantees: batch boundaries, all or nothing,
validation with full_clean's messages, COPY writing what bulk_create writes, and fresh KPI rollups."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from quota.core.models import ExchangeRate
from quota.core.money import rate_on
from quota.crm.custom_fields import definitions_held
from quota.crm.models import Company, CustomField, Deal, DealStageChange
from quota.imports import bulk
from quota.imports.engine import ImportOptions
from quota.imports.keys import Resolver
from quota.imports.mapping import StepMapping
from quota.imports.services import import_file
from quota.imports.targets import target_named
from quota.imports.targets.base import StepContext
from quota.imports.tests.helpers import DEAL_COLUMNS, DEAL_MAPPING, groups
from quota.imports.validation import RecordValidator
from quota.kpi import rollups
from quota.kpi.engine import evaluate
from quota.sales.models import Product
from quota.testing.factories import CompanyFactory, default_pipeline, loss_reason

pytestmark = pytest.mark.django_db

HEADER = DEAL_COLUMNS
DEALS = DEAL_MAPPING


@pytest.fixture(autouse=True)
def people(ann_at_acme):
    return ann_at_acme


def deal_row(number: int, *, status: str = "won", amount: str = "100", day: int = 10) -> list[str]:
    closed = "" if status == "open" else f"2024-02-{day:02d}"
    reason = "Price too high" if status == "lost" else ""
    return [f"D{number}", f"Deal {number}", "rep1", "Acme", "Proposal", status, f"2024-01-{day:02d}", closed, amount, reason]


def run(path, **options):
    return import_file(path, mapping=DEALS, options=ImportOptions(**options))


# -- batch boundaries ------------------------------------------------------------------------------------------


def test_duplicates_across_a_batch_boundary_are_skipped(write_csv):
    # Batches of 3: D2 comes again in the second batch (after it was written) and twice in the third.
    rows = [deal_row(1), deal_row(2), deal_row(3), deal_row(4), deal_row(2, amount="999"), deal_row(5)]
    rows += [deal_row(2), deal_row(6, status="lost"), deal_row(6, status="lost")]
    report = run(write_csv("deals.csv", [HEADER, *rows]), batch_rows=3)
    assert report.ok
    assert (report.totals()["created"], report.totals()["skipped"]) == (6, 3)
    assert Deal.objects.get(external_id="D2").amount == 100  # the first row wins; the later ones are duplicates
    assert DealStageChange.objects.count() == 12  # opened and closed, for each of the six

    again = run(write_csv("deals.csv", [HEADER, *rows]), batch_rows=4)
    assert again.ok and again.totals()["created"] == 0 and again.totals()["skipped"] == 9
    assert Deal.objects.count() == 6 and DealStageChange.objects.count() == 12


def test_updates_across_a_batch_boundary_merge_into_one_record(write_csv):
    rows = [deal_row(1), deal_row(2, status="open"), deal_row(3), deal_row(2, status="won", amount="700", day=20)]
    report = run(write_csv("deals.csv", [HEADER, *rows]), batch_rows=2, on_duplicate="update")
    assert report.ok and (report.totals()["created"], report.totals()["updated"]) == (3, 1)
    deal = Deal.objects.get(external_id="D2")
    assert (deal.status, deal.amount) == ("won", 700)
    assert list(deal.stage_changes.order_by("id").values_list("to_status", flat=True)) == ["open", "won"]


def test_a_bad_row_in_the_last_batch_commits_nothing(write_csv):
    rows = [deal_row(n) for n in range(1, 8)] + [deal_row(8, status="lost", amount="-5")]
    report = run(write_csv("deals.csv", [HEADER, *rows]), batch_rows=3)
    assert not report.ok and "nothing was imported" in report.reason
    (error,) = [g for g in report.problems.ordered() if g.severity == "error"]
    assert error.examples[0].row == 9 and error.column == "amount"
    assert not Deal.objects.exists() and not DealStageChange.objects.exists()


def test_a_dry_run_reports_every_rows_problems_in_every_batch(write_csv):
    rows = [deal_row(n, amount="lots" if n % 2 else "10") for n in range(1, 10)]
    report = run(write_csv("deals.csv", [HEADER, *rows]), batch_rows=2, dry_run=True)
    (bad,) = groups(report, "invalid_value", column="amount")
    assert (bad.count, bad.rows) == (5, 5)
    assert not Deal.objects.exists()


def test_a_record_the_database_refuses_in_a_later_batch_is_named_and_the_rest_kept(write_csv):
    # A negative price breaks a check constraint full_clean does not run: the batch's COPY (or
    # INSERT) fails and is written again row by row, so the row is named and the others kept.
    products = StepMapping.from_dict({"into": "products", "fields": {"name": "Name", "price": "Price"}})
    rows = [["Name", "Price"], ["Mouse", "20"], ["Pen", "2"], ["Keyboard", "35"], ["Broken", "-1"], ["Screen", "99"]]
    report = import_file(
        write_csv("products.csv", rows), mapping=products, options=ImportOptions(batch_rows=2, skip_bad_rows=True)
    )
    (refused,) = groups(report, "refused_by_database")
    assert (refused.examples[0].row, refused.column) == (5, "Price")
    assert set(Product.objects.values_list("name", flat=True)) == {"Mouse", "Pen", "Keyboard", "Screen"}
    assert Product.objects.create(name="After", price=1).pk > max(p.pk for p in Product.objects.exclude(name="After"))


# -- validation -------------------------------------------------------------------------------------------------

EXCLUDED = ["company", "contact", "pipeline", "stage", "owner", "loss_reason", "source", "lead", "won_back_from"]


def messages(record, check) -> dict[str, list[str]]:
    try:
        check(record)
    except ValidationError as exc:
        return {name: sorted(errors) for name, errors in exc.message_dict.items()}
    return {}


def full_clean(record) -> None:
    record.full_clean(exclude=EXCLUDED, validate_unique=False, validate_constraints=False)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"amount": Decimal("-1")},
        {"amount": Decimal("1.001")},  # more places than the field has
        {"amount": Decimal("12345678901234567")},  # more digits
        {"status": "maybe"},
        {"currency": "XXX"},
        {"title": "x" * 201},
        {"title": ""},
        {"status": "lost", "closed_at": None},
        {"closed_at": dt.datetime(2023, 1, 1, tzinfo=dt.UTC)},
        {"custom": {"nope": 1}},
        {"status": "won", "title": "", "amount": Decimal("-3")},
    ],
)
def test_validation_gives_full_cleans_messages(people, changes):
    pipeline = default_pipeline()
    validator = RecordValidator(Deal, exclude=EXCLUDED)

    def make(**values):
        base = {
            "title": "Servers",
            "owner": people,
            "pipeline": pipeline,
            "stage": pipeline.stages.first(),
            "amount": Decimal("10.50"),
            "status": "won",
            "created_at": dt.datetime(2024, 1, 2, tzinfo=dt.UTC),
            "closed_at": dt.datetime(2024, 2, 2, tzinfo=dt.UTC),
        }
        return Deal(**{**base, **values})

    for _ in range(2):  # the second time from what it remembered
        with definitions_held():
            assert messages(make(**changes), validator.validate) == messages(make(**changes), full_clean)


def test_equal_numbers_are_not_taken_for_each_other():
    validator = RecordValidator(Deal, exclude=EXCLUDED)
    field = Deal._meta.get_field("amount")
    assert messages(Deal(title="a", amount=Decimal("1.0")), validator.validate).get("amount") is None
    assert messages(Deal(title="a", amount=Decimal("1.000")), validator.validate).get("amount")
    assert field.decimal_places == 2


def test_custom_fields_are_read_once_per_step_and_again_afterwards():
    with definitions_held():
        assert messages(Deal(title="a", custom={"product": "X"}), Deal.clean)  # no such field yet
        CustomField.objects.create(target="deal", key="product", label="Product", field_type="text")
        assert messages(Deal(title="a", custom={"product": "X"}), Deal.clean)  # held for the step
    assert not messages(Deal(title="a", custom={"product": "X"}), Deal.clean)


# -- writing ----------------------------------------------------------------------------------------------------


def test_bulk_insert_writes_what_bulk_create_writes(people):
    pipeline = default_pipeline()
    stage = pipeline.stages.first()

    def new(title: str) -> Deal:
        return Deal(
            title=title,
            owner=people,
            pipeline=pipeline,
            stage=stage,
            amount=Decimal("1234.56"),
            exchange_rate=Decimal("0.91234567"),
            currency="USD",
            status="lost",
            loss_reason=loss_reason(),
            created_at=dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            closed_at=dt.datetime(2024, 2, 2, tzinfo=dt.UTC),
            stage_changed_at=dt.datetime(2024, 1, 3, tzinfo=dt.UTC),
            expected_close_date=dt.date(2024, 3, 1),
            external_id="Ä-1",
            custom={"a": [1, "two"], "b": None},
        )

    copied = [new("copied"), new("copied too")]
    bulk.bulk_insert(Deal, copied)
    created = Deal.objects.bulk_create([new("created")])
    assert all(d.pk and not d._state.adding and d._state.db == "default" for d in copied)
    assert len({d.pk for d in [*copied, *created]}) == 3

    columns = [f.attname for f in Deal._meta.concrete_fields if not f.primary_key and f.name != "title"]
    stored = list(Deal.objects.order_by("pk").values_list(*columns))
    assert stored[0] == stored[1] == stored[2]
    assert Deal.objects.get(pk=copied[1].pk).title == "copied too"


def test_a_refused_bulk_insert_leaves_nothing_behind(people):
    pipeline = default_pipeline()
    bad = Deal(title="x", owner=people, pipeline=pipeline, stage=pipeline.stages.first(), amount=Decimal("-1"))
    with pytest.raises(DatabaseError, match="deal_amount_not_negative"), transaction.atomic():
        bulk.bulk_insert(Deal, [bad])
    assert not Deal.objects.exists()


def test_history_records_need_every_field():
    with pytest.raises(ValueError, match="missing"):
        bulk.record_from(DealStageChange, {"deal_id": 1})


def test_statistics_are_refreshed_as_the_rows_double():
    marks = []
    analyzed = 0
    for written in (0, 1, 2, 3, 4, 7, 8, 16):
        analyzed = bulk.keep_statistics(Deal, written, analyzed)
        marks.append(analyzed)
    expected = [0, 1, 2, 2, 4, 4, 8, 16] if connection.vendor == "postgresql" else [0] * 8
    assert marks == expected


def test_new_records_share_no_mutable_default():
    target = target_named("deals")
    first, second = target.new_instance(), target.new_instance()
    first.custom["x"] = 1
    assert second.custom == {} and second._state is not first._state and second._state.adding


# -- lookups that are remembered --------------------------------------------------------------------------------


def test_remembered_references_are_forgotten_when_their_table_changes():
    resolver = Resolver()
    missing = resolver.find_many(Company, ["Globex"], suggest=True, remember=True)
    assert missing["globex"].record is None
    CompanyFactory(name="Globex")
    assert resolver.find_many(Company, ["Globex"], suggest=True, remember=True)["globex"].record is None  # remembered
    resolver.forget(Company)
    assert resolver.find_many(Company, ["GLOBEX"], suggest=True, remember=True)["globex"].record.name == "Globex"


def test_exchange_rates_are_those_rate_on_gives():
    ExchangeRate.objects.create(currency="USD", valid_from=dt.date(2024, 1, 1), rate=Decimal("0.9"))
    ExchangeRate.objects.create(currency="USD", valid_from=dt.date(2024, 3, 1), rate=Decimal("0.8"))
    ctx = StepContext(
        name="deals", by=None, currency="USD", company_currency="EUR", on_duplicate="skip", resolver=Resolver(), mapped=set()
    )
    for day in (dt.date(2024, 1, 1), dt.date(2024, 2, 29), dt.date(2024, 3, 1), dt.date(2030, 1, 1)):
        assert ctx.rate("USD", day) == rate_on("USD", day)
    assert ctx.rate("EUR", dt.date(2000, 1, 1)) == 1
    with pytest.raises(ValidationError) as mine:
        ctx.rate("USD", dt.date(2023, 12, 31))
    with pytest.raises(ValidationError) as theirs:
        rate_on("USD", dt.date(2023, 12, 31))
    assert mine.value.messages == theirs.value.messages


# -- KPI rollups ------------------------------------------------------------------------------------------------

WINDOW = {"start": dt.date(2024, 1, 1), "end": dt.date(2024, 6, 30), "every": "month"}


def kpi_values():
    evaluation = evaluate(["won_revenue", "won_deals", "open_deals"], user=None, by="person", **WINDOW)
    return {r.key: [(p.period, p.group and p.group.id, p.value) for p in r.points] for r in evaluation}


def test_rollups_are_fresh_and_right_after_a_commit(write_csv):
    rollups.rebuild()
    deals = [leaf for leaf in rollups.rollup_leaves() if leaf.source == "deals"]
    report = run(write_csv("deals.csv", [HEADER, deal_row(1), deal_row(2, status="open"), deal_row(3, amount="50")]))
    # Companies too: won deals give their companies a customer-since date, which the lifecycle KPIs read.
    assert report.ok and report.rollups == ["companies", "deals"]
    assert rollups.fresh_leaves(deals, "default").keys() == {leaf.key for leaf in deals}
    with rollups.bypassed():
        from_records = kpi_values()
    assert kpi_values() == from_records

    # An update in place (bulk_update) would not even make them stale: they are rebuilt.
    changed = run(write_csv("deals.csv", [HEADER, deal_row(1, amount="900")]), on_duplicate="update")
    assert changed.totals()["updated"] == 1 and changed.rollups == ["companies", "deals"]
    with rollups.bypassed():
        from_records = kpi_values()
    assert kpi_values() == from_records
    assert any(point[2] == 950 for point in from_records["won_revenue"])


def test_until_the_worker_rebuilds_them_stale_rollups_are_bypassed_not_read(write_csv, monkeypatch):
    rollups.rebuild()
    deals = [leaf for leaf in rollups.rollup_leaves() if leaf.source == "deals"]
    run(write_csv("deals.csv", [HEADER, deal_row(1)]))
    queued = []
    # A worker that has not run yet:
    monkeypatch.setattr("quota.imports.rollups.enqueue", lambda task, sources: queued.append((task.name, sources)))
    changed = run(write_csv("deals.csv", [HEADER, deal_row(1, amount="900")]), on_duplicate="update")
    written = ["companies", "deals"]  # won deals give companies their customer-since dates
    assert changed.rollups == written and queued == [("quota.kpi.tasks.rebuild_rollups", written)]
    assert rollups.fresh_leaves(deals, "default") == {}
    with rollups.bypassed():
        from_records = kpi_values()
    assert kpi_values() == from_records
    assert any(point[2] == 900 for point in from_records["won_revenue"])


def test_a_dry_run_or_a_failed_import_rebuilds_nothing(write_csv):
    rollups.rebuild()
    dry = run(write_csv("deals.csv", [HEADER, deal_row(1)]), dry_run=True)
    failed = run(write_csv("deals.csv", [HEADER, deal_row(1), deal_row(2, amount="-1")]))
    assert dry.rollups == [] and failed.rollups == [] and not failed.ok


def test_rollups_never_built_are_left_alone(write_csv):
    report = run(write_csv("deals.csv", [HEADER, deal_row(1)]))
    assert report.ok and report.rollups == []
