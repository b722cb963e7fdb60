"""Built-in lead sources, a default pipeline and common loss reasons, so a new install works at once."""

from django.db import migrations

SOURCES = [
    ("website", "Website"),
    ("social", "Social media"),
    ("own_prospecting", "Own prospecting"),
    ("referral", "Referral"),
    ("other", "Other"),
]
STAGES = [("Qualification", 10), ("Needs analysis", 25), ("Proposal", 50), ("Negotiation", 75)]
# Follow-up delay in days per reason; None means no automatic follow-up.
LOSS_REASONS = [
    ("Price too high", 90),
    ("No budget", 180),
    ("Competitor chosen", None),
    ("No decision", 90),
    ("Timing", 90),
    ("Product fit", 90),
    ("Other", 90),
]


def create(apps, schema_editor):
    LeadSource = apps.get_model("crm", "LeadSource")
    Pipeline = apps.get_model("crm", "Pipeline")
    Stage = apps.get_model("crm", "Stage")
    LossReason = apps.get_model("crm", "LossReason")
    for key, name in SOURCES:
        LeadSource.objects.get_or_create(key=key, defaults={"name": name, "is_system": True})
    if not Pipeline.objects.exists():
        pipeline = Pipeline.objects.create(name="Sales", is_default=True)
        for position, (name, probability) in enumerate(STAGES, start=1):
            Stage.objects.create(pipeline=pipeline, name=name, position=position, probability=probability)
    for name, days in LOSS_REASONS:
        LossReason.objects.get_or_create(name=name, defaults={"follow_up_after_days": days})


class Migration(migrations.Migration):
    dependencies = [("crm", "0002_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
