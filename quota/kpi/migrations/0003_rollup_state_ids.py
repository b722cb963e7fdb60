"""Rollup rows point to their leaf's state by id instead of repeating its 16-character key.

Rollups are a cache: the rows are deleted and rebuilt by `quota kpi rollup` (until then the
engine reads the records, as it does for any stale rollups).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def forget_rollups(apps, schema_editor):
    alias = schema_editor.connection.alias
    apps.get_model("kpi", "Rollup").objects.using(alias).all().delete()
    apps.get_model("kpi", "RollupState").objects.using(alias).all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("kpi", "0002_rollups"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(forget_rollups, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="rollup", name="kpi_rollup_lookup"),
        migrations.RemoveField(model_name="rollup", name="leaf"),
        migrations.AddField(
            model_name="rollup",
            name="state",
            field=models.ForeignKey(
                default=0,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="rows",
                to="kpi.rollupstate",
                verbose_name="leaf",
            ),
            preserve_default=False,
        ),
        migrations.AlterModelOptions(
            name="rollup",
            options={"ordering": ["grain", "state", "bucket"], "verbose_name": "KPI rollup", "verbose_name_plural": "KPI rollups"},
        ),
        migrations.AddIndex(
            model_name="rollup",
            index=models.Index(fields=["grain", "state", "bucket"], include=["owner", "value"], name="kpi_rollup_read"),
        ),
    ]
