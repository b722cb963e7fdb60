"""The column mapping: which file columns fill which fields, and how values are fixed or translated.

A mapping is plain data, the same in a preset (TOML), a saved mapping (JSON in the database), a web
form and the command line. One step's mapping looks like:

    into = "deals"
    match = ["external_id"]            # fields that find an existing record (default: the target's)
    currency = "USD"                   # the currency of the file's amounts (default: the company's)
    warn_if_blank = ["company"]        # optional fields whose blank cells should be reported
    report_unreferenced = false        # report records no later step refers to
    amount_known = "at close"          # deals: the file's amount is the value each deal closed at (default "always")
    [fields]
    external_id = "opportunity_id"                                  # a column
    title = { template = "{product}[ for {account}]" }              # columns in a text; [...] dropped if blank
    pipeline = { value = "Maven" }                                  # a constant
    status = { column = "deal_stage", values = { Won = "won" } }    # vocabulary translation (silent)
    created_at = { column = "engage_date", default = "@latest:engage_date+close_date" }
    annual_revenue = { column = "revenue", multiply = 1000000 }
    "custom.product" = { column = "product", references = "products" }
    [fixes.product]                                                 # known misspellings (reported as fixed)
    GTXPro = "GTX Pro"

`fixes` correct a column's value wherever it is used and are reported; `values` translate one
field's vocabulary (Won -> won) and are not faults. A `default` fills a blank cell and is reported;
"@latest:a+b" is the latest date found in columns a and b anywhere in the file (the data's as-of date).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from quota.imports.values import is_blank, text

PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
OPTIONAL_PART = re.compile(r"\[([^\[\]]*)\]")
LATEST_DATE = "@latest:"
RULE_KEYS = {"column", "template", "value", "default", "values", "multiply", "date_format", "decimal_comma", "references"}
STEP_KEYS = {
    "into",
    "fields",
    "fixes",
    "match",
    "currency",
    "warn_if_blank",
    "report_unreferenced",
    "amount_known",
    "date_format",
    "decimal_comma",
}
DUPLICATE_MODES = ("skip", "update")
# When a deal file's amount was known: "always" (the deal's value all along), or "at close" (the value it closed
# at, unknown while it was open, as in Maven's close_value): then the history leaves the open deal's amount unknown.
AMOUNT_KNOWN = ("always", "at close")


class MappingError(ValueError):
    """The mapping itself is wrong (not the file); the message says what to change."""


@dataclass
class FieldRule:
    """How one field gets its value from a row."""

    name: str
    column: str | None = None
    template: str | None = None
    value: Any = None
    has_value: bool = False
    default: Any = None
    values: dict[str, str] = field(default_factory=dict)
    multiply: Decimal | None = None
    date_format: str = ""
    decimal_comma: bool = False
    references: str | None = None

    @property
    def source_label(self) -> str:
        """What to call the origin of this field's value in a report."""
        if self.column:
            return self.column
        if self.template:
            return "+".join(self.template_columns()) or self.name
        return self.name

    def template_columns(self) -> list[str]:
        return PLACEHOLDER.findall(self.template or "")

    def columns(self) -> set[str]:
        used = set(self.template_columns())
        if self.column:
            used.add(self.column)
        if isinstance(self.default, str) and self.default.startswith(LATEST_DATE):
            used.update(latest_date_columns(self.default))
        return used

    def translate(self, value: str) -> str:
        if not self.values:
            return value
        if value in self.values:
            return self.values[value]
        folded = value.casefold()
        for source, target in self.values.items():
            if source.casefold() == folded:
                return target
        return value

    def as_dict(self) -> dict[str, Any] | str:
        if (
            self.column
            and not (self.default is not None or self.values or self.multiply or self.date_format)
            and not (self.decimal_comma or self.references)
        ):
            return self.column
        data: dict[str, Any] = {}
        for key in ("column", "template", "default", "date_format", "references"):
            if getattr(self, key) not in (None, ""):
                data[key] = getattr(self, key)
        if self.has_value:
            data["value"] = self.value
        if self.values:
            data["values"] = dict(self.values)
        if self.multiply is not None:
            data["multiply"] = str(self.multiply)
        if self.decimal_comma:
            data["decimal_comma"] = True
        return data

    @classmethod
    def from_data(cls, name: str, data: Any) -> FieldRule:
        if isinstance(data, str):
            return cls(name=name, column=data)
        if not isinstance(data, dict):
            raise MappingError(f"field {name}: give a column name or a table of options")
        unknown = set(data) - RULE_KEYS
        if unknown:
            raise MappingError(f"field {name}: unknown option(s) {', '.join(sorted(unknown))}")
        sources = [key for key in ("column", "template", "value") if key in data]
        if len(sources) > 1:
            raise MappingError(f"field {name}: use only one of column, template and value")
        if not sources and "default" not in data:
            raise MappingError(f"field {name}: say where its value comes from (column, template, value or default)")
        values = data.get("values", {})
        if not isinstance(values, dict):
            raise MappingError(f"field {name}: values must map file values to field values")
        multiply = None
        if "multiply" in data:
            try:
                multiply = Decimal(str(data["multiply"]))
            except InvalidOperation:
                raise MappingError(f"field {name}: multiply must be a number")
        rule = cls(
            name=name,
            column=_optional_text(data.get("column")),
            template=_optional_text(data.get("template")),
            value=data.get("value"),
            has_value="value" in data,
            default=data.get("default"),
            values={str(k): str(v) for k, v in values.items()},
            multiply=multiply,
            date_format=str(data.get("date_format", "")),
            decimal_comma=bool(data.get("decimal_comma", False)),
            references=_optional_text(data.get("references")),
        )
        if isinstance(rule.default, str) and rule.default.startswith(LATEST_DATE) and not latest_date_columns(rule.default):
            raise MappingError(f"field {name}: {LATEST_DATE} needs column names, e.g. {LATEST_DATE}engage_date+close_date")
        return rule


@dataclass
class StepMapping:
    """The mapping of one file into one kind of record."""

    into: str
    fields: dict[str, FieldRule]
    fixes: dict[str, dict[str, str]] = field(default_factory=dict)
    match: list[str] | None = None
    currency: str | None = None
    warn_if_blank: list[str] = field(default_factory=list)
    report_unreferenced: bool = False
    amount_known: str = "always"

    def columns(self) -> set[str]:
        used: set[str] = set()
        for rule in self.fields.values():
            used |= rule.columns()
        return used

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"into": self.into, "fields": {name: rule.as_dict() for name, rule in self.fields.items()}}
        if self.fixes:
            data["fixes"] = {column: dict(fixes) for column, fixes in self.fixes.items()}
        if self.match is not None:
            data["match"] = list(self.match)
        if self.currency:
            data["currency"] = self.currency
        if self.warn_if_blank:
            data["warn_if_blank"] = list(self.warn_if_blank)
        if self.report_unreferenced:
            data["report_unreferenced"] = True
        if self.amount_known != "always":
            data["amount_known"] = self.amount_known
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, into: str | None = None) -> StepMapping:
        if not isinstance(data, dict):
            raise MappingError("a mapping must be a table of options")
        unknown = set(data) - STEP_KEYS
        if unknown:
            raise MappingError(f"unknown mapping option(s) {', '.join(sorted(unknown))}")
        target = into or data.get("into")
        if not target:
            raise MappingError("say which records the file holds (into = deals, companies, ...)")
        raw_fields = data.get("fields", {})
        if not isinstance(raw_fields, dict) or not raw_fields:
            raise MappingError("map at least one column to a field")
        shared = {key: data[key] for key in ("date_format", "decimal_comma") if key in data}
        rules = {}
        for name, rule in raw_fields.items():
            if shared and isinstance(rule, str):
                rule = {"column": rule}
            rules[str(name)] = FieldRule.from_data(str(name), {**shared, **rule} if isinstance(rule, dict) else rule)
        fixes = data.get("fixes", {})
        if not isinstance(fixes, dict) or not all(isinstance(v, dict) for v in fixes.values()):
            raise MappingError("fixes must be given per column: {column: {wrong: right}}")
        match = data.get("match")
        if match is not None and (not isinstance(match, list) or not all(isinstance(m, str) for m in match)):
            raise MappingError("match must be a list of field names")
        amount_known = data.get("amount_known", "always")
        if amount_known not in AMOUNT_KNOWN:
            raise MappingError(f"amount_known must be {' or '.join(repr(a) for a in AMOUNT_KNOWN)}, not {amount_known!r}")
        if amount_known != "always" and str(target) != "deals":
            raise MappingError("amount_known applies to deals only")
        return cls(
            into=str(target),
            fields=rules,
            fixes={str(c): {str(k): str(v) for k, v in f.items()} for c, f in fixes.items()},
            match=match,
            currency=_optional_text(data.get("currency")),
            warn_if_blank=[str(f) for f in data.get("warn_if_blank", [])],
            report_unreferenced=bool(data.get("report_unreferenced", False)),
            amount_known=str(amount_known),
        )

    @classmethod
    def from_command_line(
        cls,
        *,
        into: str,
        columns: Iterable[str] = (),
        constants: Iterable[str] = (),
        templates: Iterable[str] = (),
        defaults: Iterable[str] = (),
        values: Iterable[str] = (),
        fixes: Iterable[str] = (),
        match: str | None = None,
        currency: str | None = None,
        base: StepMapping | None = None,
    ) -> StepMapping:
        """Build (or extend `base`) from --map 'Column=field,...', --set, --template, --default, --values and --fix."""
        data: dict[str, Any] = base.as_dict() if base else {"into": into, "fields": {}}
        data["into"] = into or data["into"]
        rules: dict[str, Any] = {k: (v if isinstance(v, dict) else {"column": v}) for k, v in data["fields"].items()}
        for column, name in _pairs(columns, "--map", "Column=field"):
            rules[name] = {"column": column}
        for name, constant in _pairs(constants, "--set", "field=value"):
            rules[name] = {"value": constant}
        for name, template in _pairs(templates, "--template", "field={Column} text"):
            rules[name] = {"template": template}
        for name, default in _pairs(defaults, "--default", "field=value"):
            rules.setdefault(name, {})["default"] = default
        for name, table in _tables(values, "--values", "field:From=To,From=To"):
            rules.setdefault(name, {}).setdefault("values", {}).update(table)
        for column, table in _tables(fixes, "--fix", "column:Wrong=Right,..."):
            data.setdefault("fixes", {}).setdefault(column, {}).update(table)
        for name, rule in rules.items():
            if "values" in rule and not ({"column", "template", "value", "default"} & set(rule)):
                raise MappingError(f"--values for {name}: map a column to {name} with --map first")
        data["fields"] = rules
        if match:
            data["match"] = [m.strip() for m in match.split(",") if m.strip()]
        if currency:
            data["currency"] = currency
        return cls.from_dict(data)


@dataclass
class MappedRow:
    """One row's field values as text (not yet typed), and what was fixed or defaulted to get them."""

    values: dict[str, Any]
    blank: set[str]
    defaulted: dict[str, str]
    fixed: list[tuple[str, str, str]]  # (column, wrong, right)


def apply(mapping: StepMapping, row: dict[str, Any], *, resolved_defaults: dict[str, Any]) -> MappedRow:
    fixed: list[tuple[str, str, str]] = []
    cells = dict(row)
    for column, table in mapping.fixes.items():
        cell = cells.get(column)
        if is_blank(cell):
            continue
        original = text(cell)
        right = table.get(original)
        if right is None:
            right = next((r for w, r in table.items() if w.casefold() == original.casefold()), None)
        if right is not None and right != original:
            cells[column] = right
            fixed.append((column, original, right))

    values: dict[str, Any] = {}
    blank: set[str] = set()
    defaulted: dict[str, str] = {}
    for name, rule in mapping.fields.items():
        if rule.has_value:
            raw: Any = rule.value
        elif rule.template:
            raw = render_template(rule.template, cells.get)
        elif rule.column:
            raw = cells.get(rule.column)
        else:
            raw = None
        if is_blank(raw):
            default = resolved_defaults.get(name, rule.default)
            if default is None or is_blank(default):
                blank.add(name)
                continue
            raw = default
            defaulted[name] = text(default)
        elif isinstance(raw, str):
            raw = raw.strip()
        values[name] = rule.translate(raw) if isinstance(raw, str) else raw
    return MappedRow(values=values, blank=blank, defaulted=defaulted, fixed=fixed)


def render_template(template: str, cell: Callable[[str], Any]) -> str:
    """Fill {column} placeholders; a [bracketed part] is left out when any of its placeholders is blank."""

    def optional(match: re.Match[str]) -> str:
        part = match.group(1)
        return part if all(not is_blank(cell(name)) for name in PLACEHOLDER.findall(part)) else ""

    filled = OPTIONAL_PART.sub(optional, template)
    filled = PLACEHOLDER.sub(lambda m: "" if is_blank(cell(m.group(1))) else text(cell(m.group(1))), filled)
    return " ".join(filled.split())


def latest_date_columns(default: str) -> list[str]:
    return [c.strip() for c in default[len(LATEST_DATE) :].split("+") if c.strip()]


def _optional_text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _split_list(argument: str) -> list[str]:
    """Comma-separated items; quote an item that contains a comma ("Revenue, USD"=amount)."""
    return [item.strip() for item in next(csv.reader([argument], skipinitialspace=True), []) if item.strip()]


def _pairs(arguments: Iterable[str], option: str, shape: str) -> list[tuple[str, str]]:
    pairs = []
    for argument in arguments:
        for item in _split_list(argument):
            left, sep, right = item.rpartition("=") if option == "--map" else item.partition("=")
            if not sep or not left.strip() or not right.strip():
                raise MappingError(f"{option}: {item!r} is not {shape}")
            pairs.append((left.strip(), right.strip()))
    return pairs


def _tables(arguments: Iterable[str], option: str, shape: str) -> list[tuple[str, dict[str, str]]]:
    tables = []
    for argument in arguments:
        name, sep, rest = argument.partition(":")
        if not sep or not name.strip():
            raise MappingError(f"{option}: {argument!r} is not {shape}")
        tables.append((name.strip(), dict(_pairs([rest], option, shape))))
    return tables
