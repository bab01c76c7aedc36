"""Package-internal: the constants, records and small helpers the modules of `hotline.services` share.

Constants (clock kinds, extension limit, SCORE_POINTS / SCORE_REASONS, the query-password hash format),
the `Intake` and `DispatchTarget` records, input checks that raise ValidationError naming the bad value
(`_when`, `_text`, `_choice`, `_division`, `_category`, `_unit`) and the write helpers
every action uses (`_event`, `_audit`, `_iso`, `_save`, `_score`, `_score_late_clock`, `_sms_requester`,
`_clock_error`).
The underscore names are imported by the package's own modules only; code outside the package uses the
public names that `zhengfeng.hotline.services` re-exports.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Choices
from django.utils import timezone

from zhengfeng.alerts.models import AlertLevel, AlertRule
from zhengfeng.assessment.models import Dimension
from zhengfeng.assessment.services import record_score_event
from zhengfeng.core import audit
from zhengfeng.core.crypto import retained_mac_purpose
from zhengfeng.deadlines.models import Clock
from zhengfeng.hotline.models import Category, DispatchRule, WorkOrder, WorkOrderAssignment, WorkOrderEvent
from zhengfeng.messaging.services import queue_sms
from zhengfeng.org.models import Division, Unit, User
from zhengfeng.org.validators import is_mobile

CODE_PREFIX = "QY"
CLOCK_SOURCE = "hotline.assignment"
SIGN_CLOCK = "hotline_sign"
REPLY_CLOCK = "hotline_reply"
# Extensions per handling round, and their total length: at most the original reply limit.
MAX_EXTENSIONS = 2
# Score events (热线办理), negative = 扣分. Each is recorded once per source (assessment is idempotent).
# Overdue clocks are deducted by the alerts ladder's 黄牌 (AlertRule.yellow_points of hotline_sign /
# hotline_reply); hotline.overdue_sign and hotline.late_reply are the late sign-for and late reply the
# ladder never saw, priced by the same rule's 黄牌 points; the points here apply only when that rule
# is missing or inactive (`_score_late_clock`), and equal the rules' defaults.
SCORE_POINTS = {
    "hotline.overdue_sign": Decimal("-0.5"),
    "hotline.late_reply": Decimal("-1"),
    "hotline.improper_return": Decimal("-1"),
    "hotline.false_completion": Decimal("-2"),
}
SCORE_REASONS = {
    "hotline.overdue_sign": "工单超期未签收",
    "hotline.late_reply": "工单逾期答复",
    "hotline.improper_return": "不当退单",
    "hotline.false_completion": "虚假办结（回访核实）",
}


# Query passwords: keyed HMAC-SM3 with a per-order salt (docs/security.md, "query passwords").
QUERY_HASH_PREFIX = "hmac-sm3$v1$"
# Registered: the password is never stored, so a key rotation keeps this purpose's old pepper.
QUERY_HASH_PURPOSE = retained_mac_purpose(b"hotline-query-password-hmac-sm3")


@dataclass(frozen=True)
class Intake:
    order: WorkOrder
    # Shown to the requester once; only its hash is stored.
    password: str


@dataclass(frozen=True)
class DispatchTarget:
    rule: DispatchRule
    unit: Unit
    co_units: tuple[Unit, ...]


def _when(at: dt.datetime | None) -> dt.datetime:
    if at is None:
        return timezone.now()
    if not isinstance(at, dt.datetime) or timezone.is_naive(at):
        raise ValidationError(f"时间必须是带时区的日期时间：{at!r}")
    return at


def _text(value: Any, *, label: str, max_length: int, required: bool = True) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationError(f"{label}不能为空")
    if len(text) > max_length:
        raise ValidationError(f"{label}过长：共 {len(text)} 字，最多 {max_length} 字")
    return text


def _choice(value: Any, choices: type[Choices], *, label: str) -> str:
    # `Choices.values` builds a new list on every access; an import checks 100,000 rows.
    if value not in _values(choices):
        allowed = "、".join(f"{v}（{lbl}）" for v, lbl in choices.choices)
        raise ValidationError(f"未知的{label} {value!r}，应为：{allowed}")
    return str(value)


@functools.cache
def _values(choices: type[Choices]) -> frozenset[Any]:
    return frozenset(choices.values)


def _division(value: Division | str) -> Division:
    if isinstance(value, Division):
        return value
    division = Division.objects.filter(code=str(value or "").strip()).first()
    if division is None:
        raise ValidationError(f"未知的行政区划代码 {value!r}")
    return division


def _category(value: Category | str | None) -> Category | None:
    if value is None or value == "":
        return None
    category: Category | None
    if isinstance(value, Category):
        category = value
    else:
        category = Category.objects.filter(code=str(value).strip()).first()
        if category is None:
            raise ValidationError(f"未知的诉求分类 {value!r}")
    if not category.is_active:
        raise ValidationError(f"诉求分类“{category.path}”已停用")
    return category


def _unit(value: Unit | int | str | None, *, label: str) -> Unit:
    unit: Unit | None
    if isinstance(value, Unit):
        unit = value
    else:
        unit = Unit.objects.filter(code=str(value)).first() if isinstance(value, str) else None
        if unit is None and value is not None:
            unit = Unit.objects.filter(pk=value).first() if _is_pk(value) else None
        if unit is None:
            raise ValidationError(f"未知的{label} {value!r}")
    if not unit.is_active:
        raise ValidationError(f"{label}“{unit.name}”已停用")
    return unit


def _event(
    order: WorkOrder,
    kind: str,
    *,
    at: dt.datetime,
    by: User | None,
    unit: Unit | None = None,
    text: str = "",
    data: dict[str, Any] | None = None,
    public: bool = False,
) -> WorkOrderEvent:
    return WorkOrderEvent.objects.create(
        order=order, kind=kind, at=at, by=by, unit=unit, text=text, data=data or {}, is_public=public
    )


def _audit(action: str, order: WorkOrder, *, by: User | None, data: dict[str, Any]) -> None:
    entry = _audit_entry(action, order, by=by, data=data)
    audit.record(
        entry.action, by=entry.by, target=entry.target, division_code=entry.division_code, data=entry.data
    )


def _audit_entry(action: str, order: WorkOrder, *, by: User | None, data: dict[str, Any]) -> audit.Entry:
    return audit.Entry(
        f"hotline.{action}",
        by=by,
        target=order,
        division_code=order.division_code,
        data={"code": order.code, "status": order.status, **data},
    )


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _save(order: WorkOrder, at: dt.datetime, *fields: str) -> None:
    order.updated_at = timezone.now()
    order.save(update_fields=[*fields, "updated_at"])


def _score(
    code: str,
    *,
    unit: Unit,
    source: models.Model,
    at: dt.datetime,
    by: User | None,
    order: WorkOrder,
    note: str = "",
    points: Decimal | None = None,
) -> None:
    reason = f"{SCORE_REASONS[code]}：{order.code} {order.title}"[:280]
    if note:
        reason = f"{reason}（{note}）"[:300]
    record_score_event(
        unit=unit,
        dimension=Dimension.HOTLINE,
        points=SCORE_POINTS[code] if points is None else points,
        reason=reason,
        reason_code=code,
        source_type=source._meta.label_lower,
        source_id=source.pk,
        occurred_at=at,
        division_code=order.division_code,
        by=by,
    )


def _score_late_clock(
    code: str,
    clock: Clock,
    *,
    assignment: WorkOrderAssignment,
    at: dt.datetime,
    by: User | None,
    order: WorkOrder,
) -> None:
    """The one rule for a sign-for or reply clock stopped late: it costs the 黄牌 of its alert rule, once.

    The ladder's 黄牌 on the clock carries the deduction (alerts.sweep, `alert.yellow`); a clock stopped
    late below that level was never seen overdue by a sweep (it runs every few minutes), so the same
    deduction is made here as `code` (hotline.overdue_sign / hotline.late_reply), with the clock kind's
    rule's `yellow_points` so that one setting governs both (SCORE_POINTS[code] when there is no active
    rule); none when those points are 0. `clock` is the row just locked and stopped, so a sweep cannot
    raise its level in between. Side effect: at most one ScoreEvent (source the assignment).
    """
    if clock.alert_level >= AlertLevel.YELLOW:
        return
    rule = AlertRule.objects.filter(kind=clock.kind, is_active=True).first()
    points = rule.yellow_points if rule is not None else SCORE_POINTS[code]
    if points:
        _score(code, unit=assignment.unit, source=assignment, at=at, by=by, order=order, points=points)


def _sms_requester(order: WorkOrder, text: str, *, by: User | None) -> bool:
    """SMS to the requester unless anonymous or without a mobile number; True when queued."""
    if order.is_anonymous or not order.requester_phone or not is_mobile(order.requester_phone):
        return False
    queue_sms(to=order.requester_phone, text=text, source=order, division_code=order.division_code, by=by)
    return True


def _clock_error(exc: Exception) -> ValidationError:
    return ValidationError(f"时限计算失败：{exc}")


def _is_pk(value: object) -> bool:
    """A primary key as sent: ASCII digits within the database's 64-bit integer (else an OverflowError)."""
    text = str(value)
    return text.isascii() and text.isdigit() and int(text) < 2**63
