"""Domain events become webhook deliveries."""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver

from quota.core.events import domain_event
from quota.webhooks import services

logger = logging.getLogger(__name__)


@receiver(domain_event, dispatch_uid="webhooks.deliver_to_subscribers")
def deliver_to_subscribers(sender: str, payload: dict[str, Any], **kwargs: Any) -> None:
    try:
        services.deliveries_for_event(event=sender, payload=payload)
    except Exception:  # the change is committed already: a webhook problem must not fail the user's request
        logger.exception("Could not record webhook deliveries for %s", sender)
