"""`quota leadsource` and `quota customfield`: list and add, refusing bad input with status 2."""

import pytest
from django.core.management.base import CommandError

from quota.crm.models import CustomField, LeadSource
from quota.testing.commands import refused_command, run_command

pytestmark = pytest.mark.django_db


run, refused = run_command, refused_command


def test_lead_sources_list_and_add():
    listed = run("leadsource", "list")
    assert "website                  inbound   Website  (built in)" in listed
    assert "own_prospecting          outbound" in listed and "other                    -  " in listed
    out = run("leadsource", "add", "trade_fair", "--name", "Trade fair", "--direction", "outbound")
    assert "added lead source trade_fair: Trade fair (outbound)" in out
    fair = LeadSource.objects.get(key="trade_fair")
    assert (fair.name, fair.direction) == ("Trade fair", "outbound")
    assert "trade_fair" in run("leadsource", "list")
    run("leadsource", "add", "podcast", "--name", "Podcast")
    assert LeadSource.objects.get(key="podcast").direction == ""


def test_a_lead_source_key_is_unique_and_a_slug():
    run("leadsource", "add", "fair", "--name", "Fair")
    assert "key:" in refused("leadsource", "add", "fair", "--name", "Again")
    assert "key:" in refused("leadsource", "add", "not a slug", "--name", "X")
    assert LeadSource.objects.filter(name__in=["Again", "X"]).count() == 0
    with pytest.raises(CommandError):  # argparse's own refusal
        run("leadsource", "add", "sideways", "--name", "Sideways", "--direction", "sideways")
    assert not LeadSource.objects.filter(key="sideways").exists()


def test_custom_fields_add_and_list():
    out = run(
        "customfield", "add", "--target", "deals", "region", "--label", "Region", "--type", "choice", "--choices", "north, south"
    )
    assert "added choice field region to deals: Region" in out
    field = CustomField.objects.get(key="region")
    assert (field.target, field.choices) == ("deal", ["north", "south"])
    run("customfield", "add", "--target", "companies", "vat", "--label", "VAT id", "--type", "text", "--required")
    listed = run("customfield", "list", "--target", "deals")
    assert "region" in listed and "[north, south]" in listed and "vat" not in listed
    assert "(required)" in run("customfield", "list", "--target", "companies")


def test_custom_fields_refuse_bad_input():
    assert "choices:" in refused("customfield", "add", "--target", "leads", "tier", "--label", "Tier", "--type", "choice")
    assert "choices:" in refused(
        "customfield", "add", "--target", "leads", "size", "--label", "Size", "--type", "number", "--choices", "a"
    )
    run("customfield", "add", "--target", "leads", "size", "--label", "Size", "--type", "number")
    assert "already exists" in refused("customfield", "add", "--target", "leads", "size", "--label", "Size", "--type", "text")
    assert CustomField.objects.filter(target="lead").count() == 1
