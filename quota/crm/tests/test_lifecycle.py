"""A company's customer lifecycle: its rules, the services that set it, and the first won deal that starts it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import override_settings

from quota.crm.lifecycle import fill_customer_since
from quota.crm.models import ChurnReason, Company, Deal
from quota.crm.services import company_churn, company_reactivate, deal_close_won, deal_create
from quota.testing.factories import CompanyFactory, DealFactory, loss_reason

pytestmark = pytest.mark.django_db

WARSAW = ZoneInfo("Europe/Warsaw")


def reason(key: str = "contract_ended") -> ChurnReason:
    return ChurnReason.objects.get(key=key)


def test_the_stage_follows_the_dates_in_the_database():
    company = CompanyFactory()
    company.refresh_from_db()
    assert company.lifecycle == "prospect"
    Company.objects.filter(pk=company.pk).update(customer_since=dt.date(2024, 1, 5))
    company.refresh_from_db()
    assert company.lifecycle == "customer"
    Company.objects.filter(pk=company.pk).update(churned_on=dt.date(2024, 6, 1), churn_reason=reason())
    company.refresh_from_db()
    assert (company.lifecycle, company.get_lifecycle_display()) == ("churned", "Churned")


@pytest.mark.parametrize(
    ("since", "churned"), [(None, None), (dt.date(2024, 1, 1), None), (dt.date(2024, 1, 1), dt.date(2024, 2, 1))]
)
def test_a_saved_company_shows_the_stage_the_database_derives(since, churned):
    company = CompanyFactory()
    company.customer_since, company.churned_on = since, churned
    company.churn_reason = reason() if churned else None
    company.save()
    shown = company.lifecycle
    company.refresh_from_db()
    assert shown == company.lifecycle


@pytest.mark.parametrize(
    ("since", "churned", "with_reason", "field"),
    [
        (None, dt.date(2024, 6, 1), True, "customer_since"),  # a prospect cannot churn
        (dt.date(2024, 6, 2), dt.date(2024, 6, 1), True, "churned_on"),  # before it was a customer
        (dt.date(2024, 6, 1), None, True, "churn_reason"),  # a reason without a churn
    ],
)
def test_impossible_lifecycles_are_refused_by_the_model_and_the_database(since, churned, with_reason, field):
    company = CompanyFactory()
    company.customer_since, company.churned_on = since, churned
    company.churn_reason = reason() if with_reason else None
    with pytest.raises(ValidationError) as refused:
        company.full_clean()
    assert field in refused.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        Company.objects.filter(pk=company.pk).update(customer_since=since, churned_on=churned, churn_reason=company.churn_reason)


def test_churning_the_same_day_it_became_a_customer_is_allowed():
    company = CompanyFactory(customer_since=dt.date(2024, 3, 1))
    company_churn(company=company, by=None, on=dt.date(2024, 3, 1), reason=reason())
    company.refresh_from_db()
    assert company.lifecycle == "churned"


def test_churn_needs_a_reason_and_a_prospect_needs_a_start(people):
    company = CompanyFactory(owner=people["rep"])
    with pytest.raises(ValidationError, match="Say why"):
        company_churn(company=company, by=people["rep"], on=dt.date(2024, 3, 1), reason=None)
    with pytest.raises(ValidationError):
        company_churn(company=company, by=people["rep"], on=dt.date(2024, 3, 1), reason=reason())
    company_churn(company=company, by=people["rep"], on=dt.date(2024, 3, 1), reason=reason("price"), since=dt.date(2023, 1, 1))
    company.refresh_from_db()
    assert (company.customer_since, company.churned_on, company.churn_reason.key) == (
        dt.date(2023, 1, 1),
        dt.date(2024, 3, 1),
        "price",
    )


def test_another_teams_rep_cannot_churn_a_company(people):
    from django.core.exceptions import PermissionDenied

    company = CompanyFactory(owner=people["rep"], customer_since=dt.date(2023, 1, 1))
    with pytest.raises(PermissionDenied):
        company_churn(company=company, by=people["south_rep"], on=dt.date(2024, 3, 1), reason=reason())


def test_reactivating_clears_the_churn_and_may_restart_the_date():
    company = CompanyFactory(customer_since=dt.date(2023, 1, 1), churned_on=dt.date(2023, 6, 1), churn_reason=reason())
    company_reactivate(company=company, by=None, since=dt.date(2024, 2, 1))
    company.refresh_from_db()
    assert (company.lifecycle, company.customer_since, company.churned_on, company.churn_reason) == (
        "customer",
        dt.date(2024, 2, 1),
        None,
        None,
    )


@override_settings(TIME_ZONE="Europe/Warsaw")
def test_the_first_won_deal_makes_a_customer_on_its_company_day(people):
    rep = people["rep"]
    company = CompanyFactory(owner=rep)
    deal = deal_create(by=rep, title="First", owner=rep, company=company, created_at=dt.datetime(2024, 1, 2, tzinfo=dt.UTC))
    # 23:30 UTC on 31 January is 1 February in Warsaw.
    deal_close_won(deal=deal, by=rep, at=dt.datetime(2024, 1, 31, 23, 30, tzinfo=dt.UTC))
    company.refresh_from_db()
    assert (company.customer_since, company.lifecycle) == (dt.date(2024, 2, 1), "customer")
    later = deal_create(by=rep, title="Second", owner=rep, company=company, created_at=dt.datetime(2024, 3, 1, tzinfo=dt.UTC))
    deal_close_won(deal=later, by=rep, at=dt.datetime(2024, 3, 5, tzinfo=dt.UTC))
    company.refresh_from_db()
    assert company.customer_since == dt.date(2024, 2, 1)  # set once: a later win does not move it


def test_a_win_keeps_a_customer_since_date_someone_gave(people):
    rep = people["rep"]
    company = CompanyFactory(owner=rep, customer_since=dt.date(2020, 5, 1))
    deal = deal_create(by=rep, title="Renewal", owner=rep, company=company, created_at=dt.datetime(2024, 1, 2, tzinfo=dt.UTC))
    deal_close_won(deal=deal, by=rep, at=dt.datetime(2024, 1, 3, tzinfo=dt.UTC))
    company.refresh_from_db()
    assert company.customer_since == dt.date(2020, 5, 1)


@override_settings(TIME_ZONE="Europe/Warsaw")
def test_existing_companies_get_the_day_of_their_first_won_deal_in_one_update(django_assert_num_queries):
    buyer, prospect, dated = CompanyFactory(), CompanyFactory(), CompanyFactory(customer_since=dt.date(2019, 1, 1))
    won = [
        (buyer, dt.datetime(2024, 5, 10, 22, 30, tzinfo=dt.UTC)),  # 11 May in Warsaw
        (buyer, dt.datetime(2024, 2, 29, 23, 30, tzinfo=dt.UTC)),  # 1 March in Warsaw: the first
        (dated, dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)),
    ]
    for company, at in won:
        DealFactory(company=company, status="won", closed_at=at, created_at=at - dt.timedelta(days=3))
    lost = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    DealFactory(
        company=prospect, status="lost", loss_reason=loss_reason(), closed_at=lost, created_at=lost - dt.timedelta(days=3)
    )
    with django_assert_num_queries(1):
        assert fill_customer_since(Company.objects.all(), Deal) == 1
    assert dict(Company.objects.values_list("pk", "customer_since")) == {
        buyer.pk: dt.date(2024, 3, 1),
        prospect.pk: None,
        dated.pk: dt.date(2019, 1, 1),
    }


# --------------------------------------------------------------------------- the pages


def test_the_company_form_sets_the_lifecycle_and_says_what_is_wrong(client, people):
    rep = people["rep"]
    company = CompanyFactory(owner=rep, name="Acme")
    client.force_login(rep)
    url = f"/crm/companies/{company.pk}/edit/"
    form = {"name": "Acme", "owner": rep.pk, "customer_since": "2024-02-01", "churned_on": "2024-01-01"}
    refused = client.post(url, form)
    assert refused.status_code in (200, 400)
    assert "A company churns on or after the day it became a customer." in refused.content.decode()
    company.refresh_from_db()
    assert company.customer_since is None
    saved = client.post(url, {**form, "churned_on": "2024-06-30", "churn_reason": reason("price").pk})
    assert saved.status_code == 302
    company.refresh_from_db()
    assert (company.lifecycle, company.churned_on) == ("churned", dt.date(2024, 6, 30))
    page = client.get(f"/crm/companies/{company.pk}/").content.decode()
    assert "Churned" in page and "Price" in page
