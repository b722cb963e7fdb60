"""The Django admin works for every model: its list, search and add pages render."""

import pytest
from django.apps import apps
from django.contrib import admin
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
    inline_only = {"OfferLine", "Stage", "DealStageChange", "CampaignRecipient"}
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
    assert admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 200
    first = model._default_manager.first()
    if first is not None:
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk])
        assert admin_client.get(change).status_code == 200
