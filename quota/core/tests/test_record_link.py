"""`{% record_link %}`: a URL reversed once per render, the same as `{% url %}` for every record."""

import pytest
from django.template import Context, Template
from django.urls import NoReverseMatch, reverse

LINKS = Template("{% load records %}{% for pk in pks %}{% record_link 'crm:deal_move' pk %} {% endfor %}")


def test_each_record_gets_the_url_url_would_give():
    pks = [1, 7, 10, 2147483646, 42]
    rendered = LINKS.render(Context({"pks": pks})).split()
    assert rendered == [reverse("crm:deal_move", args=[pk]) for pk in pks]


def test_the_pattern_is_reversed_once_per_render(monkeypatch):
    from quota.core.templatetags import records

    calls = []

    def counted(*args, **kwargs):
        calls.append(args)
        return reverse(*args, **kwargs)

    monkeypatch.setattr(records, "reverse", counted)
    LINKS.render(Context({"pks": [1, 2, 3]}))
    LINKS.render(Context({"pks": [4]}))
    assert calls == [("crm:deal_move",), ("crm:deal_move",)]


def test_a_name_without_an_id_argument_is_refused():
    with pytest.raises(NoReverseMatch):
        Template("{% load records %}{% record_link 'crm:board' 1 %}").render(Context())
