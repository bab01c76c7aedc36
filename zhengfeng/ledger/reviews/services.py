"""Writes for review rounds (年中督查、年度考核检查): findings per unit, rectification demands with a
deadline clock (kind `rectification`, the same alerts ladder as every clock), and the unit's
rectification reports. Every function is atomic and writes one audit row (`review.*`).

`set_demand_state` is the one transition function of a demand:

    open → submitted (a rectification report) → accepted (销号) | returned (reason) → submitted …

The first report stops the clock; lateness is frozen there (`is_late`), as for quarterly reports.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from zhengfeng.core import audit
from zhengfeng.deadlines import services as deadlines
from zhengfeng.deadlines.models import BudgetUnit
from zhengfeng.ledger.ledgers.queries import can_keep_unit
from zhengfeng.ledger.ledgers.services import local_today
from zhengfeng.ledger.models import (
    DemandState,
    Finding,
    RectificationDemand,
    RectificationReport,
    RectificationReportState,
    ReviewKind,
    ReviewRound,
    Severity,
)
from zhengfeng.org.models import Division, Role, Unit, User
from zhengfeng.org.queries import Viewer

CLOCK_KIND = "rectification"
CLOCK_SOURCE = "ledger.rectificationdemand"
# Reminder this many natural days before a rectification deadline (the ladder's 提醒).
WARN_DAYS = 3

_TRANSITIONS: dict[str, set[str]] = {
    DemandState.OPEN: {DemandState.SUBMITTED},
    DemandState.SUBMITTED: {DemandState.ACCEPTED, DemandState.RETURNED},
    DemandState.RETURNED: {DemandState.SUBMITTED},
    DemandState.ACCEPTED: set(),
}


def _text(value: Any, label: str, max_length: int | None = None) -> str:
    text = str(value or "").strip()
    if not text:
        raise ValidationError(f"{label}不能为空")
    if max_length is not None and len(text) > max_length:
        raise ValidationError(f"{label}最多 {max_length} 个字符，当前 {len(text)} 个：{text[:30]}…")
    return text


def can_run_reviews(user: Viewer, division: Division) -> bool:
    """The office (正风办) of the division, or of a division above it, runs its review rounds."""
    return bool(
        isinstance(user, User)
        and user.is_active
        and user.role == Role.OFFICE
        and user.unit is not None
        and division.code.startswith(user.unit.division.prefix)
    )


def _require_office(user: Viewer, division: Division) -> None:
    if not can_run_reviews(user, division):
        raise ValidationError(f"只有{division.name}“正风”办可以组织督查检查、登记问题和下达整改通知")


def create_review_round(
    *, division: Division, year: int, kind: str, title: str = "", by: User
) -> ReviewRound:
    """Open a mid-year review (年中督查) or an annual check (年度考核检查) for `year`.

    Side effects: the round; audit row `review.round_created`.
    """
    _require_office(by, division)
    if kind not in ReviewKind.values:
        raise ValidationError(f"未知的督查类别：{kind}")
    if not 2000 <= int(year) <= 2100:
        raise ValidationError(f"年度 {year} 超出范围（2000–2100）")
    if ReviewRound.objects.filter(division=division, year=year, kind=kind).exists():
        raise ValidationError(f"{division.name}{year}年已有{ReviewKind(kind).label}")
    title = (title or "").strip() or f"{division.name}{year}年“正风”行动{ReviewKind(kind).label}"
    with transaction.atomic():
        review = ReviewRound.objects.create(
            division=division, year=year, kind=kind, title=title[:200], created_by=by
        )
        audit.record(
            "review.round_created",
            by=by,
            target=review,
            division_code=division.code,
            data={"year": year, "kind": kind, "title": review.title},
        )
    return review


def add_finding(
    review: ReviewRound, *, unit: Unit, text: str, severity: str = Severity.MINOR, by: User
) -> Finding:
    """Record a problem found at `unit` (which must lie in the round's division).

    Side effects: the finding; audit row `review.finding_added`.
    """
    _require_office(by, review.division)
    if not unit.division_id.startswith(review.division.prefix):
        raise ValidationError(f"{unit.name}不在{review.division.name}范围内，不能登记问题")
    if severity not in Severity.values:
        raise ValidationError(f"未知的严重程度：{severity}")
    text = _text(text, "问题描述")
    with transaction.atomic():
        finding = Finding.objects.create(
            round=review,
            unit=unit,
            division_code=unit.division_id,
            text=text,
            severity=severity,
            created_by=by,
        )
        audit.record(
            "review.finding_added",
            by=by,
            target=finding,
            division_code=unit.division_id,
            data={"round": review.pk, "unit": unit.code, "severity": severity},
        )
    return finding


def issue_demand(
    finding: Finding, *, requirements: str, due_on: dt.date, by: User, now: dt.datetime | None = None
) -> RectificationDemand:
    """下达整改通知 for a finding (one per finding), due at close of business of `due_on`.

    Side effects: the demand; its clock (kind `rectification`, due on the fixed date,
    reminder 3 days before; audit row `clock.started`); audit row `review.demand_issued`.
    """
    review = finding.round
    _require_office(by, review.division)
    requirements = _text(requirements, "整改要求")
    now = now or timezone.now()
    if due_on is None or due_on <= local_today(now):
        raise ValidationError(f"整改时限 {due_on or '（空）'} 须晚于今天")
    if RectificationDemand.objects.filter(finding=finding).exists():
        raise ValidationError("该问题已下达整改通知")
    unit = finding.unit
    with transaction.atomic():
        demand = RectificationDemand.objects.create(
            finding=finding,
            unit=unit,
            division_code=unit.division_id,
            requirements=requirements,
            due_on=due_on,
            created_by=by,
        )
        try:
            demand.clock = deadlines.start_clock(
                source_type=CLOCK_SOURCE,
                source_id=demand.pk,
                kind=CLOCK_KIND,
                label=f"{unit.name}{review.get_kind_display()}问题整改"[:200],
                unit=unit,
                division_code=unit.division_id,
                budget_unit=BudgetUnit.FIXED_DATE,
                due_on=due_on,
                warn_before=WARN_DAYS,
                started_at=now,
                by=by,
            )
        except ValueError as exc:
            raise ValidationError(f"整改时限 {due_on:%Y-%m-%d} 无法计时：{exc}") from exc
        demand.save(update_fields=["clock"])
        audit.record(
            "review.demand_issued",
            by=by,
            target=demand,
            division_code=unit.division_id,
            data={"finding": finding.pk, "unit": unit.code, "due_on": due_on.isoformat()},
        )
    return demand


def set_demand_state(
    demand: RectificationDemand,
    state: str,
    *,
    by: User | None,
    text: str = "",
    reason: str = "",
    now: dt.datetime | None = None,
) -> RectificationDemand:
    """The one transition function of a rectification demand.

    submitted: the unit's liaison or head reports what was done (`text`, a new RectificationReport);
    accepted / returned (reason required): the organising office reviews the latest report.
    Side effects: the demand's state; the report row created or reviewed; on the first report the
    clock stopped and `is_late` frozen; audit row `review.demand_<state>`.
    """
    if state not in DemandState.values:
        raise ValidationError(f"未知的整改状态：{state}")
    old = demand.state
    if state == old:
        raise ValidationError(f"整改通知已是“{DemandState(state).label}”状态，不能重复操作")
    if state not in _TRANSITIONS[old]:
        raise ValidationError(f"整改状态不能从“{DemandState(old).label}”改为“{DemandState(state).label}”")
    review = demand.finding.round
    if state == DemandState.SUBMITTED:
        # by=None: a system action (the demo, an import); every user's permission is checked.
        if by is not None and not can_keep_unit(by, demand.unit_id):
            raise ValidationError(f"只有{demand.unit.name}的联络员或单位负责人可以报送整改情况")
        text = _text(text, "整改情况")
    else:
        _require_office(by, review.division)
    reason = (reason or "").strip()
    if state == DemandState.RETURNED and not reason:
        raise ValidationError("退回须说明原因")
    now = now or timezone.now()
    with transaction.atomic():
        if not RectificationDemand.objects.filter(pk=demand.pk, state=old).update(state=state):
            raise ValidationError("整改状态已被他人修改，请刷新后重试")
        demand.state = state
        if state == DemandState.SUBMITTED:
            RectificationReport.objects.create(demand=demand, text=text, submitted_at=now, submitted_by=by)
            if demand.first_submitted_at is None:
                clock = demand.clock if demand.clock_id else None
                if clock is not None and clock.state != "stopped":
                    clock = deadlines.apply_clock_event(clock, "stop", at=now, by=by, reason="已报送整改情况")
                late = bool(clock is not None and clock.due_at is not None and now > clock.due_at)
                RectificationDemand.objects.filter(pk=demand.pk).update(first_submitted_at=now, is_late=late)
                demand.first_submitted_at, demand.is_late = now, late
        else:
            latest = (
                demand.reports.filter(state=RectificationReportState.SUBMITTED)
                .order_by("-submitted_at", "-id")
                .values_list("pk", flat=True)
                .first()
            )
            # A submitted demand has its report; None would match no row anyway.
            if latest is not None:
                RectificationReport.objects.filter(pk=latest).update(
                    state=RectificationReportState.ACCEPTED
                    if state == DemandState.ACCEPTED
                    else RectificationReportState.RETURNED,
                    review_reason=reason,
                    reviewed_at=now,
                    reviewed_by=by,
                )
        audit.record(
            f"review.demand_{state}",
            by=by,
            target=demand,
            division_code=demand.division_code,
            data={
                "unit": demand.unit.code,
                "from": old,
                "to": state,
                "reason": reason,
                "late": demand.is_late,
            },
        )
    return demand
