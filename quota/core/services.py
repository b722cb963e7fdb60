"""Write paths every domain shares: permission checks, validated create/update/delete.

Domain services (crm.services, sales.services) add their own rules on top; records with
no special rules (an activity, a case, a campaign) are written through these.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
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
    """Change an owned record for `by`: the change and a new owner must be theirs to make (see model_update)."""
    require_change(by, instance)
    if "owner" in data and data["owner"] != getattr(instance, "owner", None):
        require_owner_allowed(by, data["owner"])
    model_update(instance=instance, data=data, derive=_exchange_rate_follows)
    return instance


def _exchange_rate_follows(instance: models.Model, changed: list[str]) -> list[str]:
    if hasattr(instance, "exchange_rate"):
        set_exchange_rate(instance)
        return ["exchange_rate"]
    return []


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


def model_update(
    *,
    instance: M,
    data: dict[str, Any],
    editable: Collection[str] | None = None,
    derive: Callable[[M, list[str]], list[str]] | None = None,
    validate: Callable[[M], None] | None = None,
) -> list[str]:
    """The one way services change a record's fields; returns the names of those that changed.

    Fields outside `editable` (when given) are refused by name, nothing set. Those whose value differs are
    set; `derive(instance, changed)` then recomputes what depends on them (an exchange rate, a next run) and
    names what it changed. The record is validated (`validate`, else its full_clean()) and only the changed
    fields are saved. Permissions are the caller's: each service asks its own before calling this.
    """
    if editable is not None and (unknown := set(data) - set(editable)):
        raise ValidationError(_("These fields cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    changed = [name for name, value in data.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, data[name])
    if changed and derive is not None:
        changed += [name for name in derive(instance, changed) if name not in changed]
    if changed:
        (validate or (lambda record: record.full_clean()))(instance)
        instance.save(update_fields=changed)
    return changed


def heartbeat_record(key: str, *, at: dt.datetime, detail: str = "") -> None:
    """Record a sign of life (core.models.Heartbeat): one upsert statement, so concurrent writers do not collide."""
    Heartbeat.objects.bulk_create(
        [Heartbeat(key=key, at=at, detail=detail[:200])],
        update_conflicts=True,
        unique_fields=["key"],
        update_fields=["at", "detail"],
    )
