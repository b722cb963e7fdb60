"""Rollups: leaf values pre-aggregated per owner and day (and year, month by month), so dashboards need not scan millions of rows.

By job:
- eligibility: which leaves rollups can serve (counts and sums of a record's own fields, seen through one
  owner), for which groupings;
- freshness: whether a leaf's rollups may be read (fresh), and marking them stale;
- reading: answering an evaluation's eligible leaves from fresh rollups instead of the records;
- keeping: building them from the records, refreshing them on every write through the ORM, rebuilding
  stale ones on schedule.
So values stay live either way: rollups are a cache that writes keep current, and the records
are the fallback.
"""

from quota.kpi.rollups.eligibility import eligible, owner_link, roll_up_too, rollup_leaves
from quota.kpi.rollups.freshness import all_fresh, checked_once, fresh_leaves, mark_stale, stale_leaves, unbuilt_leaves
from quota.kpi.rollups.keeping import connect, drop, rebuild, rebuild_stale, refresh
from quota.kpi.rollups.reading import Reader, bypassed, is_bypassed

__all__ = [
    "Reader",
    "all_fresh",
    "bypassed",
    "checked_once",
    "connect",
    "drop",
    "eligible",
    "fresh_leaves",
    "is_bypassed",
    "mark_stale",
    "owner_link",
    "rebuild",
    "rebuild_stale",
    "refresh",
    "roll_up_too",
    "rollup_leaves",
    "stale_leaves",
    "unbuilt_leaves",
]
