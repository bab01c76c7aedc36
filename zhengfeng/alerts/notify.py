"""The one place the ladder talks to messaging (in-app messages and SMS go through its outbox)."""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError

from zhengfeng.messaging import services as messaging
from zhengfeng.messaging.services import InappItem

__all__ = ["InappItem", "queue_inapp_many", "queue_sms"]

logger = logging.getLogger(__name__)


def _source(now: dt.datetime) -> tuple[str, str]:
    return "alerts.sweep", now.isoformat()


def queue_inapp_many(items: list[messaging.InappItem], *, now: dt.datetime) -> int:
    return messaging.queue_inapp_bulk(items, source=_source(now))


def queue_sms(*, to: str, text: str, division_code: str, now: dt.datetime) -> bool:
    """Queue an SMS; a bad stored number must not stop the sweep for everyone else."""
    try:
        messaging.queue_sms(to=to, text=text, source=_source(now), division_code=division_code)
    except ValidationError as exc:
        logger.warning("alerts: SMS not queued: %s", " ".join(exc.messages))
        return False
    return True
