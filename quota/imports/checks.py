"""Checks of a mapping against a file's header and the target, made before any row is read.

A wrong column name or a required field without a column would fail every row; saying it once,
up front, is both clearer and cheaper.
"""

from __future__ import annotations

import difflib

from quota.core.models import ExchangeRate
from quota.core.money import CURRENCIES
from quota.imports.mapping import StepMapping
from quota.imports.problems import Problem, ProblemKind
from quota.imports.targets import TARGETS, FieldKind, Target, TargetField

CURRENCY_CODES = {code for code, _ in CURRENCIES}


def check_step(
    mapping: StepMapping,
    header: list[str],
    target: Target,
    fields: dict[str, TargetField],
    *,
    company_currency: str,
    updating: bool = False,
) -> list[Problem]:
    """`updating`: rows that match a record need only the columns the file maps; a row that matches
    none is checked for the required fields it lacks when it is read (so not here)."""
    problems: list[Problem] = []
    problems += _columns(mapping, header)
    problems += _fields(mapping, target, fields, updating=updating)
    problems += _currency(mapping, target, company_currency)
    return problems


def _columns(mapping: StepMapping, header: list[str]) -> list[Problem]:
    problems = []
    present = set(header)
    for column in sorted(mapping.columns() - present):
        close = difflib.get_close_matches(column, header, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else f"; the file's columns are: {', '.join(header[:30])}"
        problems.append(Problem(ProblemKind.MISSING_COLUMN, f"column {column!r} is not in the file{hint}", column=column))
    return problems


def _fields(mapping: StepMapping, target: Target, fields: dict[str, TargetField], *, updating: bool) -> list[Problem]:
    problems = []
    for name, rule in mapping.fields.items():
        if name not in fields:
            close = difflib.get_close_matches(name, list(fields), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"importable fields: {', '.join(sorted(fields))}"
            problems.append(Problem(ProblemKind.UNKNOWN_FIELD, f"{target.name} have no field {name!r}; {hint}", value=name))
            continue
        if rule.references and rule.references not in TARGETS:
            problems.append(
                Problem(ProblemKind.UNKNOWN_FIELD, f"{name}: references {rule.references!r}, which is not a kind of record")
            )
        if rule.multiply is not None and fields[name].kind not in (FieldKind.DECIMAL, FieldKind.INTEGER):
            problems.append(Problem(ProblemKind.INVALID_MAPPING, f"{name}: multiply applies to numbers only"))
    matched = updating and any(name in mapping.fields for name in (mapping.match or target.match_fields))
    for name, spec in fields.items():
        stand_ins = target.stand_ins.get(name, ())
        if spec.required and not matched and name not in mapping.fields and not any(s in mapping.fields for s in stand_ins):
            either = f" (or {', '.join(stand_ins)})" if stand_ins else ""
            problems.append(
                Problem(ProblemKind.UNMAPPED_REQUIRED_FIELD, f"{target.name} need {name}{either}: map a column to it", value=name)
            )
    text_fields = {n for n, f in fields.items() if f.kind == FieldKind.TEXT and not f.custom_key}
    for name in mapping.match or []:
        if name not in target.match_fields and name not in text_fields:
            problems.append(
                Problem(
                    ProblemKind.UNKNOWN_FIELD,
                    f"cannot find duplicates by {name!r}; use {', '.join(target.match_fields)} or another text field",
                )
            )
    for name in mapping.warn_if_blank:
        if name not in mapping.fields:
            problems.append(Problem(ProblemKind.INVALID_MAPPING, f"warn_if_blank names {name!r}, which is not mapped"))
    return problems


def _currency(mapping: StepMapping, target: Target, company_currency: str) -> list[Problem]:
    currency = mapping.currency or company_currency
    if currency not in CURRENCY_CODES:
        return [
            Problem(ProblemKind.INVALID_MAPPING, f"unknown currency {currency!r}; use one of {', '.join(sorted(CURRENCY_CODES))}")
        ]
    converts = hasattr(target.model, "exchange_rate") or bool(target.company_currency_fields & set(mapping.fields))
    if converts and currency != company_currency and not ExchangeRate.objects.filter(currency=currency).exists():
        return [
            Problem(
                ProblemKind.NO_EXCHANGE_RATE,
                f"the file's amounts are in {currency} but the company currency is {company_currency}, and there is no "
                f"{currency} exchange rate: add {currency} rates from the file's earliest date on with "
                f"`quota rates add {currency} <rate> --date YYYY-MM-DD` (or `quota rates import FILE.csv`), "
                f"or set QUOTA_CURRENCY={currency} if the company reports in {currency}",
                value=currency,
            )
        ]
    return []
