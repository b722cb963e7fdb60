"""The builder's form: the page comes later; the form already validates, previews and saves."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from quota.core.inputs import BoundedJSONField
from quota.kpi import builder
from quota.kpi.definitions import Better, Definition, DefinitionError, Op, Unit
from quota.kpi.engine import KpiResult
from quota.kpi.models import KEY_VALIDATOR, Metric
from quota.kpi.sources import SOURCES

# Where a problem in the definition shows on the form: the longest matching path prefix wins.
PROBLEM_FIELDS = [
    ("measure.denominator.field", "denominator_field"),
    ("measure.denominator.filters", "denominator_filters"),
    ("measure.denominator", "denominator"),
    ("measure.numerator.field", "field"),
    ("measure.numerator.filters", "numerator_filters"),
    ("measure.numerator", "ratio_of"),
    ("measure.field", "field"),
    ("measure.start", "start"),
    ("measure.end", "end"),
    ("measure.per", "per"),
    ("measure", "measure"),
    ("filters", "filters"),
    ("source", "source"),
    ("date", "date"),
    ("attribution", "attribution"),
    ("unit", "unit"),
    ("better", "better"),
    ("groupings", "groupings"),
]
FILTER_HELP = (
    _('A list of {"field": ..., "op": ..., "value": ...}; operators: %(ops)s.') % {"ops": ", ".join(Op)}
    + " "
    + _("A field may also be a dimension (custom.<key>, company.size, direction ...), with eq, ne, in, not_in or isnull.")
)


class KpiBuilderForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    key = forms.CharField(
        label=_("Key"), max_length=64, required=False, validators=[KEY_VALIDATOR], help_text=_("Left empty: made from the name.")
    )
    description = forms.CharField(
        label=_("Definition"), widget=forms.Textarea, help_text=_("What is counted, by which date, for whom.")
    )
    source = forms.ChoiceField(label=_("Records"), choices=[(key, s.label) for key, s in SOURCES.items()])
    measure = forms.ChoiceField(label=_("Measure"), choices=[(m, m) for m in builder.MEASURES])
    field = forms.CharField(label=_("Field"), required=False)
    start = forms.CharField(label=_("From (duration)"), required=False)
    end = forms.CharField(label=_("To (duration)"), required=False)
    per = forms.ChoiceField(
        label=_("Duration in"), choices=[("day", _("days")), ("hour", _("hours")), ("minute", _("minutes"))], initial="day"
    )
    filters = BoundedJSONField(label=_("Filters"), required=False, help_text=FILTER_HELP)
    date = forms.CharField(label=_("Date placing a record in a period"), required=False)
    attribution = forms.CharField(label=_("Counted for (person)"), required=False)
    ratio_of = forms.ChoiceField(label=_("Share of"), choices=[("", "-")] + [(p, p) for p in builder.RATIO_PARTS], required=False)
    numerator_filters = BoundedJSONField(label=_("Share: filters"), required=False)
    denominator = forms.ChoiceField(
        label=_("Out of"), choices=[("", "-")] + [(p, p) for p in builder.RATIO_PARTS], required=False
    )
    denominator_field = forms.CharField(label=_("Out of: field"), required=False)
    denominator_filters = BoundedJSONField(label=_("Out of: filters"), required=False)
    unit = forms.ChoiceField(
        label=_("Unit"), choices=[("", _("(from the measure)"))] + [(u.value, u.value) for u in Unit], required=False
    )
    better = forms.ChoiceField(label=_("Better when"), choices=[(b.value, b.value) for b in Better], initial=Better.HIGHER)
    groupings = forms.CharField(
        label=_("Can be grouped by"),
        required=False,
        help_text=_(
            "Dimensions, separated by commas (empty: any): person, team, source, custom.<key>, company.size, "
            "company.custom.<key> ... 'none' alone: a company-wide figure."
        ),
    )

    definition: Definition | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        if not data.get("key"):
            data["key"] = slugify(data.get("name", "")).replace("-", "_")
            if not data["key"] or not data["key"][0].isalpha():
                self.add_error("key", _("Give the KPI a key made of letters, digits and underscores."))
                return data
        if builder.is_builtin_key(data["key"]):
            self.add_error("key", _("'%(key)s' is a built-in KPI; choose another key.") % {"key": data["key"]})
        try:
            self.definition = builder.build(data)
        except DefinitionError as exc:
            for problem in exc.problems:
                self.add_error(_field_for(problem.path), problem.message)
        return data

    def preview(self, *, user: Any, **window: Any) -> KpiResult:
        assert self.definition is not None, "call is_valid() first"
        return builder.preview(self.definition, user=user, **window)

    def save(self, *, by: Any) -> Metric:
        assert self.definition is not None, "call is_valid() first"
        data = self.cleaned_data
        return builder.save(
            definition=self.definition, key=data["key"], name=data["name"], description=data["description"], by=by
        )


def _field_for(path: str) -> str | None:
    for prefix, name in PROBLEM_FIELDS:
        if path == prefix or path.startswith((f"{prefix}.", f"{prefix}[")):
            return name
    return None
