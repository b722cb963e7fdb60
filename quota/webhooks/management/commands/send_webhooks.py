"""`quota send_webhooks`: retry overdue webhook deliveries (for installs without a Celery worker and beat)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from quota.webhooks.tasks import send_overdue_webhooks


class Command(BaseCommand):
    help = "Retry webhook deliveries whose next attempt is overdue (run it every minute from cron without a worker)."

    def handle(self, *args: Any, **options: Any) -> None:
        queued = send_overdue_webhooks()
        self.stdout.write(f"{queued} overdue webhook deliveries queued.")
