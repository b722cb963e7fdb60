"""Django's form renderer, reading a few of its widget templates from quota/core/form_templates first.

Those copies write the same HTML with fewer nested includes: a select's options were two template
includes each (the option, then its attributes), and a list page's filter form has ~240 options
(~20 ms of CPU a request of `make bench-load`'s deal list).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import django.forms
from django.forms.renderers import DjangoTemplates
from django.utils.functional import cached_property

OVERRIDES = Path(__file__).parent / "form_templates"


class FormRenderer(DjangoTemplates):
    @cached_property
    def engine(self) -> Any:
        django_forms = Path(django.forms.__file__).parent / "templates"  # where DjangoTemplates looks
        return self.backend({"APP_DIRS": True, "DIRS": [OVERRIDES, django_forms], "NAME": "djangoforms", "OPTIONS": {}})
