"""Writes for score events: record (idempotent by source) and void. Events are never deleted."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from zhengfeng.assessment.models import Dimension, ScoreEvent
from zhengfeng.core import audit
from zhengfeng.core.bulk import insert_rows
from zhengfeng.org.models import Unit, User

# Rows per statement for set-based producers (arrays of this length per column).
BULK_CHUNK = 5000


def _clean_points(points: Decimal | int | str) -> Decimal:
    try:
        value = Decimal(str(points))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError(f"分值 {points!r} 不是有效的数字") from exc
    if not value.is_finite() or value == 0:
        raise ValidationError(f"分值 {points!r} 无效：必须是非零的有限数字（负数为扣分，正数为加分）")
    if value != value.quantize(Decimal("0.01")) or abs(value) >= Decimal("100000"):
        raise ValidationError(f"分值 {points!r} 无效：最多两位小数，绝对值小于 100000")
    return value


def record_score_event(
    *,
    unit: Unit,
    dimension: str,
    points: Decimal | int | str,
    reason: str,
    reason_code: str,
    source_type: str,
    source_id: str | int,
    occurred_at: dt.datetime,
    year: int | None = None,
    division_code: str | None = None,
    by: User | None = None,
) -> tuple[ScoreEvent, bool]:
    """Record one 加分/扣分 fact, idempotent by (source, dimension, reason code).

    Returns (event, created). If an event with the same key already exists (voided or not) it is
    returned unchanged, so re-running whatever produced it never counts twice.
    Side effects: the ScoreEvent row and one audit row `score.recorded` (only when created).
    """
    if dimension not in Dimension.values:
        raise ValidationError(f"未知的考核项目 {dimension!r}；可用：{', '.join(Dimension.values)}")
    value = _clean_points(points)
    reason = reason.strip()
    reason_code = reason_code.strip()
    source_type = source_type.strip()
    source = str(source_id).strip()
    if not reason:
        raise ValidationError("计分原因不能为空")
    if not reason_code or not source_type or not source:
        raise ValidationError(
            f"计分来源不完整：原因代码 {reason_code!r}、来源类型 {source_type!r}、来源编号 {source!r}"
        )
    if timezone.is_naive(occurred_at):
        raise ValidationError(f"发生时间 {occurred_at} 缺少时区")
    if year is None:
        year = timezone.localtime(occurred_at).year
    key = {
        "source_type": source_type,
        "source_id": source,
        "dimension": dimension,
        "reason_code": reason_code,
    }
    with transaction.atomic():
        existing = ScoreEvent.objects.filter(**key).first()
        if existing is not None:
            return existing, False
        event = ScoreEvent.objects.create(
            unit=unit,
            division_code=division_code if division_code is not None else unit.division_id,
            year=year,
            points=value,
            reason=reason[:300],
            occurred_at=occurred_at,
            created_by=by,
            **key,
        )
        audit.record(
            "score.recorded",
            by=by,
            target=event,
            division_code=event.division_code,
            data={"unit": unit.pk, "year": year, "dimension": dimension, "points": str(value), **key},
        )
    return event, True


# What a set-based producer gives per event (attnames); created_at is added here.
BULK_EVENT_FIELDS = frozenset(
    {
        "id",
        "unit_id",
        "division_code",
        "year",
        "dimension",
        "points",
        "reason_code",
        "reason",
        "source_type",
        "source_id",
        "occurred_at",
    }
)


def record_score_events_in_bulk(events: list[dict[str, Any]]) -> None:
    """Insert many events at once, skipping any whose source key already exists.

    For set-based producers (the alerts sweep: 10,000 events in one run), which give each event as a
    dict of BULK_EVENT_FIELDS ("id" optional, when reserved ahead): model instances would cost more than
    the insert. The caller validates the values, runs this inside its own transaction and writes the
    one audit row that covers the whole run.
    """
    if not events:
        return
    names = sorted(events[0])
    unknown = set(names) - BULK_EVENT_FIELDS
    if unknown:
        raise ValueError(f"未知的计分字段：{'、'.join(sorted(unknown))}")
    now = timezone.now()
    for start in range(0, len(events), BULK_CHUNK):
        chunk = events[start : start + BULK_CHUNK]
        columns = {name: [event[name] for event in chunk] for name in names}
        columns["created_at"] = [now] * len(chunk)
        insert_rows(ScoreEvent, columns)


def void_score_event(event: ScoreEvent, *, reason: str, by: User) -> ScoreEvent:
    """Void an event (it stops counting); the row stays for the record.

    Side effects: voided_at/void_reason/voided_by set; one audit row `score.voided`.
    """
    reason = reason.strip()
    if not reason:
        raise ValidationError("作废原因不能为空")
    now = timezone.now()
    with transaction.atomic():
        # Conditional update: two people voiding at once cannot both succeed.
        changed = ScoreEvent.objects.filter(pk=event.pk, voided_at__isnull=True).update(
            voided_at=now, void_reason=reason[:300], voided_by=by
        )
        if changed != 1:
            event.refresh_from_db()
            raise ValidationError(
                f"计分记录 #{event.pk} 已于 {timezone.localtime(event.voided_at):%Y-%m-%d %H:%M} 作废，不能重复作废"
            )
        event.refresh_from_db()
        audit.record(
            "score.voided",
            by=by,
            target=event,
            division_code=event.division_code,
            data={"reason": event.void_reason, "points": str(event.points), "unit": event.unit_id},
        )
    return event
