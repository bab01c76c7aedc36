"""The worker side of the outbox: claim due rows, send them, record each outcome exactly once.

1. Take back rows a dead worker left `sending` (retry, or fail when out of tries): a row claimed by a
   worker with a heartbeat is abandoned once that worker stopped beating (WORKER_LEASE_SECONDS), a
   row claimed without one (`worker --once`) after LEASE.
2. During quiet hours, move due SMS to the end of the window instead of sending them.
3. Claim a small batch: `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL, a conditional
   `UPDATE … WHERE status='pending'` per row elsewhere (SQLite). Claiming is committed before any
   gateway call, so a second worker never sees the same row.
4. Send each claimed row outside any transaction; record the outcome with a conditional update on
   (id, status='sending', claim_token), so a row is marked sent exactly once even if its lease was
   taken over meanwhile.

A worker that dies after the gateway accepted a message but before step 4 leaves a row that is sent
again after the lease: the HTTP gateway gets the same `Idempotency-Key` (the row's id) and must not
deliver it twice (docs/sms-gateway.md).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from zhengfeng.core import audit
from zhengfeng.core.worker import current_worker_id
from zhengfeng.messaging.models import Channel, OutboxMessage, OutboxStatus
from zhengfeng.messaging.quiet_hours import first_allowed, quiet_window_end
from zhengfeng.messaging.transports import TransportError, transport_for

logger = logging.getLogger(__name__)

# A row claimed without a heartbeat and not finished within this is presumed abandoned.
LEASE = dt.timedelta(minutes=10)
# Claim this many rows at a time: small enough that a batch of slow gateway calls ends well inside
# the lease, large enough to keep the claim queries few.
CLAIM_BATCH = 20
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_CAP = dt.timedelta(minutes=60)
ABANDONED_ERROR = "上次发送未完成（工作进程中断或超时）"


def backoff(attempts: int) -> dt.timedelta:
    """Delay after the `attempts`-th failed try: 1, 2, 4, 8 … minutes, at most an hour."""
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


def _quiet_sms() -> Q:
    return Q(channel=Channel.SMS, respect_quiet_hours=True)


def release_abandoned(now: dt.datetime) -> int:
    """Put rows whose lease ran out back in the queue, or fail them when they have no tries left."""
    stale = OutboxMessage.objects.stale(now=now, claimed_before=now - LEASE)
    released = stale.filter(attempts__lt=settings.OUTBOX_MAX_ATTEMPTS).update(
        status=OutboxStatus.PENDING,
        next_attempt_at=now,
        claim_token="",
        claimed_by="",
        last_error=ABANDONED_ERROR,
    )
    for message in stale.filter(attempts__gte=settings.OUTBOX_MAX_ATTEMPTS):
        _finish(message, error=TransportError(ABANDONED_ERROR, permanent=True))
    return released


def postpone_quiet_sms(now: dt.datetime) -> int:
    """Inside quiet hours, move every due SMS to the end of the window (nothing is sent at night)."""
    window_end = quiet_window_end(now)
    if window_end is None:
        return 0
    return OutboxMessage.objects.due(at=now).filter(_quiet_sms()).update(next_attempt_at=window_end)


def _candidates(now: dt.datetime) -> Q:
    due = Q(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
    if quiet_window_end(now) is not None:
        due &= ~_quiet_sms()
    return due


def claim_conditionally(ids: list[int], now: dt.datetime, token: str) -> list[int]:
    """Claim each row with `UPDATE … WHERE id=… AND status='pending'`; keep those where 1 row changed."""
    claimed = []
    for message_id in ids:
        changed = OutboxMessage.objects.filter(
            id=message_id, status=OutboxStatus.PENDING, next_attempt_at__lte=now
        ).update(
            status=OutboxStatus.SENDING,
            claimed_at=now,
            claim_token=token,
            claimed_by=current_worker_id(),
            attempts=F("attempts") + 1,
        )
        if changed == 1:
            claimed.append(message_id)
    return claimed


def claim_due(now: dt.datetime, *, limit: int) -> list[OutboxMessage]:
    """Claim up to `limit` due rows for this worker and return them (status `sending`)."""
    token = secrets.token_hex(16)
    due = OutboxMessage.objects.filter(_candidates(now)).order_by("next_attempt_at", "id")
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            ids = list(due.select_for_update(skip_locked=True).values_list("id", flat=True)[:limit])
            if ids:
                OutboxMessage.objects.filter(id__in=ids).update(
                    status=OutboxStatus.SENDING,
                    claimed_at=now,
                    claim_token=token,
                    claimed_by=current_worker_id(),
                    attempts=F("attempts") + 1,
                )
    else:
        ids = claim_conditionally(list(due.values_list("id", flat=True)[:limit]), now, token)
    if not ids:
        return []
    return list(OutboxMessage.objects.filter(id__in=ids, claim_token=token).order_by("next_attempt_at", "id"))


def _finish(message: OutboxMessage, *, provider_id: str = "", error: TransportError | None = None) -> str:
    """The one place a claimed row leaves `sending`: sent, back to pending (retry) or failed.

    Returns the new status, or "" when the claim was lost (the lease expired and another worker
    took the row over), in which case nothing is changed here.
    """
    now = timezone.now()
    mine = OutboxMessage.objects.filter(
        pk=message.pk, status=OutboxStatus.SENDING, claim_token=message.claim_token
    )
    if error is None:
        changed = mine.update(
            status=OutboxStatus.SENT,
            sent_at=now,
            provider_message_id=provider_id[:100],
            last_error="",
            claim_token="",
        )
        new_status = OutboxStatus.SENT
    elif error.permanent or message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        with transaction.atomic():
            changed = mine.update(status=OutboxStatus.FAILED, last_error=error.message[:2000], claim_token="")
            if changed:
                audit.record(
                    "messaging.failed",
                    by=None,
                    target=message,
                    division_code=message.division_code,
                    data={
                        "attempts": message.attempts,
                        "error": error.message[:500],
                        "permanent": error.permanent,
                    },
                )
        new_status = OutboxStatus.FAILED
    else:
        # claimed_at is the pass's `now`; never schedule a retry before it, even if the clock lags.
        retry_at = max(now, message.claimed_at or now) + backoff(message.attempts)
        if message.channel == Channel.SMS and message.respect_quiet_hours:
            retry_at = first_allowed(retry_at)
        changed = mine.update(
            status=OutboxStatus.PENDING,
            next_attempt_at=retry_at,
            last_error=error.message[:2000],
            claim_token="",
        )
        new_status = OutboxStatus.PENDING
    if not changed:
        logger.warning("outbox #%s: claim lost before the outcome was recorded", message.pk)
        return ""
    return new_status


def send_one(message: OutboxMessage) -> str:
    """Send one claimed row through its channel's gateway and record the outcome."""
    try:
        provider_id = transport_for(message.channel).send(message)
    except TransportError as exc:
        logger.warning("outbox #%s attempt %s failed: %s", message.pk, message.attempts, exc.message)
        return _finish(message, error=exc)
    except Exception as exc:
        # A bug or an unexpected library error must not kill the worker; retry like a temporary error.
        logger.exception("outbox #%s: unexpected error while sending", message.pk)
        return _finish(message, error=TransportError(f"{type(exc).__name__}: {exc}"))
    return _finish(message, provider_id=provider_id or "")


def drain_outbox(now: dt.datetime, *, limit: int = 500) -> int:
    """Send up to `limit` due messages; return how many were sent successfully in this pass."""
    release_abandoned(now)
    postpone_quiet_sms(now)
    sent = 0
    handled = 0
    while handled < limit:
        batch = claim_due(now, limit=min(CLAIM_BATCH, limit - handled))
        if not batch:
            break
        for message in batch:
            handled += 1
            if send_one(message) == OutboxStatus.SENT:
                sent += 1
    return sent
