"""Writes for messaging: queue SMS / e-mail / in-app messages, inbox reads, inbound SMS, opt-outs.

Every function is atomic (a savepoint inside the caller's transaction, so a message is queued if and
only if the change that caused it commits) and writes its audit row in the same transaction. Phones
never go into the audit log in full. Sending is the worker's job (`messaging.sending`).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from zhengfeng.core import audit
from zhengfeng.core.crypto import blind_index, mask_phone
from zhengfeng.core.moments import plausible_moment
from zhengfeng.messaging.models import (
    Channel,
    DeliveryStatus,
    InboundSms,
    OptOut,
    OutboxMessage,
    OutboxStatus,
)
from zhengfeng.messaging.quiet_hours import first_allowed
from zhengfeng.org.models import User
from zhengfeng.org.validators import normalise_mobile

# Long SMS are concatenated by carriers (67 characters a segment); beyond this it is a letter, not an SMS.
SMS_MAX_LENGTH = 500
SUBJECT_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 10_000
# Replies that opt a number out, compared after NFKC (full-width ＴＤ → TD), trimming and upper-casing.
OPT_OUT_WORDS = frozenset({"TD", "退订"})
OPTED_OUT_REASON = "对方已回复退订，不再发送短信"

Source = models.Model | tuple[str, str] | None


def _source_parts(source: Source) -> tuple[str, str]:
    if source is None:
        return "", ""
    if isinstance(source, tuple):
        source_type, source_id = source
        return str(source_type)[:80], str(source_id)[:64]
    return source._meta.label_lower, str(source.pk)


def _division_of(source: Source, division_code: str) -> str:
    # Rows are distributed and scoped by division; inherit the source's when the caller gives none.
    return division_code or str(getattr(source, "division_code", "") or "")


def _clean_text(text: str, *, label: str, max_length: int) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise ValidationError(f"{label}不能为空")
    if len(cleaned) > max_length:
        raise ValidationError(f"{label}过长：共 {len(cleaned)} 字，最多 {max_length} 字")
    return cleaned


def _due_at(not_before: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    if not_before is not None and timezone.is_naive(not_before):
        raise ValidationError(f"发送时间必须带时区：{not_before.isoformat()}")
    return max(not_before, now) if not_before is not None else now


def is_opted_out(phone: str) -> bool:
    return OptOut.objects.filter(phone_index=blind_index(normalise_mobile(phone))).exists()


def queue_sms(
    *,
    to: str,
    text: str,
    source: Source = None,
    division_code: str = "",
    not_before: dt.datetime | None = None,
    respect_quiet_hours: bool = True,
    by: User | None = None,
) -> OutboxMessage:
    """Queue one SMS; the worker sends it when due.

    `to` is normalised (`+86 138-1234-5678` → `13812345678`); an invalid number raises ValidationError
    naming it. SMS_SIGNATURE is prepended unless the text already starts with it. The row is due at
    `not_before` (or now), moved past the quiet hours unless `respect_quiet_hours=False`.

    A number that has opted out (replied TD/退订) gets no SMS: the row is still written, but already
    `cancelled` with the reason in `last_error`, so the caller can see why nothing went out.

    Side effects: one OutboxMessage; audit row `messaging.queued` (or `messaging.cancelled` for an
    opted-out number), with the phone masked.
    """
    phone = normalise_mobile(to)
    signature = settings.SMS_SIGNATURE
    body = (text or "").strip()
    if body and signature and not body.startswith(signature):
        body = signature + body
    body = _clean_text(body, label="短信内容", max_length=SMS_MAX_LENGTH)
    now = timezone.now()
    due = _due_at(not_before, now)
    if respect_quiet_hours:
        due = first_allowed(due)
    source_type, source_id = _source_parts(source)
    index = blind_index(phone)
    with transaction.atomic():
        opted_out = OptOut.objects.filter(phone_index=index).exists()
        message = OutboxMessage.objects.create(
            channel=Channel.SMS,
            phone=phone,
            phone_index=index,
            text=body,
            status=OutboxStatus.CANCELLED if opted_out else OutboxStatus.PENDING,
            last_error=OPTED_OUT_REASON if opted_out else "",
            next_attempt_at=due,
            source_type=source_type,
            source_id=source_id,
            division_code=_division_of(source, division_code),
            respect_quiet_hours=respect_quiet_hours,
            created_at=now,
        )
        audit.record(
            "messaging.cancelled" if opted_out else "messaging.queued",
            by=by,
            target=message,
            division_code=message.division_code,
            data={
                "channel": Channel.SMS,
                "to": mask_phone(phone),
                "source": f"{source_type}:{source_id}" if source_type else "",
                **({"reason": OPTED_OUT_REASON} if opted_out else {"due": due.isoformat()}),
            },
        )
    return message


def queue_email(
    *,
    to: str,
    subject: str,
    text: str,
    source: Source = None,
    division_code: str = "",
    not_before: dt.datetime | None = None,
    by: User | None = None,
) -> OutboxMessage:
    """Queue one e-mail (sent through EMAIL_BACKEND by the worker; no quiet hours for e-mail).

    Side effects: one OutboxMessage; audit row `messaging.queued`.
    """
    address = (to or "").strip()
    try:
        validate_email(address)
    except ValidationError as exc:
        raise ValidationError(f"电子邮箱地址无效：{to}") from exc
    subject = _clean_text(subject, label="邮件标题", max_length=SUBJECT_MAX_LENGTH)
    text = _clean_text(text, label="邮件内容", max_length=TEXT_MAX_LENGTH)
    now = timezone.now()
    source_type, source_id = _source_parts(source)
    with transaction.atomic():
        message = OutboxMessage.objects.create(
            channel=Channel.EMAIL,
            email=address,
            subject=subject,
            text=text,
            next_attempt_at=_due_at(not_before, now),
            source_type=source_type,
            source_id=source_id,
            division_code=_division_of(source, division_code),
            respect_quiet_hours=False,
            created_at=now,
        )
        audit.record(
            "messaging.queued",
            by=by,
            target=message,
            division_code=message.division_code,
            data={
                "channel": Channel.EMAIL,
                "to": address,
                "source": f"{source_type}:{source_id}" if source_type else "",
            },
        )
    return message


def queue_inapp(
    *,
    user: User | None,
    subject: str,
    text: str,
    source: Source = None,
    division_code: str = "",
    by: User | None = None,
) -> OutboxMessage:
    """Put a message in `user`'s inbox, visible at once (no gateway is involved).

    The row is written already `sent`; the division defaults to the user's unit's division.
    Side effects: one OutboxMessage; audit row `messaging.queued`.
    """
    if user is None or user.pk is None:
        raise ValidationError("站内消息必须指定接收用户")
    subject = _clean_text(subject, label="消息标题", max_length=SUBJECT_MAX_LENGTH)
    text = _clean_text(text, label="消息内容", max_length=TEXT_MAX_LENGTH)
    now = timezone.now()
    source_type, source_id = _source_parts(source)
    division = _division_of(source, division_code) or (user.unit.division_id if user.unit is not None else "")
    with transaction.atomic():
        message = OutboxMessage.objects.create(
            channel=Channel.INAPP,
            user=user,
            subject=subject,
            text=text,
            status=OutboxStatus.SENT,
            next_attempt_at=now,
            sent_at=now,
            source_type=source_type,
            source_id=source_id,
            division_code=division,
            respect_quiet_hours=False,
            created_at=now,
        )
        audit.record(
            "messaging.queued",
            by=by,
            target=message,
            division_code=division,
            data={
                "channel": Channel.INAPP,
                "to": user.username,
                "source": f"{source_type}:{source_id}" if source_type else "",
            },
        )
    return message


@dataclass(frozen=True)
class InappItem:
    user: User | None
    subject: str
    text: str
    division_code: str = ""


def queue_inapp_bulk(items: list[InappItem], *, source: Source = None, by: User | None = None) -> int:
    """Put many in-app messages in their users' inboxes at once (a sweep telling thousands of units).

    Same rows as `queue_inapp`, written with one bulk insert and ONE audit row `messaging.queued_bulk`
    listing the recipients, so the cost does not grow with an audit append per message.
    Returns the number of messages written. Invalid items (no user, empty text) raise before anything
    is written.
    """
    if not items:
        return 0
    now = timezone.now()
    source_type, source_id = _source_parts(source)
    rows = []
    recipients: set[str] = set()
    for item in items:
        if item.user is None or item.user.pk is None:
            raise ValidationError("站内消息必须指定接收用户")
        recipients.add(item.user.username)
        rows.append(
            OutboxMessage(
                channel=Channel.INAPP,
                user=item.user,
                subject=_clean_text(item.subject, label="消息标题", max_length=SUBJECT_MAX_LENGTH),
                text=_clean_text(item.text, label="消息内容", max_length=TEXT_MAX_LENGTH),
                status=OutboxStatus.SENT,
                next_attempt_at=now,
                sent_at=now,
                source_type=source_type,
                source_id=source_id,
                division_code=item.division_code,
                respect_quiet_hours=False,
                created_at=now,
            )
        )
    with transaction.atomic():
        OutboxMessage.objects.bulk_create(rows, batch_size=1000)
        audit.record(
            "messaging.queued_bulk",
            by=by,
            target=(source_type, source_id) if source_type else None,
            data={
                "channel": Channel.INAPP,
                "count": len(rows),
                "to": sorted(recipients),
                "source": f"{source_type}:{source_id}" if source_type else "",
            },
        )
    return len(rows)


def cancel_message(message: OutboxMessage, *, reason: str, by: User | None = None) -> bool:
    """Cancel a message the worker has not claimed yet. Returns False if it was no longer pending.

    Side effects: status `cancelled`, `last_error` = reason; audit row `messaging.cancelled`.
    """
    reason = _clean_text(reason, label="取消原因", max_length=200)
    with transaction.atomic():
        # Conditional: a worker may be claiming the row right now; whoever changes it first wins.
        changed = OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.PENDING).update(
            status=OutboxStatus.CANCELLED, last_error=reason
        )
        if changed:
            audit.record(
                "messaging.cancelled",
                by=by,
                target=message,
                division_code=message.division_code,
                data={"reason": reason},
            )
    message.refresh_from_db(fields=["status", "last_error"])
    return bool(changed)


def mark_read(message: OutboxMessage, *, by: User) -> None:
    """Mark an in-app message read by its recipient (reading again changes nothing).

    Raises PermissionDenied when `by` is not the recipient. Side effects: `read_at`; audit row
    `messaging.read` the first time.
    """
    if message.channel != Channel.INAPP or message.user_id is None or message.user_id != by.pk:
        raise PermissionDenied("只能标记发给自己的站内消息")
    now = timezone.now()
    with transaction.atomic():
        changed = OutboxMessage.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=now)
        if changed:
            audit.record("messaging.read", by=by, target=message, division_code=message.division_code)
    message.refresh_from_db(fields=["read_at"])


def mark_all_read(*, by: User) -> int:
    """Mark every unread in-app message of `by` read. Side effects: audit row `messaging.read_all`."""
    now = timezone.now()
    with transaction.atomic():
        count = OutboxMessage.objects.unread().filter(user_id=by.pk).update(read_at=now)
        if count:
            audit.record("messaging.read_all", by=by, target=by, data={"count": count})
    return count


# --- Inbound SMS and opt-outs ------------------------------------------------------------------


def is_opt_out_reply(text: str) -> bool:
    """TD / td / 退订, also full-width (ＴＤ) and with surrounding spaces (incl. the ideographic space)."""
    return unicodedata.normalize("NFKC", text or "").strip().upper() in OPT_OUT_WORDS


def opt_out(*, phone: str, inbound: InboundSms | None = None, by: User | None = None) -> OptOut:
    """Stop all SMS to `phone`: record the opt-out and cancel its pending SMS (idempotent).

    Side effects: one OptOut (if not already there); every pending SMS to the number cancelled;
    audit row `messaging.opted_out` with the masked phone and the number of SMS cancelled.
    """
    number = normalise_mobile(phone)
    index = blind_index(number)
    now = timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                record, created = OptOut.objects.get_or_create(
                    phone_index=index, defaults={"phone": number, "inbound": inbound, "created_at": now}
                )
        except IntegrityError:
            # Two opt-outs of one number raced; the other one stored it.
            record, created = OptOut.objects.get(phone_index=index), False
        cancelled = OutboxMessage.objects.filter(
            channel=Channel.SMS, phone_index=index, status=OutboxStatus.PENDING
        ).update(status=OutboxStatus.CANCELLED, last_error=OPTED_OUT_REASON)
        audit.record(
            "messaging.opted_out",
            by=by,
            target=record,
            data={"phone": mask_phone(number), "cancelled": cancelled, "new": created},
        )
    return record


def receive_inbound_sms(
    *, provider_id: str, phone: str, to_number: str, text: str, received_at: dt.datetime
) -> tuple[InboundSms, bool]:
    """Store one inbound SMS once per gateway id; a TD/退订 reply opts the number out.

    Returns (row, created); a repeated `provider_id` returns the stored row and changes nothing.
    Raises ValidationError for a bad phone, or a naive or implausible time (`core.moments`: stored,
    year 1 breaks every later read of the table on PostgreSQL).

    Side effects (first time only): one InboundSms; audit row `messaging.inbound_received`; for an
    opt-out reply, `opt_out()` and the reply marked handled (matched to the OptOut).
    """
    provider_id = _clean_text(provider_id, label="上行短信编号 id", max_length=100)
    number = normalise_mobile(phone)
    if timezone.is_naive(received_at):
        raise ValidationError(f"接收时间必须带时区：{received_at.isoformat()}")
    plausible_moment(received_at, field="接收时间 received_at")
    existing = InboundSms.objects.filter(provider_id=provider_id).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            inbound = InboundSms.objects.create(
                provider_id=provider_id,
                phone=number,
                phone_index=blind_index(number),
                to_number=(to_number or "").strip()[:30],
                text=text or "",
                received_at=received_at,
            )
            audit.record(
                "messaging.inbound_received",
                by=None,
                target=inbound,
                data={"id": provider_id, "from": mask_phone(number), "length": len(inbound.text)},
            )
            if is_opt_out_reply(inbound.text):
                record = opt_out(phone=number, inbound=inbound)
                mark_inbound_handled(inbound, matched=record)
    except IntegrityError:
        # The gateway retried while the first delivery was still being stored: the unique id wins.
        return InboundSms.objects.get(provider_id=provider_id), False
    return inbound, True


def park_inbound(*, inbound_id: int, reason: str) -> bool:
    """Set an inbound SMS aside with the reason a job could not process it, so the job goes on.

    By id, with one UPDATE that reads no column: the row may be one whose stored time cannot be read
    back (year 1 on PostgreSQL). Returns False when the row is already handled or parked.
    Side effects: `parked_reason`; audit row `messaging.inbound_parked` with the reason.
    """
    reason = (reason or "无法处理").strip()[:500]
    with transaction.atomic():
        changed = InboundSms.objects.filter(pk=inbound_id, handled_at__isnull=True, parked_reason="").update(
            parked_reason=reason
        )
        if changed:
            audit.record(
                "messaging.inbound_parked",
                by=None,
                target=("messaging.inboundsms", str(inbound_id)),
                data={"reason": reason},
            )
    return bool(changed)


def mark_inbound_handled(
    inbound: InboundSms, *, matched: models.Model | None = None, by: User | None = None
) -> bool:
    """Mark an inbound SMS handled, optionally matched to what it answers (a survey, a work order).

    Returns False when another caller handled it first (nothing changes then), so two modules or two
    workers never both act on one reply. The row takes the matched object's `division_code`.
    Side effects: `handled_at`, `matched_type/id`, `division_code`; audit row `messaging.inbound_handled`.
    """
    matched_type, matched_id = _source_parts(matched)
    division = str(getattr(matched, "division_code", "") or "")
    now = timezone.now()
    with transaction.atomic():
        changed = InboundSms.objects.filter(pk=inbound.pk, handled_at__isnull=True).update(
            handled_at=now, matched_type=matched_type, matched_id=matched_id, division_code=division
        )
        if changed:
            audit.record(
                "messaging.inbound_handled",
                by=by,
                target=inbound,
                division_code=division,
                data={"matched": f"{matched_type}:{matched_id}" if matched_type else ""},
            )
    inbound.refresh_from_db(fields=["handled_at", "matched_type", "matched_id", "division_code"])
    return bool(changed)


def _update_handled(rows: list[InboundSms], now: dt.datetime) -> None:
    """One UPDATE … FROM (VALUES …) per 1,000 rows: Django's bulk_update builds a CASE per row and
    field in Python, which costs more than the database work at this size. Portable: PostgreSQL and
    SQLite ≥ 3.33 both name the VALUES columns column1, column2, …"""
    table = InboundSms._meta.db_table
    handled_at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 1000):
            chunk = rows[start : start + 1000]
            values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
            params: list[Any] = [handled_at]
            for row in chunk:
                params += [row.pk, row.matched_type, row.matched_id, row.division_code]
            cursor.execute(
                f"UPDATE {table} SET handled_at = %s, matched_type = v.column2, matched_id = v.column3, "  # noqa: S608 (table name from the model; values are parameters)
                f"division_code = v.column4 FROM (VALUES {values}) AS v "
                f"WHERE {table}.id = v.column1 AND {table}.handled_at IS NULL",
                params,
            )


def mark_inbound_handled_bulk(
    matches: list[tuple[InboundSms, models.Model | None]], *, by: User | None = None
) -> set[int]:
    """Mark many inbound SMS handled at once, each matched to what it answers (batch matchers).

    The same rule as `mark_inbound_handled`: a row another caller handled first is left alone. The
    rows still unhandled are locked (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two workers split a
    batch instead of waiting), updated in one statement, and their ids returned.
    Side effects: `handled_at`, `matched_type/id`, `division_code` per row; one audit row
    `messaging.inbound_handled_bulk` for the batch (count and matched types, no phones).
    """
    if not matches:
        return set()
    wanted = {inbound.pk: (inbound, matched) for inbound, matched in matches}
    now = timezone.now()
    with transaction.atomic():
        free = set(
            InboundSms.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(wanted), handled_at__isnull=True)
            .values_list("pk", flat=True)
        )
        rows = []
        for pk in sorted(free):
            inbound, matched = wanted[pk]
            inbound.matched_type, inbound.matched_id = _source_parts(matched)
            inbound.division_code = str(getattr(matched, "division_code", "") or "")
            inbound.handled_at = now
            rows.append(inbound)
        if rows:
            _update_handled(rows, now)
            types = sorted({row.matched_type for row in rows})
            divisions = {row.division_code for row in rows}
            audit.record(
                "messaging.inbound_handled_bulk",
                by=by,
                division_code=divisions.pop() if len(divisions) == 1 else "",
                data={
                    "count": len(rows),
                    "matched_types": types,
                    "first_id": rows[0].pk,
                    "last_id": rows[-1].pk,
                },
            )
    return free


def record_delivery_receipt(
    *, message_id: int, status: str, reported_at: dt.datetime, error: str = ""
) -> OutboxMessage:
    """Store the gateway's delivery receipt for a sent SMS (a repeated receipt changes nothing).

    Raises ValidationError for an unknown message, an SMS not sent yet, or an unknown status.
    Side effects: `delivery_status`, `delivery_reported_at`, `delivery_error`; audit row
    `messaging.delivery_reported` when the status changes.
    """
    if status not in (DeliveryStatus.DELIVERED, DeliveryStatus.UNDELIVERED):
        raise ValidationError(f"回执状态应为 delivered 或 undelivered：{status}")
    if timezone.is_naive(reported_at):
        raise ValidationError(f"回执时间必须带时区：{reported_at.isoformat()}")
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().filter(pk=message_id, channel=Channel.SMS).first()
        if message is None:
            raise ValidationError(f"没有编号为 {message_id} 的短信")
        if message.status != OutboxStatus.SENT:
            raise ValidationError(
                f"短信 {message_id} 尚未发送成功（状态：{message.get_status_display()}），不能登记回执"
            )
        if message.delivery_status == status:
            return message
        message.delivery_status = status
        message.delivery_reported_at = reported_at
        message.delivery_error = (error or "").strip()[:200]
        message.save(update_fields=["delivery_status", "delivery_reported_at", "delivery_error"])
        audit.record(
            "messaging.delivery_reported",
            by=None,
            target=message,
            division_code=message.division_code,
            data={"status": status, "error": message.delivery_error},
        )
    return message
