"""The e-mail a delivery sends: a short text summary with the rendered files attached."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from quota.reports.content import ReportContent


def recipient_addresses(report: Any) -> list[str]:
    """The users' addresses, then the others, each once (compared case-insensitively)."""
    seen: set[str] = set()
    out = []
    for address in [*(user.email for user in report.recipients.all() if user.is_active), *report.emails]:
        if address and address.lower() not in seen:
            seen.add(address.lower())
            out.append(address)
    return out


def report_message(content: ReportContent, *, to: list[str], files: Iterable[tuple[str, bytes, str]]) -> EmailMessage:
    periods = ", ".join(section.window.label for section in content.sections)
    message = EmailMessage(
        subject=_("%(title)s: %(periods)s") % {"title": content.title, "periods": periods},
        body=render_to_string("reports/email/report.txt", {"content": content}),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
    )
    for name, data, content_type in files:
        message.attach(name, data, content_type)
    return message
