"""What each dashboard shows: its cards, its sections and their charts, as template context.

Every figure comes from the KPI engine as the signed-in user (so `visible_to` applies); a board is a
fixed number of engine calls, so its query count does not grow with records, people or periods.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

import rules
from django.urls import reverse
from django.utils.translation import gettext as _

from quota.activities.selectors import my_tasks_today
from quota.dashboards.access import Board, Scope, scope_for
from quota.dashboards.cards import Card, CardRequest, company_today, kpi_cards, raw_number
from quota.dashboards.charts import Series, category_chart, funnel_chart
from quota.dashboards.models import DashboardCard
from quota.dashboards.periods import Period
from quota.dashboards.records import catalogue_definition, records_link
from quota.dashboards.selectors import sales, seller, service
from quota.dashboards.selectors.kpi import monthly_trend
from quota.forecasting.calls import company_day, latest_calls, period_of
from quota.forecasting.forms import scope_key
from quota.forecasting.models import CallMethod, ForecastCall
from quota.forecasting.ranges import RangeRow, expected_forecast, forecast_ranges
from quota.forecasting.selectors import METHOD, WON_REVENUE, Forecast
from quota.kpi.definitions import Unit
from quota.kpi.formatting import as_text, share_text
from quota.kpi.models import Metric
from quota.kpi.periods import inclusive
from quota.kpi.targets import FORECAST_METHOD

SALES_CARDS = ["won_revenue", "won_deals", "win_rate", "avg_deal_value", "pipeline_value", "new_leads", "sales_cycle_days"]
MY_CARDS = ["won_revenue", "won_deals", "win_rate", "pipeline_value", "calls_made", "meetings_held"]
MARKETING_CARDS = ["new_leads", "lead_conversion_rate", "campaign_open_rate", "campaign_click_rate", "cac", "new_customers"]
SERVICE_CARDS = ["first_response_hours", "resolution_hours", "sla_breach_rate", "csat", "nps"]
SOURCE_KPIS = ["new_leads", "lead_conversion_rate", "won_revenue"]
MARKETING_SOURCE_KPIS = ["new_leads", "lead_conversion_rate", "won_revenue", "cac"]


def source_split_metrics() -> list[Metric]:
    """The lead sources sections' KPIs as they are read per source (`sales.by_source`), for rollups to keep."""
    keys = list(dict.fromkeys([*SOURCE_KPIS, *MARKETING_SOURCE_KPIS]))
    return sales.source_split_metrics(keys)


@dataclass(frozen=True)
class ForecastCard:
    forecast: Forecast
    target: float | None  # the won revenue target of the same scope and period
    method: str
    computed_at: dt.datetime
    scope: str = ""  # the scope's key, as the cards carry it
    range: RangeRow | None = None  # P10 / P90 and the chance of reaching the target (forecasting.ranges)
    # A seller's own board: their latest commit for the period, and whether they may commit for it now (forecasting.calls)
    commits: bool = False  # the card shows the person's commit
    commit: ForecastCall | None = None
    commit_open: bool = False  # the period is a month or a quarter, not over
    start: dt.date | None = None
    end: dt.date | None = None
    commit_scope: str = ""

    @property
    def commit_text(self) -> str:
        return self.text(float(self.commit.amount)) if self.commit else ""

    @property
    def range_text(self) -> str:
        return f"{self.text(self.range.p10)} – {self.text(self.range.p90)}" if self.range else ""

    @property
    def reach_text(self) -> str:
        return share_text(self.range.reach) if self.range and self.range.reach is not None else ""

    @property
    def raw_total(self) -> str:
        return raw_number(self.forecast.total, Unit.MONEY)

    @property
    def attainment_text(self) -> str:
        total = self.forecast.total
        return share_text(total / self.target if self.target and total is not None else None)

    def text(self, value: float | None) -> str:
        return as_text(value, Unit.MONEY)

    @property
    def total_text(self) -> str:
        return self.text(self.forecast.total)

    @property
    def won_text(self) -> str:
        return self.text(self.forecast.won)

    @property
    def weighted_text(self) -> str:
        return self.text(self.forecast.weighted)

    @property
    def pipeline_text(self) -> str:
        return self.text(self.forecast.pipeline)

    @property
    def target_text(self) -> str:
        return self.text(self.target) if self.target is not None else ""


@dataclass(frozen=True)
class BoardRequest:
    board: Board
    user: Any
    period: Period
    now: dt.datetime

    @property
    def scope(self) -> Scope:
        return scope_for(self.user, self.board)

    @property
    def today(self) -> dt.date:
        return company_today(self.now)


def build(request: BoardRequest) -> dict[str, Any]:
    """The template context of one board."""
    return BUILDERS[request.board](request)


def _cards(request: BoardRequest, keys: list[str], *, unsaved: Sequence[CardRequest] = ()) -> list[Card]:
    own = DashboardCard.objects.filter(user=request.user, board=request.board.value)
    extra = [CardRequest(card.metric_key, card_id=card.pk) for card in own if card.metric_key not in keys]
    return kpi_cards(
        [*unsaved, *(CardRequest(key) for key in keys), *extra],
        user=request.user,
        scope=request.scope,
        period=request.period,
        query=request.period.querystring,
        now=request.now,
    )


def _forecast_card(request: BoardRequest, cards: list[Card]) -> ForecastCard | None:
    """The forecast of the board's scope against the won revenue target: the revenue won so far, as the won revenue
    card says it, plus what the forecast's ranges expect of the open pipeline, so the card, the target's row and the
    ranges say one number from one read of the open deals.

    None for a closed period: what it won is final, and the won revenue card says it.
    """
    scope, period = request.scope, request.period
    won = next((card for card in cards if card.key == WON_REVENUE and not card.unavailable), None)
    computed_at = won.computed_at if won else request.now
    elapsed = inclusive(period.start, period.end).elapsed_share(computed_at)
    if elapsed >= 1:
        return None
    target = won.target if won else None
    row = won.outlook if won else None  # the target's own ranges: the same deals, won revenue and target
    if row is None:
        ranges = forecast_ranges(
            user=request.user,
            start=period.start,
            end=period.end,
            by=scope.by,
            won=None if won is None else {scope.group: float(won.value or 0)},
            targets=None if target is None else {scope.group: float(target)},
        )
        row = ranges.for_group(scope.group)
    forecast = expected_forecast(row, elapsed=elapsed)
    return ForecastCard(forecast, target, str(METHOD), computed_at, scope.key, row)


# -------------------------------------------------------------------------- sales (the director's board)


def sales_board(request: BoardRequest) -> dict[str, Any]:
    user, period = request.user, request.period
    cards = _cards(request, SALES_CARDS)
    funnel = sales.pipeline_funnel(user=user, period=period, today=request.today)
    sources = sales.by_source(SOURCE_KPIS, user=user, period=period)
    outcomes = sales.win_loss(user=user, period=period)
    race = sales.sales_race(user=user, period=period, now=request.now)
    teams = sales.team_comparison(user=user, period=period, now=request.now)
    return {
        "cards": cards,
        "forecast": _forecast_card(request, cards),
        "funnel": funnel,
        "sources": sources,
        "outcomes": outcomes,
        "race": race,
        "teams": teams,
        "charts": {
            "funnel": funnel_chart([(s.label, s.value) for s in funnel.steps], name=_("Pipeline value"), unit=Unit.MONEY),
            "sources": _sources_chart(sources),
            "outcomes": category_chart(
                [o.label for o in outcomes.outcomes],
                [
                    Series(_("Won"), [o.deals if o.won else None for o in outcomes.outcomes], Unit.COUNT, role="good"),
                    Series(_("Lost"), [None if o.won else o.deals for o in outcomes.outcomes], Unit.COUNT, role="bad"),
                ],
                horizontal=True,
                stacked=True,
            ),
            "race": category_chart(
                [r.label for r in race.by_value],
                [Series(_("Won revenue"), [r.won for r in race.by_value], Unit.MONEY)],
                horizontal=True,
            ),
            "teams": _teams_chart([row for row in teams.rows if row.team_id is not None]),
        },
        "lost_deals_url": _records("lost_deals", request),
        "won_deals_url": _records("won_deals", request),
    }


def _teams_chart(rows: list[sales.TeamRow]) -> dict:
    return category_chart(
        [row.label for row in rows],
        [
            Series(_("Won revenue"), [row.values["won_revenue"] for row in rows], Unit.MONEY),
            Series(_("Target"), [row.target for row in rows], Unit.MONEY, role="target"),
        ],
    )


def _sources_chart(sources: sales.BySource) -> dict:
    names = {key: name for key, name, _unit in sources.columns}
    return category_chart(
        [row.label for row in sources.rows],
        [
            Series(names["new_leads"], [row.values["new_leads"] for row in sources.rows], Unit.COUNT),
            Series(
                names["lead_conversion_rate"],
                [row.values["lead_conversion_rate"] for row in sources.rows],
                Unit.PERCENT,
                kind="line",
            ),
        ],
    )


def _records(key: str, request: BoardRequest) -> str:
    """The records behind a built-in KPI for the board's period."""
    link = records_link(catalogue_definition(key), start=request.period.start, end=request.period.end, today=request.today)
    return link.url if link else ""


# -------------------------------------------------------------------------- a seller's own board


def my_board(request: BoardRequest) -> dict[str, Any]:
    user, period = request.user, request.period
    cards = _cards(request, MY_CARDS)
    race = seller.activity_race(user=user, period=period, now=request.now)
    return {
        "cards": cards,
        "forecast": _with_commit(_forecast_card(request, cards), request),
        "closing": list(seller.closing_deals(user=user, period=period, now=request.now)),
        "closing_url": _closing_url(request),
        "overdue_deals": seller.my_overdue_deal_count(user=user, now=request.now),
        "overdue_url": f"{reverse('crm:deal_list')}?{urlencode({'owner': user.pk, 'flag': 'overdue'})}",
        "tasks": my_tasks_today(user=user, now=request.now),
        "targets": seller.my_targets(user=user, period=period, now=request.now),
        "forecast_method": FORECAST_METHOD,
        "activity": race,
        "charts": {
            "activity": category_chart(
                [str(row.person) for row in race.rows],
                [
                    Series(metric.display_name, [row.cells[i].value for row in race.rows], Unit.COUNT)
                    for i, metric in enumerate(race.columns)
                ],
                horizontal=True,
            )
        },
    }


def _with_commit(card: ForecastCard | None, request: BoardRequest) -> ForecastCard | None:
    """The seller's own commit for the period on their forecast card, and the form to make one (one query)."""
    user, period = request.user, request.period
    if card is None or not rules.has_perm("forecast.call", user):
        return card
    latest = latest_calls(start=period.start, end=period.end, people=[user.pk]).of_person(user.pk)
    return replace(
        card,
        commits=True,
        commit=latest.get(CallMethod.COMMIT),
        commit_open=period_of(period.start, period.end) is not None and period.end >= company_day(request.now),
        start=period.start,
        end=period.end,
        commit_scope=scope_key(user_id=user.pk),
    )


def _closing_url(request: BoardRequest) -> str:
    params = {
        "owner": request.user.pk,
        "status": "open",
        "expected_close_after": request.period.start.isoformat(),
        "expected_close_before": request.period.end.isoformat(),
    }
    return f"{reverse('crm:deal_list')}?{urlencode(params)}"


# -------------------------------------------------------------------------- marketing


def marketing_board(request: BoardRequest) -> dict[str, Any]:
    user, period = request.user, request.period
    sources = sales.by_source(MARKETING_SOURCE_KPIS, user=user, period=period)
    campaigns = monthly_trend(["campaign_open_rate", "campaign_click_rate"], user=user, end=period.end)
    costly = [row for row in sources.rows if row.values["cac"]]  # sources with spend and new customers to divide it by
    return {
        "cards": _cards(request, MARKETING_CARDS),
        "sources": sources,
        "charts": {
            "sources": _sources_chart(sources),
            "campaigns": _trend_chart(campaigns, kind="line"),
            "cac": category_chart(
                [row.label for row in costly], [Series(_("CAC"), [row.values["cac"] for row in costly], Unit.MONEY)]
            ),
        },
    }


def _trend_chart(trend: Any, *, kind: str = "line", units: dict[str, Unit] | None = None) -> dict:
    units = units or {}
    return category_chart(
        trend.axis_labels,
        [Series(trend.names[key], values, units.get(key, Unit.PERCENT), kind=kind) for key, values in trend.values.items()],
    )


# -------------------------------------------------------------------------- service


def service_board(request: BoardRequest) -> dict[str, Any]:
    user, period = request.user, request.period
    metric = service.open_cases_metric()
    open_cases = CardRequest("open_cases", metric=metric, url=_records_of(metric, request))
    trend = monthly_trend(["first_response_hours", "resolution_hours", "csat", "nps"], user=user, end=period.end)
    hours = {key: trend.values[key] for key in ("first_response_hours", "resolution_hours")}
    return {
        "cards": _cards(request, SERVICE_CARDS, unsaved=[open_cases]),
        "oldest": list(service.oldest_open_cases(user=user)),
        "charts": {
            "response": category_chart(
                trend.axis_labels, [Series(trend.names[key], values, Unit.HOURS, kind="line") for key, values in hours.items()]
            ),
            "csat": category_chart(
                trend.axis_labels, [Series(trend.names["csat"], trend.values["csat"], Unit.SCORE, kind="line")]
            ),
            "nps": category_chart(trend.axis_labels, [Series(trend.names["nps"], trend.values["nps"], Unit.SCORE)]),
        },
    }


def _records_of(metric: Metric, request: BoardRequest) -> str:
    """The records behind an unsaved KPI (it has no page of its own), as the card counts them: its period and scope."""
    period = request.period
    link = records_link(
        metric.parsed, start=period.start, end=period.end, today=request.today, scope=request.scope.records_filter
    )
    return link.url if link else ""


BUILDERS: dict[Board, Callable[[BoardRequest], dict[str, Any]]] = {
    Board.SALES: sales_board,
    Board.MY: my_board,
    Board.MARKETING: marketing_board,
    Board.SERVICE: service_board,
}
