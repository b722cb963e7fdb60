"""A record's validation, as `full_clean` does it, at the pace of a million rows.

    RecordValidator(Deal, exclude=[...]).validate(deal)

is `deal.full_clean(exclude=[...], validate_unique=False, validate_constraints=False)`: every
field is cleaned (to_python, choices, blank, null, validators), then the model's `clean()` runs,
and one ValidationError lists every message. The one difference is speed: a field's check depends
only on its value (the related-record fields that would query are excluded), so its outcome is
remembered per field and value, and a file's thousand rows with status "won" are checked once.
Only immutable values are remembered (a cleaned value is shared between the records that had it),
by type and repr, so 1.0 and 1.00 (equal, but not to a two-decimal field) are told apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.expressions import DatabaseDefault

REMEMBERED = frozenset({str, int, bool, float, Decimal, dt.date, dt.datetime, type(None)})
LONGEST_REMEMBERED = 200  # characters: a huge cell is checked every time rather than kept
# The first values seen are kept, no more: memory stays bounded whatever the file, and the values
# worth keeping (a status, a currency) are among the first.
VALUES_PER_FIELD = 512


class RecordValidator:
    def __init__(self, model: type[models.Model], *, exclude: Iterable[str] = ()) -> None:
        skipped = set(exclude)
        self.fields = [f for f in model._meta.fields if f.name not in skipped and not f.generated]
        self.outcomes: dict[str, dict[tuple[type, str], tuple[Any, list[ValidationError] | None]]] = {
            f.attname: {} for f in self.fields
        }

    def validate(self, record: models.Model) -> None:
        errors: dict[str, Any] = {}
        values = record.__dict__
        for field in self.fields:
            raw = values.get(field.attname) if field.attname in values else getattr(record, field.attname)
            if field.blank and raw in field.empty_values:
                continue
            if isinstance(raw, DatabaseDefault):
                continue
            if type(raw) not in REMEMBERED or (type(raw) is str and len(raw) > LONGEST_REMEMBERED):
                try:
                    setattr(record, field.attname, field.clean(raw, record))
                except ValidationError as exc:
                    errors[field.name] = exc.error_list
                continue
            known = self.outcomes[field.attname]
            key = (type(raw), repr(raw))
            outcome = known.get(key)
            if outcome is None:
                try:
                    outcome = (field.clean(raw, record), None)
                except ValidationError as exc:
                    outcome = (None, exc.error_list)
                if len(known) < VALUES_PER_FIELD:
                    known[key] = outcome
            if outcome[1] is not None:
                errors[field.name] = outcome[1]
            else:
                setattr(record, field.attname, outcome[0])
        try:
            record.clean()
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)
