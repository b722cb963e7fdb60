"""The demo company's work-due notifications: what the product's hourly check told people this morning.

Not written by hand: `notifications.services.due_work_check` (the hourly task's service) runs at the
end of the seeded history (today at noon), so each seller is told about the tasks and lost deals'
follow-ups due today and about their stale deals, as a running installation would have told them.
In the app only, as always for these (the made-up people have no mailbox; nobody has the digest on).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Max

from quota.notifications.models import Notification
from quota.notifications.services import due_work_check
from quota.seed.clock import Clock


def seed_due_work_notifications(*, clock: Clock) -> int:
    """Run the check at the history's end; its notifications carry that moment. Returns how many it sent."""
    at = dt.datetime.fromtimestamp(clock.as_of, dt.UTC)
    before = Notification.objects.aggregate(last=Max("pk"))["last"] or 0
    sent = due_work_check(now=at)
    Notification.objects.filter(pk__gt=before).update(created_at=at)
    return sum(sent.values())
