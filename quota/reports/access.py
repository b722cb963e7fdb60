"""Who may receive which report (on top of core.visibility's record rules).

- Who defines, sees, changes and sends a report is core.permissions' (`reports.define`,
  `reports.view`, `reports.change`, `reports.send`): directors, managers and reps (and
  administrators) define reports; each changes their own, administrators and directors change any.
- A recipient must be able to see everything the report's scope person sees, and may only get
  KPIs their role may see. A plain e-mail address that is not a Quota user can only be added by
  someone who reads everything: they decide what leaves the company.
- Previewing and downloading a report without sending it follows the recipients' rule: the
  person looking must see everything the scope person sees and may get each of its KPIs.
- KPIs: the engine has no per-KPI visibility yet, so the rule is here. Company-wide KPIs (those
  that cannot be split by person or team, such as CAC) are for the roles that read everything: for
  anyone else they would be a partial figure that looks company-wide. `REPORTS_KPI_ROLES` in the
  settings restricts (or opens) any KPI by key.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from quota.accounts.models import Role
from quota.core.permissions import role_of
from quota.core.visibility import READ_ALL_ROLES, visible_owner_ids
from quota.kpi.models import Metric
from quota.reports import conf


def sees_everything_of(viewer: Any, subject: Any) -> bool:
    """Whether `viewer` may read every record `subject` may read."""
    if not viewer.is_active:
        return False
    viewer_ids = visible_owner_ids(viewer)
    if viewer_ids is None:
        return True
    subject_ids = visible_owner_ids(subject)
    return subject_ids is not None and set(subject_ids) <= set(viewer_ids)


def reads_everything(user: Any) -> bool:
    return bool(user.is_active and visible_owner_ids(user) is None)


def kpi_roles(metric: Metric) -> set[str] | None:
    """The roles that may get this KPI in a report; None: everyone who may see the records."""
    configured = conf.kpi_roles()
    if metric.key in configured:
        return set(configured[metric.key])
    parsed = metric.parsed
    if parsed.grouping_problem("person") and parsed.grouping_problem("team"):
        return set(READ_ALL_ROLES)
    return None


def kpi_refusal(metric: Metric, user: Any) -> str | None:
    """Why `user` may not get `metric` in a report, or None if they may."""
    roles = kpi_roles(metric)
    if roles is None or role_of(user) in roles:
        return None
    names = ", ".join(sorted(str(Role(role).label) for role in roles if role in Role.values))
    return _("%(person)s may not see the KPI %(kpi)s (only: %(roles)s).") % {
        "person": user,
        "kpi": metric.display_name,
        "roles": names,
    }


def preview_refusal(report: Any, user: Any) -> str | None:
    """Why `user` may not look at `report` as it is now (preview, download), or None if they may.

    The same walls as sending: only someone who could receive it, that is, who sees everything its
    scope person sees and may get each of its KPIs. (Who may open the report at all is selectors.reports_for.)
    """
    scope = report.scope_person
    if not sees_everything_of(user, scope):
        return _("This report shows what %(scope)s sees, and you may not see all of it.") % {"scope": scope}
    for metric in Metric.objects.current().filter(key__in=report.kpis):
        refusal = kpi_refusal(metric, user)
        if refusal:
            return refusal
    return None
