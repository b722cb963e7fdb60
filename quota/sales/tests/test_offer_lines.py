"""Offer lines on the offer's page: added, changed and removed in place, the total following."""

from decimal import Decimal

import pytest
from django.urls import reverse

from quota.sales.models import Offer, OfferLine
from quota.sales.services import offer_line_create
from quota.testing.factories import CompanyFactory, OfferFactory, ProductFactory
from quota.testing.views import queries_for

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def offer(people):
    return OfferFactory(owner=people["rep"], company=CompanyFactory(owner=people["rep"]), currency="EUR")


@pytest.fixture
def product():
    return ProductFactory(name="Laptop X1", price=Decimal("1000.00"), cost=Decimal("700.00"))


def add_url(offer):
    return reverse("sales:offer_line_add", args=[offer.pk])


def line_url(line, page):
    return reverse(f"sales:offer_line_{page}", args=[line.offer_id, line.pk])


def test_the_owner_gets_add_edit_and_remove_on_the_offer_page(client, people, offer, product):
    line = offer_line_create(by=people["rep"], offer=offer, product=product, quantity=Decimal("1"))
    client.force_login(people["rep"])
    content = client.get(reverse("sales:offer_detail", args=[offer.pk])).content.decode()
    assert f'hx-get="{add_url(offer)}"' in content
    assert f'hx-get="{line_url(line, "edit")}"' in content and f'hx-post="{line_url(line, "delete")}"' in content
    assert 'id="summary-amount"' in content  # the summary line the changes refresh


def test_a_teammate_sees_the_lines_but_no_buttons(client, people, offer, product):
    line = offer_line_create(by=people["rep"], offer=offer, product=product, quantity=Decimal("1"))
    client.force_login(people["teammate"])
    content = client.get(reverse("sales:offer_detail", args=[offer.pk])).content.decode()
    assert "Laptop X1" in content
    assert add_url(offer) not in content and line_url(line, "edit") not in content and line_url(line, "delete") not in content


def test_add_a_line_in_place_and_see_the_new_total(client, people, offer, product):
    client.force_login(people["rep"])
    form_html = client.get(add_url(offer), **HTMX).content.decode()  # the form, in the page
    assert "<html" not in form_html and 'name="product"' in form_html and "Laptop X1" in form_html
    response = client.post(add_url(offer), {"product": product.pk, "quantity": "2", "discount_percent": "10"}, **HTMX)
    line = OfferLine.objects.get()
    assert (line.offer, line.quantity, line.unit_price) == (offer, 2, Decimal("1000.00"))  # the list price
    assert response["HX-Retarget"] == "#offer-lines" and response["HX-Reswap"] == "outerHTML"
    content = response.content.decode()
    assert 'id="offer-lines"' in content and "1,800.00" in content  # the line and the panel's total
    oob = content.split('id="summary-amount" hx-swap-oob="true"')[1].split("</div>")[0]
    assert "1,800.00" in oob  # the summary's total too


def test_edit_a_line_in_place(client, people, offer, product):
    line = offer_line_create(by=people["rep"], offer=offer, product=product, quantity=Decimal("1"))
    client.force_login(people["rep"])
    form = client.get(line_url(line, "edit"), **HTMX).context["form"]
    assert form["quantity"].value() == Decimal("1") and form["product"].value() == product.pk
    response = client.post(
        line_url(line, "edit"), {"product": product.pk, "quantity": "3", "unit_price": "900", "discount_percent": ""}, **HTMX
    )
    assert response.status_code == 200
    line.refresh_from_db()
    offer.refresh_from_db()
    assert (line.quantity, line.unit_price, line.discount_percent) == (3, Decimal("900.00"), 0)
    assert offer.amount == Decimal("2700.00") and "2,700.00" in response.content.decode()


def test_remove_a_line_in_place(client, people, offer, product):
    line = offer_line_create(by=people["rep"], offer=offer, product=product, quantity=Decimal("1"))
    client.force_login(people["rep"])
    response = client.post(line_url(line, "delete"), **HTMX)
    assert response.status_code == 200 and "No lines yet." in response.content.decode()
    offer.refresh_from_db()
    assert not offer.lines.exists() and offer.amount == 0


def test_without_htmx_each_change_returns_to_the_offer(client, people, offer, product):
    client.force_login(people["rep"])
    assert client.get(add_url(offer)).status_code == 200  # a page of its own
    response = client.post(add_url(offer), {"product": product.pk, "quantity": "1"})
    assert response.status_code == 302 and response["Location"] == reverse("sales:offer_detail", args=[offer.pk])
    response = client.post(line_url(OfferLine.objects.get(), "delete"))
    assert response.status_code == 302 and not OfferLine.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "-1"}, "quantity"),
        ({"quantity": "1", "unit_price": "-5"}, "unit_price"),
        ({"quantity": "1", "discount_percent": "150"}, "discount_percent"),
        ({"quantity": "two"}, "quantity"),
    ],
)
def test_a_bad_line_is_refused_next_to_its_field_and_what_was_typed_stays(client, people, offer, product, data, field):
    client.force_login(people["rep"])
    response = client.post(add_url(offer), {"product": product.pk, **data}, **HTMX)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    content = response.content.decode()
    box = content.split(f'for="id_{field}"')[1].split('<div class="field')[0]
    assert 'class="errorlist"' in box and f'value="{data[field]}"' in box
    assert "HX-Retarget" not in response  # the form stays where it is
    assert not OfferLine.objects.exists()


def test_a_retired_product_is_not_offered(client, people, offer, product):
    retired = ProductFactory(name="Old model", is_active=False)
    client.force_login(people["rep"])
    assert "Old model" not in client.get(add_url(offer), **HTMX).content.decode()
    response = client.post(add_url(offer), {"product": retired.pk, "quantity": "1"}, **HTMX)
    assert "product" in response.context["form"].errors and not OfferLine.objects.exists()


def test_a_teammate_may_not_change_the_lines(client, people, offer, product):
    line = offer_line_create(by=people["rep"], offer=offer, product=product, quantity=Decimal("1"))
    client.force_login(people["teammate"])
    assert client.get(add_url(offer), **HTMX).status_code == 403
    assert client.post(add_url(offer), {"product": product.pk, "quantity": "5"}, **HTMX).status_code == 403
    assert client.get(line_url(line, "edit")).status_code == 403
    response = client.post(line_url(line, "edit"), {"product": product.pk, "quantity": "5"})
    assert response.status_code == 403 and b"belongs to another person or team" in response.content
    assert client.post(line_url(line, "delete"), **HTMX).status_code == 403
    line.refresh_from_db()
    assert offer.lines.count() == 1 and line.quantity == 1


def test_another_teams_rep_cannot_even_see_the_offers_lines(client, people, offer, product):
    line = offer_line_create(by=people["rep"], offer=offer, product=product, quantity=Decimal("1"))
    client.force_login(people["south_rep"])
    assert client.get(add_url(offer)).status_code == 404
    assert client.post(add_url(offer), {"product": product.pk, "quantity": "5"}).status_code == 404
    assert client.post(line_url(line, "edit"), {"product": product.pk, "quantity": "5"}).status_code == 404
    assert client.post(line_url(line, "delete")).status_code == 404
    assert OfferLine.objects.filter(pk=line.pk, quantity=1).exists()


def test_a_line_is_reached_only_through_its_own_offer(client, people, offer, product):
    other = OfferFactory(owner=people["rep"], company=offer.company)
    line = offer_line_create(by=people["rep"], offer=other, product=product, quantity=Decimal("1"))
    client.force_login(people["rep"])
    url = reverse("sales:offer_line_delete", args=[offer.pk, line.pk])
    assert client.post(url).status_code == 404 and OfferLine.objects.filter(pk=line.pk).exists()


def test_the_offer_page_costs_the_same_queries_whatever_the_number_of_lines(client, people, offer):
    client.force_login(people["rep"])
    url = reverse("sales:offer_detail", args=[offer.pk])
    offer_line_create(by=people["rep"], offer=offer, product=ProductFactory(), quantity=Decimal("1"))
    client.get(url)
    few = queries_for(client, url)
    for _ in range(9):
        offer_line_create(by=people["rep"], offer=offer, product=ProductFactory(), quantity=Decimal("1"))
    assert queries_for(client, url) == few


def test_an_accepted_offer_shows_its_lines_without_buttons(client, people, offer, product):
    line = offer_line_create(by=people["rep"], offer=offer, product=product, quantity=Decimal("1"))
    Offer.objects.filter(pk=offer.pk).update(status="accepted")
    client.force_login(people["rep"])
    content = client.get(reverse("sales:offer_detail", args=[offer.pk])).content.decode()
    assert "Laptop X1" in content
    assert add_url(offer) not in content and line_url(line, "edit") not in content
    refused = client.post(add_url(offer), {"product": product.pk, "quantity": "5"}, **HTMX)
    assert refused.status_code == 403 and b"as the customer answered them" in refused.content
