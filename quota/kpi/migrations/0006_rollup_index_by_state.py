"""The rollups' covering index starts with the leaf (it then also serves deleting a leaf's rows), which makes
the foreign key's own index redundant; then fresh statistics and a visibility map, since 0004 rewrote the
table, so PostgreSQL plans index-only scans again."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def analyze(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("VACUUM (ANALYZE) kpi_rollup")


class Migration(migrations.Migration):
    atomic = False  # VACUUM cannot run in a transaction

    dependencies = [
        ('kpi', '0005_rollup_index_without_include'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='rollup',
            name='kpi_rollup_scan',
        ),
        migrations.AlterField(
            model_name='rollup',
            name='state',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='rows', to='kpi.rollupstate', verbose_name='leaf'),
        ),
        migrations.AddIndex(
            model_name='rollup',
            index=models.Index(fields=['state', 'grain', 'bucket', 'owner', 'value'], name='kpi_rollup_by_state'),
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop),
    ]
