"""Built-in reference rows are shown in the reader's language by their key; names users typed stay as typed."""

import pytest
from django.utils import translation

from quota.crm.models import LeadSource, LossReason, Pipeline, Stage

pytestmark = pytest.mark.django_db


def test_migrations_key_the_built_in_rows():
    pipeline = Pipeline.objects.get(key="sales")
    assert list(pipeline.stages.order_by("position").values_list("key", flat=True)) == [
        "qualification",
        "needs_analysis",
        "proposal",
        "negotiation",
    ]
    assert LossReason.objects.get(name="Price too high").key == "price_too_high"


@pytest.mark.parametrize(
    ("language", "source", "pipeline"), [("en", "Social media", "Sales"), ("pl", "Media społecznościowe", "Sprzedaż")]
)
def test_built_in_names_follow_the_language(language, source, pipeline):
    with translation.override(language):
        assert str(LeadSource.objects.get(key="social")) == source
        assert Pipeline.objects.get(key="sales").display_name == pipeline
        stage = Stage.objects.get(key="qualification")
        assert str(stage) == f"{pipeline}: {translation.gettext('Qualification')}"
        assert str(LossReason.objects.get(key="price_too_high")) == translation.gettext("Price too high")


def test_a_renamed_built_in_row_shows_the_users_name():
    stage = Stage.objects.get(key="proposal")
    stage.name = "Angebot"
    stage.save()
    source = LeadSource.objects.get(key="website")
    source.name = "Web shop"
    source.save()
    with translation.override("pl"):
        assert Stage.objects.get(pk=stage.pk).display_name == "Angebot"
        assert LeadSource.objects.get(pk=source.pk).display_name == "Web shop"


def test_rows_of_the_users_own_stay_as_typed():
    own = LeadSource.objects.create(key="fair", name="Other")  # not built in, though named like one
    reason = LossReason.objects.create(name="Budget frozen")
    with translation.override("ru"):
        assert own.display_name == "Other"
        assert reason.display_name == "Budget frozen"
