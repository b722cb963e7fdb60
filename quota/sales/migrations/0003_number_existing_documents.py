"""Number the documents that exist already, in the order they were made, as new ones will be numbered.

Each kind counts per year of the document's own date (an offer's creation, an order's date, an
invoice's issue date) in the company's time zone; equal dates go by id. The counters are left at
the last number of each year, so the next document continues the sequence. An order's or invoice's
former number is kept in its external id when that is empty, so it can still be found.
"""

from django.db import migrations
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat, ExtractYear

PREFIXES = {"offer": "OF-", "order": "SO-", "invoice": "INV-"}
DOCUMENTS = (("offer", "Offer", "created_at"), ("order", "Order", "ordered_at"), ("invoice", "Invoice", "issued_at"))
BATCH = 1000


def number_existing(apps, schema_editor):
    Numbering = apps.get_model("sales", "DocumentNumbering")
    Counter = apps.get_model("sales", "DocumentCounter")
    for kind, prefix in PREFIXES.items():
        Numbering.objects.get_or_create(kind=kind, defaults={"prefix": prefix})
    for kind, model_name, date_field in DOCUMENTS:
        model = apps.get_model("sales", model_name)
        prefix = Numbering.objects.get(kind=kind).prefix
        keeps_old = hasattr(model, "external_id")
        rows = (
            model.objects.annotate(year=ExtractYear(date_field))
            .order_by(date_field, "pk")
            .values_list("pk", "year", "number", *(["external_id"] if keeps_old else []))
        )
        plan = []
        last: dict[int, int] = {}
        for pk, year, old, *external in rows.iterator(chunk_size=BATCH):
            last[year] = last.get(year, 0) + 1
            record = model(pk=pk, number=f"{prefix}{year}-{last[year]:04d}")
            fields = ["number"]
            if keeps_old:
                record.external_id = external[0] or old
                fields = ["number", "external_id"]
            plan.append((record, fields))
        # Out of the way first: a new number may be another row's old one, and numbers are unique.
        model.objects.update(number=Concat(Value("#"), Cast("pk", CharField())))
        model.objects.bulk_update([r for r, _ in plan], ["number", "external_id"] if keeps_old else ["number"], batch_size=BATCH)
        for year, count in last.items():
            Counter.objects.update_or_create(kind=kind, year=year, defaults={"last": count})


class Migration(migrations.Migration):
    dependencies = [("sales", "0002_document_numbering")]

    operations = [migrations.RunPython(number_existing, migrations.RunPython.noop)]
