"""Custom field values for seeded deals and companies: a deal's contract and a company's tier.

KPIs can be grouped and filtered by custom fields (kpi.dimensions), so a seeded company has some to group by.
Values are drawn from each record's index (a multiplicative hash, no random stream of its own), so they are
the same for every run of one seed and cost nothing in bulk; the fields themselves are created before the rows.
"""

from __future__ import annotations

import json

import numpy as np

from quota.crm.choices import CustomFieldType
from quota.crm.models import CustomField

# (target, key, label, the values, their shares in tenths)
DEAL_CONTRACT = ("deal", "contract", "Contract", ("annual", "monthly", "two_years"), (6, 3, 1))
COMPANY_TIER = ("company", "tier", "Tier", ("gold", "silver", "bronze"), (2, 3, 5))
FIELDS = (DEAL_CONTRACT, COMPANY_TIER)


def ensure_custom_fields() -> None:
    """The seeded custom fields, created if missing (a field of the same key is kept as it is)."""
    for target, key, label, values, _shares in FIELDS:
        CustomField.objects.get_or_create(
            target=target, key=key, defaults={"label": label, "field_type": CustomFieldType.CHOICE, "choices": list(values)}
        )


def custom_json(field: tuple, index: np.ndarray, seed: int) -> tuple[np.ndarray, list[str]]:
    """Codes into the JSON texts of `field` for the records at `index` (0-based), for a Choice column."""
    _target, key, _label, values, shares = field
    # Knuth's multiplicative hash of the index and seed: spread evenly over tenths, the same on every run.
    tenth = ((index.astype(np.uint64) + np.uint64(seed)) * np.uint64(2654435761) % np.uint64(2**32)) * np.uint64(10) >> np.uint64(
        32
    )
    edges = np.cumsum(shares)
    codes = np.searchsorted(edges, tenth.astype(np.int64), side="right")
    return codes, [json.dumps({key: value}) for value in values]
