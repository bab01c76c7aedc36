"""Due dates of quarterly reports, computed with the deadlines engine (pure functions).

`due_date(period, N)` is the N-th working day after the period's last day (the seed: 每季度结束后的
5 个工作日内), for previews before the reports exist (`reports due`, the demo). Once scheduled, a
report's deadline is its clock's: the dashboard, 漏报 and 通报 read the stored clocks
(`reports.queries.period_deadlines` / `grace_ends`), so a calendar import moves them in one place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from zhengfeng.core.periods import Period, quarters_of
from zhengfeng.deadlines.engine import CalendarIndex
from zhengfeng.deadlines.queries import calendar_index

DEFAULT_DUE_WORKDAYS = 5


@dataclass(frozen=True)
class DueDate:
    period: Period
    due: dt.date
    # The deadline falls past the published holiday arrangements (Monday–Friday rule used).
    provisional: bool


def due_date(period: Period, due_workdays: int, index: CalendarIndex) -> DueDate:
    """The N-th working day after the period's last day (the seed: 每季度结束后的 5 个工作日内)."""
    due = index.add_workdays(period.last, due_workdays, provisional=True)
    return DueDate(period=period, due=due, provisional=not index.is_settled(period.last, due))


def due_dates(year: int, *, due_workdays: int = DEFAULT_DUE_WORKDAYS) -> list[DueDate]:
    index = calendar_index()
    return [due_date(period, due_workdays, index) for period in quarters_of(year)]


def close_of_business(index: CalendarIndex, day: dt.date) -> dt.datetime:
    ordinal = index.close_of_business_ordinal(day, provisional=True)
    return index.from_business_ordinal(ordinal, provisional=True)


def next_period(period: Period) -> Period:
    return (
        Period.quarter(period.year + 1, 1)
        if period.number == 4
        else Period.quarter(period.year, period.number + 1)
    )


def opening_day(period: Period, index: CalendarIndex) -> dt.date:
    """The last working day on or before the period's end: a work-day clock started at its first
    minute ends at the N-th working day after the period's end, as the rule says."""
    if index.is_workday(period.last, provisional=True):
        return period.last
    return index.add_workdays(period.last, -1, provisional=True)
