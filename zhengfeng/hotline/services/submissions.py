"""Writes for Open311 submissions: accept a POST in one statement, register it as a work order later.

Accepting (`accept_open311_submission`, on the request path) numbers the request from the day's
serial, stores it with its query-password hash and answers; registering
(`register_open311_submissions`, the worker job `hotline.register_open311`) turns pending
submissions into work orders with the same tracking codes, a batch per transaction, through
`services.prepare_work_order` and `services.receive_work_orders_bulk` (the rules of
`receive_work_order`, written in bulk). docs/hotline.md ("Open311 intake") has the reasoning and the figures.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import psycopg
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Field, OuterRef, Subquery
from django.utils import timezone

from zhengfeng.core import audit
from zhengfeng.hotline import services
from zhengfeng.hotline.models import (
    Category,
    Channel,
    Open311Submission,
    SubmissionState,
    WorkOrder,
    WorkOrderSerial,
)
from zhengfeng.org.models import ApiKey, Division, User

logger = logging.getLogger(__name__)

# Open311 requests arrive from online clients (apps, WeChat, third-party sites): 网络问政.
OPEN311_CHANNEL = Channel.WEB
REGISTER_BATCH = 200

T = TypeVar("T")


class KeyRevokedError(Exception):
    """The API key was revoked after the request path last read it (it is memoised for 30 s)."""


@dataclass(frozen=True)
class Accepted:
    code: str
    received_at: dt.datetime
    # The query password shown once to the requester; empty for a repeated POST.
    password: str
    duplicate: bool


def accept_open311_submission(
    *,
    key: ApiKey,
    external_ids: tuple[str, str],
    repeat_window: dt.timedelta,
    category_code: str,
    request_type: str,
    title: str,
    content: str,
    division_code: str,
    address: str,
    latitude: Decimal | None,
    longitude: Decimal | None,
    requester_name: str,
    requester_phone: str,
    at: dt.datetime,
) -> Accepted:
    """Store a validated Open311 POST under a new tracking code, or find the same POST made earlier.

    `external_ids` are the request's fingerprint in this time bucket and in the previous one: a
    submission carrying either, received within `repeat_window`, is the same request, answered with
    its first code and no new number. Raises KeyRevokedError when the key is no longer live (checked in the same statement).
    On PostgreSQL this is one statement in its own transaction; the day's serial row is locked only
    for it. Side effects: one Open311Submission (and the day's serial advanced), nothing else; the
    audit row is written when the worker registers the work order.
    """
    password = services.new_query_password()
    values = {
        "external_id": external_ids[0],
        "api_key_id": key.pk,
        "category_code": category_code,
        "request_type": request_type,
        "title": title,
        "content": content,
        "division_code": division_code,
        "address": address,
        "latitude": latitude,
        "longitude": longitude,
        "requester_name": requester_name,
        "requester_phone": requester_phone,
        "query_password_hash": services.hash_query_password(password),
        "received_at": at,
        "state": SubmissionState.PENDING.value,
        "attempts": 0,
        "last_error": "",
    }
    since = at - repeat_window
    try:
        if connection.vendor == "postgresql":
            outcome = _single_statement(lambda: _accept_in_one_statement(values, external_ids, since))
        else:
            outcome = _accept_in_a_transaction(Open311Submission(**values), external_ids, since)
    except IntegrityError:
        # The same POST arrived twice at once: the unique fingerprint let the other one in.
        earlier = _earlier(external_ids, since)
        if earlier is None:
            raise
        outcome = ("earlier", *earlier)
    if outcome is None:
        raise KeyRevokedError(key.prefix)
    state, code, received_at = outcome
    if state == "earlier":
        return Accepted(code=code, received_at=received_at, password="", duplicate=True)
    return Accepted(code=code, received_at=received_at, password=password, duplicate=False)


def _single_statement(run: Callable[[], T]) -> T:
    # In autocommit mode the statement is its own transaction (one round trip). Inside a caller's
    # atomic block (tests, a batch) a savepoint keeps a unique violation from spoiling that block.
    if connection.in_atomic_block:
        with transaction.atomic():
            return run()
    return run()


def _earlier(external_ids: tuple[str, str], since: dt.datetime) -> tuple[str, dt.datetime] | None:
    return (
        Open311Submission.objects.filter(external_id__in=external_ids, received_at__gte=since)
        .order_by("received_at")
        .values_list("code", "received_at")
        .first()
    )


# How a submission was taken: ("accepted" or "earlier", its code, its received_at); None when the key
# was revoked meanwhile.
Outcome = tuple[str, str, dt.datetime]


def _accept_in_a_transaction(
    submission: Open311Submission, external_ids: tuple[str, str], since: dt.datetime
) -> Outcome | None:
    with transaction.atomic():
        if not ApiKey.objects.filter(pk=submission.api_key_id, revoked_at__isnull=True).exists():
            return None
        earlier = _earlier(external_ids, since)
        if earlier is not None:
            return ("earlier", *earlier)
        submission.code = services.next_code(submission.received_at)
        submission.save(force_insert=True)
    return ("accepted", submission.code, submission.received_at)


def _accept_in_one_statement(
    values: dict[str, Any], external_ids: tuple[str, str], since: dt.datetime
) -> Outcome | None:
    """Key check, duplicate check, numbering and insert as one PostgreSQL statement.

    The serial is advanced only when the key is live and no earlier submission matches, and a unique
    violation undoes the whole statement, so numbers have no gaps, as with `services.next_code`.
    """
    sql, fields = _accept_statement(tuple(values))
    day = timezone.localtime(values["received_at"]).date()
    params = [
        values["api_key_id"],
        *external_ids,
        since,
        day,
        services.code_prefix(day),
        # Through the fields: the requester's name and phone are encrypted here.
        *(field.get_db_prep_save(values[field.attname], connection) for field in fields),
    ]
    # A server-side prepared statement: parsed and planned once per connection, not per request
    # (planning this statement costs as much as running it). Django's cursors bind client-side.
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, prepare=True)
        rows = cursor.fetchall()
    if any(row[0] == "revoked" for row in rows):
        return None
    accepted = [row for row in rows if row[0] == "accepted"]
    # Both windows may hold the same request: the first submission answers.
    return accepted[0] if accepted else min(rows, key=lambda row: row[2])


@functools.cache
def _accept_statement(names: tuple[str, ...]) -> tuple[str, list[Field]]:
    """The statement for inserting these fields (built once: it is the same for every request)."""
    quote = connection.ops.quote_name
    by_attname = {field.attname: field for field in Open311Submission._meta.concrete_fields}
    fields = [by_attname[name] for name in names]
    columns = ", ".join(quote(field.column) for field in fields)
    # Typed placeholders: a prepared statement cannot infer a parameter's type from INSERT … SELECT.
    placeholders = ", ".join(
        # django-stubs does not declare Field.cast_db_type (Django has it since 2.0).
        f"%s::{field.cast_db_type(connection)}"  # type: ignore[attr-defined]
        for field in fields
    )
    table, serial = quote(Open311Submission._meta.db_table), quote(WorkOrderSerial._meta.db_table)
    # Only quoted identifiers and placeholders are interpolated; every value is a parameter.
    sql = f"""
        WITH live_key AS (
            SELECT 1 FROM {quote(ApiKey._meta.db_table)} WHERE id = %s::bigint AND revoked_at IS NULL
        ), earlier AS (
            SELECT code, received_at FROM {table}
            WHERE external_id IN (%s::varchar, %s::varchar) AND received_at >= %s::timestamptz
        ), numbered AS (
            INSERT INTO {serial} (day, last_number)
            SELECT %s::date, 1 WHERE EXISTS (SELECT 1 FROM live_key) AND NOT EXISTS (SELECT 1 FROM earlier)
            ON CONFLICT (day) DO UPDATE SET last_number = {serial}.last_number + 1
            RETURNING last_number
        ), accepted AS (
            INSERT INTO {table} (code, {columns})
            SELECT %s::text || lpad(last_number::text, greatest(6, length(last_number::text)), '0'),
                   {placeholders}
            FROM numbered
            RETURNING code, received_at
        )
        SELECT 'accepted', code, received_at FROM accepted
        UNION ALL SELECT 'earlier', code, received_at FROM earlier
        UNION ALL SELECT 'revoked', NULL, NULL WHERE NOT EXISTS (SELECT 1 FROM live_key)
    """  # noqa: S608
    return sql, fields


# ------------------------------------------------------------------------------------ registration


def register_open311_submissions(*, limit: int = REGISTER_BATCH) -> dict[str, int]:
    """Register up to `limit` pending submissions as work orders, oldest first, in one transaction.

    Each submission is checked by `services.prepare_work_order`; the good ones are saved together by
    `services.receive_work_orders_bulk` (one insert for the orders, one for their events, one append
    of their audit rows), so the worker keeps up with a sustained Open311 intake (docs/performance.md).
    A submission that cannot be registered is parked as 登记失败 with the reason (the office sees it
    in the admin and can queue it again) and never blocks the ones beside it; should the bulk insert
    itself fail (an order saved meanwhile by another path), the batch is registered one by one. The work
    order keeps the submission's code, time and query-password hash; a category withdrawn since the
    POST leaves the order unclassified (operators classify those anyway). Two workers never register
    the same submission (row lock, SKIP LOCKED). Side effects per submission: the work order with its
    event and audit row `hotline.received` and the submission's copy of the requester's name and phone
    cleared, or the failure and an audit row `hotline.open311_failed`.
    """
    counts = {"registered": 0, "failed": 0}
    with transaction.atomic():
        batch = list(
            Open311Submission.objects.select_for_update(skip_locked=True)
            .filter(state=SubmissionState.PENDING)
            .order_by("id")[:limit]
        )
        if not batch:
            return counts
        prepared: list[tuple[Open311Submission, services.NewOrder]] = []
        lookups = _Lookups(batch)
        for submission in batch:
            submission.attempts += 1
            try:
                prepared.append((submission, _prepare(submission, lookups)))
            except Exception as exc:  # whatever it is: park it for the office and keep going
                counts["failed"] += _fail(submission, exc)
        try:
            with transaction.atomic():
                outcomes = services.receive_work_orders_bulk([new for _submission, new in prepared])
        except Exception:
            logger.exception("Open311 batch could not be registered at once; registering one by one")
            for submission, _new in prepared:
                try:
                    with transaction.atomic():
                        _register(submission)
                except Exception as exc:
                    counts["failed"] += _fail(submission, exc)
                else:
                    counts["registered"] += 1
            return counts
        registered = []
        for (submission, _new), outcome in zip(prepared, outcomes, strict=True):
            if isinstance(outcome, ValidationError):
                counts["failed"] += _fail(submission, outcome)
            else:
                registered.append(submission.pk)
        _mark_registered(registered)
        counts["registered"] += len(registered)
    return counts


def _mark_registered(ids: list[int]) -> None:
    """One UPDATE for the batch: each submission points at the order with its code."""
    if not ids:
        return
    Open311Submission.objects.filter(pk__in=ids).update(
        state=SubmissionState.REGISTERED,
        order=Subquery(WorkOrder.objects.filter(code=OuterRef("code")).values("pk")[:1]),
        registered_at=timezone.now(),
        attempts=F("attempts") + 1,
        last_error="",
        # The work order holds the requester now; one encrypted copy is enough.
        requester_name="",
        requester_phone="",
    )


class _Lookups:
    """The batch's categories and divisions, read in two queries instead of two per submission."""

    def __init__(self, batch: list[Open311Submission]) -> None:
        self.categories = {
            category.code: category
            for category in Category.objects.filter(
                code__in={submission.category_code for submission in batch}, is_active=True
            )
        }
        codes = {submission.division_code for submission in batch} | {settings.OPEN311_DIVISION}
        self.divisions = {division.code: division for division in Division.objects.filter(code__in=codes)}

    def division(self, code: str) -> Division:
        division = self.divisions.get(code) or self.divisions.get(settings.OPEN311_DIVISION)
        if division is None:
            raise Division.DoesNotExist(f"行政区划 {settings.OPEN311_DIVISION}（OPEN311_DIVISION）不存在")
        return division


def _prepare(submission: Open311Submission, lookups: _Lookups) -> services.NewOrder:
    return services.prepare_work_order(**_order_arguments(submission, lookups))


def _register(submission: Open311Submission) -> services.Intake:
    """One submission on its own (the fallback when a batch's bulk insert fails)."""
    intake = services.receive_work_order(**_order_arguments(submission, _Lookups([submission])))
    _mark_registered([submission.pk])
    return intake


def _order_arguments(submission: Open311Submission, lookups: _Lookups) -> dict[str, Any]:
    return {
        "by": None,
        "channel": OPEN311_CHANNEL,
        "request_type": submission.request_type,
        "title": submission.title,
        "content": submission.content,
        "division": lookups.division(submission.division_code),
        "category": lookups.categories.get(submission.category_code),
        "address": submission.address,
        "latitude": submission.latitude,
        "longitude": submission.longitude,
        "requester_name": submission.requester_name,
        "requester_phone": submission.requester_phone,
        "external_id": submission.external_id,
        "at": submission.received_at,
        "code": submission.code,
        "query_password_hash": submission.query_password_hash,
    }


def _fail(submission: Open311Submission, exc: Exception) -> int:
    logger.warning("Open311 submission %s could not be registered: %s", submission.code, exc)
    _park(submission, exc)
    return 1


def _park(submission: Open311Submission, exc: Exception) -> None:
    reason = "；".join(exc.messages) if isinstance(exc, ValidationError) else f"{type(exc).__name__}: {exc}"
    submission.state = SubmissionState.FAILED
    submission.last_error = reason[:2000]
    submission.save(update_fields=["state", "attempts", "last_error"])
    audit.record(
        "hotline.open311_failed",
        by=None,
        target=submission,
        division_code=submission.division_code,
        data={"code": submission.code, "attempts": submission.attempts, "error": reason[:200]},
    )


def requeue_open311_submission(submission: Open311Submission, *, by: User) -> Open311Submission:
    """Queue a failed submission for registration again (after the cause was fixed).

    Side effects: state back to 待登记; one audit row `hotline.open311_requeued`.
    """
    with transaction.atomic():
        changed = Open311Submission.objects.filter(pk=submission.pk, state=SubmissionState.FAILED).update(
            state=SubmissionState.PENDING
        )
        if changed != 1:
            submission.refresh_from_db(fields=["state"])
            raise ValidationError(
                f"受理记录 {submission.code} 当前为“{submission.get_state_display()}”，只有登记失败的可以重新登记"
            )
        audit.record(
            "hotline.open311_requeued",
            by=by,
            target=submission,
            division_code=submission.division_code,
            data={"code": submission.code, "last_error": submission.last_error[:200]},
        )
    submission.refresh_from_db(fields=["state"])
    return submission
