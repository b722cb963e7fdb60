"""Write paths every domain shares: permission checks, validated create/update/delete.

Domain services (crm.services, sales.services) add their own rules on top; records with
no special rules (an activity, a case, a campaign) are written through these.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models.deletion import ProtectedError, RestrictedError
from django.utils.translation import gettext as _

from quota.core.actor import acts_as_by
from quota.core.models import Heartbeat
from quota.core.money import rate_on
from quota.core.permissions import require
from quota.core.visibility import changeable_owner_ids

M = TypeVar("M", bound=models.Model)


def require_change(user: Any, record: models.Model) -> None:
    """Refuse a change `user` may not make (`records.change`), with a message that says why; None is system work."""
    require(user, "records.change", record)


def require_owner_allowed(by: Any, owner: Any) -> None:
    """A user may create or hand over records only to people whose records they may change."""
    if by is None:
        return
    allowed = changeable_owner_ids(by)
    if allowed is None:
        return
    if owner is None:
        require(by, "records.leave_unowned")
        return
    if owner.pk not in allowed:
        raise PermissionDenied(_("You may not give a record to %(name)s: they are outside your team.") % {"name": owner})


def set_exchange_rate(record: models.Model) -> None:
    """Fix the record's exchange rate on its own date (see core.money)."""
    if not hasattr(record, "exchange_rate"):
        return
    when = getattr(record, getattr(record, "rate_date_field", "created_at"), None)
    day = when.date() if isinstance(when, dt.datetime) else when or dt.date.today()
    record.exchange_rate = rate_on(record.currency, day)  # type: ignore[attr-defined]


@acts_as_by
@transaction.atomic
def record_create(*, model: type[M], by: Any, **fields: Any) -> M:
    """Create a record owned by someone `by` may act for, validated as a whole."""
    if "owner" in {f.name for f in model._meta.fields}:
        require_owner_allowed(by, fields.get("owner"))
    record = model(**fields)
    set_exchange_rate(record)
    record.full_clean()
    record.save()
    return record


@acts_as_by
@transaction.atomic
def record_update(*, instance: M, by: Any, data: dict[str, Any]) -> M:
    """Set the fields in `data` that differ, validate, and save only those."""
    require_change(by, instance)
    if "owner" in data and data["owner"] != getattr(instance, "owner", None):
        require_owner_allowed(by, data["owner"])
    changed = [name for name, value in data.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, data[name])
    if changed:
        if hasattr(instance, "exchange_rate"):
            set_exchange_rate(instance)
            changed.append("exchange_rate")
        instance.full_clean()
        instance.save(update_fields=changed)
    return instance


@acts_as_by
@transaction.atomic
def record_delete(*, instance: models.Model, by: Any) -> None:
    """Delete a record; refuse with a reason when other records still depend on it."""
    require_change(by, instance)
    try:
        instance.delete()
    except (ProtectedError, RestrictedError) as exc:
        blockers = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        kinds = sorted({str(obj._meta.verbose_name_plural) for obj in blockers})
        raise ValidationError(
            _("This %(what)s cannot be deleted while %(others)s refer to it.")
            % {"what": instance._meta.verbose_name, "others": ", ".join(str(k) for k in kinds)}
        )


def model_update(*, instance: M, data: dict[str, Any], user: Any = None) -> tuple[M, bool]:
    """Like record_update, and say whether anything changed."""
    before = {name: getattr(instance, name) for name in data}
    record_update(instance=instance, by=user, data=data)
    return instance, any(before[name] != data[name] for name in data)


def heartbeat_record(key: str, *, at: dt.datetime, detail: str = "") -> None:
    """Record a sign of life (core.models.Heartbeat): one upsert statement, so concurrent writers do not collide."""
    Heartbeat.objects.bulk_create(
        [Heartbeat(key=key, at=at, detail=detail[:200])],
        update_conflicts=True,
        unique_fields=["key"],
        update_fields=["at", "detail"],
    )
