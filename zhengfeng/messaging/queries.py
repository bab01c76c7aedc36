"""Reads of messaging that other modules and the UI reuse."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Min, QuerySet

from zhengfeng.messaging.models import InboundSms, OutboxMessage, OutboxStatus
from zhengfeng.org.models import User
from zhengfeng.org.queries import Viewer, scope_filter


def inapp_for(user: Viewer) -> QuerySet[OutboxMessage]:
    """The user's inbox: in-app messages delivered to them, newest first."""
    if not isinstance(user, User):
        return OutboxMessage.objects.none()
    return OutboxMessage.objects.inbox().filter(user_id=user.pk).order_by("-sent_at", "-id")


def unread_count(user: Viewer) -> int:
    if not isinstance(user, User):
        return 0
    return OutboxMessage.objects.unread().filter(user_id=user.pk).count()


def outbox_for(user: Viewer, *, channel: str | None = None) -> QuerySet[OutboxMessage]:
    """Outgoing messages in the user's division subtree (office, inspector, admin), newest first."""
    messages = scope_filter(
        OutboxMessage.objects.select_related("user"), user, unit_field=None, division_field="division_code"
    )
    if channel is not None:
        messages = messages.filter(channel=channel)
    return messages.order_by("-id")


def unmatched_inbound(after: dt.datetime | None = None) -> QuerySet[InboundSms]:
    """Inbound SMS no module has handled yet, oldest first (optionally only those received after `after`).

    System-wide on purpose: the matching jobs run without a user; they call
    `services.mark_inbound_handled()` for each reply they take. A parked row
    (`services.park_inbound`) is never offered again.
    """
    rows = InboundSms.objects.filter(handled_at__isnull=True, parked_reason="")
    if after is not None:
        rows = rows.filter(received_at__gt=after)
    return rows.order_by("received_at", "id")


def outbox_backlog(now: dt.datetime) -> dict[str, Any]:
    """What the worker still has to send (the backlog panel): rows waiting or being sent, failed rows,
    and how long the oldest due row has been waiting (None when nothing is due)."""
    counts = dict(
        OutboxMessage.objects.filter(
            status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED]
        )
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    oldest = OutboxMessage.objects.due(at=now).aggregate(oldest=Min("next_attempt_at"))["oldest"]
    return {
        "pending": counts.get(OutboxStatus.PENDING, 0),
        "sending": counts.get(OutboxStatus.SENDING, 0),
        "failed": counts.get(OutboxStatus.FAILED, 0),
        "oldest_wait": now - oldest if oldest is not None else None,
    }
