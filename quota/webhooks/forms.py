"""The subscription form of the webhook pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from quota.core.forms import ServiceErrorsMixin
from quota.webhooks.models import EVENT_CHOICES


class SubscriptionForm(ServiceErrorsMixin, forms.Form):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https", help_text=_("Where Quota POSTs the events."))
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(label=_("Events"), choices=EVENT_CHOICES, widget=forms.CheckboxSelectMultiple)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
