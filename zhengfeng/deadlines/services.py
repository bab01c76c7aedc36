"""Writes of the deadlines app: clocks and their events, calendar imports and working hours.

Every function here is atomic and writes one audit row. A clock's stored deadline columns are always
`replay()` of its events under the current calendar; an event that does not replay cleanly is
refused before anything is saved.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q

from zhengfeng.core import audit
from zhengfeng.deadlines.engine import CalendarIndex, DayException, Schedule, first_difference
from zhengfeng.deadlines.models import (
    DEFAULT_CALENDAR_CODE,
    BudgetUnit,
    CalendarException,
    Clock,
    ClockEvent,
    ClockEventKind,
    ClockState,
    WorkCalendar,
    WorkInterval,
    WorkSchedule,
    _new_revision,
)
from zhengfeng.deadlines.queries import build_index, calendar_index
from zhengfeng.deadlines.replay import (
    ClockEventError,
    ClockOutcome,
    EventSpec,
    parse_date,
    parse_instant,
    positive_int,
    replay,
)
from zhengfeng.org.models import Unit, User

RECOMPUTE_CHUNK = 10_000
_OUTCOME_FIELDS = [
    "state",
    "due_b",
    "warn_b",
    "due_at",
    "warn_at",
    "remaining_minutes",
    "provisional",
    "stopped_at",
    "calendar_version",
]
_ACTIONS = {
    ClockEventKind.PAUSE: "clock.paused",
    ClockEventKind.RESUME: "clock.resumed",
    ClockEventKind.EXTEND: "clock.extended",
    ClockEventKind.EXCLUDE: "clock.excluded",
    ClockEventKind.RESTART: "clock.restarted",
    ClockEventKind.STOP: "clock.stopped",
}


class CalendarImportError(ValueError):
    pass


def _apply_outcome(clock: Clock, outcome: ClockOutcome, version: int) -> None:
    clock.state = outcome.state
    clock.due_b = outcome.due_b
    clock.warn_b = outcome.warn_b
    clock.due_at = outcome.due_at
    clock.warn_at = outcome.warn_at
    clock.remaining_minutes = outcome.remaining_minutes
    clock.provisional = outcome.provisional
    clock.stopped_at = outcome.stopped_at
    clock.calendar_version = version


def _summary(clock: Clock) -> dict[str, Any]:
    return {
        "state": clock.state,
        "due_at": clock.due_at.isoformat() if clock.due_at else None,
        "warn_at": clock.warn_at.isoformat() if clock.warn_at else None,
        "remaining_minutes": clock.remaining_minutes,
        "provisional": clock.provisional,
    }


def _events_of(clock_id: int) -> list[EventSpec]:
    return [
        EventSpec(kind, at, data)
        for kind, at, data in ClockEvent.objects.filter(clock_id=clock_id)
        .order_by("at", "id")
        .values_list("kind", "at", "data")
    ]


def start_clock(
    *,
    source_type: str,
    source_id: str | int,
    kind: str,
    label: str,
    unit: Unit | None,
    division_code: str,
    budget_unit: str,
    budget: int = 0,
    due_on: dt.date | None = None,
    warn_before: int = 0,
    started_at: dt.datetime,
    by: User | None = None,
) -> Clock:
    """Start a time limit for a record (one per source and kind).

    A budget (`budget` in `budget_unit`), or for `BudgetUnit.FIXED_DATE` a due date `due_on` (the
    clock's budget is then 0; the date is in the START event).
    Side effects: a Clock row and its START event; one audit row `clock.started`.
    Raises ClockEventError (a ValueError) on a bad unit, budget, date or time, or a duplicate clock,
    and CalendarCoverageError when the deadline would fall past the provisional range.
    """
    if budget_unit not in BudgetUnit.values:
        raise ClockEventError(f"未知的时限单位 {budget_unit!r}，应为 {'、'.join(BudgetUnit.values)}")
    if budget_unit == BudgetUnit.FIXED_DATE:
        if due_on is None:
            raise ClockEventError("固定日期的时限须给出截止日期")
        budget = 0
        start_data: dict[str, Any] = {"due_on": parse_date(due_on, what="截止日期").isoformat()}
    else:
        budget = positive_int(budget, what="时限")
        start_data = {"budget": budget}
    if isinstance(warn_before, bool) or not isinstance(warn_before, int) or warn_before < 0:
        raise ClockEventError(f"提前提醒必须是非负整数，而不是 {warn_before!r}")
    started_at = parse_instant(started_at, what="开始时间")
    division_code = division_code or (unit.division_id if unit is not None else "")
    if not division_code:
        raise ClockEventError("缺少行政区划代码")
    source_id = str(source_id)
    index = calendar_index()
    with transaction.atomic():
        if Clock.objects.filter(source_type=source_type, source_id=source_id, kind=kind).exists():
            raise ClockEventError(f"{source_type} {source_id} 已有“{kind}”时限，不能重复开始")
        start = EventSpec(ClockEventKind.START, started_at, start_data)
        outcome = replay(index, budget_unit=budget_unit, warn_before=warn_before, events=[start])
        clock = Clock(
            source_type=source_type,
            source_id=source_id,
            kind=kind,
            label=label,
            unit=unit,
            division_code=division_code,
            budget_unit=budget_unit,
            budget=budget,
            warn_before=warn_before,
            started_at=started_at,
        )
        _apply_outcome(clock, outcome, index.version)
        clock.save()
        ClockEvent.objects.create(
            clock=clock, kind=ClockEventKind.START, at=started_at, data=dict(start.data), by=by
        )
        audit.record(
            "clock.started",
            by=by,
            target=clock,
            division_code=clock.division_code,
            data={"source": f"{source_type}:{source_id}", "kind": kind, "unit": budget_unit}
            | start_data
            | _summary(clock),
        )
    return clock


def _normalise_data(kind: str, data: Mapping[str, Any] | None) -> dict[str, Any]:
    data = dict(data or {})
    if kind == ClockEventKind.EXTEND:
        data["amount"] = positive_int(data.get("amount"), what="延期数量")
    elif kind == ClockEventKind.EXCLUDE:
        for key, what in (("from", "扣除开始时间"), ("to", "扣除结束时间")):
            data[key] = parse_instant(data.get(key), what=what).isoformat()
    elif kind == ClockEventKind.RESTART and data.get("budget") is not None:
        data["budget"] = positive_int(data["budget"], what="时限")
    elif kind == ClockEventKind.RESTART and data.get("due_on") is not None:
        data["due_on"] = parse_date(data["due_on"], what="截止日期").isoformat()
    return data


def apply_clock_event(
    clock: Clock,
    kind: str,
    *,
    at: dt.datetime,
    by: User | None = None,
    reason: str = "",
    data: Mapping[str, Any] | None = None,
) -> Clock:
    """The one transition function of a clock: pause, resume, extend, exclude, restart or stop.

    `data`: extend {"amount": n} (in the clock's unit; calendar days for a fixed date); exclude
    {"from": t1, "to": t2}; restart optionally {"budget": n}, or {"due_on": date} for a fixed date. Other keys (e.g. an approval number) are kept with the event.
    Side effects: one ClockEvent row; the clock's state and deadline columns replayed from all its
    events under the current calendar; one audit row `clock.<paused|resumed|…>`.
    Raises ClockEventError when the event does not apply (nothing is saved).
    """
    if kind not in _ACTIONS:
        raise ClockEventError(f"不支持的时限事件 {kind!r}，应为 {'、'.join(str(k) for k in _ACTIONS)}")
    at = parse_instant(at, what="事件时间")
    payload = _normalise_data(kind, data)
    index = calendar_index()
    with transaction.atomic():
        locked = Clock.objects.select_for_update().get(pk=clock.pk)
        event = EventSpec(kind, at, payload)
        outcome = replay(
            index,
            budget_unit=locked.budget_unit,
            warn_before=locked.warn_before,
            events=[*_events_of(locked.pk), event],
        )
        ClockEvent.objects.create(clock=locked, kind=kind, at=at, data=payload, reason=reason[:200], by=by)
        _apply_outcome(locked, outcome, index.version)
        locked.save(update_fields=_OUTCOME_FIELDS)
        audit.record(
            _ACTIONS[ClockEventKind(kind)],
            by=by,
            target=locked,
            division_code=locked.division_code,
            data={"at": at.isoformat(), "reason": reason, "data": payload} | _summary(locked),
        )
    for name in _OUTCOME_FIELDS:
        setattr(clock, name, getattr(locked, name))
    return locked


def recompute_clocks(
    *, since: dt.date | None = None, index: CalendarIndex | None = None, chunk_size: int = RECOMPUTE_CHUNK
) -> int:
    """Replay the live clocks a calendar change can touch; return how many rows were rewritten.

    Touched: running clocks due on or after 00:00 of `since` (None: all), every paused clock, and
    every provisional one. Works in chunks of `chunk_size` (one bulk_update each), inside the
    caller's transaction when there is one. No audit row: the calendar change that causes it has one.
    """
    index = index or calendar_index()
    clocks = Clock.objects.filter(state__in=ClockState.LIVE_STATES)
    if since is not None:
        clocks = clocks.filter(
            Q(due_at__gte=index.local_midnight(since)) | Q(due_at__isnull=True) | Q(provisional=True)
        )
    total = 0
    last_id = 0
    while True:
        chunk = list(
            clocks.filter(id__gt=last_id)
            .order_by("id")
            .only("id", "budget_unit", "warn_before", *_OUTCOME_FIELDS)[:chunk_size]
        )
        if not chunk:
            return total
        events: dict[int, list[EventSpec]] = defaultdict(list)
        rows = ClockEvent.objects.filter(clock_id__gte=chunk[0].id, clock_id__lte=chunk[-1].id).order_by(
            "clock_id", "at", "id"
        )
        for clock_id, kind, at, data in rows.values_list("clock_id", "kind", "at", "data"):
            events[clock_id].append(EventSpec(kind, at, data))
        for clock in chunk:
            outcome = replay(
                index, budget_unit=clock.budget_unit, warn_before=clock.warn_before, events=events[clock.id]
            )
            _apply_outcome(clock, outcome, index.version)
        with transaction.atomic():
            Clock.objects.bulk_update(chunk, _OUTCOME_FIELDS, batch_size=1000)
        total += len(chunk)
        last_id = chunk[-1].id


@dataclass(frozen=True)
class CalendarImportResult:
    years: list[int]
    added: int
    removed: int
    version: int
    coverage_start: dt.date
    coverage_end: dt.date
    first_changed: dt.date | None
    recomputed: int


def _commit_calendar_change(
    calendar: WorkCalendar, old: CalendarIndex
) -> tuple[CalendarIndex, dt.date | None, int]:
    calendar.version += 1
    calendar.revision = _new_revision()
    calendar.save()
    new = build_index(calendar)
    changed = first_difference(old, new)
    recomputed = 0
    if changed is not None and calendar.code == DEFAULT_CALENDAR_CODE:
        recomputed = recompute_clocks(since=changed, index=new)
    return new, changed, recomputed


def import_calendar(
    *,
    rows: Sequence[DayException],
    year: int | None = None,
    calendar_code: str = DEFAULT_CALENDAR_CODE,
    by: User | None = None,
    source: str = "",
) -> CalendarImportResult:
    """Replace whole years of exceptions (a new State Council notice, or a mid-year change).

    The years replaced are those of the rows' dates, or `year` when given (then rows may also
    fall in December of the year before, which a notice sometimes sets; those dates are replaced
    one by one). Coverage extends to the imported years, which must adjoin the covered range.
    Side effects: exceptions deleted and created; calendar version bumped; running and paused
    clocks touched by the change replayed (`recompute_clocks`); one audit row `calendar.imported`.
    Raises CalendarImportError (nothing saved) on rows outside `year` or a gap in coverage.
    """
    if not rows:
        raise CalendarImportError("没有可导入的节假日调整记录")
    if year is not None:
        stray = [
            r.date
            for r in rows
            if r.date.year != year and not (r.date.year == year - 1 and r.date.month == 12)
        ]
        if stray:
            raise CalendarImportError(
                f"日期 {stray[0]} 不属于 {year} 年的安排：只能是 {year} 年或 {year - 1} 年 12 月的日期"
            )
        years = [year]
    else:
        years = sorted({r.date.year for r in rows})
    with transaction.atomic():
        calendar = WorkCalendar.objects.select_for_update().filter(code=calendar_code).first()
        if calendar is None:
            raise CalendarImportError(f"工作日历 {calendar_code} 不存在")
        old = calendar_index(calendar_code)
        covered = set(range(calendar.coverage_start.year, calendar.coverage_end.year + 1)) | set(years)
        gaps = sorted(set(range(min(covered), max(covered) + 1)) - covered)
        if gaps:
            raise CalendarImportError(
                f"导入的年份与已覆盖范围（{calendar.coverage_start} 至 {calendar.coverage_end}）不相连："
                f"缺少 {gaps[0]} 年，请先导入中间的年份"
            )
        replaced = CalendarException.objects.filter(calendar=calendar, date__year__in=years)
        outside = [r.date for r in rows if r.date.year not in years]
        removed = (
            replaced.count() + CalendarException.objects.filter(calendar=calendar, date__in=outside).count()
        )
        replaced.delete()
        CalendarException.objects.filter(calendar=calendar, date__in=outside).delete()
        CalendarException.objects.bulk_create(
            CalendarException(
                calendar=calendar,
                date=r.date,
                is_off_day=r.is_off_day,
                name=r.name,
                notice_no=r.notice_no,
                notice_url=r.notice_url,
                provisional=r.provisional,
            )
            for r in rows
        )
        calendar.coverage_start = min(calendar.coverage_start, dt.date(years[0], 1, 1))
        calendar.coverage_end = max(calendar.coverage_end, dt.date(years[-1], 12, 31))
        new, changed, recomputed = _commit_calendar_change(calendar, old)
        result = CalendarImportResult(
            years=years,
            added=len(rows),
            removed=removed,
            version=calendar.version,
            coverage_start=calendar.coverage_start,
            coverage_end=calendar.coverage_end,
            first_changed=changed,
            recomputed=recomputed,
        )
        audit.record(
            "calendar.imported",
            by=by,
            target=calendar,
            data={
                "source": source,
                "years": years,
                "added": result.added,
                "removed": removed,
                "version": calendar.version,
                "coverage": new.coverage_label,
                "first_changed": changed.isoformat() if changed else None,
                "recomputed": recomputed,
                "notices": sorted({r.notice_no for r in rows if r.notice_no}),
            },
        )
    return result


def set_work_schedule(
    *,
    name: str,
    intervals: Sequence[tuple[dt.time, dt.time]],
    effective_from: dt.date | None = None,
    effective_to: dt.date | None = None,
    calendar_code: str = DEFAULT_CALENDAR_CODE,
    by: User | None = None,
) -> WorkSchedule:
    """Create or replace (by name) a schedule of working hours, e.g. 夏季作息 from 06-01 to 09-30.

    Side effects: the schedule and its intervals saved; calendar version bumped; touched clocks
    replayed; one audit row `calendar.schedule_set`.
    Raises ValueError (nothing saved) on overlapping or unordered intervals or dates.
    """
    if not name.strip():
        raise ValueError("作息时间须有名称")
    if effective_from and effective_to and effective_to < effective_from:
        raise ValueError(f"作息时间 {name} 的失效日期 {effective_to} 早于生效日期 {effective_from}")
    spans = tuple(sorted((s.hour * 60 + s.minute, e.hour * 60 + e.minute) for s, e in intervals))
    Schedule(
        intervals=spans, effective_from=effective_from, effective_to=effective_to, name=name
    )  # validates
    with transaction.atomic():
        calendar = WorkCalendar.objects.select_for_update().get(code=calendar_code)
        old = calendar_index(calendar_code)
        schedule, _ = WorkSchedule.objects.update_or_create(
            calendar=calendar,
            name=name,
            defaults={"effective_from": effective_from, "effective_to": effective_to},
        )
        schedule.intervals.all().delete()
        WorkInterval.objects.bulk_create(
            WorkInterval(schedule=schedule, start=dt.time(s // 60, s % 60), end=dt.time(e // 60, e % 60))
            for s, e in spans
        )
        _, changed, recomputed = _commit_calendar_change(calendar, old)
        audit.record(
            "calendar.schedule_set",
            by=by,
            target=calendar,
            data={
                "name": name,
                "intervals": [f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in spans],
                "effective_from": effective_from.isoformat() if effective_from else None,
                "effective_to": effective_to.isoformat() if effective_to else None,
                "version": calendar.version,
                "first_changed": changed.isoformat() if changed else None,
                "recomputed": recomputed,
            },
        )
    return schedule
