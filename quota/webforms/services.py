"""Write paths for web forms: building them, and turning a submission into one lead or case.

`submission_receive` is idempotent: the first submission with a key claims it through a unique
constraint (form, key) in the same transaction that creates the record, so a double submit, even two
requests racing each other, creates one record and both get the first one's answer.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from quota.core.permissions import require
from quota.core.queue import enqueue_on_commit
from quota.core.services import model_update
from quota.crm import services as crm
from quota.crm.models import Contact, Lead
from quota.marketing.models import Campaign
from quota.service.models import Case
from quota.service.services import case_create
from quota.webforms.models import FormTarget, WebForm, WebFormSubmission

WEBFORM_FIELDS = {
    "name",
    "target",
    "source",
    "case_priority",
    "asked_fields",
    "thank_you_message",
    "allowed_origins",
    "owner",
    "is_active",
}
# Without a key from the sender, identical submissions from one address within this window are one.
FALLBACK_KEY_WINDOW_SECONDS = 10 * 60


# ----------------------------------------------------------------------------- building forms


@transaction.atomic
def webform_create(*, by: Any, name: str, **fields: Any) -> WebForm:
    require(by, "webforms.build")
    unknown = set(fields) - WEBFORM_FIELDS
    if unknown:
        raise ValidationError(_("Unknown fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    webform = WebForm(name=name, created_by=by, **fields)
    webform.full_clean()
    webform.save()
    return webform


@transaction.atomic
def webform_update(*, webform: WebForm, by: Any, data: dict[str, Any]) -> WebForm:
    require(by, "webforms.build")
    model_update(instance=webform, data=data, editable=WEBFORM_FIELDS)
    return webform


# ----------------------------------------------------------------------------- submissions


@dataclass(frozen=True)
class Receipt:
    submission: WebFormSubmission
    replayed: bool  # True: an earlier submission had this key; nothing new was created


def fallback_idempotency_key(*, webform: WebForm, values: dict[str, str], client_ip: str, now: float | None = None) -> str:
    """A key for senders that bring none (a pasted form without script, a plain integration)."""
    window = int((time.time() if now is None else now) // FALLBACK_KEY_WINDOW_SECONDS)
    material = json.dumps([webform.key, client_ip, window, sorted(values.items())], ensure_ascii=False)
    return "auto:" + hashlib.sha256(material.encode()).hexdigest()[:40]


def submission_receive(
    *, webform: WebForm, values: dict[str, str], utm: dict[str, str], idempotency_key: str, language: str = ""
) -> Receipt:
    """Create the form's lead or case from validated `values`, once per idempotency key.

    Raises ValidationError when the record cannot be created (e.g. a required custom field on leads).
    """
    earlier = _earlier_submission(webform, idempotency_key)
    if earlier is not None:
        return Receipt(earlier, replayed=True)
    try:
        with transaction.atomic():
            submission = WebFormSubmission.objects.create(
                form=webform, idempotency_key=idempotency_key, values=values, utm=utm, language=language
            )
            if webform.target == FormTarget.LEAD:
                submission.lead = _create_lead(webform, values, utm)
            else:
                submission.case = _create_case(webform, values)
            submission.save(update_fields=["lead", "case"])
    except IntegrityError:
        # A concurrent request with the same key committed first: answer with its result.
        earlier = _earlier_submission(webform, idempotency_key)
        if earlier is None:
            raise
        return Receipt(earlier, replayed=True)
    if values.get("email"):
        from quota.webforms.tasks import send_submission_confirmation

        enqueue_on_commit(send_submission_confirmation, submission.pk)
    return Receipt(submission, replayed=False)


def _earlier_submission(webform: WebForm, idempotency_key: str) -> WebFormSubmission | None:
    return WebFormSubmission.objects.filter(form=webform, idempotency_key=idempotency_key).first()


def _who(values: dict[str, str]) -> str:
    return values.get("name") or values.get("email") or values.get("phone") or values.get("company") or _("anonymous")


def _split_name(name: str) -> tuple[str, str]:
    first, _space, last = name.strip().rpartition(" ")
    return first[:100], last[:100]


def _create_lead(webform: WebForm, values: dict[str, str], utm: dict[str, str]) -> Lead:
    first_name, last_name = _split_name(values.get("name", ""))
    campaign_name = utm.get("utm_campaign")
    campaign = Campaign.objects.filter(name__iexact=campaign_name).order_by("-starts_on").first() if campaign_name else None
    return crm.lead_create(
        by=None,  # the public submits; the form's builder chose the owner
        title=f"{webform.name}: {_who(values)}"[:200],
        source=webform.source,
        owner=webform.owner,
        first_name=first_name,
        last_name=last_name,
        email=values.get("email", ""),
        phone=values.get("phone", ""),
        company_name=values.get("company", ""),
        utm=utm,
        campaign=campaign,
    )


def _create_case(webform: WebForm, values: dict[str, str]) -> Case:
    message = values.get("message", "").strip()
    subject = message.splitlines()[0] if message else f"{webform.name}: {_who(values)}"
    sender = [f"{label}: {values[key]}" for key, label in _sender_labels() if values.get(key)]
    email = values.get("email")
    contact = Contact.objects.filter(email__iexact=email).select_related("company").first() if email else None
    return case_create(
        by=None,
        subject=subject[:200],
        priority=webform.case_priority,
        owner=webform.owner,
        description="\n".join([message, "", *sender]).strip(),
        contact=contact,
        company=contact.company if contact else None,
        channel="webform",
    )


def _sender_labels() -> list[tuple[str, str]]:
    return [("name", _("Name")), ("email", _("E-mail")), ("phone", _("Phone")), ("company", _("Company"))]


def submission_send_confirmation(*, submission: WebFormSubmission) -> None:
    """Tell the sender, by e-mail, that their message arrived (in the language they used).

    The e-mail does not repeat what was submitted: anyone can type any address into a public form,
    and an echo would let them send their own text to it from our domain.
    """
    email = submission.values.get("email")
    if not email:
        return
    with translation.override(submission.language or settings.LANGUAGE_CODE):
        context = {"form": submission.form, "submission": submission}
        subject = _("We have received your message")
        body = render_to_string("webforms/email/confirmation.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
