"""Forms of the import pages: the upload, and the column-to-field mapping."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from quota.imports.missing import CUSTOM_PREFIX, new_custom_field_key
from quota.imports.presets import available as available_presets
from quota.imports.presets import load
from quota.imports.suggest import Proposal
from quota.imports.targets import TARGETS, TargetField

# The pages take files up to this size; larger ones go through `quota import` on the server.
MAX_UPLOAD_BYTES: int = getattr(settings, "IMPORTS_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)
EXTENSIONS = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
DELIMITERS = [("", _("Detect")), (",", _("Comma ,")), (";", _("Semicolon ;")), ("\t", _("Tab")), ("|", _("Bar |"))]
ENCODINGS = [
    ("", _("Detect")),
    ("utf-8", "UTF-8"),
    ("utf-16", "UTF-16"),
    ("cp1252", _("Western European (Windows-1252)")),
    ("cp1250", _("Central European (Windows-1250)")),
    ("cp1251", _("Cyrillic (Windows-1251)")),
    ("latin-1", "ISO-8859-1"),
]
IGNORE = ""


def holds_choices() -> list[tuple[Any, Any]]:
    records = [(f"into:{name}", str(target.model._meta.verbose_name_plural).capitalize()) for name, target in TARGETS.items()]
    presets = [(f"preset:{name}", load(name).title) for name in available_presets()]
    return [("", _("Choose...")), (_("Records"), records), (_("An export of another system"), presets)]


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV or XLSX, the first row naming the columns."),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(EXTENSIONS)}),
    )
    holds = forms.ChoiceField(label=_("The file holds"), choices=holds_choices)
    encoding = forms.ChoiceField(
        label=_("Encoding"), choices=ENCODINGS, required=False, help_text=_("Only if accented letters come out wrong.")
    )
    delimiter = forms.ChoiceField(
        label=_("Delimiter"), choices=DELIMITERS, required=False, help_text=_("CSV only: what separates the columns.")
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _(
                    "The file is %(size)s; the pages take files up to %(limit)s. Split it, or ask an administrator "
                    "to run it with the command line (quota import)."
                )
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(MAX_UPLOAD_BYTES)}
            )
        if not upload.name.lower().endswith(EXTENSIONS):
            raise forms.ValidationError(_("Upload a CSV or XLSX file (its name ends in .csv or .xlsx)."))
        return upload


class MappingForm(forms.Form):
    """One select per column of the file: the field it fills, or nothing."""

    on_duplicate = forms.ChoiceField(
        label=_("Records already in Quota"),
        choices=[
            ("skip", _("Skip them: leave the record as it is")),
            ("update", _("Update them: fill in the file's values")),
        ],
        initial="skip",
        widget=forms.RadioSelect,
    )
    create_missing = forms.BooleanField(
        label=_("Create what is missing"),
        required=False,
        help_text=_(
            "Lead sources, loss reasons and custom fields the file names that Quota does not have yet are created with "
            "the import (the dry run lists them; a custom field's type is read from its column)."
        ),
    )
    blank_as_group = forms.BooleanField(
        label=_("Count blank lead sources and loss reasons as “(blank)”"),
        required=False,
        help_text=_(
            "Instead of refusing the row, a blank lead source is the source named “(blank)”, and a lost deal's blank "
            "loss reason the reason named “(blank)”."
        ),
    )
    save_as = forms.CharField(
        label=_("Save this mapping as"),
        max_length=100,
        required=False,
        help_text=_("Optional: a name to pick the mapping again for other files."),
    )

    def __init__(
        self,
        *args: Any,
        header: list[str],
        fields: dict[str, TargetField],
        proposal: Proposal,
        custom_fields: bool = False,
        **kwargs: Any,
    ):
        """`custom_fields`: the records have custom fields, so a column may also become a new one (created with
        "Create what is missing", its type read from the column, as `quota import --create-missing` does)."""
        super().__init__(*args, **kwargs)
        self.header = header
        choices = [(IGNORE, _("(do not import)"))] + [
            (name, f"{spec.label} *" if spec.required else str(spec.label))
            for name, spec in sorted(fields.items(), key=lambda item: str(item[1].label).casefold())
        ]
        self.column_fields: list[tuple[str, str]] = []
        self.new_custom_fields: set[str] = set()
        for index, column in enumerate(header):
            if not column:
                continue
            key = f"column_{index}"
            column_choices = choices
            new = CUSTOM_PREFIX + new_custom_field_key(column, fallback=f"column_{index + 1}")
            if custom_fields and new not in fields:
                self.new_custom_fields.add(new)
                column_choices = [*choices, (new, _("New custom field “%(column)s”") % {"column": column})]
            self.fields[key] = forms.ChoiceField(
                label=column, choices=column_choices, required=False, initial=proposal.assignments.get(column, IGNORE)
            )
            self.column_fields.append((key, column))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        seen: dict[str, str] = {}
        for key, column in self.column_fields:
            name = cleaned.get(key) or IGNORE
            if name == IGNORE:
                continue
            if name in seen:
                self.add_error(
                    key, _("%(other)s is mapped to this field already; a field takes one column.") % {"other": seen[name]}
                )
            elif name in self.new_custom_fields and not cleaned.get("create_missing"):
                self.add_error(key, _("Tick “Create what is missing” to create this custom field with the import."))
            seen[name] = column
        return cleaned

    def assignments(self) -> dict[str, str]:
        return {column: self.cleaned_data.get(key) or IGNORE for key, column in self.column_fields}
