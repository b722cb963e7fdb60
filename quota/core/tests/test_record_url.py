"""record_url reverses a page's URL once per name and puts each record's id in: the same URL as reverse()."""

from django.contrib.auth import get_user_model
from django.urls import reverse, set_script_prefix

from quota.core.views import record_url
from quota.crm.models import Company, Deal


def test_the_url_is_reversed_with_the_records_id():
    for pk in (1, 42, 2147483646):
        assert record_url(Deal(pk=pk)) == reverse("crm:deal_detail", args=[pk])
    assert record_url(Company(pk=7), "edit") == reverse("crm:company_edit", args=[7])


def test_nothing_for_a_record_without_a_page_or_an_id():
    assert record_url(get_user_model()(pk=3)) is None
    assert record_url(Deal()) is None
    assert record_url("not a record") is None


def test_a_script_prefix_is_followed():
    try:
        set_script_prefix("/quota/")
        url = record_url(Deal(pk=5))
        assert url is not None and url.startswith("/quota/crm/deals/5/")
    finally:
        set_script_prefix("/")
    assert record_url(Deal(pk=5)) == "/crm/deals/5/"
