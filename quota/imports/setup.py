"""Reference records a preset needs before its rows: a pipeline and its stages, loss reasons,
custom fields. Each is created only when missing, so a second import changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Max

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

    def apply(self) -> list[str]:
        """Create what is missing; return one line per record created."""
        done: list[str] = []
        for pipeline in self.pipelines:
            done.extend(_ensure_pipeline(pipeline["name"], pipeline["stages"]))
        for reason in self.loss_reasons:
            _, created = LossReason.objects.get_or_create(
                name=reason["name"], defaults={"follow_up_after_days": reason.get("follow_up_after_days")}
            )
            if created:
                done.append(f"loss reason {reason['name']!r} created")
        for spec in self.custom_fields:
            done.extend(_ensure_custom_field(spec))
        return done


def _ensure_pipeline(name: str, stages: list[dict[str, Any]]) -> list[str]:
    done = []
    pipeline, created = Pipeline.objects.get_or_create(name=name)
    if created:
        done.append(f"pipeline {name!r} created")
    existing = {s.name.casefold() for s in pipeline.stages.all()}
    position = pipeline.stages.aggregate(last=Max("position"))["last"] or 0
    for stage in stages:
        if stage["name"].casefold() in existing:
            continue
        position += 1
        Stage.objects.create(pipeline=pipeline, name=stage["name"], position=position, probability=int(stage["probability"]))
        done.append(f"stage {stage['name']!r} ({stage['probability']}%) added to pipeline {name!r}")
    return done


def _ensure_custom_field(spec: dict[str, Any]) -> list[str]:
    if CustomField.objects.filter(target=spec["target"], key=spec["key"]).exists():
        return []
    custom_field = CustomField(
        target=spec["target"],
        key=spec["key"],
        label=spec.get("label", spec["key"]),
        field_type=spec.get("type", "text"),
        choices=spec.get("choices", []),
    )
    try:
        custom_field.full_clean()
    except ValidationError as exc:
        raise SetupError(f"custom field {spec['key']}: {'; '.join(exc.messages)}") from exc
    custom_field.save()
    return [f"custom field {spec['target']}.{spec['key']} ({custom_field.field_type}) created"]
