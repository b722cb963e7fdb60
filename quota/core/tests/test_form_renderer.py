"""The project's form renderer writes exactly the HTML of Django's own, with its faster widget templates."""

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates

from quota.core.form_renderer import FormRenderer

CHOICES = [
    ("", "Any"),
    (1, "Plain & simple"),
    ("Group <one>", [(2, "In a group"), (3, 'With "quotes"')]),
    (4, "Last"),
]


class _CustomOption(forms.Select):
    option_template_name = "django/forms/widgets/input_option.html"  # another option template: still included


@pytest.mark.parametrize(
    "widget",
    [
        forms.Select(choices=CHOICES),
        forms.Select(choices=CHOICES, attrs={"class": "picker", "required": True, "disabled": False, "data-x": 0}),
        forms.SelectMultiple(choices=CHOICES),
        forms.NullBooleanSelect(),
        _CustomOption(choices=CHOICES),
    ],
)
@pytest.mark.parametrize("value", [None, "", 1, 3, [2, 4], "unknown"])
def test_a_select_renders_as_django_renders_it(widget, value):
    if isinstance(widget, forms.NullBooleanSelect) and isinstance(value, list):
        value = True  # a yes/no select takes one value
    attrs = {"id": "id_field"}
    assert widget.render("field", value, attrs, renderer=FormRenderer()) == widget.render(
        "field", value, attrs, renderer=DjangoTemplates()
    )


def test_the_overrides_are_in_use():
    assert (
        FormRenderer()
        .get_template("django/forms/widgets/select.html")
        .origin.name.endswith("quota/core/form_templates/django/forms/widgets/select.html")
    )
