from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from quota.crm.models import Company, Contact, Deal, Lead
from quota.crm.services import lead_convert, lead_create, lead_disqualify
from quota.testing.factories import CompanyFactory, ContactFactory, DealFactory, LeadFactory, UserFactory, lead_source

pytestmark = pytest.mark.django_db


def test_conversion_creates_contact_company_and_deal_together():
    lead = LeadFactory(company_name="Acme Sp. z o.o.", first_name="Anna", last_name="Nowak", source=lead_source("referral"))
    deal = lead_convert(lead=lead, by=lead.owner, amount=Decimal("5000"))
    lead.refresh_from_db()
    assert lead.status == "converted" and lead.converted_at == deal.created_at
    assert deal.company.name == "Acme Sp. z o.o." and deal.contact.last_name == "Nowak"
    assert deal.source.key == "referral" and deal.lead == lead and deal.owner == lead.owner
    assert deal.business_type == "new"


def test_conversion_reuses_an_existing_customer_and_marks_existing_business():
    customer = CompanyFactory(name="Globex")
    won = DealFactory(company=customer)
    from quota.crm.services import deal_close_won

    deal_close_won(deal=won, by=None)
    lead = LeadFactory(company_name="globex", owner=UserFactory(team=customer.owner.team))
    deal = lead_convert(lead=lead, by=lead.owner)
    assert deal.company == customer and deal.business_type == "existing"
    assert Company.objects.filter(name__iexact="globex").count() == 1


def test_failed_conversion_leaves_nothing_behind(monkeypatch):
    lead = LeadFactory(company_name="Initech")
    with pytest.raises(ValidationError):
        lead_convert(lead=lead, by=lead.owner, amount=Decimal("-10"))
    lead.refresh_from_db()
    assert lead.status == "open"
    assert not Deal.objects.exists() and not Contact.objects.exists()
    assert not Company.objects.filter(name="Initech").exists()


def test_a_lead_converts_only_once():
    lead = LeadFactory()
    lead_convert(lead=lead, by=lead.owner)
    with pytest.raises(ValidationError):
        lead_convert(lead=lead, by=lead.owner)
    assert Deal.objects.count() == 1


def test_rep_cannot_convert_another_reps_lead():
    lead = LeadFactory()
    with pytest.raises(PermissionDenied):
        lead_convert(lead=lead, by=UserFactory(team=lead.owner.team))


def test_disqualify_needs_a_reason():
    lead = LeadFactory()
    with pytest.raises(ValidationError):
        lead_disqualify(lead=lead, by=lead.owner, reason="  ")
    assert lead_disqualify(lead=lead, by=lead.owner, reason="Student project").status == "disqualified"


def test_user_defined_source_and_invalid_email_is_rejected():
    rep = UserFactory()
    source = lead_source("trade_fair")
    lead = lead_create(by=rep, title="Met at the fair", source=source, owner=rep)
    assert Lead.objects.get(pk=lead.pk).source.key == "trade_fair"
    with pytest.raises(ValidationError) as error:
        lead_create(by=rep, title="Bad", source=source, owner=rep, email="not-an-email")
    assert "email" in error.value.message_dict


# ------------------------------------------------ walls: conversion matches only what the people involved may see


def test_conversion_does_not_attach_another_teams_company_or_contact(people):
    rep, south_rep = people["rep"], people["south_rep"]
    theirs = CompanyFactory(name="Globex", owner=south_rep)
    their_contact = ContactFactory(company=theirs, email="ceo@globex.example", first_name="Hank", last_name="Scorpio")
    lead = LeadFactory(owner=rep, company_name="GLOBEX", email="CEO@globex.example", first_name="H.", last_name="S.")

    deal = lead_convert(lead=lead, by=rep)

    assert deal.company != theirs and deal.company.owner == rep and deal.company.name == "GLOBEX"
    assert deal.contact != their_contact and deal.contact.owner == rep and deal.contact.last_name == "S."
    assert deal.business_type == "new"
    their_contact.refresh_from_db()
    assert their_contact.company == theirs and Company.objects.filter(name__iexact="globex").count() == 2


def test_conversion_reuses_a_company_and_contact_the_rep_may_see(people):
    rep, teammate = people["rep"], people["teammate"]
    ours = CompanyFactory(name="Initech", owner=teammate)
    our_contact = ContactFactory(company=ours, email="bill@initech.example")
    CompanyFactory(name="initech", owner=people["south_rep"])  # the same name in another team is not a candidate
    lead = LeadFactory(owner=rep, company_name="initech", email="Bill@Initech.example")

    deal = lead_convert(lead=lead, by=rep)

    assert deal.company == ours and deal.contact == our_contact


def test_a_director_converting_a_reps_lead_matches_only_what_the_rep_may_see_too(people):
    rep, south_rep, director = people["rep"], people["south_rep"], people["director"]
    theirs = CompanyFactory(name="Umbrella", owner=south_rep)
    lead = LeadFactory(owner=rep, company_name="Umbrella")
    deal = lead_convert(lead=lead, by=director)
    assert deal.owner == rep and deal.company != theirs and deal.company.owner == rep


def test_a_company_picked_for_the_deal_must_be_visible(people):
    rep, south_rep = people["rep"], people["south_rep"]
    lead = LeadFactory(owner=rep)
    with pytest.raises(ValidationError) as error:
        lead_convert(lead=lead, by=rep, company=CompanyFactory(owner=south_rep))
    assert "company" in error.value.message_dict
    lead.refresh_from_db()
    assert lead.status == "open" and not Deal.objects.exists()
