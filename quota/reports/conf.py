"""Report settings and their defaults; any of them can be set in the Django settings."""

from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    # How long a worker's claim on a delivery lasts without a sign of life; every progress step
    # renews it. A task redelivered after a worker died waits for it to lapse, then takes over.
    "REPORTS_DELIVERY_LEASE_SECONDS": 300,
    # A queued delivery whose task has not started after this long is queued again (a lost message).
    "REPORTS_REQUEUE_AFTER_SECONDS": 300,
    # Attempts at handing a report to the mail server before the delivery is marked failed.
    "REPORTS_SEND_ATTEMPTS": 3,
    # Rows per table in a report (the total is still given).
    "REPORTS_TABLE_ROWS": 100,
    # KPI key -> roles that may receive it in a report, beyond the built-in rule (see access.py).
    "REPORTS_KPI_ROLES": {},
}


def setting(name: str) -> object:
    return getattr(settings, name, DEFAULTS[name])


def lease_seconds() -> float:
    return float(setting("REPORTS_DELIVERY_LEASE_SECONDS"))  # type: ignore[arg-type]


def requeue_after_seconds() -> float:
    return float(setting("REPORTS_REQUEUE_AFTER_SECONDS"))  # type: ignore[arg-type]


def send_attempts() -> int:
    return int(setting("REPORTS_SEND_ATTEMPTS"))  # type: ignore[call-overload]


def table_rows() -> int:
    return int(setting("REPORTS_TABLE_ROWS"))  # type: ignore[call-overload]


def kpi_roles() -> dict[str, list[str]]:
    return dict(setting("REPORTS_KPI_ROLES"))  # type: ignore[call-overload]
