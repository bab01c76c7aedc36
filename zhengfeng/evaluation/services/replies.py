"""Matching the citizens' SMS replies to the invitations."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from zhengfeng.core import audit
from zhengfeng.core.moments import plausible_moment
from zhengfeng.evaluation.models import EnforcementAction, Evaluation, Reply, ReplyOutcome
from zhengfeng.evaluation.parsing import parse_reply
from zhengfeng.evaluation.services.common import render_sms
from zhengfeng.messaging import queries as messaging_queries
from zhengfeng.messaging import services as messaging
from zhengfeng.messaging.models import InboundSms, OutboxStatus

logger = logging.getLogger(__name__)

# --- Replies -------------------------------------------------------------------------------------


@dataclass
class ReplyStats:
    counted: int = 0
    later: int = 0
    unrecognised: int = 0
    reasked: int = 0
    expired: int = 0
    no_invitation: int = 0
    skipped: int = 0  # taken by another module or worker meanwhile
    parked: int = 0  # unreadable or implausible rows set aside (messaging.park_inbound)

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _sent_at(evaluation: Evaluation) -> dt.datetime:
    sent_at = evaluation.message.sent_at
    if sent_at is None:  # never: the candidates' messages have the status SENT, which sets sent_at
        raise ValueError(f"评议 #{evaluation.pk} 的短信没有发送时间")
    return sent_at


def _window_end(evaluation: Evaluation) -> dt.datetime:
    return _sent_at(evaluation) + dt.timedelta(days=evaluation.window_days)


def _match(inbound: InboundSms, candidates: list[Evaluation]) -> tuple[Evaluation | None, str]:
    """The evaluation this reply answers: the most recently sent one whose window holds the reply.

    A reply cannot say which SMS it answers; the latest is the one on top of the phone's screen, and
    sending a second reply to an older invitation would let one person evaluate twice.
    """
    sent = [
        e for e in candidates if e.message.sent_at is not None and e.message.sent_at <= inbound.received_at
    ]
    if not sent:
        return None, ReplyOutcome.NO_INVITATION
    open_ = [e for e in sent if inbound.received_at < _window_end(e)]
    if not open_:
        latest = max(sent, key=lambda e: (e.message.sent_at, e.pk))
        return latest, ReplyOutcome.EXPIRED
    return max(open_, key=lambda e: (e.message.sent_at, e.pk)), ""


def _reask(evaluation: Evaluation, now: dt.datetime) -> bool:
    """Ask once more, politely; never twice for one invitation (conditional update)."""
    if (
        Evaluation.objects.filter(pk=evaluation.pk, reasked_at__isnull=True, answer="").update(reasked_at=now)
        != 1
    ):
        return False
    action = EnforcementAction.objects.select_related("unit__division", "year").get(pk=evaluation.action_id)
    names = list(action.staff.order_by("action_links__id").values_list("name", flat=True))
    messaging.queue_sms(
        to=action.subject_phone,
        text=render_sms(action.year.reask_template, action, names),
        source=evaluation,
        division_code=evaluation.division_code,
    )
    return True


def _seconds(inbound: InboundSms, evaluation: Evaluation) -> int:
    return int((inbound.received_at - _sent_at(evaluation)).total_seconds())


def _record_answers(evaluations: list[Evaluation]) -> None:
    """First answers in one UPDATE … FROM (VALUES …) per 1,000 rows, only where none was recorded.

    Django's bulk_update builds a CASE per row and field in Python, slower than the database work at
    the benchmark's size. Portable: PostgreSQL and SQLite ≥ 3.33 name VALUES columns column1, ….
    """
    table = Evaluation._meta.db_table
    with connection.cursor() as cursor:
        for start in range(0, len(evaluations), 1000):
            chunk = evaluations[start : start + 1000]
            params: list[Any] = []
            for evaluation in chunk:
                params += [
                    evaluation.pk,
                    evaluation.answer,
                    connection.ops.adapt_datetimefield_value(evaluation.answered_at),
                    evaluation.answer_seconds,
                ]
            values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"UPDATE {table} SET answer = v.column2, answered_at = v.column3, answer_seconds = v.column4 "  # noqa: S608 (table name from the model; values are parameters)
                f"FROM (VALUES {values}) AS v WHERE {table}.id = v.column1 AND {table}.answer = ''",
                params,
            )


def _process_batch(batch: list[InboundSms], now: dt.datetime, stats: ReplyStats) -> None:
    """One batch in one transaction: match, mark handled in bulk, record answers and replies.

    The candidate evaluations are locked (PostgreSQL) so that two workers holding different replies
    of one number cannot both record a first answer.
    """
    candidates: dict[str, list[Evaluation]] = {}
    for candidate in (
        Evaluation.objects.select_for_update(of=("self",))
        .filter(phone_index__in={row.phone_index for row in batch}, message__status=OutboxStatus.SENT)
        .select_related("message")
        .order_by("pk")
    ):
        candidates.setdefault(candidate.phone_index, []).append(candidate)
    replies: list[Reply] = []
    taken: list[tuple[InboundSms, Evaluation]] = []
    for inbound in batch:
        evaluation, outcome = _match(inbound, candidates.get(inbound.phone_index, []))
        if evaluation is not None and not outcome:  # no outcome yet: the reply answers `evaluation`
            taken.append((inbound, evaluation))
            continue
        replies.append(
            Reply(
                inbound=inbound,
                evaluation=evaluation,
                division_code=evaluation.division_code if evaluation else "",
                received_at=inbound.received_at,
                parsed=parse_reply(inbound.text).answer,
                outcome=outcome,
                seconds_after_sent=_seconds(inbound, evaluation) if evaluation else None,
                created_at=now,
            )
        )
        if outcome == ReplyOutcome.EXPIRED:
            stats.expired += 1
        else:
            stats.no_invitation += 1
    handled = messaging.mark_inbound_handled_bulk(list(taken))
    answered: dict[int, Evaluation] = {}
    to_reask: list[Evaluation] = []
    for inbound, evaluation in taken:
        if inbound.pk not in handled:
            stats.skipped += 1  # another module or worker took it meanwhile
            continue
        parsed = parse_reply(inbound.text)
        seconds = _seconds(inbound, evaluation)
        if parsed.valid and not evaluation.answer:
            evaluation.answer = parsed.answer
            evaluation.answered_at = inbound.received_at
            evaluation.answer_seconds = seconds
            answered[evaluation.pk] = evaluation
            outcome = ReplyOutcome.COUNTED
            stats.counted += 1
        elif evaluation.answer:
            outcome = ReplyOutcome.LATER
            stats.later += 1
        else:
            outcome = ReplyOutcome.UNRECOGNISED
            stats.unrecognised += 1
            if evaluation not in to_reask:
                to_reask.append(evaluation)
        replies.append(
            Reply(
                inbound=inbound,
                evaluation=evaluation,
                division_code=evaluation.division_code,
                received_at=inbound.received_at,
                parsed=parsed.answer,
                outcome=outcome,
                seconds_after_sent=seconds,
                created_at=now,
            )
        )
    if answered:
        _record_answers(list(answered.values()))
    Reply.objects.bulk_create(replies, batch_size=1000, ignore_conflicts=True)
    for evaluation in to_reask:
        if _reask(evaluation, now):
            stats.reasked += 1


def _load(ids: list[int]) -> list[InboundSms]:
    # In a savepoint: on PostgreSQL a failed read (DataError) would otherwise spoil the batch's transaction.
    with transaction.atomic():
        rows = {row.pk: row for row in InboundSms.objects.filter(pk__in=ids)}
    return [rows[pk] for pk in ids if pk in rows]


UNREADABLE_TIME_REASON = "接收时间无法读取（超出可表示的日期范围），请核对短信网关送来的时间"


def _usable(ids: list[int], now: dt.datetime, stats: ReplyStats) -> list[InboundSms]:
    """The rows of `ids` this job can match, in order; the others are parked with their reason.

    A row whose time cannot be read (PostgreSQL: year 1 shifted to UTC is BC; SQLite: year 0) or lies
    outside the plausible window was stored before the webhook refused such times; it would fail the
    job on every run and hold every later reply, so it is set aside for the office instead.
    """
    try:
        rows = _load(ids)
    except (DatabaseError, ValueError, OverflowError):
        rows = []
        for pk in ids:
            try:
                rows += _load([pk])
            except (DatabaseError, ValueError, OverflowError) as exc:
                # The driver's own words differ between SQLite and PostgreSQL: the office reads one
                # reason, the log keeps the technical one.
                logger.warning("inbound SMS %s parked: unreadable received_at (%s)", pk, exc)
                if messaging.park_inbound(inbound_id=pk, reason=UNREADABLE_TIME_REASON):
                    stats.parked += 1
    usable = []
    for row in rows:
        try:
            plausible_moment(row.received_at, field="接收时间", now=now)
        except ValidationError as exc:
            if messaging.park_inbound(inbound_id=row.pk, reason="；".join(exc.messages)):
                stats.parked += 1
            continue
        usable.append(row)
    return usable


def process_replies(
    now: dt.datetime | None = None, *, batch_size: int = 500, limit: int | None = None
) -> ReplyStats:
    """Match unhandled inbound SMS to evaluations and record the answers.

    1. Take inbound SMS no module has handled and evaluation has not looked at yet, oldest first.
    2. Load (and lock) every sent evaluation of those numbers at once (by blind index) and match each
       reply to the most recent invitation whose window holds it.
    3. A matched reply is marked handled (messaging, in bulk) and kept as a Reply: the first valid
       answer counts, later ones are kept only, an unrecognised one gets one SMS asking again.
    4. A reply from a number with no invitation, or only expired ones, is logged as a Reply and left
       unhandled for other modules (a hotline callback may be waiting for that number).
    5. A row that cannot be read or whose time is implausible is parked (`messaging.park_inbound`)
       with its reason and never offered again; the rest go on.

    Side effects: Reply rows, evaluation answers, re-ask SMS, parked inbound rows (audit row
    `messaging.inbound_parked` each); messaging's audit row per batch
    (`messaging.inbound_handled_bulk`) and one `evaluation.replies_processed` audit row per run that
    did something.
    """
    now = now or timezone.now()
    stats = ReplyStats()
    done = 0
    while limit is None or done < limit:
        size = batch_size if limit is None else min(batch_size, limit - done)
        with transaction.atomic():
            # Ids first: reading the ids never touches a bad stored time, so one bad row cannot
            # fail the query that would also bring every good row behind it.
            ids = list(
                messaging_queries.unmatched_inbound()
                .filter(received_at__lte=now)
                .exclude(pk__in=Reply.objects.values("inbound_id"))
                .values_list("pk", flat=True)[:size]
            )
            if not ids:
                break
            done += len(ids)
            batch = _usable(ids, now, stats)
            if batch:
                _process_batch(batch, now, stats)
    if done:
        with transaction.atomic():
            audit.record("evaluation.replies_processed", by=None, data=stats.as_dict())
    return stats
