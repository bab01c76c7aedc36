"""Writes of the hotline: intake (`receive_work_order`) and the one transition function (`transition`).

Every action runs in one transaction with the order row locked: state check against the fresh row
(so a double submit finds the state already changed and is refused), input checks, the row changes,
clock events (`deadlines`), one `WorkOrderEvent`, one audit row `hotline.<action>`, score events
(`assessment`) and SMS (`messaging` outbox). A bad value raises ValidationError naming it, a wrong
role PermissionDenied; either way nothing is saved. States and limits: docs/hotline.md.
"""

from __future__ import annotations

import datetime as dt
import hmac
import math
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from zhengfeng.alerts.models import AlertLevel, AlertRule
from zhengfeng.assessment.models import Dimension
from zhengfeng.assessment.services import record_score_event
from zhengfeng.core import audit
from zhengfeng.core.crypto import blind_index, keyed_mac
from zhengfeng.deadlines.models import BudgetUnit, Clock
from zhengfeng.deadlines.replay import ClockEventError
from zhengfeng.deadlines.services import apply_clock_event, start_clock
from zhengfeng.hotline.models import (
    ADDRESS_MAX_LENGTH,
    CONTENT_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    AssignmentReason,
    AssignmentRole,
    AssignmentStatus,
    Callback,
    Category,
    Channel,
    DispatchRule,
    EventKind,
    ExtensionRequest,
    ExtensionStatus,
    Referral,
    Reply,
    ReplyStatus,
    RequestType,
    ReturnRequest,
    ReturnStatus,
    Satisfaction,
    Status,
    TimeLimitRule,
    Urgency,
    WorkOrder,
    WorkOrderAssignment,
    WorkOrderEvent,
    WorkOrderSerial,
)
from zhengfeng.messaging.services import queue_sms
from zhengfeng.org.models import Division, Role, Unit, UnitKind
from zhengfeng.org.queries import scope_of
from zhengfeng.org.validators import is_mobile, normalise_phone, validate_id_number

CODE_PREFIX = "QY"
CLOCK_SOURCE = "hotline.assignment"
SIGN_CLOCK = "hotline_sign"
REPLY_CLOCK = "hotline_reply"
# Extensions per handling round, and their total length: at most the original reply limit.
MAX_EXTENSIONS = 2
# Score events (热线办理), negative = 扣分. Each is recorded once per source (assessment is idempotent).
# Overdue clocks are deducted by the alerts ladder's 黄牌 (AlertRule.yellow_points of hotline_sign /
# hotline_reply); hotline.overdue_sign is the late sign-for the ladder never saw, and its points here
# apply only when there is no active hotline_sign rule (`_score_late_sign`).
SCORE_POINTS = {
    "hotline.overdue_sign": Decimal("-0.5"),
    "hotline.late_reply": Decimal("-0.5"),
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
QUERY_HASH_PURPOSE = b"hotline-query-password-hmac-sm3"


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


# ------------------------------------------------------------------------------- small helpers


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


def _choice(value: Any, choices: type, *, label: str) -> str:
    if value not in choices.values:
        allowed = "、".join(f"{v}（{lbl}）" for v, lbl in choices.choices)
        raise ValidationError(f"未知的{label} {value!r}，应为：{allowed}")
    return str(value)


def _coordinate(value: Any, *, label: str, limit: int) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError(f"{label} {value!r} 不是有效的数字") from exc
    if not number.is_finite() or abs(number) > limit:
        raise ValidationError(f"{label} {value} 超出范围（-{limit} 至 {limit}）")
    return number.quantize(Decimal("0.000001"))


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
    if isinstance(value, Unit):
        unit = value
    else:
        unit = Unit.objects.filter(code=str(value)).first() if isinstance(value, str) else None
        if unit is None and value is not None:
            unit = Unit.objects.filter(pk=value).first() if str(value).isdigit() else None
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
    by: Any,
    unit: Unit | None = None,
    text: str = "",
    data: dict[str, Any] | None = None,
    public: bool = False,
) -> WorkOrderEvent:
    return WorkOrderEvent.objects.create(
        order=order, kind=kind, at=at, by=by, unit=unit, text=text, data=data or {}, is_public=public
    )


def _audit(action: str, order: WorkOrder, *, by: Any, data: dict[str, Any]) -> None:
    audit.record(
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
    source: Any,
    at: dt.datetime,
    by: Any,
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


def _sms_requester(order: WorkOrder, text: str, *, by: Any) -> bool:
    """SMS to the requester unless anonymous or without a mobile number; True when queued."""
    if order.is_anonymous or not order.requester_phone or not is_mobile(order.requester_phone):
        return False
    queue_sms(to=order.requester_phone, text=text, source=order, division_code=order.division_code, by=by)
    return True


def _clock_error(exc: Exception) -> ValidationError:
    return ValidationError(f"时限计算失败：{exc}")


# ------------------------------------------------------------------------------- rule tables


def time_limit_for(order: WorkOrder) -> TimeLimitRule:
    """The most specific active TimeLimitRule for the order's type × urgency × channel."""
    candidates = [
        rule
        for rule in TimeLimitRule.objects.filter(is_active=True)
        if rule.request_type in ("", order.request_type)
        and rule.urgency in ("", order.urgency)
        and rule.channel in ("", order.channel)
    ]
    if not candidates:
        raise ValidationError(
            f"没有适用于 {order.get_request_type_display()}／{order.get_urgency_display()}／"
            f"{order.get_channel_display()} 的办理时限规则，请先配置"
        )
    return max(candidates, key=lambda rule: (rule.specificity, -rule.pk))


def reply_days_for(order: WorkOrder, rule: TimeLimitRule) -> int:
    if order.is_complex and rule.complex_reply_days:
        return rule.complex_reply_days
    return rule.reply_days


def dispatch_target(order: WorkOrder, *, exclude: Iterable[int] = ()) -> DispatchTarget | None:
    """The 派单目录's choice: deepest category, then longest division prefix, then priority."""
    if order.category_id is None:
        return None
    lineage: list[int] = []
    category: Category | None = order.category
    while category is not None:
        lineage.append(category.pk)
        category = category.parent
    excluded = set(exclude)
    rules = (
        DispatchRule.objects.filter(is_active=True, category_id__in=lineage, unit__is_active=True)
        .select_related("unit", "category", "division")
        .prefetch_related("co_units")
    )
    matching = [
        rule
        for rule in rules
        if rule.unit_id not in excluded
        and (rule.division_id is None or order.division_code.startswith(rule.division.prefix))
    ]
    if not matching:
        return None
    best = max(
        matching,
        key=lambda r: (r.category.level, len(r.division.prefix) if r.division_id else 0, -r.priority, -r.pk),
    )
    co_units = tuple(
        u for u in best.co_units.all() if u.is_active and u.pk != best.unit_id and u.pk not in excluded
    )
    return DispatchTarget(rule=best, unit=best.unit, co_units=co_units)


# ------------------------------------------------------------------------------- permissions


def _is_staff_admin(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False) or getattr(user, "role", "") == Role.ADMIN)


def _in_division(user: Any, order: WorkOrder) -> bool:
    scope = scope_of(user)
    if scope.everything:
        return True
    return scope.division_prefix is not None and order.division_code.startswith(scope.division_prefix)


def can_intake(user: Any) -> bool:
    """Hotline operators (and the administrator) register orders; monitors file through their channel."""
    role = getattr(user, "role", "")
    return bool(getattr(user, "is_authenticated", False)) and (
        _is_staff_admin(user) or role in (Role.OPERATOR, Role.MONITOR)
    )


def can_operate(user: Any, order: WorkOrder) -> bool:
    """Hotline work (dispatch, reviews, callback, merge, void) on orders of the operator's division."""
    if not getattr(user, "is_authenticated", False):
        return False
    return (_is_staff_admin(user) or user.role == Role.OPERATOR) and _in_division(user, order)


def _live_assignments(order: WorkOrder, unit_id: int | None) -> list[WorkOrderAssignment]:
    if unit_id is None:
        return []
    return list(
        order.assignments.filter(unit_id=unit_id, status__in=AssignmentStatus.LIVE_STATES).order_by("role")
    )


def _main_assignment(order: WorkOrder) -> WorkOrderAssignment | None:
    return (
        order.assignments.filter(role=AssignmentRole.MAIN, status__in=AssignmentStatus.LIVE_STATES)
        .select_related("unit", "reply_clock", "sign_clock")
        .first()
    )


def can_sign(user: Any, order: WorkOrder) -> bool:
    return getattr(user, "role", "") in (Role.LIAISON, Role.HEAD) and any(
        a.status == AssignmentStatus.PENDING for a in _live_assignments(order, getattr(user, "unit_id", None))
    )


def can_handle(user: Any, order: WorkOrder) -> bool:
    """Handling and drafting belong to the main unit's staff (承办人, 联络员, 负责人)."""
    main = _main_assignment(order)
    return (
        main is not None
        and main.status == AssignmentStatus.SIGNED
        and getattr(user, "unit_id", None) == main.unit_id
        and getattr(user, "role", "") in (Role.HANDLER, Role.LIAISON, Role.HEAD)
    )


def can_approve(user: Any, order: WorkOrder) -> bool:
    main = _main_assignment(order)
    return (
        main is not None
        and getattr(user, "role", "") == Role.HEAD
        and getattr(user, "unit_id", None) == main.unit_id
    )


def can_refer(user: Any, order: WorkOrder) -> bool:
    return getattr(user, "is_authenticated", False) and (
        can_operate(user, order) or (user.role in (Role.OFFICE, Role.INSPECTOR) and _in_division(user, order))
    )


def _pending_extension(order: WorkOrder) -> ExtensionRequest | None:
    return order.extensions.filter(status__in=ExtensionStatus.PENDING_STATES).first()


def can_act(user: Any, order: WorkOrder, action: str) -> bool:
    """Whether `user` may perform `action` on `order` in its current state."""
    status = order.status
    if action in ("answer", "dispatch", "void"):
        return status == Status.RECEIVED and can_operate(user, order)
    if action == "sign":
        return status in (Status.DISPATCHED, Status.HANDLING, Status.RETURN_REQUESTED) and can_sign(
            user, order
        )
    if action == "request_return":
        return can_sign(user, order)
    if action == "review_return":
        return can_operate(user, order) and order.returns.filter(status=ReturnStatus.PENDING).exists()
    if action == "note":
        return order.is_open and (
            can_operate(user, order) or bool(_live_assignments(order, getattr(user, "unit_id", None)))
        )
    if action == "request_extension":
        return status == Status.HANDLING and can_handle(user, order) and _pending_extension(order) is None
    if action == "decide_extension":
        pending = _pending_extension(order)
        if pending is None:
            return False
        if pending.status == ExtensionStatus.PENDING_HEAD:
            return can_approve(user, order)
        return can_operate(user, order)
    if action == "draft_reply":
        return status == Status.HANDLING and can_handle(user, order)
    if action == "approve_reply":
        return status == Status.REPLY_DRAFTED and can_approve(user, order)
    if action == "review_reply":
        return status == Status.REPLIED and can_operate(user, order)
    if action == "callback":
        return status == Status.AWAITING_CALLBACK and can_operate(user, order)
    if action == "merge":
        return status in Status.MERGEABLE_STATES and can_operate(user, order)
    if action == "refer":
        return status not in (Status.MERGED, Status.VOIDED) and can_refer(user, order)
    return False


def allowed_actions(user: Any, order: WorkOrder) -> list[str]:
    return [action for action in ACTIONS if can_act(user, order, action)]


# ------------------------------------------------------------------------------- intake


def code_prefix(day: dt.date) -> str:
    return f"{CODE_PREFIX}{day:%Y%m%d}-"


def next_code(at: dt.datetime) -> str:
    """The next tracking code of `at`'s day; call inside the transaction that stores it (the day's
    serial row stays locked until commit, so codes have no gaps and no repeats)."""
    day = timezone.localtime(at).date()
    serial, _ = WorkOrderSerial.objects.select_for_update().get_or_create(day=day)
    serial.last_number += 1
    serial.save(update_fields=["last_number"])
    return f"{code_prefix(day)}{serial.last_number:06d}"


def new_query_password() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def hash_query_password(password: str, *, salt: str | None = None) -> str:
    """`hmac-sm3$v1$<salt>$<mac>`: the pepper (derived from FIELD_ENCRYPTION_KEY) is not in the
    database, so a leaked table alone allows no guessing; the salt keeps equal PINs distinct."""
    salt = salt or secrets.token_hex(16)
    mac = keyed_mac(QUERY_HASH_PURPOSE, f"{salt}\x1f{password}".encode())
    return f"{QUERY_HASH_PREFIX}{salt}${mac}"


def check_query_password(order: WorkOrder, password: str) -> bool:
    """Constant-time check of the keyed hash; anything else stored there verifies nothing."""
    stored = order.query_password_hash
    if not password or not stored:
        return False
    if not stored.startswith(QUERY_HASH_PREFIX):
        return False
    salt = stored[len(QUERY_HASH_PREFIX) :].split("$", 1)[0]
    return hmac.compare_digest(stored, hash_query_password(password, salt=salt))


def receive_work_order(
    *,
    by: Any,
    channel: str,
    request_type: str,
    title: str,
    content: str,
    division: Division | str,
    at: dt.datetime | None = None,
    urgency: str = Urgency.NORMAL,
    is_complex: bool = False,
    concerns_conduct: bool = False,
    category: Category | str | None = None,
    address: str = "",
    latitude: Any = None,
    longitude: Any = None,
    requester_name: str = "",
    requester_phone: str = "",
    requester_id_number: str = "",
    is_anonymous: bool = False,
    is_confidential: bool = False,
    allow_unit_contact: bool = False,
    external_id: str | None = None,
    query_password: str | None = None,
    code: str | None = None,
    query_password_hash: str | None = None,
) -> Intake:
    """Register a request (受理) from any channel.

    Side effects: the WorkOrder (tracking code numbered per day, query password hashed), a
    `received` event, one audit row `hotline.received` (no personal data in it).
    Returns the order and the plaintext query password, which is not stored.
    A request numbered and answered earlier (an Open311 submission) brings its `code` and
    `query_password_hash`; then no password is returned (the requester already has it).
    """
    at = _when(at)
    channel = _choice(channel, Channel, label="来源渠道")
    request_type = _choice(request_type, RequestType, label="诉求类型")
    urgency = _choice(urgency, Urgency, label="紧急程度")
    title = _text(title, label="标题", max_length=TITLE_MAX_LENGTH)
    content = _text(content, label="诉求内容", max_length=CONTENT_MAX_LENGTH)
    address = _text(address, label="地址", max_length=ADDRESS_MAX_LENGTH, required=False)
    division_obj = _division(division)
    category_obj = _category(category)
    lat = _coordinate(latitude, label="纬度", limit=90)
    lng = _coordinate(longitude, label="经度", limit=180)
    if (lat is None) != (lng is None):
        raise ValidationError("经纬度须同时填写或同时留空")
    name = _text(requester_name, label="诉求人姓名", max_length=40, required=False)
    phone = normalise_phone(requester_phone) if str(requester_phone or "").strip() else ""
    id_number = validate_id_number(requester_id_number) if str(requester_id_number or "").strip() else ""
    external = (external_id or "").strip() or None
    if external is not None and len(external) > 64:
        raise ValidationError(f"外部编号过长（最多 64 个字符）：{external[:70]}")
    if query_password_hash is not None:
        if not query_password_hash.startswith(QUERY_HASH_PREFIX):
            raise ValidationError("查询密码的摘要格式不正确")
        password, password_hash = "", query_password_hash
    else:
        password = query_password if query_password is not None else new_query_password()
        if not re.fullmatch(r"[0-9A-Za-z]{6,32}", password):
            raise ValidationError("查询密码应为 6–32 位字母或数字")
        # Computed before the transaction: the day's serial row stays locked from numbering to commit.
        password_hash = hash_query_password(password)
    if by is not None and not can_intake(by):
        raise PermissionDenied("只有热线坐席可以登记工单")
    with transaction.atomic():
        if external is not None:
            existing = WorkOrder.objects.filter(external_id=external).values_list("code", flat=True).first()
            if existing:
                raise ValidationError(f"外部编号 {external} 已登记为工单 {existing}，不能重复登记")
        if code is not None and WorkOrder.objects.filter(code=code).exists():
            raise ValidationError(f"受理编号 {code} 已被使用")
        order = WorkOrder.objects.create(
            code=code if code is not None else next_code(at),
            query_password_hash=password_hash,
            channel=channel,
            request_type=request_type,
            urgency=urgency,
            is_complex=bool(is_complex),
            concerns_conduct=bool(concerns_conduct),
            category=category_obj,
            title=title,
            content=content,
            division=division_obj,
            division_code=division_obj.code,
            address=address,
            latitude=lat,
            longitude=lng,
            requester_name=name,
            requester_phone=phone,
            phone_index=blind_index(phone) if phone else "",
            requester_id_number=id_number,
            id_number_index=blind_index(id_number) if id_number else "",
            is_anonymous=bool(is_anonymous),
            is_confidential=bool(is_confidential),
            allow_unit_contact=bool(allow_unit_contact) and not is_anonymous and not is_confidential,
            external_id=external,
            received_at=at,
            created_by=by,
        )
        _event(
            order,
            EventKind.RECEIVED,
            at=at,
            by=by,
            text=f"{order.get_channel_display()}受理：{order.get_request_type_display()}",
            public=True,
        )
        _audit(
            "received",
            order,
            by=by,
            data={
                "channel": channel,
                "type": request_type,
                "urgency": urgency,
                "category": category_obj.code if category_obj else None,
                "anonymous": order.is_anonymous,
                "confidential": order.is_confidential,
                "external_id": external,
            },
        )
    return Intake(order=order, password=password)


# ------------------------------------------------------------------------------- assignments and clocks


def _label(order: WorkOrder, what: str) -> str:
    return f"{order.code} {what}：{order.title}"[:200]


def _start_sign_clock(
    assignment: WorkOrderAssignment, rule: TimeLimitRule, *, at: dt.datetime, by: Any
) -> Clock:
    order = assignment.order
    if rule.sign_minutes:
        budget_unit, budget, warn = (
            BudgetUnit.WORK_MINUTES,
            rule.sign_minutes,
            min(30, rule.sign_minutes // 2),
        )
    else:
        budget_unit, budget, warn = BudgetUnit.WORKDAYS, rule.sign_days, 0
    try:
        return start_clock(
            source_type=CLOCK_SOURCE,
            source_id=assignment.pk,
            kind=SIGN_CLOCK,
            label=_label(order, f"{assignment.unit.name}签收"),
            unit=assignment.unit,
            division_code=order.division_code,
            budget_unit=budget_unit,
            budget=budget,
            warn_before=warn,
            started_at=at,
            by=by,
        )
    except ClockEventError as exc:
        raise _clock_error(exc) from exc


def _start_reply_clock(assignment: WorkOrderAssignment, days: int, *, at: dt.datetime, by: Any) -> Clock:
    order = assignment.order
    try:
        return start_clock(
            source_type=CLOCK_SOURCE,
            source_id=assignment.pk,
            kind=REPLY_CLOCK,
            label=_label(order, f"{assignment.unit.name}办理"),
            unit=assignment.unit,
            division_code=order.division_code,
            budget_unit=BudgetUnit.WORKDAYS,
            budget=days,
            warn_before=1 if days >= 2 else 0,
            started_at=at,
            by=by,
        )
    except ClockEventError as exc:
        raise _clock_error(exc) from exc


def _clock_event(clock: Clock, kind: str, *, at: dt.datetime, by: Any, reason: str, data=None) -> Clock:
    try:
        return apply_clock_event(clock, kind, at=at, by=by, reason=reason[:200], data=data)
    except ClockEventError as exc:
        raise _clock_error(exc) from exc


def _stop_if_running(clock: Clock | None, *, at: dt.datetime, by: Any, reason: str) -> Clock | None:
    if clock is None or clock.state == "stopped":
        return clock
    return _clock_event(clock, "stop", at=at, by=by, reason=reason)


def _new_assignment(
    order: WorkOrder,
    unit: Unit,
    *,
    role: str,
    reason: str,
    round_no: int,
    at: dt.datetime,
    by: Any,
    rule: TimeLimitRule,
    signed: bool = False,
) -> WorkOrderAssignment:
    assignment = WorkOrderAssignment.objects.create(
        order=order,
        unit=unit,
        role=role,
        reason=reason,
        round=round_no,
        division_code=order.division_code,
        dispatched_at=at,
        dispatched_by=by,
        time_limit_rule=rule,
        reply_limit_days=reply_days_for(order, rule),
        status=AssignmentStatus.SIGNED if signed else AssignmentStatus.PENDING,
        signed_at=at if signed else None,
        signed_by=by if signed else None,
    )
    if not signed:
        assignment.sign_clock = _start_sign_clock(assignment, rule, at=at, by=by)
        assignment.save(update_fields=["sign_clock"])
    return assignment


def _open_round(
    order: WorkOrder,
    main: Unit,
    co: Sequence[Unit],
    *,
    reason: str,
    at: dt.datetime,
    by: Any,
    rule: TimeLimitRule,
) -> int:
    """Assign a new handling round: the 主办 unit and its 协办 units, each with its sign-for clock."""
    round_no = _next_round(order)
    for unit, role in [(main, AssignmentRole.MAIN), *((unit, AssignmentRole.CO) for unit in co)]:
        _new_assignment(order, unit, role=role, reason=reason, round_no=round_no, at=at, by=by, rule=rule)
    return round_no


def _next_round(order: WorkOrder) -> int:
    last = order.assignments.order_by("-round").values_list("round", flat=True).first()
    return (last or 0) + 1


def _resolve_units(
    order: WorkOrder, main_unit: Any, co_units: Sequence[Any], *, exclude: Iterable[int] = ()
) -> tuple[Unit, list[Unit], DispatchRule | None]:
    rule = None
    if main_unit is None:
        target = dispatch_target(order, exclude=exclude)
        if target is None:
            category = order.category.path if order.category_id else "（未分类）"
            raise ValidationError(
                f"派单目录中没有“{category}”在 {order.division_code} 的承办单位，请手工指定主办单位"
            )
        main, extra, rule = target.unit, list(target.co_units), target.rule
    else:
        main, extra = _unit(main_unit, label="主办单位"), []
    co = [_unit(u, label="协办单位") for u in co_units] or extra
    if main.pk in set(exclude):
        raise ValidationError(f"“{main.name}”刚退回此工单，不能改派回该单位")
    if main.kind in (UnitKind.DISCIPLINE, UnitKind.CAMPAIGN_OFFICE):
        raise ValidationError(f"“{main.name}”是监督机关，不能作为承办单位；涉及干部作风的请用“移送”")
    seen: set[int] = {main.pk}
    unique_co = []
    for unit in co:
        if unit.pk in seen:
            raise ValidationError(f"“{unit.name}”重复：主办单位和协办单位不能相同")
        seen.add(unit.pk)
        unique_co.append(unit)
    return main, unique_co, rule


def _refresh_due(order: WorkOrder) -> None:
    main = _main_assignment(order)
    order.sign_due_at = (
        main.sign_clock.due_at if main and main.sign_clock and main.status == "pending" else None
    )
    order.reply_due_at = main.reply_clock.due_at if main and main.reply_clock else None


# ------------------------------------------------------------------------------- actions


def _act_answer(order: WorkOrder, *, by: Any, at: dt.datetime, text: str = "") -> dict[str, Any]:
    text = _text(text, label="答复内容", max_length=TEXT_MAX_LENGTH)
    Reply.objects.create(
        order=order,
        text=text,
        status=ReplyStatus.PASSED,
        is_direct=True,
        drafted_at=at,
        drafted_by=by,
        approved_at=at,
        approved_by=by,
        reviewed_at=at,
        reviewed_by=by,
    )
    order.status = Status.CLOSED
    order.answered_directly = True
    order.replied_at = order.closed_at = at
    _save(order, at, "status", "answered_directly", "replied_at", "closed_at")
    _event(order, EventKind.ANSWERED, at=at, by=by, text=text, public=True)
    return {"length": len(text)}


def _act_dispatch(
    order: WorkOrder, *, by: Any, at: dt.datetime, main_unit: Any = None, co_units: Sequence[Any] = ()
) -> dict[str, Any]:
    main, co, rule = _resolve_units(order, main_unit, co_units)
    limit = time_limit_for(order)
    _open_round(order, main, co, reason=AssignmentReason.DISPATCH, at=at, by=by, rule=limit)
    order.status = Status.DISPATCHED
    order.main_unit = main
    order.dispatched_at = order.dispatched_at or at
    _refresh_due(order)
    _save(order, at, "status", "main_unit", "dispatched_at", "sign_due_at", "reply_due_at")
    names = "、".join(u.name for u in co)
    _event(
        order,
        EventKind.DISPATCHED,
        at=at,
        by=by,
        unit=main,
        text=f"派至{main.name}（主办）" + (f"，协办：{names}" if names else ""),
        data={
            "main": main.pk,
            "co": [u.pk for u in co],
            "rule": rule.pk if rule else None,
            "time_limit": limit.pk,
        },
        public=True,
    )
    return {
        "main": main.code,
        "co": [u.code for u in co],
        "by_rule": rule is not None,
        "sign_due_at": _iso(order.sign_due_at),
    }


def _score_late_sign(
    assignment: WorkOrderAssignment, clock: Clock, *, at: dt.datetime, by: Any, order: WorkOrder
) -> None:
    """Deduct for a sign-for clock stopped late, unless the alerts ladder already did.

    The ladder's 黄牌 on the clock carries the deduction (alerts.sweep); a clock stopped late below
    that level was never seen overdue by a sweep (it runs every few minutes), so the deduction is made
    here, with the hotline_sign rule's yellow_points so that one setting governs both (SCORE_POINTS
    when there is no active rule); none when those points are 0. `clock` is the row just locked and
    stopped, so a sweep cannot raise its level in between.
    """
    if clock.alert_level >= AlertLevel.YELLOW:
        return
    rule = AlertRule.objects.filter(kind=SIGN_CLOCK, is_active=True).first()
    points = rule.yellow_points if rule is not None else SCORE_POINTS["hotline.overdue_sign"]
    if points:
        _score(
            "hotline.overdue_sign",
            unit=assignment.unit,
            source=assignment,
            at=at,
            by=by,
            order=order,
            points=points,
        )


def _sign_assignment(
    assignment: WorkOrderAssignment, *, at: dt.datetime, by: Any, forced: bool = False
) -> None:
    order = assignment.order
    clock = _stop_if_running(assignment.sign_clock, at=at, by=by, reason="签收" if not forced else "审定强派")
    assignment.status = AssignmentStatus.SIGNED
    assignment.signed_at = at
    assignment.signed_by = None if forced else by
    assignment.is_forced = forced
    if clock is not None and clock.is_late and not forced:
        assignment.sign_late = True
        _score_late_sign(assignment, clock, at=at, by=by, order=order)
    fields = ["status", "signed_at", "signed_by", "is_forced", "sign_late"]
    if assignment.role == AssignmentRole.MAIN:
        assignment.reply_clock = _start_reply_clock(
            assignment, assignment.reply_limit_days or 1, at=at, by=by
        )
        fields.append("reply_clock")
    assignment.save(update_fields=fields)


def _act_sign(order: WorkOrder, *, by: Any, at: dt.datetime) -> dict[str, Any]:
    pending = [a for a in _live_assignments(order, by.unit_id) if a.status == AssignmentStatus.PENDING]
    if not pending:
        raise ValidationError(f"工单 {order.code} 没有待本单位签收的派单")
    assignment = pending[0]
    if assignment.role == AssignmentRole.MAIN and order.status != Status.DISPATCHED:
        raise ValidationError(f"工单 {order.code} 当前状态为“{order.get_status_display()}”，不能签收")
    _sign_assignment(assignment, at=at, by=by)
    if assignment.role == AssignmentRole.MAIN:
        order.status = Status.HANDLING
        order.signed_at = order.signed_at or at
    _refresh_due(order)
    _save(order, at, "status", "signed_at", "sign_due_at", "reply_due_at")
    _event(
        order,
        EventKind.SIGNED,
        at=at,
        by=by,
        unit=assignment.unit,
        text=f"{assignment.unit.name}签收（{assignment.get_role_display()}）"
        + ("，已逾期" if assignment.sign_late else ""),
        data={"assignment": assignment.pk, "late": assignment.sign_late},
        public=True,
    )
    return {
        "assignment": assignment.pk,
        "role": assignment.role,
        "late": assignment.sign_late,
        "reply_due_at": _iso(order.reply_due_at),
    }


def _act_request_return(
    order: WorkOrder, *, by: Any, at: dt.datetime, reason: str = "", evidence: File | None = None
) -> dict[str, Any]:
    pending = [a for a in _live_assignments(order, by.unit_id) if a.status == AssignmentStatus.PENDING]
    if not pending:
        raise ValidationError(f"工单 {order.code} 没有待本单位签收的派单，签收后不能退单")
    reason = _text(reason, label="退单理由", max_length=TEXT_MAX_LENGTH)
    if evidence is None or not getattr(evidence, "name", ""):
        raise ValidationError("退单须上传依据材料（如三定方案、权责清单条目）")
    assignment = pending[0]
    request = ReturnRequest(
        order=order,
        assignment=assignment,
        unit=assignment.unit,
        reason=reason,
        requested_at=at,
        requested_by=by,
    )
    request.evidence.save(evidence.name.rsplit("/", 1)[-1], evidence, save=False)
    request.save()
    # The unit has answered within (or after) its sign-for limit; the clock measures that answer.
    clock = _stop_if_running(assignment.sign_clock, at=at, by=by, reason="申请退单")
    assignment.status = AssignmentStatus.RETURN_REQUESTED
    if clock is not None and clock.is_late:
        assignment.sign_late = True
        _score_late_sign(assignment, clock, at=at, by=by, order=order)
    assignment.save(update_fields=["status", "sign_late"])
    order.return_count += 1
    if assignment.role == AssignmentRole.MAIN:
        order.status = Status.RETURN_REQUESTED
    _refresh_due(order)
    _save(order, at, "status", "return_count", "sign_due_at", "reply_due_at")
    _event(
        order,
        EventKind.RETURN_REQUESTED,
        at=at,
        by=by,
        unit=assignment.unit,
        text=reason,
        data={"return": request.pk, "assignment": assignment.pk},
    )
    return {"return": request.pk, "role": assignment.role}


def _act_review_return(
    order: WorkOrder,
    *,
    by: Any,
    at: dt.datetime,
    decision: str = "",
    note: str = "",
    main_unit: Any = None,
    co_units: Sequence[Any] = (),
) -> dict[str, Any]:
    request = (
        order.returns.filter(status=ReturnStatus.PENDING)
        .select_related("assignment", "assignment__unit", "assignment__sign_clock")
        .order_by("requested_at", "id")
        .first()
    )
    if request is None:
        raise ValidationError(f"工单 {order.code} 没有待审核的退单申请")
    if decision not in ("reassign", "overrule"):
        raise ValidationError(f"退单审核结论 {decision!r} 无效，应为 reassign（改派）或 overrule（驳回强派）")
    note = _text(note, label="审核意见", max_length=TEXT_MAX_LENGTH, required=decision == "overrule")
    assignment = request.assignment
    request.reviewed_at = at
    request.reviewed_by = by
    request.review_note = note
    result: dict[str, Any] = {"return": request.pk, "decision": decision}
    if decision == "reassign":
        request.status = ReturnStatus.ACCEPTED
        assignment.status = AssignmentStatus.RETURNED
        assignment.ended_at = at
        assignment.save(update_fields=["status", "ended_at"])
        request.save(update_fields=["status", "reviewed_at", "reviewed_by", "review_note"])
        limit = time_limit_for(order)
        if assignment.role == AssignmentRole.MAIN:
            live_co = {
                a.unit_id
                for a in order.assignments.filter(role="co", status__in=AssignmentStatus.LIVE_STATES)
            }
            main, co, _rule = _resolve_units(order, main_unit, co_units, exclude={assignment.unit_id})
            if main.pk in live_co:
                raise ValidationError(f"“{main.name}”已是本工单的协办单位，不能同时作为主办单位")
            # Co-units still working from the returned round keep their assignment.
            new_co = [unit for unit in co if unit.pk not in live_co]
            _open_round(order, main, new_co, reason=AssignmentReason.REASSIGN, at=at, by=by, rule=limit)
            order.status = Status.DISPATCHED
            order.main_unit = main
            text = f"同意{assignment.unit.name}退单，改派至{main.name}"
            result["main"] = main.code
        else:
            text = f"同意{assignment.unit.name}退出协办"
        kind = EventKind.RETURN_ACCEPTED
    else:
        request.status = ReturnStatus.OVERRULED
        request.save(update_fields=["status", "reviewed_at", "reviewed_by", "review_note"])
        _sign_assignment(assignment, at=at, by=by, forced=True)
        order.improper_return_count += 1
        if assignment.role == AssignmentRole.MAIN:
            order.status = Status.HANDLING
            order.signed_at = order.signed_at or at
        _score(
            "hotline.improper_return",
            unit=assignment.unit,
            source=request,
            at=at,
            by=by,
            order=order,
            note=note,
        )
        text = f"驳回{assignment.unit.name}的退单，审定由其办理：{note}"
        kind = EventKind.RETURN_OVERRULED
    _refresh_due(order)
    _save(
        order, at, "status", "main_unit", "signed_at", "improper_return_count", "sign_due_at", "reply_due_at"
    )
    _event(
        order, kind, at=at, by=by, unit=assignment.unit, text=text, data={"return": request.pk}, public=True
    )
    return result


def _act_note(order: WorkOrder, *, by: Any, at: dt.datetime, text: str = "") -> dict[str, Any]:
    text = _text(text, label="办理记录", max_length=TEXT_MAX_LENGTH)
    unit = getattr(by, "unit", None)
    _event(order, EventKind.NOTE, at=at, by=by, unit=unit, text=text)
    return {"length": len(text)}


def _signed_main(order: WorkOrder) -> WorkOrderAssignment:
    main = _main_assignment(order)
    if main is None or main.status != AssignmentStatus.SIGNED or main.reply_clock is None:
        raise ValidationError(f"工单 {order.code} 尚未由主办单位签收")
    return main


def _act_request_extension(
    order: WorkOrder, *, by: Any, at: dt.datetime, days: Any = None, reason: str = ""
) -> dict[str, Any]:
    main = _signed_main(order)
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValidationError(f"延期天数应为正整数（工作日），而不是 {days!r}")
    reason = _text(reason, label="延期理由", max_length=TEXT_MAX_LENGTH)
    clock = main.reply_clock
    if clock.due_at is None or at >= clock.due_at:
        due = timezone.localtime(clock.due_at).strftime("%Y-%m-%d %H:%M") if clock.due_at else "—"
        raise ValidationError(f"延期须在办理期限（{due}）前申请")
    if _pending_extension(order) is not None:
        raise ValidationError(f"工单 {order.code} 已有待审批的延期申请")
    granted = list(main.extensions.filter(status=ExtensionStatus.APPROVED).values_list("days", flat=True))
    limit = main.reply_limit_days or 1
    if len(granted) >= MAX_EXTENSIONS:
        raise ValidationError(f"本轮办理已延期 {len(granted)} 次，最多 {MAX_EXTENSIONS} 次")
    if sum(granted) + days > limit:
        raise ValidationError(
            f"延期合计不得超过原办理时限 {limit} 个工作日：已延期 {sum(granted)} 日，本次申请 {days} 日"
        )
    by_head = by.role == Role.HEAD
    extension = ExtensionRequest.objects.create(
        order=order,
        assignment=main,
        days=days,
        reason=reason,
        requested_at=at,
        requested_by=by,
        due_at_request=clock.due_at,
        # A head asking for his own unit has approved it by asking.
        status=ExtensionStatus.PENDING_HOTLINE if by_head else ExtensionStatus.PENDING_HEAD,
        head_decided_at=at if by_head else None,
        head_decided_by=by if by_head else None,
    )
    _event(
        order,
        EventKind.EXTENSION_REQUESTED,
        at=at,
        by=by,
        unit=main.unit,
        text=f"申请延期 {days} 个工作日：{reason}",
        data={"extension": extension.pk, "days": days},
    )
    return {"extension": extension.pk, "days": days, "status": extension.status}


def _act_decide_extension(
    order: WorkOrder, *, by: Any, at: dt.datetime, approve: Any = None, note: str = ""
) -> dict[str, Any]:
    extension = _pending_extension(order)
    if extension is None:
        raise ValidationError(f"工单 {order.code} 没有待审批的延期申请")
    if not isinstance(approve, bool):
        raise ValidationError("请选择批准或不予批准")
    note = _text(note, label="审批意见", max_length=TEXT_MAX_LENGTH, required=not approve)
    main = extension.assignment
    head_stage = extension.status == ExtensionStatus.PENDING_HEAD
    if head_stage and not can_approve(by, order):
        raise PermissionDenied("延期申请须先由承办单位负责人审批")
    if not head_stage and not can_operate(by, order):
        raise PermissionDenied("延期申请须由热线平台审核")
    extension.decision_note = note
    fields = ["status", "decision_note"]
    if head_stage:
        extension.head_decided_at, extension.head_decided_by = at, by
        fields += ["head_decided_at", "head_decided_by"]
    else:
        extension.hotline_decided_at, extension.hotline_decided_by = at, by
        fields += ["hotline_decided_at", "hotline_decided_by"]
    sms = False
    if not approve:
        extension.status = ExtensionStatus.REJECTED
        kind, text = EventKind.EXTENSION_REJECTED, f"延期 {extension.days} 日不予批准：{note}"
    elif head_stage:
        extension.status = ExtensionStatus.PENDING_HOTLINE
        kind, text = EventKind.EXTENSION_HEAD_APPROVED, f"单位负责人同意延期 {extension.days} 日"
    else:
        extension.status = ExtensionStatus.APPROVED
        clock = Clock.objects.get(pk=main.reply_clock_id)
        clock = _clock_event(
            clock, "extend", at=at, by=by, reason=f"延期申请 {extension.pk}", data={"amount": extension.days}
        )
        extension.new_due_at = clock.due_at
        fields.append("new_due_at")
        order.extension_count += 1
        _refresh_due(order)
        _save(order, at, "extension_count", "reply_due_at")
        due = timezone.localtime(clock.due_at).strftime("%Y年%m月%d日")
        kind, text = EventKind.EXTENSION_APPROVED, f"批准延期 {extension.days} 个工作日，办理期限延至 {due}"
        sms = _sms_requester(
            order,
            f"您的诉求（受理编号 {order.code}）因“{extension.reason[:60]}”需延期办理，办理期限延至{due}。",
            by=by,
        )
    extension.save(update_fields=fields)
    _event(
        order,
        kind,
        at=at,
        by=by,
        unit=main.unit,
        text=text,
        data={"extension": extension.pk},
        public=kind == EventKind.EXTENSION_APPROVED,
    )
    return {"extension": extension.pk, "status": extension.status, "sms": sms}


def _act_draft_reply(order: WorkOrder, *, by: Any, at: dt.datetime, text: str = "") -> dict[str, Any]:
    main = _signed_main(order)
    text = _text(text, label="答复内容", max_length=TEXT_MAX_LENGTH)
    reply = Reply.objects.create(
        order=order,
        assignment=main,
        text=text,
        status=ReplyStatus.AWAITING_HEAD,
        drafted_at=at,
        drafted_by=by,
    )
    order.status = Status.REPLY_DRAFTED
    _save(order, at, "status")
    _event(order, EventKind.REPLY_DRAFTED, at=at, by=by, unit=main.unit, text=text, data={"reply": reply.pk})
    return {"reply": reply.pk}


def _current_reply(order: WorkOrder, status: str) -> Reply:
    reply = order.replies.filter(status=status).order_by("-drafted_at", "-id").first()
    if reply is None:
        raise ValidationError(f"工单 {order.code} 没有状态为“{ReplyStatus(status).label}”的答复")
    return reply


def _act_approve_reply(
    order: WorkOrder, *, by: Any, at: dt.datetime, approve: Any = None, note: str = ""
) -> dict[str, Any]:
    if not isinstance(approve, bool):
        raise ValidationError("请选择签发或退回")
    note = _text(note, label="退回意见", max_length=TEXT_MAX_LENGTH, required=not approve)
    reply = _current_reply(order, ReplyStatus.AWAITING_HEAD)
    main = _signed_main(order)
    result: dict[str, Any] = {"reply": reply.pk, "approved": approve}
    if not approve:
        reply.status = ReplyStatus.HEAD_REJECTED
        reply.review_note = note
        reply.save(update_fields=["status", "review_note"])
        order.status = Status.HANDLING
        _save(order, at, "status")
        _event(
            order, EventKind.REPLY_REJECTED, at=at, by=by, unit=main.unit, text=note, data={"reply": reply.pk}
        )
        return result
    reply.status = ReplyStatus.SUBMITTED
    reply.approved_at, reply.approved_by = at, by
    reply.save(update_fields=["status", "approved_at", "approved_by"])
    clock = _stop_if_running(Clock.objects.get(pk=main.reply_clock_id), at=at, by=by, reason="答复签发")
    if clock is not None and clock.is_late:
        main.reply_late = True
        main.save(update_fields=["reply_late"])
        _score("hotline.late_reply", unit=main.unit, source=main, at=at, by=by, order=order)
    order.status = Status.REPLIED
    order.replied_at = at
    _save(order, at, "status", "replied_at")
    message = (
        f"您的诉求（受理编号 {order.code}）已由{main.unit.name}答复，可凭受理编号和查询密码查看答复内容。"
    )
    result["sms"] = _sms_requester(order, message, by=by)
    for merged in order.merged_orders.all():
        _sms_requester(merged, message.replace(order.code, merged.code), by=by)
    result["late"] = main.reply_late
    _event(
        order,
        EventKind.REPLY_APPROVED,
        at=at,
        by=by,
        unit=main.unit,
        text=reply.text,
        data={"reply": reply.pk, "late": main.reply_late},
        public=True,
    )
    return result


def _act_review_reply(
    order: WorkOrder, *, by: Any, at: dt.datetime, approve: Any = None, note: str = ""
) -> dict[str, Any]:
    if not isinstance(approve, bool):
        raise ValidationError("请选择审核通过或退回")
    note = _text(note, label="审核意见", max_length=TEXT_MAX_LENGTH, required=not approve)
    reply = _current_reply(order, ReplyStatus.SUBMITTED)
    main = _main_assignment(order)
    reply.reviewed_at, reply.reviewed_by, reply.review_note = at, by, note
    reply.status = ReplyStatus.PASSED if approve else ReplyStatus.SENT_BACK
    reply.save(update_fields=["status", "reviewed_at", "reviewed_by", "review_note"])
    _end_live_assignments(order, at=at, by=by)
    if approve:
        if order.callback_expected:
            order.status = Status.AWAITING_CALLBACK
        else:
            order.status = Status.CLOSED
            order.closed_at = at
        # reply_due_at keeps the last (frozen) deadline for the record.
        _save(order, at, "status", "closed_at")
        text = "答复审核通过" + (
            "，待回访" if order.status == Status.AWAITING_CALLBACK else "，匿名或无联系电话，不回访，办结"
        )
        _event(order, EventKind.REPLY_PASSED, at=at, by=by, text=text, data={"reply": reply.pk}, public=True)
        return {"reply": reply.pk, "status": order.status}
    # Sent back (不合格): a rework round with half the original limit, rounded up.
    days = math.ceil((main.reply_limit_days if main else 2) / 2)
    rework = _new_assignment(
        order,
        main.unit,
        role=AssignmentRole.MAIN,
        reason=AssignmentReason.REWORK,
        round_no=_next_round(order),
        at=at,
        by=by,
        rule=main.time_limit_rule or time_limit_for(order),
        signed=True,
    )
    rework.reply_limit_days = days
    rework.reply_clock = _start_reply_clock(rework, days, at=at, by=by)
    rework.save(update_fields=["reply_limit_days", "reply_clock"])
    order.status = Status.HANDLING
    _refresh_due(order)
    _save(order, at, "status", "sign_due_at", "reply_due_at")
    _event(
        order,
        EventKind.REPLY_SENT_BACK,
        at=at,
        by=by,
        unit=main.unit,
        text=note,
        data={"reply": reply.pk, "days": days},
    )
    return {"reply": reply.pk, "status": order.status, "rework_days": days}


def _end_live_assignments(order: WorkOrder, *, at: dt.datetime, by: Any) -> None:
    for assignment in order.assignments.filter(status__in=AssignmentStatus.LIVE_STATES).select_related(
        "sign_clock", "reply_clock"
    ):
        _stop_if_running(assignment.sign_clock, at=at, by=by, reason="办理结束")
        _stop_if_running(assignment.reply_clock, at=at, by=by, reason="办理结束")
        assignment.status = AssignmentStatus.ENDED
        assignment.ended_at = at
        assignment.save(update_fields=["status", "ended_at"])


def _act_callback(
    order: WorkOrder,
    *,
    by: Any,
    at: dt.datetime,
    reached: Any = True,
    satisfaction: str = "",
    resolved: Any = None,
    note: str = "",
    false_completion: Any = False,
    reopen: Any = False,
) -> dict[str, Any]:
    note = _text(note, label="回访记录", max_length=TEXT_MAX_LENGTH, required=False)
    last = (
        order.assignments.filter(role=AssignmentRole.MAIN)
        .select_related("unit")
        .order_by("-round", "-id")
        .first()
    )
    if reached:
        satisfaction = _choice(satisfaction, Satisfaction, label="满意度")
        if not isinstance(resolved, bool):
            raise ValidationError("请记录诉求是否已解决（是／否）")
    elif satisfaction or resolved is not None or reopen or false_completion:
        raise ValidationError("未联系上诉求人时不能记录满意度、解决情况、虚假办结或重办")
    if reopen and satisfaction != Satisfaction.DISSATISFIED:
        raise ValidationError("只有诉求人不满意（且属承办单位主观原因）时才能重办")
    if reopen and last is None:
        raise ValidationError(f"工单 {order.code} 没有承办单位，不能重办")
    callback = Callback.objects.create(
        order=order,
        assignment=last,
        at=at,
        by=by,
        reached=bool(reached),
        satisfaction=satisfaction if reached else "",
        resolved=resolved if reached else None,
        false_completion=bool(false_completion),
        reopened=bool(reopen),
        note=note,
    )
    if reached:
        order.satisfaction, order.resolved = satisfaction, resolved
    if false_completion and last is not None:
        _score(
            "hotline.false_completion",
            unit=last.unit,
            source=callback,
            at=at,
            by=by,
            order=order,
            note=note[:60],
        )
    label = callback.get_satisfaction_display() if reached else "未联系上"
    _event(
        order,
        EventKind.CALLBACK,
        at=at,
        by=by,
        unit=last.unit if last else None,
        text=f"回访：{label}"
        + (f"，{'已解决' if resolved else '未解决'}" if reached else "")
        + (f"。{note}" if note else ""),
        data={"callback": callback.pk, "false_completion": bool(false_completion)},
        public=True,
    )
    if reopen:
        limit = last.time_limit_rule or time_limit_for(order)
        again = _new_assignment(
            order,
            last.unit,
            role=AssignmentRole.MAIN,
            reason=AssignmentReason.REOPEN,
            round_no=_next_round(order),
            at=at,
            by=by,
            rule=limit,
            signed=True,
        )
        again.reply_clock = _start_reply_clock(again, again.reply_limit_days or 1, at=at, by=by)
        again.save(update_fields=["reply_clock"])
        order.status = Status.HANDLING
        order.reopen_count += 1
        order.main_unit = last.unit
        _refresh_due(order)
        _save(
            order,
            at,
            "status",
            "satisfaction",
            "resolved",
            "reopen_count",
            "main_unit",
            "reply_due_at",
            "sign_due_at",
        )
        _event(
            order,
            EventKind.REOPENED,
            at=at,
            by=by,
            unit=last.unit,
            text=f"诉求人不满意，{last.unit.name}重办",
            public=True,
        )
        return {"callback": callback.pk, "reopened": True, "reply_due_at": _iso(order.reply_due_at)}
    order.status = Status.CLOSED
    order.closed_at = at
    _save(order, at, "status", "satisfaction", "resolved", "closed_at")
    _event(order, EventKind.CLOSED, at=at, by=by, text="办结", public=True)
    return {"callback": callback.pk, "reopened": False}


def _act_merge(
    order: WorkOrder, *, by: Any, at: dt.datetime, into: WorkOrder | None = None
) -> dict[str, Any]:
    if not isinstance(into, WorkOrder):
        raise ValidationError("请指定并入的主工单")
    main = WorkOrder.objects.select_for_update().get(pk=into.pk)
    if main.pk == order.pk:
        raise ValidationError("工单不能并入自身")
    if main.status in (Status.MERGED, Status.VOIDED):
        raise ValidationError(f"主工单 {main.code} 状态为“{main.get_status_display()}”，不能作为并单的主工单")
    if not can_operate(by, main):
        raise PermissionDenied(f"无权操作主工单 {main.code}")
    _end_live_assignments(order, at=at, by=by)
    order.status = Status.MERGED
    order.merged_into = main
    order.sign_due_at = order.reply_due_at = None
    _save(order, at, "status", "merged_into", "sign_due_at", "reply_due_at")
    _event(
        order,
        EventKind.MERGED,
        at=at,
        by=by,
        text=f"与工单 {main.code} 为重复诉求，并入办理",
        data={"into": main.pk},
        public=True,
    )
    _event(
        main,
        EventKind.MERGE_RECEIVED,
        at=at,
        by=by,
        text=f"并入重复诉求 {order.code}",
        data={"merged": order.pk},
    )
    return {"into": main.code}


def _act_void(order: WorkOrder, *, by: Any, at: dt.datetime, reason: str = "") -> dict[str, Any]:
    reason = _text(reason, label="作废理由", max_length=TEXT_MAX_LENGTH)
    order.status = Status.VOIDED
    order.closed_at = at
    _save(order, at, "status", "closed_at")
    _event(order, EventKind.VOIDED, at=at, by=by, text=reason)
    return {"reason": reason}


def _act_refer(
    order: WorkOrder, *, by: Any, at: dt.datetime, to_unit: Any = None, reason: str = ""
) -> dict[str, Any]:
    unit = _unit(to_unit, label="移送单位") if to_unit is not None else None
    if unit is None:
        raise ValidationError("请指定移送的纪检监察机关")
    if unit.kind != UnitKind.DISCIPLINE:
        raise ValidationError(f"“{unit.name}”不是纪检监察机关，不能移送")
    reason = _text(reason, label="移送理由", max_length=TEXT_MAX_LENGTH)
    referral = Referral.objects.create(
        order=order, to_unit=unit, reason=reason, at=at, by=by, division_code=order.division_code
    )
    order.is_referred = True
    _save(order, at, "is_referred")
    _event(order, EventKind.REFERRED, at=at, by=by, unit=unit, text=reason, data={"referral": referral.pk})
    return {"referral": referral.pk, "to": unit.code}


ActionFunc = Callable[..., dict[str, Any]]
ACTIONS: dict[str, ActionFunc] = {
    "answer": _act_answer,
    "dispatch": _act_dispatch,
    "sign": _act_sign,
    "request_return": _act_request_return,
    "review_return": _act_review_return,
    "note": _act_note,
    "request_extension": _act_request_extension,
    "decide_extension": _act_decide_extension,
    "draft_reply": _act_draft_reply,
    "approve_reply": _act_approve_reply,
    "review_reply": _act_review_reply,
    "callback": _act_callback,
    "merge": _act_merge,
    "void": _act_void,
    "refer": _act_refer,
}
ACTION_LABELS = {
    "answer": "直接答复",
    "dispatch": "派单",
    "sign": "签收",
    "request_return": "退单",
    "review_return": "退单审核",
    "note": "办理记录",
    "request_extension": "申请延期",
    "decide_extension": "延期审批",
    "draft_reply": "拟写答复",
    "approve_reply": "签发答复",
    "review_reply": "答复审核",
    "callback": "回访",
    "merge": "并单",
    "void": "作废",
    "refer": "移送纪检监察",
}


def transition(
    order: WorkOrder, action: str, *, by: Any, at: dt.datetime | None = None, **data: Any
) -> WorkOrder:
    """The one transition function of a work order; `action` and its `data` are listed in docs/hotline.md.

    1. Lock the order row and re-read it (a double submit sees the state the first one left).
    2. Check the actor may do `action` in that state (PermissionDenied / ValidationError otherwise).
    3. Run the action: rows, clock events, score events, SMS; one WorkOrderEvent.
    4. One audit row `hotline.<action>` with the action's summary.
    Nothing is saved when any step raises. Returns the updated order.
    """
    if action not in ACTIONS:
        raise ValidationError(f"未知的工单操作 {action!r}，应为：{'、'.join(ACTIONS)}")
    at = _when(at)
    label = ACTION_LABELS[action]
    with transaction.atomic():
        locked = (
            WorkOrder.objects.select_for_update(of=("self",))
            .select_related("category", "division")
            .get(pk=order.pk)
        )
        if not can_act(by, locked, action):
            if action == "decide_extension" and _pending_extension(locked) is not None:
                pass  # the action reports which approver is missing
            elif _may_ever(by, locked, action):
                raise ValidationError(
                    f"工单 {locked.code} 当前状态为“{locked.get_status_display()}”，不能{label}"
                )
            else:
                raise PermissionDenied(f"无权对工单 {locked.code} 执行“{label}”")
        if at < locked.received_at:
            raise ValidationError(
                f"{label}时间不能早于受理时间 {timezone.localtime(locked.received_at):%Y-%m-%d %H:%M}"
            )
        summary = ACTIONS[action](locked, by=by, at=at, **data)
        _audit(action, locked, by=by, data={"at": at.isoformat(), **summary})
    for name in ("status", "main_unit_id", "sign_due_at", "reply_due_at", "updated_at"):
        setattr(order, name, getattr(locked, name))
    return locked


def _may_ever(user: Any, order: WorkOrder, action: str) -> bool:
    """Whether the role could do `action` on this order in some state (to tell 'wrong state' from 'not yours')."""
    if action in ("answer", "dispatch", "void", "review_return", "review_reply", "callback", "merge"):
        return can_operate(user, order)
    if action == "refer":
        return can_refer(user, order)
    unit_id = getattr(user, "unit_id", None)
    involved = unit_id is not None and order.assignments.filter(unit_id=unit_id).exists()
    if action == "note":
        return can_operate(user, order) or involved
    return involved or (can_operate(user, order) and action == "decide_extension")


def record_external_update(
    order: WorkOrder, *, key: Any, update_id: str, status: str, at: dt.datetime, text: str
) -> tuple[WorkOrderEvent, bool]:
    """A citizen's update sent through an Open311 client: a 办理记录 on the timeline for the hotline.

    It never changes the order's state (only the hotline and the units do that); the reported status
    is kept in the event's data. Idempotent per (api key, update_id). Side effects: one non-public
    `note` event and one audit row `hotline.open311_update`. Returns (event, created).
    """
    existing = WorkOrderEvent.objects.filter(
        order=order, kind=EventKind.NOTE, data__open311_key=key.prefix, data__open311_update_id=update_id
    ).first()
    if existing is not None:
        return existing, False
    with transaction.atomic():
        event = WorkOrderEvent.objects.create(
            order=order,
            kind=EventKind.NOTE,
            at=timezone.now(),
            by=None,
            text=f"诉求人经 {key.name} 补充（报告状态 {status}，{timezone.localtime(at):%Y-%m-%d %H:%M}）：{text}",
            data={"open311_key": key.prefix, "open311_update_id": update_id, "status": status},
            is_public=False,
        )
        audit.record(
            "hotline.open311_update",
            by=None,
            target=order,
            division_code=order.division_code,
            data={
                "code": order.code,
                "key": key.name,
                "update_id": update_id,
                "status": status,
                "event": event.pk,
            },
        )
    return event, True
