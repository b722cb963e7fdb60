"""The kinds of record a file can be imported into, by the name a mapping uses (`into = "deals"`)."""

from __future__ import annotations

from quota.imports.targets.activities import ActivityTarget
from quota.imports.targets.base import FieldKind, Outcome, RowWork, StepContext, Target, TargetField
from quota.imports.targets.crm import CompanyTarget, ContactTarget, DealHistoryTarget, DealTarget, LeadTarget
from quota.imports.targets.people import TeamTarget, UserTarget
from quota.imports.targets.sales import InvoiceTarget, OrderTarget, ProductTarget

TARGETS: dict[str, type[Target]] = {
    target.name: target
    for target in (
        TeamTarget,
        UserTarget,
        CompanyTarget,
        ContactTarget,
        LeadTarget,
        ProductTarget,
        DealTarget,
        DealHistoryTarget,
        ActivityTarget,
        OrderTarget,
        InvoiceTarget,
    )
}


def target_named(name: str) -> Target:
    try:
        return TARGETS[name]()
    except KeyError:
        raise KeyError(f"cannot import into {name!r}; choose one of: {', '.join(TARGETS)}") from None


__all__ = ["TARGETS", "FieldKind", "Outcome", "RowWork", "StepContext", "Target", "TargetField", "target_named"]
