"""The global search: matches of each kind, the walls, the limits, the page and the top-bar box."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from quota.crm.models import Company, Contact, Deal, Lead
from quota.search.selectors import MIN_LENGTH, global_search
from quota.testing.factories import CompanyFactory, ContactFactory, DealFactory, LeadFactory


@pytest.fixture
def records(people):
    rep, south_rep = people["rep"], people["south_rep"]
    acme = CompanyFactory(name="Acme Rockets", domain="acme.example", owner=rep)
    return {
        "company": acme,
        "contact": ContactFactory(first_name="Wile", last_name="Coyote", email="wile@acme.example", company=acme, owner=rep),
        "lead": LeadFactory(title="Rocket skates", company_name="Acme Rockets", owner=rep),
        "deal": DealFactory(title="Acme anvils", company=acme, owner=rep),
        "south_deal": DealFactory(title="Acme southern anvils", owner=south_rep),
        "south_company": CompanyFactory(name="Acme South", owner=south_rep),
    }


def found(groups):
    return {group.kind.model: [result.record for result in group.rows] for group in groups}


def test_finds_every_kind_by_name_case_insensitively(people, records):
    hits = found(global_search(user=people["director"], text="aCmE"))
    assert set(hits[Company]) == {records["company"], records["south_company"]}
    assert hits[Contact] == [records["contact"]]  # by e-mail
    assert hits[Lead] == [records["lead"]]  # by company name
    assert set(hits[Deal]) == {records["deal"], records["south_deal"]}


def test_every_word_must_match(people, records):
    hits = found(global_search(user=people["director"], text="wile coyote"))
    assert hits == {Contact: [records["contact"]]}
    assert global_search(user=people["director"], text="wile roadrunner") == []


def test_a_rep_does_not_find_another_teams_records(people, records):
    hits = found(global_search(user=people["rep"], text="acme"))
    assert hits[Deal] == [records["deal"]]
    assert hits[Company] == [records["company"]]
    assert found(global_search(user=people["rep"], text="southern")) == {}
    # ... and the south rep finds theirs, not the north's.
    assert found(global_search(user=people["south_rep"], text="anvils")) == {Deal: [records["south_deal"]]}


def test_shortest_name_first_and_at_most_the_limit_with_a_link_to_more(people):
    director = people["director"]
    DealFactory.create_batch(4, title="Widget renewal extended", owner=people["rep"])
    exact = DealFactory(title="Widget", owner=people["rep"])
    (group,) = global_search(user=director, text="widget", per_kind=5)
    assert group.rows[0].record == exact and not group.more
    # Past the limit: which matches are shown is the database's choice, but they are sorted and "more" links on.
    (group,) = global_search(user=director, text="widget", per_kind=3)
    titles = [result.record.title for result in group.rows]
    assert len(titles) == 3 and group.more and titles == sorted(titles, key=len)
    assert group.more_url == reverse("crm:deal_list") + "?q=widget"


def test_a_text_too_short_to_narrow_is_not_searched(people, records):
    assert global_search(user=people["director"], text="a" * (MIN_LENGTH - 1)) == []


def test_the_page_groups_results_and_links_each_record(client, people, records):
    client.force_login(people["rep"])
    response = client.get(reverse("search:results"), {"q": "acme"})
    page = response.content.decode()
    assert response.status_code == 200
    for record in (records["company"], records["contact"], records["lead"], records["deal"]):
        assert f'href="{reverse(f"crm:{record._meta.model_name}_detail", args=[record.pk])}"' in page
    assert "Acme southern anvils" not in page and "Acme South<" not in page
    headings = [page.index(f"<h2>{title}</h2>") for title in ("Companies", "Contacts", "Leads", "Deals")]
    assert headings == sorted(headings)


def test_the_page_says_when_nothing_matches_or_the_text_is_too_short(client, people, records):
    client.force_login(people["rep"])
    assert "Nothing you may see matches" in client.get(reverse("search:results"), {"q": "southern"}).content.decode()
    assert "Type at least" in client.get(reverse("search:results"), {"q": "ac"}).content.decode()


def test_the_page_asks_a_fixed_number_of_queries(client, people, records):
    client.force_login(people["director"])
    DealFactory.create_batch(5, title="Acme more anvils", owner=people["teammate"])
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("search:results"), {"q": "acme"})
    DealFactory.create_batch(5, title="Acme yet more anvils", owner=people["teammate"])
    with CaptureQueriesContext(connection) as more:
        client.get(reverse("search:results"), {"q": "acme"})
    assert len(more.captured_queries) == len(few.captured_queries)


def test_signed_out_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("search:results"), {"q": "acme"})
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_every_page_has_the_search_box_and_the_icon(client, people):
    client.force_login(people["rep"])
    page = client.get(reverse("crm:deal_list")).content.decode()
    assert f'action="{reverse("search:results")}"' in page
    assert 'rel="icon"' in page and "favicon" in page


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes exist on PostgreSQL only")
@pytest.mark.django_db
def test_postgresql_has_a_trigram_index_for_every_searched_field():
    from quota.search.selectors import SEARCHED_KINDS

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexdef LIKE '%gin_trgm_ops%'")
        definitions = [row[0] for row in cursor.fetchall()]
    for kind in SEARCHED_KINDS:
        for name in kind.fields:
            column = kind.model._meta.get_field(name).column
            table = kind.model._meta.db_table
            assert any(f"ON public.{table} USING gin (upper(({column})::text) gin_trgm_ops)" in d for d in definitions), (
                table,
                column,
            )
