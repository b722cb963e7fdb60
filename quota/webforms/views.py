"""Web form pages: the builder (list, create, edit with the embed snippets) and the public endpoints.

The public endpoints take no login and no CSRF token (they are posted from other sites); they are
protected by `protection` instead, and every write goes through `services.submission_receive`.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django.views.generic import FormView, ListView

from quota.core.inputs import load_json
from quota.core.views import PermissionRequired
from quota.webforms import protection, services, snippets
from quota.webforms.forms import IDEMPOTENCY_KEY_FIELD, SubmissionForm, WebFormBuilderForm, new_idempotency_key
from quota.webforms.models import WebForm, WebFormSubmission

# ----------------------------------------------------------------------------- builder


class BuilderAccess(PermissionRequired):
    permission_required = "webforms.build"


class WebFormListView(BuilderAccess, ListView):
    template_name = "webforms/webform_list.html"
    context_object_name = "webforms"
    queryset = WebForm.objects.select_related("source", "owner").annotate(submission_count=Count("submissions"))


class WebFormCreateView(BuilderAccess, FormView):
    template_name = "webforms/webform_form.html"
    form_class = WebFormBuilderForm
    initial = {"ask_name": "required", "ask_email": "required", "ask_message": "optional", "is_active": True}

    def form_valid(self, form: WebFormBuilderForm) -> HttpResponse:
        try:
            webform = services.webform_create(by=self.request.user, name=form.cleaned_data["name"], **form.webform_data())
        except ValidationError as error:
            form.add_service_error(error)
            return self.form_invalid(form)
        messages.success(self.request, _("Web form created. Paste one of the snippets below into your site."))
        return redirect("webforms:edit", pk=webform.pk)


class WebFormUpdateView(BuilderAccess, FormView):
    template_name = "webforms/webform_form.html"
    form_class = WebFormBuilderForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.webform = get_object_or_404(WebForm, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self) -> dict[str, Any]:
        return WebFormBuilderForm.initial_for(self.webform)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        recent = WebFormSubmission.objects.filter(form=self.webform).select_related("lead", "case")[:20]
        return super().get_context_data(
            **kwargs,
            webform=self.webform,
            snippets=snippets.snippets(self.request, self.webform),
            public_url=snippets.public_url(self.request, self.webform),
            json_url=snippets.json_url(self.request, self.webform),
            recent_submissions=recent,
        )

    def form_valid(self, form: WebFormBuilderForm) -> HttpResponse:
        data = {"name": form.cleaned_data["name"], **form.webform_data()}
        try:
            services.webform_update(webform=self.webform, by=self.request.user, data=data)
        except ValidationError as error:
            form.add_service_error(error)
            return self.form_invalid(form)
        messages.success(self.request, _("Web form saved."))
        return redirect("webforms:edit", pk=self.webform.pk)


# ----------------------------------------------------------------------------- public: HTML


def _active_form(key: str) -> WebForm:
    return get_object_or_404(WebForm.objects.select_related("source"), key=key, is_active=True)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def public_form(request: HttpRequest, key: str) -> HttpResponse:
    """The hosted form: shown in an <iframe> on the allowed sites, or posted to by a pasted <form>."""
    webform = _active_form(key)
    if request.method == "POST":
        response = _receive_html(request, webform)
    else:
        initial = {name: request.GET.get(name, "") for name in request.GET if name.startswith("utm_")}
        form = SubmissionForm(webform=webform, initial={**initial, IDEMPOTENCY_KEY_FIELD: new_idempotency_key()})
        response = _render_form(request, webform, form)
    return protection.allow_framing(response, webform)


def _render_form(request: HttpRequest, webform: WebForm, form: SubmissionForm, status: int = 200) -> HttpResponse:
    context = {"webform": webform, "form": form, "honeypot": protection.HONEYPOT_FIELD}
    return render(request, "webforms/public_form.html", context, status=status)


def _render_thanks(request: HttpRequest, webform: WebForm) -> HttpResponse:
    return render(request, "webforms/public_thanks.html", {"webform": webform})


def _receive_html(request: HttpRequest, webform: WebForm) -> HttpResponse:
    refusal = protection.check_submission(request, webform)
    if refusal is not None:
        response = render(
            request, "webforms/public_refused.html", {"webform": webform, "refusal": refusal}, status=refusal.status
        )
        if refusal.retry_after:
            response["Retry-After"] = str(refusal.retry_after)
        return response
    if protection.honeypot_filled(request.POST):
        return _render_thanks(request, webform)  # looks like success to the bot; nothing is created
    form = SubmissionForm(request.POST, webform=webform)
    if not form.is_valid():
        return _render_form(request, webform, form, status=400)
    try:
        _receive(request, webform, form)
    except ValidationError as error:
        form.add_service_error(error)
        return _render_form(request, webform, form, status=400)
    return _render_thanks(request, webform)


def _receive(request: HttpRequest, webform: WebForm, form: SubmissionForm) -> services.Receipt:
    values = form.asked_values()
    key = form.cleaned_data.get(IDEMPOTENCY_KEY_FIELD) or services.fallback_idempotency_key(
        webform=webform, values=values, client_ip=protection.client_ip(request)
    )
    return services.submission_receive(
        webform=webform, values=values, utm=form.utm(fallback=request.GET.dict()), idempotency_key=key, language=get_language()
    )


# ----------------------------------------------------------------------------- public: JSON


@csrf_exempt
@require_http_methods(["POST", "OPTIONS"])
def public_form_json(request: HttpRequest, key: str) -> HttpResponse:
    """POST a JSON object of the form's fields (and utm_*); send an Idempotency-Key header to make retries safe.

    Answers 201 with a reference, 200 with the first answer for a key already used (Idempotent-Replayed: true),
    400 with the errors per field, 403 for a site not allowed, 413 when too large, 429 when over the rate.
    """
    webform = _active_form(key)
    response = HttpResponse(status=204) if request.method == "OPTIONS" else _receive_json(request, webform)
    return protection.allow_cross_origin(request, response, webform)


def _json_answer(webform: WebForm, reference: str, *, replayed: bool) -> JsonResponse:
    message = webform.thank_you_message or _("Thank you, we have received your message and will get back to you soon.")
    response = JsonResponse({"reference": reference, "message": message}, status=200 if replayed else 201)
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _receive_json(request: HttpRequest, webform: WebForm) -> JsonResponse:
    refusal = protection.check_submission(request, webform)
    if refusal is not None:
        response = JsonResponse({"detail": refusal.message}, status=refusal.status)
        if refusal.retry_after:
            response["Retry-After"] = str(refusal.retry_after)
        return response
    if request.content_type == "multipart/form-data":  # its body is read as a form already (the NUL check); not JSON
        return JsonResponse({"detail": _('Send a JSON object of text values, e.g. {"email": "ann@example.com"}.')}, status=415)
    try:
        data = load_json(request.body or b"null", limit=1)  # an object of text values: one level
    except (ValueError, UnicodeDecodeError):  # invalid JSON, and JSON nested more deeply
        data = None
    if not isinstance(data, dict) or not all(isinstance(v, str | int | float | type(None)) for v in data.values()):
        return JsonResponse({"detail": _('Send a JSON object of text values, e.g. {"email": "ann@example.com"}.')}, status=400)
    if protection.honeypot_filled(data):
        return _json_answer(webform, str(uuid.uuid4()), replayed=False)
    data = {name: "" if value is None else str(value) for name, value in data.items()}
    data[IDEMPOTENCY_KEY_FIELD] = request.headers.get("Idempotency-Key") or data.get(IDEMPOTENCY_KEY_FIELD, "")
    form = SubmissionForm(data, webform=webform)
    if not form.is_valid():
        return JsonResponse({"detail": _("Some fields are not valid."), "errors": form.json_errors()}, status=400)
    try:
        receipt = _receive(request, webform, form)
    except ValidationError as error:
        form.add_service_error(error)
        return JsonResponse({"detail": _("Some fields are not valid."), "errors": form.json_errors()}, status=400)
    return _json_answer(webform, str(receipt.submission.reference), replayed=receipt.replayed)
