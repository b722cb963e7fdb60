"""The win-probability panel on a deal's page (crm is below forecasting: the panel is registered in apps.py)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from quota.core.views import Panel, RecordPages
from quota.crm.choices import DealStatus
from quota.crm.models import Deal
from quota.forecasting.models import DealScore
from quota.forecasting.probability import probability_method

FEATURE_LABELS = {
    "age_days": gettext_lazy("Days since created"),
    "days_in_stage": gettext_lazy("Days in stage"),
    "amount": gettext_lazy("Amount"),
    "existing_customer": gettext_lazy("Existing customer"),
    "owner_win_rate": gettext_lazy("Owner's win rate"),
    "owner_closed_deals": gettext_lazy("Deals the owner closed"),
    "activities_14d": gettext_lazy("Activities in the last 14 days"),
    "days_to_expected_close": gettext_lazy("Days to expected close"),
    "stage": gettext_lazy("Stage"),
    "source": gettext_lazy("Source"),
    "product": gettext_lazy("Product"),
    "month_of_quarter": gettext_lazy("Month of the quarter"),
}


def win_probability_feed(request: HttpRequest, pages: type[RecordPages], record: Any) -> Panel | None:
    """An open deal's win probability and the factors that moved it most (registered in apps.py)."""
    if pages.model is not Deal or record.status != DealStatus.OPEN:
        return None
    score = DealScore.objects.filter(deal=record).first()
    method = probability_method()
    factors = [
        {
            "label": FEATURE_LABELS.get(factor["feature"], factor["feature"]),
            "value": _shown(factor["value"]),
            "raises": factor["effect"] > 0,
        }
        for factor in (score.factors if score else [])
    ]
    return Panel(
        template="forecasting/_win_probability.html",
        title=gettext_lazy("Win probability"),
        aside=True,
        data={
            "percent": round(100 * score.probability) if score else record.stage.probability,
            "learned": score is not None,
            "scored_at": score.scored_at if score else None,
            "factors": factors,
            "method": method.description,
        },
    )


def _shown(value: Any) -> Any:
    if value is None:
        return gettext_lazy("not known")
    if isinstance(value, bool):
        return gettext_lazy("yes") if value else gettext_lazy("no")
    if isinstance(value, float) and value < 1:
        return f"{value:.0%}"
    return value
