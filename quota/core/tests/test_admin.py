"""The Django admin works for every model: its list, search and add pages render."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from quota.testing.factories import (
    CallFactory,
    CampaignRecipientFactory,
    CaseFactory,
    DealFactory,
    InvoiceFactory,
    LeadFactory,
    OfferLineFactory,
    OrderFactory,
    SurveyAnswerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

QUOTA_MODELS = [m for m in apps.get_models() if m.__module__.startswith("quota.")]


def test_every_quota_model_is_registered():
    inline_only = {"OfferLine", "Stage", "DealStageChange", "DealState", "CampaignRecipient"}
    missing = [m.__name__ for m in QUOTA_MODELS if m not in admin.site._registry and m.__name__ not in inline_only]
    assert missing == []


@pytest.fixture
def admin_client(client):
    user = UserFactory(role="admin", is_staff=True, is_superuser=True)
    client.force_login(user)
    for factory in (DealFactory, LeadFactory, CallFactory, CaseFactory, SurveyAnswerFactory, OrderFactory, InvoiceFactory):
        factory()
    OfferLineFactory()
    CampaignRecipientFactory()
    return client


@pytest.mark.parametrize("model", [m for m in QUOTA_MODELS if m in admin.site._registry], ids=lambda m: m._meta.label)
def test_admin_pages_render(admin_client, model):
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    assert admin_client.get(changelist).status_code == 200
    assert admin_client.get(changelist, {"q": "x"}).status_code == 200
    request = RequestFactory().get("/")
    request.user = UserFactory.build(role="admin", is_staff=True, is_superuser=True)
    may_add = admin.site._registry[model].has_add_permission(request)  # document counters are never typed
    assert admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == (200 if may_add else 403)
    first = model._default_manager.first()
    if first is not None:
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk])
        assert admin_client.get(change).status_code == 200


def test_json_nested_too_deeply_is_a_form_error_in_every_admin_form(admin_client):
    from django.db import models

    from quota.core.inputs import BoundedJSONField
    from quota.crm.models import Deal

    for model_admin in admin.site._registry.values():  # every JSON field, of every admin form
        for field in model_admin.model._meta.get_fields():
            if isinstance(field, models.JSONField):
                assert isinstance(model_admin.formfield_for_dbfield(field, request=None), BoundedJSONField), field

    deal = Deal.objects.get()
    page = admin_client.get(reverse("admin:crm_deal_change", args=[deal.pk])).context
    form = page["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update({"custom": "[" * 20_000 + "]" * 20_000, "_save": "Save"})
    for inline in page["inline_admin_formsets"]:
        data.update({f"{inline.formset.prefix}-TOTAL_FORMS": "0", f"{inline.formset.prefix}-INITIAL_FORMS": "0"})
    response = admin_client.post(reverse("admin:crm_deal_change", args=[deal.pk]), data)
    assert response.status_code == 200 and "nested more than 32 levels" in response.content.decode()
    deal.refresh_from_db()
    assert deal.custom == {}
