"""Reads for quarterly reports, scoped by user (review rounds: `ledger.reviews.queries`).

Who reads: the office and inspectors read every report in their division subtree (a county office
its county's reports), the administrator all; a unit's liaison, handler and head read their unit's
reports. Scoping goes through `zhengfeng.org.queries.scope_filter` on the unit and division code.

The office dashboard (`report_matrix`) is one aggregate query over the year's reports (unit,
period, state, late flag, overdue), one for the periods' deadlines and grace ends (read from the
stored clocks, never recomputed from the calendar), one for the units; the matrix is built in Python.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)
from django.utils import timezone

from zhengfeng.core.periods import Period, quarters_of
from zhengfeng.deadlines.models import Clock, ClockState
from zhengfeng.ledger.ledgers.queries import can_read_ledgers
from zhengfeng.ledger.models import (
    QuarterlyReport,
    ReportAttachment,
    ReportingRule,
    ReportState,
)
from zhengfeng.ledger.reports.dates import next_period
from zhengfeng.org.models import Unit, User
from zhengfeng.org.queries import Viewer, scope_filter, scope_of


def reports_for(user: Viewer) -> QuerySet[QuarterlyReport]:
    """Every report `user` may read (same readers as the ledgers)."""
    if not can_read_ledgers(user):
        return QuarterlyReport.objects.none()
    return scope_filter(
        QuarterlyReport.objects.all(), user, unit_field="unit", division_field="division_code"
    )


def report_for(user: Viewer, pk: int) -> QuarterlyReport | None:
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


def report_years_for(user: Viewer) -> list[int]:
    return sorted(set(reports_for(user).values_list("year", flat=True).distinct()), reverse=True)


def unit_reports(unit_id: int, *, now: dt.datetime) -> QuerySet[QuarterlyReport]:
    """A unit's own reports, newest period first, with their clocks (one query); `overdue`: not yet
    submitted and its clock overdue in the deadlines' vocabulary (`Clock.objects.overdue`)."""
    return (
        QuarterlyReport.objects.filter(unit_id=unit_id)
        .select_related("clock", "rule")
        .annotate(
            overdue=Exists(Clock.objects.overdue(at=now).filter(pk=OuterRef("clock_id")))
            & Q(state=ReportState.DRAFT)
        )
        .order_by("-period", "rule_id")
    )


def attachment_for(user: Viewer, pk: int) -> ReportAttachment | None:
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
    """The dashboard status of a report: `overdue` is "its clock is overdue" (`Clock.objects.overdue`,
    in SQL), `missing` "the period's grace has ended" (the next period's clocks are due, `grace_ends`)."""
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
    due: dt.date | None
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


@dataclass(frozen=True)
class PeriodDeadline:
    due_at: dt.datetime | None
    provisional: bool


def period_deadlines(
    reports: QuerySet[QuarterlyReport], periods: Iterable[Period]
) -> dict[str, PeriodDeadline]:
    """When each period's reports fall due, as their stored clocks say (one query).

    The one place that turns clocks into a period's deadline: the earliest deadline of the period's
    live clocks (a calendar change replays those), or, once every clock has stopped, the earliest
    of all. A period without reports (or whose clocks are all paused) has no deadline (None).
    """
    wanted = [str(period) for period in periods]
    rows = (
        reports.filter(period__in=wanted)
        .order_by()
        .values("period")
        .annotate(
            live=Min("clock__due_at", filter=~Q(clock__state=ClockState.STOPPED)),
            any=Min("clock__due_at"),
            provisional=Count("pk", filter=Q(clock__provisional=True) & ~Q(clock__state=ClockState.STOPPED)),
        )
    )
    found = {
        row["period"]: PeriodDeadline(row["live"] or row["any"], bool(row["provisional"])) for row in rows
    }
    return {period: found.get(period, PeriodDeadline(None, False)) for period in wanted}


def grace_end(deadlines: dict[str, PeriodDeadline], period: Period) -> dt.datetime | None:
    """The rule of 漏报: a period's unsubmitted reports become missing when the next period's
    reports fall due (for Q4, the next year's Q1), as `period_deadlines` read it from their clocks.
    None while the next period has no reports scheduled (the worker schedules a quarter ahead once
    the next year's rule exists)."""
    return deadlines[str(next_period(period))].due_at


def grace_ends(
    reports: QuerySet[QuarterlyReport], periods: Iterable[Period]
) -> dict[str, dt.datetime | None]:
    """`grace_end` of each period, from the next periods' clocks among `reports` (one query)."""
    periods = list(periods)
    deadlines = period_deadlines(reports, [next_period(period) for period in periods])
    return {str(period): grace_end(deadlines, period) for period in periods}


def report_matrix(user: Viewer, year: int, *, now: dt.datetime) -> Matrix:
    """Units × periods of `year` in the user's scope.

    Three small queries whatever the number of units: the reports (unit, period, state, late flag,
    and whether the clock is overdue in the deadlines' vocabulary, in SQL so no datetime is loaded
    per row), the periods' deadlines and grace ends from the stored clocks (`period_deadlines`), and
    the units. The matrix is built in Python.
    """
    scoped = reports_for(user)
    reports = scoped.filter(year=year)
    # `clock_id IN (overdue clocks)`: one pass over the partial index of running clocks, hashed.
    overdue = ExpressionWrapper(Q(clock__in=Clock.objects.overdue(at=now)), output_field=BooleanField())
    rows = reports.annotate(overdue=overdue).values_list(
        "id", "unit_id", "period", "state", "is_late", "overdue"
    )
    periods = quarters_of(year)
    # One query for the four due dates and the grace ends (the next year's Q1 closes Q4's grace).
    deadlines = period_deadlines(scoped, [*periods, next_period(periods[-1])])
    columns = []
    position: dict[str, int] = {}
    missing: dict[str, bool] = {}
    for number, period in enumerate(periods):
        due = deadlines[str(period)]
        due_day = timezone.localtime(due.due_at).date() if due.due_at else None
        columns.append(PeriodColumn(period=period, due=due_day, provisional=due.provisional))
        position[str(period)] = number
        grace = grace_end(deadlines, period)
        missing[str(period)] = grace is not None and now > grace
    none = MatrixCell(Cell.NONE, "—", "", None)
    cells: dict[int, list[MatrixCell]] = {}
    labels = Cell.LABELS
    for report_id, unit_id, period_code, state, is_late, is_overdue in rows:
        status = cell_status(state, is_late, bool(is_overdue), missing[period_code])
        label, css = labels[status]
        column = position[period_code]
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


def rules_for(user: Viewer) -> QuerySet[ReportingRule]:
    """Rules whose reports `user` reads (for the period list of the 通报 buttons)."""
    return ReportingRule.objects.filter(pk__in=reports_for(user).values("rule_id")).select_related("division")


def scope_label(user: Viewer) -> str:
    scope = scope_of(user)
    if scope.everything:
        return "全部"
    unit = user.unit if isinstance(user, User) else None
    return unit.division.name if unit is not None else ""
