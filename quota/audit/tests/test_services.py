"""What the audit trail records when services write (from the command line or Celery: no request), and by whom."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from auditlog.models import LogEntry
from django.utils import timezone

from quota.accounts.models import Role, Team
from quota.audit.services import record_bulk_updates
from quota.core.actor import acting_as, current_actor
from quota.core.models import ExchangeRate
from quota.core.services import record_update
from quota.crm import services as crm
from quota.crm.models import Company, Deal
from quota.kpi import definitions
from quota.kpi.models import Metric
from quota.kpi.services import metric_save_version
from quota.testing.audit import recorded
from quota.testing.factories import CompanyFactory, ContactFactory, default_pipeline, loss_reason

pytestmark = pytest.mark.django_db

MOMENT = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
COUNT = {"date": "created_at", "measure": {"kind": "count"}, "unit": "count", "better": "higher"}


@pytest.fixture
def deal(people):
    with time_machine.travel(MOMENT, tick=False):
        return crm.deal_create(by=people["director"], title="Big one", owner=people["rep"], amount=Decimal("14230.00"))


def test_creating_a_deal_records_its_first_values_by_who_created_it(deal, people):
    created = recorded(deal)
    assert ("create", "amount", None, "14230.00", people["director"].username) in created
    assert ("create", "owner", None, people["rep"].pk, people["director"].username) in created
    assert ("create", "status", None, "open", people["director"].username) in created


def test_a_deal_update_records_amount_owner_currency_and_close_date_old_and_new(deal, people):
    director = people["director"]
    ExchangeRate.objects.create(currency="USD", valid_from=dt.date(2026, 1, 1), rate=Decimal("0.9"))
    crm.deal_update(
        deal=deal,
        by=director,
        data={
            "amount": Decimal("123456.00"),
            "owner": people["teammate"],
            "currency": "USD",
            "expected_close_date": dt.date(2026, 6, 30),
            "title": "Renamed",  # not an audited field
        },
    )
    changes = [c for c in recorded(deal) if c[0] == "update"]
    assert sorted(changes) == sorted(
        [
            ("update", "amount", "14230.00", "123456.00", director.username),
            ("update", "currency", "EUR", "USD", director.username),
            ("update", "owner", people["rep"].pk, people["teammate"].pk, director.username),
            ("update", "expected_close_date", None, "2026-06-30", director.username),
        ]
    )


def test_stage_and_outcome_changes_are_recorded_by_the_acting_user(deal, people):
    rep = people["rep"]
    stages = list(default_pipeline().stages.order_by("position"))
    with time_machine.travel(MOMENT + dt.timedelta(days=1), tick=False):
        crm.deal_move_stage(deal=deal, stage=stages[1], by=rep)
        crm.deal_close_lost(deal=deal, by=rep, reason=loss_reason())
        crm.deal_reopen(deal=deal, by=people["director"])
        crm.deal_close_won(deal=deal, by=rep, amount=Decimal("15000.00"))
    updates = [c for c in recorded(deal) if c[0] == "update"]
    assert updates == [  # newest first
        ("update", "amount", "14230.00", "15000.00", rep.username),
        ("update", "status", "open", "won", rep.username),
        ("update", "status", "lost", "open", people["director"].username),
        ("update", "status", "open", "lost", rep.username),
        ("update", "stage", stages[0].pk, stages[1].pk, rep.username),
    ]


def test_system_work_is_recorded_without_a_user(people):
    deal = crm.deal_create(by=None, title="Imported by a task", owner=people["rep"], amount=Decimal("5"))
    assert {actor for *_, actor in recorded(deal)} == {None}


def test_company_and_contact_owner_changes_are_recorded(people):
    company = CompanyFactory(owner=people["rep"])
    contact = ContactFactory(owner=people["rep"], company=company)
    record_update(instance=company, by=people["director"], data={"owner": people["south_rep"], "city": "Oslo"})
    record_update(instance=contact, by=people["director"], data={"owner": people["teammate"]})
    assert recorded(company)[0] == ("update", "owner", people["rep"].pk, people["south_rep"].pk, people["director"].username)
    assert recorded(contact)[0] == ("update", "owner", people["rep"].pk, people["teammate"].pk, people["director"].username)
    assert [c for c in recorded(company) if c[1] == "city"] == []  # only the audited fields


def test_a_users_role_team_and_active_flag_changed_by_a_script_are_recorded(people):
    rep, director = people["rep"], people["director"]
    south = Team.objects.get(name="South")
    with acting_as(director):
        rep.role, rep.team, rep.is_active = Role.MANAGER, south, False
        rep.save()
    assert sorted(c for c in recorded(rep) if c[0] == "update") == sorted(
        [
            ("update", "role", "rep", "manager", director.username),
            ("update", "team", Team.objects.get(name="North").pk, south.pk, director.username),
            ("update", "is_active", True, False, director.username),
        ]
    )
    rep.refresh_from_db()
    rep.last_login = timezone.now()
    rep.save(update_fields=["last_login"])  # signing in is not a change the trail keeps
    assert len([c for c in recorded(rep) if c[0] == "update"]) == 3


def test_a_new_kpi_version_is_recorded_with_its_definition_and_the_old_one_stops_being_current(people):
    director = people["director"]
    first = definitions.parse({**COUNT, "source": "leads"})
    second = definitions.parse({**COUNT, "source": "deals"})
    v1 = metric_save_version(key="audited_kpi", name="Audited", description="Deals", definition=first, by=director)
    v2 = metric_save_version(key="audited_kpi", name="Audited", description="Deals", definition=second, by=director)
    created = {c[1]: c for c in recorded(v2)}
    assert created["definition"][3] == dict(second.data) and created["definition"][4] == director.username
    assert created["version"][3] == 2
    assert recorded(Metric.objects.get(pk=v1.pk), "is_current")[0] == ("update", "is_current", True, False, director.username)


def test_acting_as_restores_whoever_acted_before(people):
    assert current_actor() is None
    with acting_as(people["director"]):
        with acting_as(people["rep"]):
            assert current_actor() == people["rep"]
        with acting_as(None):  # system work inside keeps the one acting
            assert current_actor() == people["director"]
        assert current_actor() == people["director"]
    assert current_actor() is None


def test_bulk_updates_get_one_entry_per_record_with_audited_changes(people):
    first, second = CompanyFactory(owner=people["rep"]), CompanyFactory(owner=people["rep"])
    before = [copy.copy(first), copy.copy(second)]
    first.owner, second.city = people["teammate"], "Bergen"  # the second changes no audited field
    Company.objects.bulk_update([first, second], ["owner", "city"])
    written = record_bulk_updates(Company, [(before[0], first, ["owner"]), (before[1], second, ["city"])], by=people["director"])
    assert written == 1
    assert recorded(first)[0] == ("update", "owner", people["rep"].pk, people["teammate"].pk, people["director"].username)
    assert [c for c in recorded(second) if c[0] == "update"] == []
    assert record_bulk_updates(Deal, [], by=None) == 0
    team = Team.objects.get(name="North")
    assert record_bulk_updates(Team, [(team, team, ["name"])]) == 0  # teams are not audited
    assert LogEntry.objects.filter(object_repr=str(second), action=LogEntry.Action.UPDATE).count() == 0


def test_the_built_in_kpi_catalogue_installed_by_migrate_is_not_in_the_trail():
    assert Metric.objects.filter(is_builtin=True).exists()
    assert not LogEntry.objects.filter(content_type__model="metric").exists()
