"""`GET /api/<records>/{id}/history/`: a record's audit trail, one row per changed field, newest first.

A mixin for record viewsets: the record is found through the viewset's own queryset, so a record
the caller may not see is a 404, as its detail is. Paginated like every list (`?page=`).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from quota.audit.selectors import history_of


class HistoryUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(help_text="The person's full name, else their username.")


class HistoryChangeSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The field's name, e.g. amount, owner, stage.")
    action = serializers.ChoiceField(
        choices=["create", "update", "delete"], help_text="create: the record's first values; delete: its last."
    )
    old = serializers.JSONField(allow_null=True, help_text="The value before (a related record's id; null when created).")
    new = serializers.JSONField(allow_null=True, help_text="The value after (null when deleted).")
    old_display = serializers.CharField(help_text="The value before, in words (a related record's name, a choice's label).")
    new_display = serializers.CharField(help_text="The value after, in words.")
    user = HistoryUserSerializer(allow_null=True, help_text="Who made the change; null for system work (imports, seeds).")
    at = serializers.DateTimeField(help_text="When, ISO 8601.")


class HistoryPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = HistoryChangeSerializer(many=True)


def _user(actor: Any) -> dict[str, Any] | None:
    if actor is None:
        return None
    return {"id": actor.pk, "username": actor.username, "name": str(actor)}


# Adds the `history` action to a record viewset. No docstring: the schema describes the viewset's other
# operations with the viewset's own (inspect.getdoc reads the first docstring along the MRO).
class HistoryMixin:
    @extend_schema(
        summary="The record's change history",
        parameters=[OpenApiParameter("page", int, description="A page number within the paginated result set.")],
        responses={200: HistoryPageSerializer, 404: OpenApiResponse(description="No such record, or not one you may see.")},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def history(self, request: Request, pk: str | None = None) -> Response:
        """Who changed which audited field (amount, owner, stage, status...) from what to what, and when; newest first."""
        view: Any = self
        record = view.get_object()
        rows = [
            {
                "field": change.field,
                "action": entry.action_key,
                "old": change.old,
                "new": change.new,
                "old_display": change.old_text,
                "new_display": change.new_text,
                "user": _user(entry.actor),
                "at": entry.at,
            }
            for entry in history_of(record)
            for change in entry.changes
        ]
        page = view.paginate_queryset(rows)
        return view.get_paginated_response(HistoryChangeSerializer(page, many=True).data)
