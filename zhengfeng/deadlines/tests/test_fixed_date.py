"""Fixed-due-date clocks: start, pause/resume, extend, restart, warn_at, and recompute on a calendar import."""

from __future__ import annotations

import datetime as dt

import pytest

from zhengfeng.core.models import AuditLog
from zhengfeng.deadlines.engine import DayException
from zhengfeng.deadlines.models import BudgetUnit, Clock, ClockState
from zhengfeng.deadlines.replay import ClockEventError
from zhengfeng.deadlines.services import apply_clock_event, import_calendar, start_clock
from zhengfeng.deadlines.tests.helpers import SEED_ROWS, local

pytestmark = pytest.mark.django_db


def fixed_clock(unit, *, due_on, started_at, warn_before=3, source_id="S-1"):
    return start_clock(
        source_type="ledger.ledgerstep",
        source_id=source_id,
        kind="ledger_step",
        label=f"步骤 {source_id}",
        unit=unit,
        division_code="",
        budget_unit=BudgetUnit.FIXED_DATE,
        due_on=due_on,
        warn_before=warn_before,
        started_at=started_at,
    )


def test_fixed_date_is_due_at_close_of_business_of_the_date(unit_a):
    clock = fixed_clock(unit_a, due_on=dt.date(2026, 3, 10), started_at=local(2026, 3, 2, 10, 0))
    clock.refresh_from_db()
    assert (clock.state, clock.budget_unit, clock.budget, clock.due_at, clock.warn_at) == (
        ClockState.RUNNING,
        "fixed_date",
        0,
        local(2026, 3, 10, 17, 30),
        local(2026, 3, 7, 17, 30),
    )
    assert list(clock.events.values_list("kind", "data")) == [("start", {"due_on": "2026-03-10"})]
    log = AuditLog.objects.get(action="clock.started")
    assert (log.data["unit"], log.data["due_on"], log.data["due_at"]) == (
        "fixed_date",
        "2026-03-10",
        "2026-03-10T17:30:00+08:00",
    )


def test_a_date_off_moves_to_the_next_working_day(unit_a):
    # 10-01..07 国庆: a date of 10-03 is due at close of business of 10-08.
    clock = fixed_clock(
        unit_a, due_on=dt.date(2026, 10, 3), started_at=local(2026, 9, 21, 10, 0), warn_before=2
    )
    assert (clock.due_at, clock.warn_at) == (local(2026, 10, 8, 17, 30), local(2026, 10, 6, 17, 30))


def test_pause_resume_extend_and_restart(unit_a):
    clock = fixed_clock(unit_a, due_on=dt.date(2026, 3, 10), started_at=local(2026, 3, 2, 10, 0))
    apply_clock_event(clock, "pause", at=local(2026, 3, 4, 10, 0))
    # Paused: no deadline; the calendar days left (03-04 → 03-10) are kept.
    assert (clock.state, clock.due_at, clock.warn_at, clock.remaining_minutes) == (
        ClockState.PAUSED,
        None,
        None,
        6 * 1440,
    )
    apply_clock_event(clock, "resume", at=local(2026, 3, 6, 10, 0))
    # The date moves later by the two whole days paused.
    assert (clock.due_at, clock.warn_at) == (local(2026, 3, 12, 17, 30), local(2026, 3, 9, 17, 30))
    apply_clock_event(clock, "extend", at=local(2026, 3, 9, 9, 0), data={"amount": 2})
    # 03-14 is a Saturday: due on Monday 03-16.
    assert clock.due_at == local(2026, 3, 16, 17, 30)
    apply_clock_event(clock, "restart", at=local(2026, 3, 13, 9, 0), data={"due_on": dt.date(2026, 3, 20)})
    assert (clock.due_at, clock.warn_at) == (local(2026, 3, 20, 17, 30), local(2026, 3, 17, 17, 30))
    assert clock.events.order_by("-id").values_list("data", flat=True)[0] == {"due_on": "2026-03-20"}
    apply_clock_event(clock, "extend", at=local(2026, 3, 16, 9, 0), data={"amount": 3})
    assert clock.due_at == local(2026, 3, 23, 17, 30)
    # A restart without a date returns to the date of the last start or restart.
    apply_clock_event(clock, "restart", at=local(2026, 3, 17, 9, 0))
    assert clock.due_at == local(2026, 3, 20, 17, 30)


def test_started_after_its_date_is_overdue_from_the_start(unit_a):
    clock = fixed_clock(unit_a, due_on=dt.date(2026, 3, 10), started_at=local(2026, 3, 11, 10, 0))
    assert (clock.due_at, clock.warn_at) == (local(2026, 3, 10, 17, 30), local(2026, 3, 10, 17, 30))
    assert list(Clock.objects.overdue(at=local(2026, 3, 11, 10, 0))) == [clock]
    apply_clock_event(clock, "stop", at=local(2026, 3, 12, 9, 0))
    clock.refresh_from_db()
    assert clock.is_late is True


def test_a_calendar_import_recomputes_fixed_date_clocks(unit_a):
    clock = fixed_clock(unit_a, due_on=dt.date(2026, 3, 10), started_at=local(2026, 3, 2, 10, 0))
    rows = [r for r in SEED_ROWS if r.date.year == 2026] + [
        DayException(dt.date(2026, 3, 10), True, "临时调整"),
        DayException(dt.date(2026, 3, 11), True, "临时调整"),
    ]
    result = import_calendar(rows=rows, source="2026 年补充通知")
    clock.refresh_from_db()
    assert (result.recomputed, clock.due_at, clock.warn_at, clock.calendar_version) == (
        1,
        local(2026, 3, 12, 17, 30),
        local(2026, 3, 9, 17, 30),
        2,
    )


@pytest.mark.parametrize(
    ("due_on", "message"),
    [(None, "须给出截止日期"), ("2026-02-30", "不是有效的日期")],
)
def test_bad_fixed_dates_are_refused(unit_a, due_on, message):
    with pytest.raises(ClockEventError, match=message):
        fixed_clock(unit_a, due_on=due_on, started_at=local(2026, 3, 2, 10, 0))
    assert Clock.objects.count() == 0
