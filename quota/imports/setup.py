"""Reference records a preset needs before its rows: a pipeline and its stages, loss reasons,
custom fields. Each is created only when missing, so a second import changes nothing; each through
`core.services.record_create`, as the pages and `quota customfield add` create them (validated whole)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Max

from quota.core.inputs import problem_lines
from quota.core.services import record_create
from quota.crm.models import CustomField, LossReason, Pipeline, Stage


class SetupError(ValueError):
    """The preset's setup section is malformed."""


@dataclass
class Setup:
    pipelines: list[dict[str, Any]] = field(default_factory=list)
    loss_reasons: list[dict[str, Any]] = field(default_factory=list)
    custom_fields: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Setup:
        unknown = set(data) - {"pipelines", "loss_reasons", "custom_fields"}
        if unknown:
            raise SetupError(f"unknown setup section(s): {', '.join(sorted(unknown))}")
        setup = cls(
            pipelines=list(data.get("pipelines", [])),
            loss_reasons=list(data.get("loss_reasons", [])),
            custom_fields=list(data.get("custom_fields", [])),
        )
        for pipeline in setup.pipelines:
            if not pipeline.get("name") or not pipeline.get("stages"):
                raise SetupError("a pipeline needs a name and stages")
        return setup

    def apply(self, *, by: Any = None) -> list[str]:
        """Create what is missing, as `by` (None: system work); return one line per record created."""
        done: list[str] = []
        for pipeline in self.pipelines:
            done.extend(_ensure_pipeline(pipeline["name"], pipeline["stages"], by))
        for reason in self.loss_reasons:
            if not LossReason.objects.filter(name=reason["name"]).exists():
                follow_up = reason.get("follow_up_after_days")
                _create(f"loss reason {reason['name']!r}", LossReason, by, name=reason["name"], follow_up_after_days=follow_up)
                done.append(f"loss reason {reason['name']!r} created")
        for spec in self.custom_fields:
            done.extend(_ensure_custom_field(spec, by))
        return done


def _create(what: str, model: type[Any], by: Any, **fields: Any) -> Any:
    try:
        return record_create(model=model, by=by, **fields)
    except ValidationError as exc:
        raise SetupError(f"{what}: {'; '.join(problem_lines(exc))}") from None


def _ensure_pipeline(name: str, stages: list[dict[str, Any]], by: Any) -> list[str]:
    done = []
    pipeline = Pipeline.objects.filter(name=name).first()
    if pipeline is None:
        pipeline = _create(f"pipeline {name!r}", Pipeline, by, name=name)
        done.append(f"pipeline {name!r} created")
    existing = {s.name.casefold() for s in pipeline.stages.all()}
    position = pipeline.stages.aggregate(last=Max("position"))["last"] or 0
    for stage in stages:
        if stage["name"].casefold() in existing:
            continue
        position += 1
        probability = int(stage["probability"])
        fields = {"pipeline": pipeline, "name": stage["name"], "position": position, "probability": probability}
        _create(f"stage {stage['name']!r}", Stage, by, **fields)
        done.append(f"stage {stage['name']!r} ({stage['probability']}%) added to pipeline {name!r}")
    return done


def _ensure_custom_field(spec: dict[str, Any], by: Any) -> list[str]:
    if CustomField.objects.filter(target=spec["target"], key=spec["key"]).exists():
        return []
    custom_field = _create(
        f"custom field {spec['key']}",
        CustomField,
        by,
        target=spec["target"],
        key=spec["key"],
        label=spec.get("label", spec["key"]),
        field_type=spec.get("type", "text"),
        choices=spec.get("choices", []),
    )
    return [f"custom field {spec['target']}.{spec['key']} ({custom_field.field_type}) created"]
