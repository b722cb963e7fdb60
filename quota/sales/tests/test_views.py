"""Offer, order and invoice pages."""

import pytest
from django.urls import reverse

from quota.sales.models import DocumentCounter, Invoice
from quota.testing.factories import (
    CompanyFactory,
    DealFactory,
    InvoiceFactory,
    OfferFactory,
    OfferLineFactory,
    OrderFactory,
)
from quota.testing.views import queries_for

pytestmark = pytest.mark.django_db

FACTORIES = {"sales:offer_list": OfferFactory, "sales:order_list": OrderFactory, "sales:invoice_list": InvoiceFactory}


def numbers(response):
    return [record.number for record in response.context["page"].object_list]


def make(url_name, owner, **fields):
    return FACTORIES[url_name](owner=owner, company=CompanyFactory(owner=owner), **fields)


@pytest.mark.parametrize("url_name", FACTORIES)
def test_list_shows_only_visible_records(client, people, url_name):
    ours = make(url_name, people["teammate"])
    make(url_name, people["south_rep"])
    client.force_login(people["rep"])
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    assert numbers(response) == [ours.number]


@pytest.mark.parametrize("url_name", ["sales:order_list", "sales:invoice_list"])
def test_list_searches_filters_and_sorts(client, people, url_name):
    rep = people["rep"]
    make(url_name, rep, number="A-1", amount=300, status="cancelled")
    make(url_name, rep, number="B-2", amount=100)
    make(url_name, rep, number="C-3", amount=200)
    client.force_login(rep)
    url = reverse(url_name)
    assert numbers(client.get(url, {"q": "b-2"})) == ["B-2"]
    assert numbers(client.get(url, {"status": "cancelled"})) == ["A-1"]
    assert numbers(client.get(url, {"sort": "-amount"})) == ["A-1", "C-3", "B-2"]
    assert numbers(client.get(url, {"sort": "number"})) == ["A-1", "B-2", "C-3"]


def test_offer_list_searches_filters_and_sorts(client, people):
    rep = people["rep"]
    make("sales:offer_list", rep, number="Q-3", status="sent")
    make("sales:offer_list", rep, number="Q-1")
    make("sales:offer_list", rep, number="Q-2", status="sent")
    client.force_login(rep)
    url = reverse("sales:offer_list")
    assert numbers(client.get(url, {"q": "q-1"})) == ["Q-1"]
    assert sorted(numbers(client.get(url, {"status": "sent"}))) == ["Q-2", "Q-3"]
    assert numbers(client.get(url, {"sort": "number"})) == ["Q-1", "Q-2", "Q-3"]
    assert numbers(client.get(url, {"sort": "-number"})) == ["Q-3", "Q-2", "Q-1"]


@pytest.mark.parametrize("url_name", FACTORIES)
def test_list_query_count_is_pinned_and_does_not_grow_with_rows(client, people, url_name):
    client.force_login(people["director"])
    url = reverse(url_name)

    def queries():
        return queries_for(client, url)

    for _ in range(3):
        make(url_name, people["rep"], deal=DealFactory(owner=people["rep"])) if url_name != "sales:invoice_list" else make(
            url_name, people["rep"], order=OrderFactory(owner=people["rep"])
        )
    client.get(url)
    few = queries()
    for _ in range(27):
        make(url_name, people["south_rep"])
    # session, user, the owner choices, a bounded count, one page of rows with their relations
    assert queries() == few == 6  # the list, and the unread-notifications count in the top bar


@pytest.mark.parametrize("url_name", FACTORIES)
def test_detail_of_an_invisible_record_is_404(client, people, url_name):
    theirs = make(url_name, people["south_rep"])
    client.force_login(people["rep"])
    detail = url_name.replace("_list", "_detail")
    assert client.get(reverse(detail, args=[theirs.pk])).status_code == 404


def test_offer_detail_shows_its_lines_and_the_deals_activity(client, people):
    rep = people["rep"]
    offer = OfferFactory(owner=rep, company=CompanyFactory(owner=rep), deal=DealFactory(owner=rep))
    OfferLineFactory(offer=offer, product__name="Laptop X1")
    client.force_login(rep)
    content = client.get(reverse("sales:offer_detail", args=[offer.pk])).content.decode()
    assert "Laptop X1" in content and 'id="timeline"' in content


def test_order_detail_lists_its_invoices(client, people):
    rep = people["rep"]
    order = OrderFactory(owner=rep, company=CompanyFactory(owner=rep))
    InvoiceFactory(owner=rep, company=order.company, order=order, number="INV-77")
    client.force_login(rep)
    assert "INV-77" in client.get(reverse("sales:order_detail", args=[order.pk])).content.decode()


def test_create_with_bad_input_shows_the_error_next_to_the_field_and_keeps_what_was_typed(client, people):
    rep = people["rep"]
    company = CompanyFactory(owner=rep)
    client.force_login(rep)
    response = client.post(
        reverse("sales:invoice_create"),
        {
            "company": company.pk,
            "owner": rep.pk,
            "status": "issued",
            "amount": "1000",
            "cost": "600",
            "currency": "EUR",
            "issued_at": "2026-03-10T09:00",
            "due_date": "2026-03-01",
        },
    )
    assert response.status_code == 200
    assert "due_date" in response.context["form"].errors
    content = response.content.decode()
    assert 'value="1000"' in content and 'value="2026-03-01"' in content
    assert not Invoice.objects.exists()
    assert not DocumentCounter.objects.filter(last__gt=0).exists()  # a refused invoice takes no number


def test_create_an_invoice_gives_it_the_next_number_of_its_issue_year(client, people):
    rep = people["rep"]
    company = CompanyFactory(owner=rep)
    client.force_login(rep)
    response = client.post(
        reverse("sales:invoice_create"),
        {
            "number": "TYPED-1",  # not a field of the form: ignored
            "company": company.pk,
            "owner": rep.pk,
            "status": "issued",
            "amount": "10",
            "cost": "5",
            "currency": "EUR",
            "issued_at": "2026-03-10T09:00",
        },
    )
    invoice = Invoice.objects.get()
    assert response.status_code == 302 and invoice.profit == 5
    assert invoice.number == "INV-2026-0001"
    page = client.get(reverse("sales:invoice_detail", args=[invoice.pk])).content.decode()
    assert "INV-2026-0001" in page


def test_editing_someone_elses_order_is_refused(client, people):
    order = OrderFactory(owner=people["teammate"], company=CompanyFactory(owner=people["teammate"]), amount=1000)
    client.force_login(people["rep"])
    url = reverse("sales:order_edit", args=[order.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"number": order.number, "amount": "1", "cost": "0"}).status_code == 403
    order.refresh_from_db()
    assert order.amount == 1000
