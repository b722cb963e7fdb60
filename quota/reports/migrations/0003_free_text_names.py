"""A report's name is free text ("Monthly board pack"); the slug it used to be becomes its key.

The key is what the command line and file names use; existing reports keep theirs (their old name),
so cron lines that run them by name go on working.
"""

from django.db import migrations, models


def keys_from_names(apps, schema_editor):
    Report = apps.get_model("reports", "Report")
    for report in Report.objects.only("pk", "name").iterator():
        Report.objects.filter(pk=report.pk).update(key=report.name)


def names_from_keys(apps, schema_editor):
    Report = apps.get_model("reports", "Report")
    for report in Report.objects.only("pk", "key").iterator():
        Report.objects.filter(pk=report.pk).update(name=report.key)


class Migration(migrations.Migration):
    dependencies = [("reports", "0002_delivery_request_token")]

    operations = [
        # First, so that going back makes names slugs again (from the keys) before they must fit 64 characters.
        migrations.AlterField(
            model_name="report",
            name="name",
            field=models.CharField(help_text="E.g. Monthly board pack.", max_length=200, unique=True, verbose_name="name"),
        ),
        migrations.AddField(
            model_name="report",
            name="key",
            field=models.CharField(editable=False, max_length=64, null=True, verbose_name="key"),  # no index until filled
        ),
        migrations.RunPython(keys_from_names, names_from_keys),
        migrations.AlterField(
            model_name="report",
            name="key",
            field=models.SlugField(editable=False, max_length=64, unique=True, verbose_name="key"),
        ),
    ]
