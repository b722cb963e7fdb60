"""Offer lines: priced from the price list in the offer's currency, checked, and always summed into the offer."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from quota.accounts.models import Team
from quota.core.models import ExchangeRate
from quota.core.services import record_create
from quota.sales.models import Offer, OfferLine
from quota.sales.services import offer_line_create, offer_line_delete, offer_line_update
from quota.testing.factories import CompanyFactory, OfferFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep():
    return UserFactory(team=Team.objects.create(name="North"))


@pytest.fixture
def offer(rep):
    return OfferFactory(owner=rep, company=CompanyFactory(owner=rep))


def test_a_line_takes_the_list_price_and_the_offer_sums_its_lines(rep, offer):
    laptop = ProductFactory(price=Decimal("1000.00"), cost=Decimal("700.00"))
    dock = ProductFactory(price=Decimal("150.00"), cost=Decimal("90.00"))
    line = offer_line_create(by=rep, offer=offer, product=laptop, quantity=Decimal("2"), discount_percent=Decimal("10"))
    offer_line_create(by=rep, offer=offer, product=dock, quantity=Decimal("3"), unit_price=Decimal("120.00"))
    assert (line.unit_price, line.unit_cost) == (Decimal("1000.00"), Decimal("700.00"))
    offer.refresh_from_db()
    assert offer.amount == Decimal("2160.00")  # 2 x 1000 less 10 %, and 3 x 120
    assert offer.cost == Decimal("1670.00")  # 2 x 700 + 3 x 90


def test_a_product_priced_in_another_currency_is_converted_at_the_offers_rate(rep):
    ExchangeRate.objects.create(currency="USD", valid_from=dt.date(2020, 1, 1), rate=Decimal("0.8"))  # 1 USD = 0.8 EUR
    offer = record_create(model=Offer, by=rep, number="Q-USD", company=CompanyFactory(owner=rep), owner=rep, currency="USD")
    assert offer.exchange_rate == Decimal("0.8")
    product = ProductFactory(price=Decimal("100.00"), cost=Decimal("60.00"), currency="EUR")
    line = offer_line_create(by=rep, offer=offer, product=product, quantity=Decimal("1"))
    assert (line.unit_price, line.unit_cost) == (Decimal("125.00"), Decimal("75.00"))  # in USD


def test_without_a_rate_for_the_products_currency_the_line_is_refused(rep, offer):
    product = ProductFactory(currency="GBP")
    with pytest.raises(ValidationError) as error:
        offer_line_create(by=rep, offer=offer, product=product, quantity=Decimal("1"))
    assert "product" in error.value.error_dict and "No exchange rate for GBP" in str(error.value)
    assert not OfferLine.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"quantity": Decimal("0")}, "quantity"),
        ({"quantity": Decimal("-2")}, "quantity"),
        ({"quantity": Decimal("1"), "unit_price": Decimal("-1")}, "unit_price"),
        ({"quantity": Decimal("1"), "discount_percent": Decimal("120")}, "discount_percent"),
    ],
)
def test_bad_lines_are_refused_with_the_field_named_and_the_total_is_untouched(rep, offer, fields, field):
    with pytest.raises(ValidationError) as error:
        offer_line_create(by=rep, offer=offer, product=ProductFactory(), **fields)
    assert field in error.value.error_dict
    offer.refresh_from_db()
    assert not offer.lines.exists() and offer.amount == 0


def test_a_retired_product_cannot_be_added_but_its_lines_can_still_change(rep, offer):
    product = ProductFactory(price=Decimal("10.00"))
    line = offer_line_create(by=rep, offer=offer, product=product, quantity=Decimal("1"))
    product.is_active = False
    product.save()
    with pytest.raises(ValidationError, match="no longer on the price list"):
        offer_line_create(by=rep, offer=offer, product=product, quantity=Decimal("1"))
    offer_line_update(by=rep, line=line, data={"product": product, "quantity": Decimal("4")})
    offer.refresh_from_db()
    assert offer.amount == Decimal("40.00")


def test_changing_the_product_brings_its_price_unless_one_is_given(rep, offer):
    line = offer_line_create(by=rep, offer=offer, product=ProductFactory(price=Decimal("10.00")), quantity=Decimal("2"))
    bigger = ProductFactory(price=Decimal("50.00"), cost=Decimal("30.00"))
    offer_line_update(by=rep, line=line, data={"product": bigger, "unit_price": None})
    line.refresh_from_db()
    assert (line.unit_price, line.unit_cost) == (Decimal("50.00"), Decimal("30.00"))
    offer_line_update(by=rep, line=line, data={"unit_price": Decimal("45.00")})
    offer.refresh_from_db()
    assert offer.amount == Decimal("90.00") and offer.cost == Decimal("60.00")


def test_removing_a_line_lowers_the_total(rep, offer):
    keep = offer_line_create(by=rep, offer=offer, product=ProductFactory(price=Decimal("10.00")), quantity=Decimal("1"))
    drop = offer_line_create(by=rep, offer=offer, product=ProductFactory(price=Decimal("5.00")), quantity=Decimal("1"))
    offer_line_delete(by=rep, line=drop)
    offer.refresh_from_db()
    assert list(offer.lines.all()) == [keep] and offer.amount == Decimal("10.00")


def assert_lines_unchangeable(*, by, offer, line, reason=None):
    """`by` may neither add a line to `offer` nor change or remove its `line`, and none of it happened."""
    with pytest.raises(PermissionDenied, match=reason):
        offer_line_create(by=by, offer=offer, product=ProductFactory(), quantity=Decimal("1"))
    with pytest.raises(PermissionDenied):
        offer_line_update(by=by, line=line, data={"quantity": Decimal("9")})
    with pytest.raises(PermissionDenied):
        offer_line_delete(by=by, line=line)
    line.refresh_from_db()
    assert line.quantity == 1 and offer.lines.count() == 1


def test_only_who_may_change_the_offer_changes_its_lines(rep, offer):
    line = offer_line_create(by=rep, offer=offer, product=ProductFactory(), quantity=Decimal("1"))
    assert_lines_unchangeable(by=UserFactory(team=rep.team), offer=offer, line=line)


@pytest.mark.parametrize("status", ["accepted", "rejected"])
def test_an_answered_offer_keeps_its_lines(rep, offer, status):
    line = offer_line_create(by=rep, offer=offer, product=ProductFactory(), quantity=Decimal("1"))
    Offer.objects.filter(pk=offer.pk).update(status=status)
    offer.refresh_from_db()
    assert_lines_unchangeable(by=rep, offer=offer, line=line, reason="as the customer answered them")
