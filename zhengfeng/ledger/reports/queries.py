"""Reads for quarterly reports, scoped by user (review rounds: `ledger.reviews.queries`).

Who reads: the office and inspectors read every report in their division subtree (a county office
its county's reports), the administrator all; a unit's liaison, handler and head read their unit's
reports. Scoping goes through `zhengfeng.org.queries.scope_filter` on the unit and division code.

The office dashboard (`report_matrix`) is one aggregate query over the year's reports (unit,
period, state, late flag, deadline), one query for the units, and the matrix is built in Python.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db.models import BooleanField, ExpressionWrapper, Prefetch, Q, QuerySet

from zhengfeng.core.periods import Period, quarters_of
from zhengfeng.deadlines.queries import calendar_index
from zhengfeng.ledger.ledgers.queries import can_read_ledgers
from zhengfeng.ledger.models import (
    QuarterlyReport,
    ReportAttachment,
    ReportingRule,
    ReportNotice,
    ReportState,
)
from zhengfeng.ledger.reports.dates import DEFAULT_DUE_WORKDAYS, due_date, grace_end
from zhengfeng.org.models import Unit
from zhengfeng.org.queries import scope_filter, scope_of


def reports_for(user: Any) -> QuerySet[QuarterlyReport]:
    """Every report `user` may read (same readers as the ledgers)."""
    if not can_read_ledgers(user):
        return QuarterlyReport.objects.none()
    return scope_filter(
        QuarterlyReport.objects.all(), user, unit_field="unit", division_field="division_code"
    )


def report_for(user: Any, pk: int) -> QuarterlyReport | None:
    return (
        reports_for(user)
        .select_related(
            "rule__division", "rule__plan", "unit__division", "clock", "submitted_by", "reviewed_by"
        )
        .prefetch_related(
            "items__task", Prefetch("attachments", queryset=ReportAttachment.objects.order_by("id"))
        )
        .filter(pk=pk)
        .first()
    )


def report_years_for(user: Any) -> list[int]:
    return sorted(set(reports_for(user).values_list("year", flat=True).distinct()), reverse=True)


def unit_reports(unit_id: int) -> QuerySet[QuarterlyReport]:
    """A unit's own reports, newest period first, with their clocks (one query)."""
    return (
        QuarterlyReport.objects.filter(unit_id=unit_id)
        .select_related("clock", "rule")
        .order_by("-period", "rule_id")
    )


def attachment_for(user: Any, pk: int) -> ReportAttachment | None:
    return ReportAttachment.objects.filter(pk=pk, report__in=reports_for(user).values("pk")).first()


# --- The dashboard matrix ----------------------------------------------------------------------


class Cell:
    """Status codes of a dashboard cell: (label, badge class)."""

    ON_TIME = "on_time"
    LATE = "late"
    RETURNED = "returned"
    PENDING = "pending"
    OVERDUE = "overdue"
    MISSING = "missing"
    NONE = "none"

    LABELS: dict[str, tuple[str, str]] = {
        ON_TIME: ("按时报送", "ok"),
        LATE: ("迟报", "level-3"),
        RETURNED: ("退回修改", "level-2"),
        PENDING: ("待报送", "level-1"),
        OVERDUE: ("逾期未报", "level-4"),
        MISSING: ("漏报", "level-4"),
        NONE: ("—", ""),
    }
    ORDER = (ON_TIME, LATE, RETURNED, PENDING, OVERDUE, MISSING)


def cell_status(state: str, is_late: bool, overdue: bool, missing: bool) -> str:
    """The dashboard status of a report: `overdue` is "its clock's deadline has passed" (compared in
    SQL), `missing` "the period's grace has ended" (the next period is due)."""
    if state == ReportState.RETURNED:
        return Cell.RETURNED
    if state != ReportState.DRAFT:
        return Cell.LATE if is_late else Cell.ON_TIME
    if missing:
        return Cell.MISSING
    if overdue:
        return Cell.OVERDUE
    return Cell.PENDING


class MatrixCell(NamedTuple):
    status: str
    label: str
    css: str
    report_id: int | None
    # A returned report that was first submitted late stays marked late.
    late: bool = False


@dataclass
class MatrixRow:
    unit_id: int
    unit_name: str
    unit_code: str
    division_code: str
    cells: list[MatrixCell]


@dataclass
class PeriodColumn:
    period: Period
    due: dt.date
    provisional: bool
    totals: Counter = field(default_factory=Counter)

    @property
    def counts(self) -> list[int]:
        """Totals in the dashboard's status order."""
        return [self.totals.get(status, 0) for status in Cell.ORDER]


@dataclass
class Matrix:
    year: int
    columns: list[PeriodColumn]
    rows: list[MatrixRow]

    @property
    def total_rows(self) -> int:
        return len(self.rows)


def report_matrix(user: Any, year: int, *, now: dt.datetime) -> Matrix:
    """Units × periods of `year` in the user's scope.

    Four small queries whatever the number of units: the calendar version, the rule's N, the
    reports (unit, period, state, late flag, and whether the clock's stored deadline has passed,
    compared in SQL so no datetime is loaded per row) and the units. The matrix is built in Python.
    """
    index = calendar_index()
    reports = reports_for(user).filter(year=year)
    due_workdays = (
        ReportingRule.objects.filter(year=year, pk__in=reports.values("rule_id"))
        .values_list("due_workdays", flat=True)
        .first()
        or DEFAULT_DUE_WORKDAYS
    )
    overdue = ExpressionWrapper(Q(clock__due_at__lt=now), output_field=BooleanField())
    rows = reports.annotate(overdue=overdue).values_list(
        "id", "unit_id", "period", "state", "is_late", "overdue"
    )
    periods = quarters_of(year)
    columns = []
    position: dict[str, int] = {}
    missing: dict[str, bool] = {}
    for number, period in enumerate(periods):
        due = due_date(period, due_workdays, index)
        columns.append(PeriodColumn(period=period, due=due.due, provisional=due.provisional))
        position[str(period)] = number
        missing[str(period)] = now > grace_end(period, due_workdays, index)
    none = MatrixCell(Cell.NONE, "—", "", None)
    cells: dict[int, list[MatrixCell]] = {}
    labels = Cell.LABELS
    for report_id, unit_id, period, state, is_late, is_overdue in rows:
        status = cell_status(state, is_late, bool(is_overdue), missing[period])
        label, css = labels[status]
        column = position[period]
        columns[column].totals[status] += 1
        unit_cells = cells.get(unit_id)
        if unit_cells is None:
            unit_cells = cells[unit_id] = [none] * len(periods)
        unit_cells[column] = MatrixCell(status, label, css, report_id, is_late and status == Cell.RETURNED)
    units = (
        Unit.objects.filter(pk__in=reports.values("unit_id"))
        .order_by("division_id", "code")
        .values_list("id", "name", "code", "division_id")
    )
    return Matrix(
        year=year,
        columns=columns,
        rows=[
            MatrixRow(uid, name, code, division, cells[uid])
            for uid, name, code, division in units
            if uid in cells
        ],
    )


def rules_for(user: Any) -> QuerySet[ReportingRule]:
    """Rules whose reports `user` reads (for the period list of the 通报 buttons)."""
    return ReportingRule.objects.filter(pk__in=reports_for(user).values("rule_id")).select_related("division")


def notices_of(rule: ReportingRule) -> dict[str, ReportNotice]:
    return {notice.period: notice for notice in rule.notices.all()}


def scope_label(user: Any) -> str:
    scope = scope_of(user)
    if scope.everything:
        return "全部"
    return user.unit.division.name if user.unit_id else ""
