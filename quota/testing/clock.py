"""A pinned clock for tests whose records are placed relative to "now" and then read by named period.

A test that puts a deal "halfway through this month" and asks for `last_quarter` depends on the day
it runs: on the first minutes of a month or quarter those periods hold other records. Such tests
run at `ORDINARY_MOMENT`, a mid-quarter weekday morning, with the clock ticking from there (so code
that measures elapsed time still sees it pass). Tests about period boundaries pin their own moments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import time_machine

# Wednesday 13 May 2026, 10:00 UTC: the middle month of a quarter, away from every boundary in any time zone.
ORDINARY_MOMENT = dt.datetime(2026, 5, 13, 10, 0, tzinfo=dt.UTC)


@contextmanager
def clock_at(moment: dt.datetime = ORDINARY_MOMENT, *, tick: bool = True) -> Iterator[Any]:
    """Run the block with the process clock at `moment` (ticking unless `tick=False`)."""
    with time_machine.travel(moment, tick=tick) as traveller:
        yield traveller


def clear_of_midnight(now: dt.datetime, zone: dt.tzinfo, *, margin: dt.timedelta = dt.timedelta(minutes=30)) -> dt.datetime:
    """`now`, or half an hour into the next day when `now` is within `margin` of the day's end in `zone`.

    For tests that must keep the real date (a browser holds cookies that expire in real time) but
    must not straddle a day, month or year boundary while they run.
    """
    local = now.astimezone(zone)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return midnight + margin if midnight - local <= margin else now
