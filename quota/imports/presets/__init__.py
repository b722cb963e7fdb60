"""Presets: known file sets (an export format, a sample data set) described as data.

A preset is a TOML file in this folder: a title, the currency of its amounts, the reference records
it needs (`[setup]`) and its steps, each a file name and a mapping in the format of
`quota.imports.mapping`. Adding a preset for another CRM's export is adding a TOML file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quota.imports.mapping import MappingError, StepMapping
from quota.imports.setup import Setup, SetupError

PRESETS_DIR = Path(__file__).resolve().parent
PRESET_KEYS = {"name", "title", "description", "currency", "setup", "steps"}
STEP_ONLY_KEYS = {"name", "file"}


class PresetError(ValueError):
    """A preset is missing or malformed."""


@dataclass
class PresetStep:
    name: str
    file: str
    mapping: StepMapping


@dataclass
class Preset:
    name: str
    title: str
    description: str = ""
    currency: str | None = None
    setup: Setup = field(default_factory=Setup)
    steps: list[PresetStep] = field(default_factory=list)

    def files(self) -> list[str]:
        return list(dict.fromkeys(step.file for step in self.steps))


def available() -> dict[str, Path]:
    return {path.stem: path for path in sorted(PRESETS_DIR.glob("*.toml"))}


def load(name: str) -> Preset:
    path = available().get(name)
    if path is None:
        raise PresetError(f"there is no preset {name!r}; presets: {', '.join(available()) or 'none'}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PresetError(f"preset {name}: {exc}") from exc
    return from_dict(name, data)


def from_dict(name: str, data: dict[str, Any]) -> Preset:
    unknown = set(data) - PRESET_KEYS
    if unknown:
        raise PresetError(f"preset {name}: unknown key(s) {', '.join(sorted(unknown))}")
    currency = data.get("currency")
    steps = []
    for number, raw in enumerate(data.get("steps", []), start=1):
        step_name = str(raw.get("name") or f"step {number}")
        if not raw.get("file"):
            raise PresetError(f"preset {name}, {step_name}: say which file it reads")
        mapping_data = {k: v for k, v in raw.items() if k not in STEP_ONLY_KEYS}
        if currency and "currency" not in mapping_data:
            mapping_data["currency"] = currency
        try:
            mapping = StepMapping.from_dict(mapping_data)
        except MappingError as exc:
            raise PresetError(f"preset {name}, {step_name}: {exc}") from exc
        steps.append(PresetStep(name=step_name, file=str(raw["file"]), mapping=mapping))
    if not steps:
        raise PresetError(f"preset {name}: it has no steps")
    try:
        setup = Setup.from_dict(data.get("setup", {}))
    except SetupError as exc:
        raise PresetError(f"preset {name}: {exc}") from exc
    return Preset(
        name=str(data.get("name", name)),
        title=str(data.get("title", name)),
        description=str(data.get("description", "")),
        currency=currency,
        setup=setup,
        steps=steps,
    )
