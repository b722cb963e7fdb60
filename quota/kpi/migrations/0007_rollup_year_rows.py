"""Month rollup rows become year rows with a column per month (one row per leaf, owner and year instead of
twelve) and the months packed once more as 12 big-endian doubles: the existing month rows are folded into
year rows, so built rollups stay fresh across the upgrade.
Then fresh statistics and a visibility map, so PostgreSQL reads the new rows with index-only scans."""

import struct

from django.conf import settings
from django.db import migrations, models
from django.db.models import DateField, Q, Sum, Value
from django.db.models.functions import Coalesce, Trunc

MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December"]  # fmt: skip
MONTHS = [f"m{number}" for number in range(1, 13)]


def months_to_years(apps, schema_editor):
    Rollup = apps.get_model("kpi", "Rollup")
    using = schema_editor.connection.alias
    months = Rollup.objects.using(using).filter(grain="m")
    sums = {name: Coalesce(Sum("value", filter=Q(bucket__month=number)), Value(0.0)) for number, name in enumerate(MONTHS, 1)}
    years = (
        months.annotate(year=Trunc("bucket", "year", output_field=DateField()))
        .values("state_id", "owner_id", "year")
        .annotate(total=Sum("value"), **sums)
        .order_by()
    )
    Rollup.objects.using(using).bulk_create(
        (
            Rollup(
                state_id=row["state_id"],
                grain="y",
                bucket=row["year"],
                owner_id=row["owner_id"],
                value=row["total"],
                **{name: row[name] for name in MONTHS},
                months=struct.pack(">12d", *(row[name] for name in MONTHS)),
            )
            for row in years.iterator(chunk_size=2000)
        ),
        batch_size=2000,
    )
    months.delete()


def years_to_months(apps, schema_editor):
    Rollup = apps.get_model("kpi", "Rollup")
    using = schema_editor.connection.alias
    years = Rollup.objects.using(using).filter(grain="y")
    Rollup.objects.using(using).bulk_create(
        (
            Rollup(state_id=row.state_id, grain="m", bucket=row.bucket.replace(month=number), owner_id=row.owner_id, value=value)
            for row in years.iterator(chunk_size=2000)
            for number, name in enumerate(MONTHS, 1)
            if (value := getattr(row, name))
        ),
        batch_size=2000,
    )
    years.delete()


def analyze(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("VACUUM (ANALYZE) kpi_rollup")


class Migration(migrations.Migration):
    atomic = False  # VACUUM cannot run in a transaction

    dependencies = [
        ("kpi", "0006_rollup_index_by_state"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(model_name="rollup", name="kpi_rollup_by_state"),
        *(
            migrations.AddField(
                model_name="rollup", name=name, field=models.FloatField(blank=True, null=True, verbose_name=label)
            )
            for name, label in zip(MONTHS, MONTH_NAMES, strict=True)
        ),
        migrations.AddField(
            model_name="rollup",
            name="months",
            field=models.BinaryField(blank=True, editable=False, null=True, verbose_name="months, packed"),
        ),
        migrations.AlterField(
            model_name="rollup",
            name="bucket",
            field=models.DateField(help_text="The day, or the first day of the year.", verbose_name="day or year"),
        ),
        migrations.AlterField(
            model_name="rollup",
            name="grain",
            field=models.CharField(choices=[("d", "day"), ("y", "year")], max_length=1, verbose_name="grain"),
        ),
        migrations.AlterField(
            model_name="rollup",
            name="value",
            field=models.FloatField(help_text="The day's value, or the year's total.", verbose_name="value"),
        ),
        migrations.RunPython(months_to_years, years_to_months, atomic=True),
        migrations.AddIndex(
            model_name="rollup",
            index=models.Index(fields=["state", "grain", "bucket", "owner", "value", *MONTHS, "months"], name="kpi_rollup_rows"),
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop),
    ]
