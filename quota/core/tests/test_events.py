import pytest

from quota.core import events
from quota.crm.services import deal_close_lost, deal_close_won, deal_create, deal_move_stage, lead_create
from quota.service.services import case_create
from quota.testing.factories import UserFactory, lead_source, loss_reason

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    received: list[tuple[str, dict]] = []

    def listener(sender, payload, **kwargs):
        received.append((sender, payload))

    events.domain_event.connect(listener)
    yield received
    events.domain_event.disconnect(listener)


def test_services_announce_what_happened_after_commit(heard, django_capture_on_commit_callbacks):
    rep = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        lead_create(by=rep, title="Enquiry", source=lead_source("website"), owner=rep)
        deal = deal_create(by=rep, title="Fleet", owner=rep)
        deal_move_stage(deal=deal, stage=deal.pipeline.stages.order_by("position")[1], by=rep)
        deal_close_won(deal=deal, by=rep)
        other = deal_create(by=rep, title="Other", owner=rep)
        deal_close_lost(deal=other, by=rep, reason=loss_reason("Timing"))
        case_create(by=rep, subject="Broken", owner=rep)
    assert [name for name, _ in heard] == ["lead.created", "deal.stage_changed", "deal.won", "deal.lost", "case.created"]
    assert heard[2][1]["title"] == "Fleet" and heard[2][1]["status"] == "won"
    assert heard[3][1]["loss_reason"] == "Timing"


def test_nothing_is_announced_before_the_commit(heard, django_capture_on_commit_callbacks):
    rep = UserFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        lead_create(by=rep, title="Enquiry", source=lead_source("website"), owner=rep)
    assert heard == []  # nothing before the commit...
    for callback in callbacks:
        callback()
    assert [name for name, _ in heard] == ["lead.created"]  # ...and the event once it happens


def test_unknown_events_are_refused():
    with pytest.raises(ValueError):
        events.emit("deal.exploded", {})


def test_a_case_gets_a_number_and_a_response_deadline_from_its_priority():
    rep = UserFactory()
    case = case_create(by=rep, subject="Down", priority="urgent", owner=rep)
    assert case.number.startswith("C-") and (case.response_due_at - case.created_at).total_seconds() == 2 * 3600
