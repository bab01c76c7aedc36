"""Clocks: start, pause/resume across 国庆, extend, exclude, restart, stop; queries and the alerts helpers."""

from __future__ import annotations

import datetime as dt

import pytest

from zhengfeng.core.models import AuditLog
from zhengfeng.deadlines import queries
from zhengfeng.deadlines.models import BudgetUnit, Clock, ClockEvent, ClockState
from zhengfeng.deadlines.replay import ClockEventError
from zhengfeng.deadlines.services import apply_clock_event, start_clock
from zhengfeng.deadlines.tests.helpers import local

pytestmark = pytest.mark.django_db


def make_clock(
    unit, *, source_id="WO-1", budget_unit=BudgetUnit.WORKDAYS, budget=10, warn_before=0, started_at, by=None
):
    return start_clock(
        source_type="hotline.workorder",
        source_id=source_id,
        kind="reply",
        label=f"工单 {source_id} 答复",
        unit=unit,
        division_code="",
        budget_unit=budget_unit,
        budget=budget,
        warn_before=warn_before,
        started_at=started_at,
        by=by,
    )


def test_workday_clock_ends_at_close_of_business_and_uses_make_up_days(unit_a, liaison_a):
    # Start day 09-21 not counted; 09-25 中秋 and 10-01..07 off; 10-10 (Saturday) is a 补班.
    clock = make_clock(unit_a, started_at=local(2026, 9, 21, 10, 0), warn_before=2, by=liaison_a)
    clock.refresh_from_db()
    assert (clock.state, clock.due_at, clock.warn_at, clock.provisional) == (
        ClockState.RUNNING,
        local(2026, 10, 12, 17, 30),
        local(2026, 10, 9, 17, 30),
        False,
    )
    assert clock.division_code == "441800"
    assert list(clock.events.values_list("kind", "data")) == [("start", {"budget": 10})]
    log = AuditLog.objects.get(action="clock.started")
    assert (log.actor_id, log.target_id, log.division_code, log.data["due_at"]) == (
        liaison_a.pk,
        str(clock.pk),
        "441800",
        "2026-10-12T17:30:00+08:00",
    )


def test_clock_started_after_hours_or_on_a_day_off_starts_at_the_next_working_instant(unit_a):
    friday_evening = make_clock(unit_a, source_id="A", budget=1, started_at=local(2026, 3, 6, 18, 0))
    saturday = make_clock(unit_a, source_id="B", budget=1, started_at=local(2026, 3, 7, 10, 0))
    friday_noon = make_clock(unit_a, source_id="C", budget=1, started_at=local(2026, 3, 6, 12, 30))
    assert [friday_evening.due_at, saturday.due_at, friday_noon.due_at] == [
        local(2026, 3, 10, 17, 30),
        local(2026, 3, 10, 17, 30),
        local(2026, 3, 9, 17, 30),
    ]
    minutes = make_clock(unit_a, source_id="D", budget_unit=BudgetUnit.WORK_MINUTES, budget=60,
                         started_at=local(2026, 3, 7, 10, 0))  # fmt: skip
    assert minutes.due_at == local(2026, 3, 9, 9, 30)


def test_pause_and_resume_across_national_day(unit_a):
    clock = make_clock(unit_a, started_at=local(2026, 9, 21, 10, 0))
    apply_clock_event(clock, "pause", at=local(2026, 9, 29, 10, 0), reason="中止：等待补充材料")
    # Left: 300 min on 09-29, 390 on 09-30, 10-08, 10-09, 10-10 (补班) and 10-12.
    assert (clock.state, clock.due_at, clock.warn_at, clock.remaining_minutes) == (
        ClockState.PAUSED,
        None,
        None,
        300 + 5 * 390,
    )
    apply_clock_event(clock, "resume", at=local(2026, 10, 9, 10, 0))
    # The pause took 3 working days (09-29 10:00 → 10-09 10:00), so the deadline moves 10-12 → 10-15.
    clock.refresh_from_db()
    assert (clock.state, clock.due_at, clock.remaining_minutes) == (
        ClockState.RUNNING,
        local(2026, 10, 15, 17, 30),
        None,
    )
    assert list(clock.events.values_list("kind", flat=True)) == ["start", "pause", "resume"]
    assert list(AuditLog.objects.order_by("seq").values_list("action", flat=True)) == [
        "clock.started",
        "clock.paused",
        "clock.resumed",
    ]


def test_work_minute_clock_pause_keeps_the_remaining_minutes(unit_a):
    clock = make_clock(
        unit_a, budget_unit=BudgetUnit.WORK_MINUTES, budget=5 * 390, started_at=local(2026, 2, 13, 16, 0)
    )
    assert clock.due_at == local(2026, 2, 27, 16, 0)
    apply_clock_event(clock, "pause", at=local(2026, 2, 14, 9, 0))  # after 90 + 30 minutes
    assert clock.remaining_minutes == 5 * 390 - 120
    apply_clock_event(clock, "resume", at=local(2026, 2, 24, 8, 30))
    # 1830 minutes from 02-24 08:30: 02-24..02-27 give 1560, 270 more on the 补班 Saturday 02-28.
    assert clock.due_at == local(2026, 2, 28, 15, 30)


def test_extend_running_and_paused(unit_a):
    clock = make_clock(unit_a, budget=5, started_at=local(2026, 3, 2, 9, 0))
    assert clock.due_at == local(2026, 3, 9, 17, 30)
    apply_clock_event(
        clock, "extend", at=local(2026, 3, 5, 9, 0), data={"amount": 3, "approval": "延期审批 12 号"}
    )
    assert clock.due_at == local(2026, 3, 12, 17, 30)
    assert ClockEvent.objects.get(kind="extend").data == {"amount": 3, "approval": "延期审批 12 号"}
    apply_clock_event(clock, "pause", at=local(2026, 3, 12, 8, 30))
    apply_clock_event(clock, "extend", at=local(2026, 3, 12, 9, 0), data={"amount": 2})
    apply_clock_event(clock, "resume", at=local(2026, 3, 16, 8, 30))
    # One full day (390) remained at the pause: 03-16 close, then two more working days.
    assert clock.due_at == local(2026, 3, 18, 17, 30)


def test_exclude_an_interval_for_minutes_and_workdays(unit_a):
    minutes = make_clock(unit_a, source_id="M", budget_unit=BudgetUnit.WORK_MINUTES, budget=780,
                         started_at=local(2026, 3, 2, 9, 0))  # fmt: skip
    assert minutes.due_at == local(2026, 3, 4, 9, 0)
    apply_clock_event(
        minutes, "exclude", at=local(2026, 3, 3, 15, 0),
        data={"from": local(2026, 3, 2, 14, 30), "to": local(2026, 3, 3, 12, 0)}, reason="检测",
    )  # fmt: skip
    assert minutes.due_at == local(2026, 3, 5, 9, 0)
    days = make_clock(unit_a, source_id="W", budget=5, started_at=local(2026, 3, 2, 9, 0))
    apply_clock_event(
        days, "exclude", at=local(2026, 3, 5, 9, 0),
        data={"from": local(2026, 3, 3, 8, 30).isoformat(), "to": local(2026, 3, 5, 8, 30).isoformat()},
    )  # fmt: skip
    assert days.due_at == local(2026, 3, 11, 17, 30)


def test_exclusion_overlapping_a_pause_is_refused_and_nothing_is_saved(unit_a):
    clock = make_clock(unit_a, budget=5, started_at=local(2026, 3, 2, 9, 0))
    apply_clock_event(clock, "pause", at=local(2026, 3, 3, 9, 0))
    apply_clock_event(clock, "resume", at=local(2026, 3, 4, 9, 0))
    with pytest.raises(ClockEventError, match="重叠"):
        apply_clock_event(
            clock, "exclude", at=local(2026, 3, 5, 9, 0),
            data={"from": local(2026, 3, 3, 14, 0), "to": local(2026, 3, 5, 8, 30)},
        )  # fmt: skip
    assert ClockEvent.objects.filter(clock=clock).count() == 3
    assert AuditLog.objects.filter(action="clock.excluded").count() == 0


def test_restart_gives_a_new_budget_from_its_instant(unit_a):
    clock = make_clock(unit_a, budget=5, started_at=local(2026, 3, 2, 9, 0))
    apply_clock_event(clock, "pause", at=local(2026, 3, 3, 9, 0))
    apply_clock_event(clock, "restart", at=local(2026, 3, 4, 10, 0), data={"budget": 3}, reason="重新受理")
    assert (clock.state, clock.due_at) == (ClockState.RUNNING, local(2026, 3, 9, 17, 30))


def test_stop_freezes_lateness(unit_a):
    clock = make_clock(unit_a, budget=5, started_at=local(2026, 3, 2, 9, 0))
    apply_clock_event(clock, "stop", at=local(2026, 3, 10, 9, 0), reason="已答复")
    clock.refresh_from_db()
    assert (clock.state, clock.stopped_at, clock.due_at, clock.is_late) == (
        ClockState.STOPPED,
        local(2026, 3, 10, 9, 0),
        local(2026, 3, 9, 17, 30),
        True,
    )
    with pytest.raises(ClockEventError, match="已于 2026-03-10 09:00 停止"):
        apply_clock_event(clock, "extend", at=local(2026, 3, 11, 9, 0), data={"amount": 5})


def test_natural_day_clock_moves_off_national_day(unit_a):
    clock = make_clock(unit_a, budget_unit=BudgetUnit.NATURAL_DAYS, budget=7, warn_before=2,
                       started_at=local(2026, 9, 25, 10, 0))  # fmt: skip
    assert (clock.due_at, clock.warn_at) == (local(2026, 10, 8, 17, 30), local(2026, 10, 6, 17, 30))
    apply_clock_event(clock, "pause", at=local(2026, 9, 27, 10, 0))
    assert clock.remaining_minutes == 5 * 1440  # 09-27 → nominal 10-02
    apply_clock_event(clock, "resume", at=local(2026, 9, 30, 10, 0))
    assert clock.due_at == local(2026, 10, 8, 17, 30)  # 10-05 is off: next working day


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        ("resume", None, "未中止"),
        ("extend", {"amount": 0}, "延期数量必须是正整数"),
        ("extend", {}, "延期数量必须是正整数"),
        (
            "exclude",
            {"from": "2026-03-05T09:00:00+08:00", "to": "2026-03-04T09:00:00+08:00"},
            "结束须晚于开始",
        ),
        ("exclude", {"from": "2026-03-04 09:00", "to": "2026-03-05T09:00:00+08:00"}, "缺少时区"),
        ("start", None, "不支持的时限事件"),
        ("fly", None, "不支持的时限事件"),
    ],
)
def test_bad_events_are_refused_with_a_clear_message(unit_a, kind, data, message):
    clock = make_clock(unit_a, budget=5, started_at=local(2026, 3, 2, 9, 0))
    with pytest.raises(ClockEventError, match=message):
        apply_clock_event(clock, kind, at=local(2026, 3, 6, 9, 0), data=data)
    assert ClockEvent.objects.filter(clock=clock).count() == 1


def test_events_out_of_order_are_refused(unit_a):
    clock = make_clock(unit_a, budget=5, started_at=local(2026, 3, 2, 9, 0))
    apply_clock_event(clock, "pause", at=local(2026, 3, 4, 9, 0))
    with pytest.raises(ClockEventError, match="早于上一事件"):
        apply_clock_event(clock, "resume", at=local(2026, 3, 3, 9, 0))


def test_bad_starts_are_refused(unit_a):
    with pytest.raises(ClockEventError, match="时限必须是正整数"):
        make_clock(unit_a, budget=0, started_at=local(2026, 3, 2, 9, 0))
    with pytest.raises(ClockEventError, match="未知的时限单位"):
        make_clock(unit_a, budget_unit="weeks", started_at=local(2026, 3, 2, 9, 0))
    with pytest.raises(ClockEventError, match="缺少时区"):
        make_clock(unit_a, started_at=dt.datetime(2026, 3, 2, 9, 0))  # noqa: DTZ001 - the bad input under test
    make_clock(unit_a, started_at=local(2026, 3, 2, 9, 0))
    with pytest.raises(ClockEventError, match="已有“reply”时限"):
        make_clock(unit_a, started_at=local(2026, 3, 2, 9, 0))
    assert Clock.objects.count() == 1


def test_deadline_past_the_calendar_is_provisional(unit_a):
    clock = make_clock(unit_a, started_at=local(2026, 12, 28, 10, 0))
    assert (clock.due_at, clock.provisional) == (local(2027, 1, 11, 17, 30), True)


def test_overdue_due_soon_and_scoping(unit_a, unit_b, county_unit, liaison_a, county_office, city_office):
    late = make_clock(unit_a, source_id="late", budget=1, started_at=local(2026, 3, 2, 9, 0))
    soon = make_clock(unit_b, source_id="soon", budget=3, warn_before=1, started_at=local(2026, 3, 2, 9, 0))
    later = make_clock(
        county_unit, source_id="later", budget=20, warn_before=1, started_at=local(2026, 3, 2, 9, 0)
    )
    at = local(2026, 3, 5, 10, 0)
    assert list(queries.overdue(at)) == [late]
    assert list(queries.due_soon(at)) == [soon]
    assert list(queries.clocks_for(liaison_a)) == [late]
    assert list(queries.clocks_for(county_office)) == [later]
    assert sorted(c.pk for c in queries.clocks_for(city_office)) == [late.pk, soon.pk, later.pk]


def test_workdays_overdue_and_cutoff_agree(unit_a):
    clock = make_clock(unit_a, budget=4, started_at=local(2026, 3, 2, 9, 0))
    assert clock.due_at == local(2026, 3, 6, 17, 30)  # a Friday
    expectations = [
        (local(2026, 3, 6, 18, 0), 0),
        (local(2026, 3, 9, 10, 0), 0),
        (local(2026, 3, 10, 0, 0), 1),
        (local(2026, 3, 12, 8, 0), 3),
        (local(2026, 3, 16, 8, 0), 5),
    ]
    assert [queries.workdays_overdue(clock, at) for at, _ in expectations] == [n for _, n in expectations]
    for at, overdue_days in expectations:
        for n in range(7):
            cutoff = queries.overdue_cutoff(at, n)
            assert (clock.due_at < cutoff) == (overdue_days >= n and clock.due_at < at), (at, n)
    assert queries.overdue_cutoff(local(2026, 3, 12, 8, 0), 3) == local(2026, 3, 9, 0, 0)
    with pytest.raises(ValueError, match="不能为负数"):
        queries.overdue_cutoff(local(2026, 3, 12, 8, 0), -1)


def test_exclusion_recorded_while_paused_then_resume(unit_a):
    clock = make_clock(unit_a, budget=5, started_at=local(2026, 3, 2, 9, 0))
    apply_clock_event(clock, "pause", at=local(2026, 3, 5, 8, 30))
    # 03-03 and 03-04 (a test before the pause) do not count: 780 more minutes remain.
    apply_clock_event(
        clock, "exclude", at=local(2026, 3, 5, 9, 0),
        data={"from": local(2026, 3, 3, 8, 30), "to": local(2026, 3, 5, 8, 30)},
    )  # fmt: skip
    assert clock.remaining_minutes == 3 * 390 + 780
    with pytest.raises(ClockEventError, match="重叠"):
        apply_clock_event(
            clock, "exclude", at=local(2026, 3, 6, 9, 0),
            data={"from": local(2026, 3, 5, 14, 30), "to": local(2026, 3, 6, 8, 30)},
        )  # fmt: skip
    apply_clock_event(clock, "resume", at=local(2026, 3, 9, 8, 30))
    assert clock.due_at == local(2026, 3, 13, 17, 30)


def test_stopped_while_paused_has_no_deadline_and_is_not_late(unit_a):
    clock = make_clock(unit_a, budget=1, started_at=local(2026, 3, 2, 9, 0))
    apply_clock_event(clock, "pause", at=local(2026, 3, 2, 10, 0))
    apply_clock_event(clock, "stop", at=local(2026, 3, 20, 10, 0), reason="撤回")
    assert (clock.state, clock.due_at, clock.is_late) == (ClockState.STOPPED, None, False)
