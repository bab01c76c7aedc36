"""Replay a clock's events into its deadline (pure: no database; used by every write and by recompute).

Policies (docs/calendar.md §Clocks):
- **Start.** A clock started out of hours or on a day off starts at the next working instant.
  Partial minutes count in the unit's favour (starts round up, pauses round down).
- **Work-day budgets** (行政许可法 §82) end at close of business of the N-th working day after the
  (effective) start day; the start day is not counted (民法典 §201). Whenever a pause, exclusion
  or extension moves such a deadline, it is rounded up to the close of business of the day in which
  the budget runs out: a day-unit deadline always falls at close of business.
- **Natural-day budgets** (民法典 §201–§203) end at close of business of start day + N; if that is
  a day off, of the next working day. Pauses and exclusions move them by whole calendar days.
- **Fixed due date** (`fixed_date`: ledger steps, rectification demands): the START event carries
  `due_on`; the deadline is close of business of that date, or of the next working day if it is a
  day off, as for natural days. A clock may start after its date: it is then overdue from the start
  (its warning is its deadline). It is a natural-day clock whose end is given instead of counted:
  a pause keeps the calendar days left and resume counts them again from the resume day (the date
  moves later by the whole days paused); extend moves the date n calendar days later; exclude adds
  the calendar days of the interval; restart with a new `due_on` sets a new date (without one, returns
  to the date of the last start or restart).
- **Work-minute budgets** run only during working hours (the lunch break and days off do not count).
- **Pause (中止)** keeps the remaining budget and clears the deadline; **resume** restarts it from the
  resume instant. A pause is non-working time in business-time space, never wall-clock hold time.
- **Extend (延期)** adds n units to the current deadline (work days: n working days after it).
- **Exclude (扣除)** adds the working time (natural days: the calendar days, rounded up) of an
  interval that must not count (听证、检验、检测、鉴定、专家评审, 行政许可法 §45). It may not
  overlap a pause or another exclusion, so no time is ever taken off twice.
- **Restart (重新计时)** starts a fresh budget at its instant, forgetting earlier pauses.
- **Stop** freezes the clock: the deadline stays as it was, so a late reply stays late.
- **Provisional**: true when the window from the (re)start to the deadline leaves the calendar's
  coverage or touches a provisional exception.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from zhengfeng.deadlines.engine import CalendarIndex, ceil_days
from zhengfeng.deadlines.models import BudgetUnit, ClockEventKind, ClockState

DAY_MINUTES = 24 * 60


class ClockEventError(ValueError):
    """An event that cannot apply to the clock in its current state."""


@dataclass(frozen=True)
class EventSpec:
    kind: str
    at: dt.datetime
    data: Mapping[str, Any]


@dataclass(frozen=True)
class ClockOutcome:
    state: str
    due_b: int | None
    warn_b: int | None
    due_at: dt.datetime | None
    warn_at: dt.datetime | None
    remaining_minutes: int | None
    provisional: bool
    stopped_at: dt.datetime | None


def parse_instant(value: Any, *, what: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        instant = value
    else:
        try:
            instant = dt.datetime.fromisoformat(str(value))
        except ValueError as exc:
            raise ClockEventError(f"{what} {value!r} 不是有效的时间") from exc
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ClockEventError(f"{what} {value!r} 缺少时区")
    return instant


def parse_date(value: Any, *, what: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ClockEventError(f"{what} {value!r} 不是有效的日期") from exc


def positive_int(value: Any, *, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ClockEventError(f"{what}必须是正整数，而不是 {value!r}")
    return value


class _Replay:
    def __init__(self, index: CalendarIndex, budget_unit: str, warn_before: int) -> None:
        if budget_unit not in BudgetUnit.values:
            raise ClockEventError(f"未知的时限单位 {budget_unit!r}")
        self.ix = index
        self.unit = budget_unit
        self.warn_before = warn_before
        self.state = ""
        self.budget = 0
        # Placeholders until START sets them; every event but START is refused before that.
        self.anchor_at = dt.datetime.min.replace(tzinfo=dt.UTC)
        self.anchor_b = 0
        self.due_b = 0  # work days / minutes, while running
        self.nominal = dt.date.min  # day units, while running (before rolling to a working day)
        self.fixed_on = dt.date.min  # fixed date: the due date of the last START / RESTART
        self.remaining = 0  # minutes (work days / minutes) or days (natural days), while paused
        self.pending_days = 0  # work days granted while paused, applied at resume
        self.breaks: list[tuple[dt.datetime, dt.datetime | None, str]] = []
        self.pause_started: dt.datetime | None = None  # the open pause, while paused
        self.stopped_while_paused = False
        self.stopped_at: dt.datetime | None = None
        self.last_at: dt.datetime | None = None

    # -- helpers

    def B(self, t: dt.datetime, *, ceil: bool = False) -> int:  # noqa: N802 - the B ordinal of the design
        return self.ix.business_ordinal(t, ceil=ceil, provisional=True)

    def fmt(self, t: dt.datetime | None) -> str:
        return t.astimezone(self.ix.tz).strftime("%Y-%m-%d %H:%M") if t else ""

    def local_date(self, t: dt.datetime) -> dt.date:
        return t.astimezone(self.ix.tz).date()

    def round_up_to_close(self, x: int) -> int:
        return self.ix.close_of_business_ordinal(self.ix.day_of_ordinal(x), provisional=True)

    def natural_due_day(self) -> dt.date:
        return self.ix.add_natural_days(self.nominal, 0, provisional=True)

    def start(self, at: dt.datetime, budget: int, due_on: dt.date | None = None) -> None:
        self.state = ClockState.RUNNING
        self.budget = budget
        self.anchor_at = at
        self.anchor_b = self.B(at, ceil=True)
        self.breaks = []
        self.pause_started = None
        self.pending_days = 0
        if self.unit == BudgetUnit.WORK_MINUTES:
            self.due_b = self.anchor_b + budget
        elif self.unit == BudgetUnit.WORKDAYS:
            # The day holding the next working minute: today before closing time, else the next working day.
            start_day = self.ix.day_of_ordinal(self.anchor_b + 1)
            self.due_b = self.ix.close_of_business_ordinal(
                self.ix.add_workdays(start_day, budget, provisional=True), provisional=True
            )
        elif self.unit == BudgetUnit.FIXED_DATE:
            self.fixed_on = due_on or self.fixed_on
            self.nominal = self.fixed_on
        else:
            self.nominal = self.local_date(at) + dt.timedelta(days=budget)

    def check_break(self, start: dt.datetime, end: dt.datetime | None, what: str) -> None:
        breaks = list(self.breaks)
        if self.pause_started is not None:
            breaks.append((self.pause_started, None, "中止期间"))
        for other_start, other_end, other_what in breaks:
            if (other_end is None or start < other_end) and (end is None or other_start < end):
                shown_end = f"{self.fmt(other_end)}" if other_end else "恢复前"
                raise ClockEventError(
                    f"{what}与已有的{other_what}（{self.fmt(other_start)} 至 {shown_end}）重叠，时间不能重复扣除"
                )

    # -- events

    def apply(self, event: EventSpec) -> None:
        at = parse_instant(event.at, what="事件时间")
        kind = event.kind
        label = ClockEventKind(kind).label if kind in ClockEventKind.values else kind
        if self.last_at is not None and at < self.last_at:
            raise ClockEventError(
                f"{label}时间 {self.fmt(at)} 早于上一事件（{self.fmt(self.last_at)}），事件须按时间顺序登记"
            )
        if kind == ClockEventKind.START:
            if self.state:
                raise ClockEventError("时限已经开始，不能再次开始；需要重新计时请用“重新计时”")
            if self.unit == BudgetUnit.FIXED_DATE:
                self.start(at, 0, parse_date(event.data.get("due_on"), what="截止日期"))
            else:
                self.start(at, positive_int(event.data.get("budget"), what="时限"))
        elif not self.state:
            raise ClockEventError("时限尚未开始")
        elif self.state == ClockState.STOPPED:
            raise ClockEventError(f"时限已于 {self.fmt(self.stopped_at)} 停止，不能再{label}")
        elif kind == ClockEventKind.PAUSE:
            self.pause(at)
        elif kind == ClockEventKind.RESUME:
            self.resume(at)
        elif kind == ClockEventKind.EXTEND:
            self.extend(positive_int(event.data.get("amount"), what="延期数量"))
        elif kind == ClockEventKind.EXCLUDE:
            self.exclude(
                parse_instant(event.data.get("from"), what="扣除开始时间"),
                parse_instant(event.data.get("to"), what="扣除结束时间"),
            )
        elif kind == ClockEventKind.RESTART and self.unit == BudgetUnit.FIXED_DATE:
            due_on = event.data.get("due_on")
            self.start(at, 0, None if due_on is None else parse_date(due_on, what="截止日期"))
        elif kind == ClockEventKind.RESTART:
            budget = event.data.get("budget")
            self.start(at, self.budget if budget is None else positive_int(budget, what="时限"))
        elif kind == ClockEventKind.STOP:
            self.stopped_while_paused = self.state == ClockState.PAUSED
            self.state = ClockState.STOPPED
            self.stopped_at = at
        else:
            raise ClockEventError(f"未知的时限事件 {kind!r}")
        self.last_at = at

    def pause(self, at: dt.datetime) -> None:
        if self.state != ClockState.RUNNING:
            raise ClockEventError("时限已中止，不能重复中止")
        if self.unit in BudgetUnit.DAY_UNITS:
            self.remaining = (self.nominal - self.local_date(at)).days
        else:
            # May be negative: a clock paused when already overdue stays overdue by as much after resuming.
            self.remaining = self.due_b - max(self.B(at), self.anchor_b)
        self.check_break(at, None, "中止")
        self.pause_started = at
        self.state = ClockState.PAUSED

    def resume(self, at: dt.datetime) -> None:
        if self.state != ClockState.PAUSED:
            raise ClockEventError("时限未中止，无需恢复")
        self.breaks.append((self.pause_started or at, at, "中止期间"))
        self.pause_started = None
        if self.unit in BudgetUnit.DAY_UNITS:
            self.nominal = self.local_date(at) + dt.timedelta(days=self.remaining)
        elif self.unit == BudgetUnit.WORK_MINUTES:
            self.due_b = self.B(at, ceil=True) + self.remaining
        else:
            self.due_b = self.round_up_to_close(self.B(at, ceil=True) + self.remaining)
            if self.pending_days:
                self.extend_workdays(self.pending_days)
        self.pending_days = 0
        self.state = ClockState.RUNNING

    def extend_workdays(self, n: int) -> None:
        due_day = self.ix.day_of_ordinal(self.due_b)
        self.due_b = self.ix.close_of_business_ordinal(
            self.ix.add_workdays(due_day, n, provisional=True), provisional=True
        )

    def extend(self, n: int) -> None:
        paused = self.state == ClockState.PAUSED
        if self.unit == BudgetUnit.WORK_MINUTES:
            if paused:
                self.remaining += n
            else:
                self.due_b += n
        elif self.unit == BudgetUnit.WORKDAYS:
            if paused:
                self.pending_days += n
            else:
                self.extend_workdays(n)
        elif paused:
            self.remaining += n
        else:
            # Counted from the effective deadline (already moved off a day off), then rolled again.
            self.nominal = self.natural_due_day() + dt.timedelta(days=n)

    def exclude(self, start: dt.datetime, end: dt.datetime) -> None:
        if end <= start:
            raise ClockEventError(f"扣除区间 {self.fmt(start)} 至 {self.fmt(end)} 无效：结束须晚于开始")
        if end <= self.anchor_at:
            raise ClockEventError(f"扣除区间在计时开始（{self.fmt(self.anchor_at)}）之前结束，对时限没有影响")
        start = max(start, self.anchor_at)
        self.check_break(start, end, "扣除区间")
        self.breaks.append((start, end, "扣除区间"))
        paused = self.state == ClockState.PAUSED
        if self.unit in BudgetUnit.DAY_UNITS:
            days = ceil_days(end - start)
            if paused:
                self.remaining += days
            else:
                self.nominal += dt.timedelta(days=days)
            return
        amount = self.B(end) - self.B(start)
        if paused:
            self.remaining += amount
        elif self.unit == BudgetUnit.WORK_MINUTES:
            self.due_b += amount
        else:
            self.due_b = self.round_up_to_close(self.due_b + amount)

    # -- result

    def outcome(self) -> ClockOutcome:
        if not self.state:
            raise ClockEventError("时限没有开始事件")
        anchor_day = self.local_date(self.anchor_at)
        if self.state == ClockState.PAUSED or self.stopped_while_paused:
            remaining = self.remaining * DAY_MINUTES if self.unit in BudgetUnit.DAY_UNITS else self.remaining
            last = self.pause_started or self.anchor_at
            return ClockOutcome(
                state=self.state,
                due_b=None,
                warn_b=None,
                due_at=None,
                warn_at=None,
                remaining_minutes=remaining,
                provisional=not self.ix.is_settled(anchor_day, self.local_date(last)),
                stopped_at=self.stopped_at,
            )
        ix = self.ix
        if self.unit in BudgetUnit.DAY_UNITS:
            due_day = self.natural_due_day()
            due_b = ix.close_of_business_ordinal(due_day, provisional=True)
            due_at = ix.from_business_ordinal(due_b, provisional=True)
            warn_at = None
            if self.warn_before:
                # Never after the deadline: a fixed-date clock started past its date warns at once.
                warn_at = min(max(due_at - dt.timedelta(days=self.warn_before), self.anchor_at), due_at)
            warn_b = self.B(warn_at) if warn_at else None
        else:
            due_b = self.due_b
            due_at = ix.from_business_ordinal(due_b, provisional=True)
            due_day = self.local_date(due_at)
            warn_b = None
            if self.warn_before and self.unit == BudgetUnit.WORK_MINUTES:
                warn_b = max(due_b - self.warn_before, self.anchor_b)
            elif self.warn_before:
                warn_day = ix.add_workdays(ix.day_of_ordinal(due_b), -self.warn_before, provisional=True)
                warn_b = max(ix.close_of_business_ordinal(warn_day, provisional=True), self.anchor_b)
            warn_at = ix.from_business_ordinal(warn_b, provisional=True) if warn_b is not None else None
            if warn_at is not None and warn_at < self.anchor_at:
                warn_at = self.anchor_at
        return ClockOutcome(
            state=self.state,
            due_b=due_b,
            warn_b=warn_b,
            due_at=due_at,
            warn_at=warn_at,
            remaining_minutes=None,
            provisional=not ix.is_settled(anchor_day, due_day),
            stopped_at=self.stopped_at,
        )


def replay(
    index: CalendarIndex, *, budget_unit: str, warn_before: int, events: Iterable[EventSpec]
) -> ClockOutcome:
    """Fold the events (in order) into the clock's state and deadline under `index`."""
    state = _Replay(index, budget_unit, warn_before)
    for event in events:
        state.apply(event)
    return state.outcome()
