"""Early-warning settings and their defaults; any of them can be set in the Django settings."""

from __future__ import annotations

from django.conf import settings

DEFAULTS: dict[str, float | int] = {
    # A target is behind when its pace (share of the target reached / share of the period gone)
    # is below this: 0.8 = less than 80 % of what is expected at this point of the period.
    "NOTIFICATIONS_PACE_THRESHOLD": 0.8,
    # No pace warning before this share of the period has passed: on day one every target is "behind".
    "NOTIFICATIONS_PACE_MIN_ELAPSED": 0.2,
    # A rep is stalling with no won deal and fewer activities in the last N weeks than in the N before.
    "NOTIFICATIONS_STALL_WEEKS": 4,
    # Forecast warnings (issue #15): a won revenue target whose chance of being reached (forecasting.ranges) is
    # below this, and a person whose pipeline expected in the period covers less than this many times what is left
    # of their target.
    "NOTIFICATIONS_REACH_THRESHOLD": 0.3,
    "NOTIFICATIONS_COVERAGE_RATIO": 1.5,
    # The daily digest (for those who turn it on) goes from this hour of the company's day on.
    "NOTIFICATIONS_DIGEST_HOUR": 7,
}


def pace_threshold() -> float:
    return float(getattr(settings, "NOTIFICATIONS_PACE_THRESHOLD", DEFAULTS["NOTIFICATIONS_PACE_THRESHOLD"]))


def pace_min_elapsed() -> float:
    return float(getattr(settings, "NOTIFICATIONS_PACE_MIN_ELAPSED", DEFAULTS["NOTIFICATIONS_PACE_MIN_ELAPSED"]))


def stall_weeks() -> int:
    return int(getattr(settings, "NOTIFICATIONS_STALL_WEEKS", DEFAULTS["NOTIFICATIONS_STALL_WEEKS"]))


def digest_hour() -> int:
    return int(getattr(settings, "NOTIFICATIONS_DIGEST_HOUR", DEFAULTS["NOTIFICATIONS_DIGEST_HOUR"]))


def reach_threshold() -> float:
    return float(getattr(settings, "NOTIFICATIONS_REACH_THRESHOLD", DEFAULTS["NOTIFICATIONS_REACH_THRESHOLD"]))


def coverage_ratio() -> float:
    return float(getattr(settings, "NOTIFICATIONS_COVERAGE_RATIO", DEFAULTS["NOTIFICATIONS_COVERAGE_RATIO"]))
