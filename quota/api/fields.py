"""Related-record fields that only accept records the requesting user may see."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key that must name a record visible to the requesting user (else: 'does not exist')."""

    def get_queryset(self) -> Any:
        queryset: Any = super().get_queryset()
        request = self.context.get("request")
        if request is not None and hasattr(queryset, "visible_to"):
            return queryset.visible_to(request.user)
        return queryset
