"""Reads of the deadlines app: the calendar engine for the current calendar version, and clock lists.

`calendar_index()` costs one small query (the calendar's version) when the index is cached; the
index itself is rebuilt only when the calendar changed (version and revision are the cache key).
"""

from __future__ import annotations

import datetime as dt
import threading

from django.db.models import QuerySet

from zhengfeng.deadlines.engine import CalendarIndex, DayException, Schedule
from zhengfeng.deadlines.models import (
    DEFAULT_CALENDAR_CODE,
    CalendarException,
    Clock,
    WorkCalendar,
    WorkSchedule,
)
from zhengfeng.org.queries import Viewer, scope_filter

_CACHE: dict[tuple[int, int, str], CalendarIndex] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 4


class CalendarMissingError(LookupError):
    pass


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def build_index(calendar: WorkCalendar) -> CalendarIndex:
    """Build the engine from the database rows of `calendar` (no cache)."""
    exceptions = [
        DayException(
            date=row.date,
            is_off_day=row.is_off_day,
            name=row.name,
            notice_no=row.notice_no,
            notice_url=row.notice_url,
            provisional=row.provisional,
        )
        for row in CalendarException.objects.filter(calendar=calendar).order_by("date")
    ]
    schedules = [
        Schedule(
            intervals=tuple((_minutes(i.start), _minutes(i.end)) for i in schedule.intervals.all()),
            effective_from=schedule.effective_from,
            effective_to=schedule.effective_to,
            name=schedule.name,
        )
        for schedule in WorkSchedule.objects.filter(calendar=calendar).prefetch_related("intervals")
        if schedule.intervals.all()
    ]
    return CalendarIndex(
        coverage_start=calendar.coverage_start,
        coverage_end=calendar.coverage_end,
        exceptions=exceptions,
        schedules=schedules,
        tz=calendar.tz,
        code=calendar.code,
        version=calendar.version,
    )


def calendar_index(code: str = DEFAULT_CALENDAR_CODE) -> CalendarIndex:
    """The engine for the calendar's current version (cached in-process)."""
    calendar = WorkCalendar.objects.filter(code=code).first()
    if calendar is None:
        raise CalendarMissingError(f"工作日历 {code} 不存在；请先运行数据库迁移")
    key = (calendar.pk, calendar.version, calendar.revision)
    index = _CACHE.get(key)
    if index is None:
        index = build_index(calendar)
        with _CACHE_LOCK:
            while len(_CACHE) >= _CACHE_SIZE:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[key] = index
    return index


def exceptions_of_year(year: int, *, code: str = DEFAULT_CALENDAR_CODE) -> QuerySet[CalendarException]:
    return CalendarException.objects.filter(calendar__code=code, date__year=year).order_by("date")


# ---------------------------------------------------------------------- clocks


def overdue(at: dt.datetime) -> QuerySet[Clock]:
    """Running clocks past their deadline at `at` (partial index on due_at)."""
    return Clock.objects.overdue(at=at)


def due_soon(at: dt.datetime) -> QuerySet[Clock]:
    """Running clocks whose warning time has come but whose deadline has not passed."""
    return Clock.objects.due_soon(at=at)


def clocks_for(user: Viewer) -> QuerySet[Clock]:
    return scope_filter(
        Clock.objects.select_related("unit"), user, unit_field="unit", division_field="division_code"
    )


def workdays_overdue(clock: Clock, at: dt.datetime, *, index: CalendarIndex | None = None) -> int:
    """Whole working days the clock has been overdue at `at`.

    A working day counts once it has ended (24:00, 民法典 §203) and lies after the day of the
    deadline: due Friday 17:30 → 0 on Monday, 1 from Tuesday 00:00, 3 from Thursday 00:00.
    A stopped clock counts up to its stop time (late stays late, but stops growing).
    """
    if clock.due_at is None:
        return 0
    end = min(at, clock.stopped_at) if clock.stopped_at else at
    if end <= clock.due_at:
        return 0
    index = index or calendar_index()
    due_day = clock.due_at.astimezone(index.tz).date()
    end_day = end.astimezone(index.tz).date()
    return max(index.count_workdays(due_day, end_day - dt.timedelta(days=1), provisional=True), 0)


def overdue_cutoff(at: dt.datetime, workdays: int, *, index: CalendarIndex | None = None) -> dt.datetime:
    """The instant such that a running clock with due_at < cutoff is overdue ≥ `workdays` whole working days.

    Consistent with `workdays_overdue`: for n ≥ 1 the cutoff is 00:00 of the n-th working day before
    the day of `at`; for n = 0 it is `at` itself (overdue at all).
    """
    if workdays < 0:
        raise ValueError(f"工作日数不能为负数：{workdays}")
    if workdays == 0:
        return at
    index = index or calendar_index()
    day = at.astimezone(index.tz).date()
    return index.local_midnight(index.add_workdays(day, -workdays, provisional=True))
