"""REST endpoints for KPIs: definitions (list, define, change, retire), values and progress against targets.

Values are the engine's, read as the caller may see the records (the walls of the KPI pages), and are the
rows `quota kpi eval --format json` prints: both call `kpi.selectors.kpi_values` and `value_rows`.
Definitions are checked by the builder (`kpi.builder.define`), the one check the pages and the command use.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from quota.api.fields import BoundedJSONField
from quota.api.permissions import allows
from quota.api.serializers import validated
from quota.core.inputs import validate_supported_day
from quota.forecasting.targets import TargetProgress, target_progress
from quota.kpi import builder
from quota.kpi.definitions import DefinitionError, Unit
from quota.kpi.engine import GroupingNotSupported, UnknownKpi
from quota.kpi.formatting import as_json
from quota.kpi.models import KEY_VALIDATOR, Metric, Target, TargetPeriod, period_bounds
from quota.kpi.periods import Every, company_zone, starts
from quota.kpi.selectors import WhereError, default_range, kpi_values, value_rows, visible_targets, where_items

DefinesKpis = allows("kpi.define", writes_only=True)
# A values request is cut into at most this many periods (ten years by day; the command line has no such limit).
MAX_PERIODS = 3_700


class KpiSerializer(serializers.ModelSerializer):
    """A KPI's current version: built-in names and definitions in the caller's language."""

    name = serializers.CharField(source="display_name", read_only=True)
    description = serializers.CharField(source="display_description", read_only=True)
    unit = serializers.ChoiceField(choices=[u.value for u in Unit], read_only=True)
    better = serializers.ChoiceField(choices=["higher", "lower"], read_only=True)
    builtin = serializers.BooleanField(source="is_builtin", read_only=True)

    class Meta:
        model = Metric
        fields = ["key", "version", "name", "description", "unit", "better", "builtin", "definition", "created_at"]
        read_only_fields = fields


class KpiDefineSerializer(serializers.Serializer):
    """A custom KPI: the definition is the JSON the builder saves (see kpi.definitions)."""

    key = serializers.CharField(max_length=64, validators=[KEY_VALIDATOR])
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, help_text=gettext_lazy("What is counted, by which date, for whom."))
    definition = BoundedJSONField()


class KpiChangeSerializer(KpiDefineSerializer):
    key = None  # type: ignore[assignment]  # the URL names the KPI

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, partial=True, **kwargs)


class _ValuesQuery(serializers.Serializer):
    """`from`, `to`, `every`, `by` and `where`, as `quota kpi eval` takes them (declared below: `from` is a keyword)."""

    every = serializers.ChoiceField(choices=[e.value for e in Every], default=Every.MONTH.value)
    by = serializers.CharField(
        default="none",
        max_length=200,
        help_text=gettext_lazy(
            "A dimension: none, person, team, source, stage, product, campaign, direction, business_type, custom.<key>, "
            "company.industry, company.country, company.size, company.custom.<key>, contact.custom.<key>."
        ),
    )
    where = serializers.ListField(
        child=serializers.CharField(max_length=10_000),
        required=False,
        max_length=50,
        help_text=gettext_lazy(
            "Repeatable: <dimension>=<value> (custom.contract=annual, source=website; empty value: blank), or filters "
            'as JSON: [{"field": "status", "op": "eq", "value": "won"}].'
        ),
    )

    def validate_where(self, texts: list[str]) -> Any:
        try:
            return where_items(texts) or None
        except ValueError as exc:
            raise serializers.ValidationError(_("Send a JSON list of filters: %(error)s") % {"error": exc}) from None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = default_range(attrs.get("from"), attrs.get("to"), today=timezone.localdate(timezone=company_zone()))
        if start > end:
            raise serializers.ValidationError({"to": _("The range ends before it starts (%(start)s).") % {"start": start}})
        if attrs["every"] != Every.NONE and len(starts(start, end, Every(attrs["every"]))) > MAX_PERIODS:
            raise serializers.ValidationError(
                {
                    "every": _("That is more than %(count)s periods: choose a shorter range or longer periods.")
                    % {"count": MAX_PERIODS}
                }
            )
        return {**attrs, "from": start, "to": end}


KpiValuesQuery = type(
    "KpiValuesQuery",
    (_ValuesQuery,),
    {
        "from": serializers.DateField(
            required=False, validators=[validate_supported_day], help_text=gettext_lazy("Default: 13 months before `to`.")
        ),
        "to": serializers.DateField(
            required=False, validators=[validate_supported_day], help_text=gettext_lazy("Default: today.")
        ),
        "__module__": __name__,
    },
)


class KpiValueSerializer(serializers.Serializer):
    """One value: money in the company currency, rates as fractions; null when undefined."""

    period = serializers.DateField(allow_null=True, help_text=gettext_lazy("The period's first day; null for the whole range."))
    group = serializers.CharField(allow_null=True, help_text=gettext_lazy("The person, team, source ...; null when not grouped."))
    value = serializers.FloatField(allow_null=True)
    previous = serializers.FloatField(allow_null=True)
    last_year = serializers.FloatField(allow_null=True)
    computed_at = serializers.DateTimeField()


class KpiViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """KPIs: everyone signed in reads them; administrators and directors define custom ones (`kpi.define`)."""

    permission_classes = [IsAuthenticated, DefinesKpis]
    queryset = Metric.objects.none()  # for the schema; get_queryset reads the current versions
    serializer_class = KpiSerializer
    lookup_field = "key"
    filter_backends: list[Any] = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> Any:
        return Metric.objects.current().order_by("-is_builtin", "key")

    @extend_schema(request=KpiDefineSerializer, responses={201: KpiSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Define a custom KPI, or a new version of one (the builder's checks; nothing is saved on a problem)."""
        data = validated(KpiDefineSerializer, request.data)
        metric = builder.define(
            key=data["key"],
            name=data["name"],
            description=data.get("description") or data["name"],
            data=data["definition"],
            by=request.user,
        )
        return Response(KpiSerializer(metric).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=KpiChangeSerializer, responses=KpiSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change a custom KPI: a new definition is a new version (targets keep theirs); new words rename it."""
        metric = self.get_object()
        data = validated(KpiChangeSerializer, request.data)
        changed = builder.define(
            key=metric.key,
            name=data.get("name", metric.name),
            description=data.get("description", metric.description),
            data=data.get("definition", metric.definition),
            by=request.user,
        )
        return Response(KpiSerializer(changed).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Retire a custom KPI: it leaves the list; its versions stay for the targets set against them."""
        builder.retire(key=self.get_object().key, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="kpis_values",
        parameters=[KpiValuesQuery],
        responses={200: KpiValueSerializer(many=True), 400: OpenApiResponse(description="A parameter is wrong; each says why.")},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def values(self, request: Request, key: str | None = None) -> Response:
        """The KPI's values per period and group, as you may see the records: the rows of `quota kpi eval --format json`."""
        params = validated(KpiValuesQuery, request.query_params)
        try:
            result = kpi_values(
                str(key),
                user=request.user,
                start=params["from"],
                end=params["to"],
                every=params["every"],
                by=params["by"],
                where=params.get("where"),
            )
        except UnknownKpi as exc:
            raise NotFound(str(exc)) from None
        except GroupingNotSupported as exc:
            raise ValidationError({"by": [str(exc)]}) from None
        except WhereError as exc:
            raise ValidationError({"where": [str(p) for p in exc.problems]}) from None
        except DefinitionError as exc:  # stored before the checks refused it: refused still, as the command line does
            raise ValidationError(_("%(key)s cannot be computed: %(why)s") % {"key": key, "why": exc}) from None
        return Response(value_rows(result))


class TargetsQuery(serializers.Serializer):
    period = serializers.ChoiceField(
        choices=[TargetPeriod.MONTH.value, TargetPeriod.QUARTER.value, TargetPeriod.YEAR.value], default=TargetPeriod.MONTH.value
    )
    day = serializers.DateField(
        required=False, validators=[validate_supported_day], help_text=gettext_lazy("A day of the period; default: today.")
    )
    kpi = serializers.CharField(required=False, max_length=64, help_text=gettext_lazy("Only this KPI's targets."))


class TargetProgressSerializer(serializers.Serializer):
    """A target with the actual so far, attainment, pace, forecast and status (numbers in the KPI's unit)."""

    kpi = serializers.CharField(source="target.metric.key")
    version = serializers.IntegerField(source="target.metric.version")
    scope = serializers.ChoiceField(choices=["person", "team", "company"], source="target.scope")
    person = serializers.IntegerField(source="target.user_id", allow_null=True)
    team = serializers.IntegerField(source="target.team_id", allow_null=True)
    scope_name = serializers.CharField(source="target.scope_label")
    period = serializers.CharField(source="target.period")
    start = serializers.DateField(source="target.start")
    end = serializers.DateField(source="target.end")
    target = serializers.SerializerMethodField()
    actual = serializers.SerializerMethodField()
    forecast = serializers.SerializerMethodField()
    attainment = serializers.FloatField(source="progress.attainment", allow_null=True, default=None)
    pace = serializers.FloatField(source="progress.pace", allow_null=True, default=None)
    elapsed = serializers.FloatField(source="progress.elapsed", allow_null=True, default=None)
    status = serializers.CharField(source="progress.status", allow_null=True, default=None)
    computed_at = serializers.DateTimeField()

    def _number(self, item: TargetProgress, name: str) -> float | None:
        value = getattr(item.progress, name, None) if name != "target" else item.value
        return as_json(value, item.target.metric.unit)

    @extend_schema_field(OpenApiTypes.NUMBER)
    def get_target(self, item: TargetProgress) -> float | None:
        return self._number(item, "target")

    @extend_schema_field(OpenApiTypes.NUMBER)
    def get_actual(self, item: TargetProgress) -> float | None:
        return self._number(item, "actual")

    @extend_schema_field(OpenApiTypes.NUMBER)
    def get_forecast(self, item: TargetProgress) -> float | None:
        return self._number(item, "forecast")


class TargetProgressViewSet(viewsets.GenericViewSet):
    """Targets of a month, quarter or year with their progress, for the people and teams you may see."""

    permission_classes = [IsAuthenticated]
    queryset = Target.objects.none()  # for the schema; get_queryset restricts per user
    serializer_class = TargetProgressSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> Any:
        return visible_targets(self.request.user)

    @extend_schema(parameters=[TargetsQuery])
    def list(self, request: Request) -> Response:
        params = validated(TargetsQuery, request.query_params)
        day = params.get("day") or timezone.localdate(timezone=company_zone())
        start, end = period_bounds(params["period"], day)
        targets = self.get_queryset().filter(start=start, end=end)
        if params.get("kpi"):
            targets = targets.filter(metric__key=params["kpi"])
        page = self.paginate_queryset(targets.order_by("metric__key", "team_id", "user_id", "pk"))
        items = target_progress(page if page is not None else targets, user=request.user)
        data = TargetProgressSerializer(items, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)
