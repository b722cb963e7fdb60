"""The HTML a builder pastes into their site: an <iframe> of the hosted form, or a plain <form>."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from quota.webforms.fields import UTM_KEYS
from quota.webforms.forms import IDEMPOTENCY_KEY_FIELD
from quota.webforms.models import WebForm
from quota.webforms.protection import HONEYPOT_FIELD


def public_url(request: HttpRequest, webform: WebForm) -> str:
    return request.build_absolute_uri(reverse("webforms:public", args=[webform.key]))


def json_url(request: HttpRequest, webform: WebForm) -> str:
    return request.build_absolute_uri(reverse("webforms:public-json", args=[webform.key]))


def snippets(request: HttpRequest, webform: WebForm) -> dict[str, str]:
    context = {
        "webform": webform,
        "url": public_url(request, webform),
        "fields": webform.field_specs(),
        "utm_keys": UTM_KEYS,
        "honeypot": HONEYPOT_FIELD,
        "idempotency_key_field": IDEMPOTENCY_KEY_FIELD,
    }
    return {
        "iframe": render_to_string("webforms/snippets/iframe.html", context).strip(),
        "form": render_to_string("webforms/snippets/form.html", context).strip(),
    }
