"""Which leaves rollups can serve, and for which groupings.

Counts and sums of a record's own fields, attributed to (and made visible by) the record's `owner` - or
its parent's, one link away, where the record is seen through that parent (a campaign message is its
campaign owner's) - with plain filters: no links to other tables, no "now", no exists, no offset.
Everything else - and groupings other than none, person and team - always reads the records.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from django.db import DEFAULT_DB_ALIAS

from quota.kpi.definitions import FieldRef, Now, Related
from quota.kpi.models import Metric, RollupGrain
from quota.kpi.plans import Leaf, plan
from quota.kpi.sources import Source, get_source

# The groupings rollups can answer, and the owner column each reads.
GROUPINGS = {"none": None, "person": "owner_id", "team": "owner__team_id"}
# The grains rows are kept at: a day, or a year with its months side by side.
DAY, YEAR = RollupGrain.DAY.value, RollupGrain.YEAR.value


def owner_link(source: Source) -> str | None:
    """How a source's records reach the owner rollups are kept by: "" (their own `owner`), the link to the
    parent whose owner they are seen through ("campaign"), or None: no rollups for the source."""
    path = getattr(source.model, "owner_path", "owner")
    if source.attribution != path:  # counted for someone other than who may see it: not one owner column
        return None
    if path == "owner":
        return ""
    link, _, last = path.rpartition("__")
    return link if last == "owner" and "__" not in link else None


def eligible(leaf: Leaf) -> bool:
    """Whether a leaf can be answered from rollups (see the module's docstring)."""
    source = get_source(leaf.source)
    if leaf.agg not in {"count", "sum"} or leaf.offset or owner_link(source) is None:
        return False
    if leaf.attribution != source.attribution or "__" in leaf.date:
        return False
    if leaf.value is not None:
        fields = leaf.value.split(":")[1:] if ":" in leaf.value else [leaf.value]
        if leaf.value in source.computed or any("__" in f for f in fields):
            return False
    for item in leaf.filters:
        if "__" in item.field or item.dimension or isinstance(item.value, Now | Related):
            return False
        if isinstance(item.value, FieldRef) and "__" in item.value.field:
            return False
    return True


# Definitions a page shows that are not saved KPIs (the service board's open cases, the funnel's stages), whose
# leaves are rolled up like the saved KPIs' so that the page reads them from rollups too: registered by their app
# (`roll_up_too`).
_UNSAVED: dict[str, Callable[[], Metric | Sequence[Metric]]] = {}


def roll_up_too(key: str, definition: Callable[[], Metric | Sequence[Metric]]) -> None:
    """Roll up the leaves of unsaved definitions (Metrics not in the database: one, or as many as there are of
    something, such as stages) with the current KPIs'."""
    _UNSAVED[key] = definition


def _unsaved() -> list[Metric]:
    made = [definition() for definition in _UNSAVED.values()]
    return [metric for one in made for metric in ([one] if isinstance(one, Metric) else one)]


def rollup_leaves(using: str = DEFAULT_DB_ALIAS) -> list[Leaf]:
    """The rolled-up leaves of every current KPI and registered definition: one per key (a cumulative leaf is
    stored as its flow)."""
    metrics = [*Metric.objects.using(using).current(), *_unsaved()]
    leaves = {leaf for metric in metrics for leaf in plan(metric.parsed).leaves if eligible(leaf)}
    flows = {leaf.key: replace(leaf, cumulative=False) for leaf in leaves}
    return [flows[key] for key in sorted(flows)]
