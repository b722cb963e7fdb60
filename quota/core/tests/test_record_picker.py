"""The record picker: the chosen record's name shown, its id in a hidden input, a number box only without JavaScript."""

import re

import pytest
from django.http import QueryDict
from django.urls import reverse

from quota.core.views import RecordPicker
from quota.crm.models import Company
from quota.testing.factories import CompanyFactory, DealFactory

pytestmark = pytest.mark.django_db


def _outside_noscript(html: str) -> str:
    return re.sub(r"<noscript>.*?</noscript>", "", html, flags=re.DOTALL)


def test_a_filter_shows_the_chosen_records_name_and_hides_its_id(client, people):
    company = CompanyFactory(name="Acme Rockets", owner=people["rep"])
    client.force_login(people["rep"])
    html = client.get(reverse("crm:deal_list"), {"company": company.pk}).content.decode()
    picker = html[html.index('<div class="picker">', html.index('id="id_company"') - 200) :]
    picker = picker[: picker.index("</div>")]
    assert f'<input type="hidden" name="company" value="{company.pk}"' in picker
    assert '<span class="picker-label" aria-live="polite">Acme Rockets</span>' in picker
    assert 'type="number"' not in _outside_noscript(picker)  # no raw id box for people with JavaScript
    assert f'<noscript><input type="number" name="company" min="1" value="{company.pk}"' in picker
    assert '<label for="id_company_search">' in html and 'id="id_company_search"' in picker  # the label names the search box


def test_a_form_shows_the_records_name_and_a_way_to_clear_it(client, people):
    deal = DealFactory(owner=people["rep"], company=CompanyFactory(name="Acme Rockets", owner=people["rep"]))
    client.force_login(people["rep"])
    html = client.get(reverse("crm:deal_edit", args=[deal.pk])).content.decode()
    assert '<span class="picker-label" aria-live="polite">Acme Rockets</span>' in html
    assert '<button type="button" class="link picker-clear">' in html  # shown: there is something to clear


def test_nothing_chosen_shows_no_name_and_no_clear_button(client, people):
    client.force_login(people["rep"])
    html = client.get(reverse("crm:deal_list")).content.decode()
    assert '<span class="picker-label" aria-live="polite"></span>' in html
    assert '<button type="button" class="link picker-clear" hidden>' in html


def test_another_teams_record_is_not_named(client, people):
    theirs = CompanyFactory(name="Southern Secrets", owner=people["south_rep"])
    client.force_login(people["rep"])
    response = client.get(reverse("crm:deal_list"), {"company": theirs.pk})
    assert "Southern Secrets" not in response.content.decode()


def test_without_javascript_the_typed_number_wins_over_the_hidden_id():
    picker = RecordPicker(queryset=Company.objects.none(), search_url="/crm/companies/autocomplete/")
    assert picker.value_from_datadict(QueryDict("company=3&company=7"), {}, "company") == "7"
    assert picker.value_from_datadict(QueryDict("company=3"), {}, "company") == "3"
    assert picker.value_from_datadict(QueryDict(""), {}, "company") is None
    assert picker.value_from_datadict({"company": "5"}, {}, "company") == "5"  # a plain dict (an API's data) too
