"""Serializer fields: related records the requesting user may see, and bounded JSON."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from quota.core.inputs import JSONTooDeep, check_json_depth, too_deep_message


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key that must name a record visible to the requesting user (else: 'does not exist')."""

    def get_queryset(self) -> Any:
        queryset: Any = super().get_queryset()
        request = self.context.get("request")
        if request is not None and hasattr(queryset, "visible_to"):
            return queryset.visible_to(request.user)
        return queryset


class BoundedJSONField(serializers.JSONField):
    """A JSON value, also when a form post sends it as text, nested at most `MAX_JSON_DEPTH` levels."""

    def to_internal_value(self, data: Any) -> Any:
        try:
            value = super().to_internal_value(data)
            return check_json_depth(value)
        except RecursionError:
            raise serializers.ValidationError(too_deep_message()) from None
        except JSONTooDeep as exc:
            raise serializers.ValidationError(str(exc)) from None
