"""Package-internal: handling rounds (one assignment per unit and round) and their sign-for and reply clocks.

Called by the actions, inside the transaction of `transition` with the order row locked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError

from zhengfeng.deadlines.models import BudgetUnit, Clock
from zhengfeng.deadlines.replay import ClockEventError
from zhengfeng.deadlines.services import apply_clock_event, start_clock
from zhengfeng.hotline.models import (
    AssignmentRole,
    AssignmentStatus,
    DispatchRule,
    TimeLimitRule,
    WorkOrder,
    WorkOrderAssignment,
)
from zhengfeng.hotline.services.common import CLOCK_SOURCE, REPLY_CLOCK, SIGN_CLOCK, _clock_error, _unit
from zhengfeng.hotline.services.permissions import _main_assignment
from zhengfeng.hotline.services.rules import dispatch_target, reply_days_for
from zhengfeng.hotline.services.steps import UnitRef
from zhengfeng.org.models import Unit, UnitKind, User


def _label(order: WorkOrder, what: str) -> str:
    return f"{order.code} {what}：{order.title}"[:200]


def _start_sign_clock(
    assignment: WorkOrderAssignment, rule: TimeLimitRule, *, at: dt.datetime, by: User | None
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


def _start_reply_clock(
    assignment: WorkOrderAssignment, days: int, *, at: dt.datetime, by: User | None
) -> Clock:
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


def _clock_event(
    clock: Clock,
    kind: str,
    *,
    at: dt.datetime,
    by: User | None,
    reason: str,
    data: dict[str, Any] | None = None,
) -> Clock:
    try:
        return apply_clock_event(clock, kind, at=at, by=by, reason=reason[:200], data=data)
    except ClockEventError as exc:
        raise _clock_error(exc) from exc


def _stop_if_running(clock: Clock | None, *, at: dt.datetime, by: User | None, reason: str) -> Clock | None:
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
    by: User | None,
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
    by: User | None,
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
    order: WorkOrder, main_unit: UnitRef | None, co_units: Sequence[UnitRef], *, exclude: Iterable[int] = ()
) -> tuple[Unit, list[Unit], DispatchRule | None]:
    rule = None
    if main_unit is None:
        target = dispatch_target(order, exclude=exclude)
        if target is None:
            category = order.category.path if order.category is not None else "（未分类）"
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


def _end_live_assignments(order: WorkOrder, *, at: dt.datetime, by: User | None) -> None:
    for assignment in order.assignments.filter(status__in=AssignmentStatus.LIVE_STATES).select_related(
        "sign_clock", "reply_clock"
    ):
        _stop_if_running(assignment.sign_clock, at=at, by=by, reason="办理结束")
        _stop_if_running(assignment.reply_clock, at=at, by=by, reason="办理结束")
        assignment.status = AssignmentStatus.ENDED
        assignment.ended_at = at
        assignment.save(update_fields=["status", "ended_at"])
