"""Calendar imports: new year's notice, mid-year change, recompute of running clocks, bad files."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from zhengfeng.core.models import AuditLog
from zhengfeng.deadlines.engine import DayException
from zhengfeng.deadlines.models import BudgetUnit, CalendarException, Clock, WorkCalendar
from zhengfeng.deadlines.queries import calendar_index
from zhengfeng.deadlines.services import (
    CalendarImportError,
    apply_clock_event,
    import_calendar,
    recompute_clocks,
    set_work_schedule,
)
from zhengfeng.deadlines.tests.helpers import SEED_ROWS, local
from zhengfeng.deadlines.tests.test_clocks import make_clock

pytestmark = pytest.mark.django_db

NOTICE_2027 = """date,kind,name,notice_no,notice_url,provisional
# 2027 年部分节假日安排（测试用虚构数据）
2027-01-01,off,元旦,国办发明电〔2026〕9号,https://www.gov.cn/example-2027,
2027-02-06,work,春节,国办发明电〔2026〕9号,,
2027-02-08,off,春节,国办发明电〔2026〕9号,,
2027-02-09,off,春节,国办发明电〔2026〕9号,,
"""


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


def test_new_year_notice_moves_running_deadlines_and_settles_them(tmp_path, unit_a):
    running = make_clock(unit_a, source_id="run", started_at=local(2026, 12, 28, 10, 0))
    paused = make_clock(unit_a, source_id="paused", started_at=local(2026, 12, 28, 10, 0))
    apply_clock_event(paused, "pause", at=local(2026, 12, 29, 10, 0))
    assert (running.due_at, running.provisional) == (local(2027, 1, 11, 17, 30), True)
    path = tmp_path / "2027.csv"
    path.write_text(NOTICE_2027, encoding="utf-8")

    output = run("calendar", "import", str(path))

    assert output == (
        "已导入 2027 年：4 条（替换原有 0 条）；日历版本 2，覆盖 2004-01-01 至 2027-12-31；"
        "最早变化日 2027-01-01，重算时限 2 个"
    )
    running.refresh_from_db()
    paused.refresh_from_db()
    assert (running.due_at, running.provisional, running.calendar_version) == (
        local(2027, 1, 12, 17, 30),
        False,
        2,
    )
    assert (paused.state, paused.due_at, paused.calendar_version) == ("paused", None, 2)
    assert calendar_index().add_workdays(dt.date(2027, 2, 5), 1) == dt.date(2027, 2, 6)
    log = AuditLog.objects.get(action="calendar.imported")
    assert (log.data["years"], log.data["version"], log.data["notices"]) == (
        [2027],
        2,
        ["国办发明电〔2026〕9号"],
    )


def test_mid_year_change_moves_only_deadlines_after_it(unit_a):
    moved = make_clock(unit_a, source_id="moved", budget=10, started_at=local(2026, 3, 2, 9, 0))
    untouched = make_clock(unit_a, source_id="untouched", budget=5, started_at=local(2026, 3, 2, 9, 0))
    stopped = make_clock(unit_a, source_id="stopped", budget=5, started_at=local(2026, 3, 2, 9, 0))
    apply_clock_event(stopped, "stop", at=local(2026, 3, 10, 9, 0))
    assert (moved.due_at, untouched.due_at, stopped.is_late) == (
        local(2026, 3, 16, 17, 30),
        local(2026, 3, 9, 17, 30),
        True,
    )
    old_b = untouched.due_b
    rows = [r for r in SEED_ROWS if r.date.year == 2026] + [
        DayException(dt.date(2026, 3, 10), True, "临时调整"),
        DayException(dt.date(2026, 3, 11), True, "临时调整"),
    ]

    result = import_calendar(rows=rows, source="2026 年补充通知")

    assert (result.years, result.first_changed, result.recomputed) == ([2026], dt.date(2026, 3, 10), 1)
    for clock in (moved, untouched, stopped):
        clock.refresh_from_db()
    assert moved.due_at == local(2026, 3, 18, 17, 30)
    assert (untouched.due_at, untouched.calendar_version) == (local(2026, 3, 9, 17, 30), 1)
    # Business ordinals before the change are unchanged, so the untouched due_b is still valid.
    assert calendar_index().business_ordinal(untouched.due_at) == old_b
    assert (stopped.due_at, stopped.is_late) == (local(2026, 3, 9, 17, 30), True)


def test_year_option_replaces_one_notice_and_december_dates_one_by_one(unit_a):
    rows = [
        DayException(dt.date(2026, 12, 31), True, "元旦"),
        DayException(dt.date(2027, 1, 1), True, "元旦"),
    ]
    result = import_calendar(rows=rows, year=2027)
    assert (result.years, result.removed, result.coverage_end) == ([2027], 0, dt.date(2027, 12, 31))
    assert (
        CalendarException.objects.filter(date__year=2026).count()
        == len([r for r in SEED_ROWS if r.date.year == 2026]) + 1
    )
    with pytest.raises(CalendarImportError, match="2026-11-30 不属于 2027 年的安排"):
        import_calendar(rows=[DayException(dt.date(2026, 11, 30), True, "x")], year=2027)


def test_a_gap_in_coverage_is_refused():
    with pytest.raises(CalendarImportError, match="缺少 2027 年"):
        import_calendar(rows=[DayException(dt.date(2028, 1, 3), True, "元旦")])
    assert WorkCalendar.objects.get(code="CN").version == 1


def test_json_import(tmp_path):
    path = tmp_path / "2027.json"
    rows = [{"date": "2027-01-01", "kind": "off", "name": "元旦", "provisional": True}]
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    run("calendar", "import", str(path))
    row = CalendarException.objects.get(date=dt.date(2027, 1, 1))
    assert (row.is_off_day, row.name, row.provisional) == (True, "元旦", True)
    # A provisional exception keeps results that touch it provisional.
    assert calendar_index().is_settled(dt.date(2026, 12, 30), dt.date(2027, 1, 4)) is False


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        (
            "date,kind,name\n2027-01-01,off,元旦\n2027-02-30,off,春节\n",
            ".csv",
            "第 3 行：日期 '2027-02-30' 无效",
        ),
        ("date,kind,name\n2027-01-01,holiday,元旦\n", ".csv", "第 2 行：类型 'holiday' 无效"),
        (
            "date,kind\n2027-01-01,off\n2027-01-01,off\n",
            ".csv",
            "第 3 行：日期 2027-01-01 重复（已见于第 2 行）",
        ),
        ("date,kind\n2027-01-02,off\n", ".csv", "第 2 行：2027-01-02 是周六，本来就休息"),
        ("date,kind\n2027-01-04,work\n", ".csv", "第 2 行：2027-01-04 是周一，本来就上班"),
        ("day,kind\n2027-01-01,off\n", ".csv", "第 1 行：表头"),
        ("date,kind\n2027-01-01,off,extra\n", ".csv", "第 2 行：有 3 列"),
        (
            '[{"date": "2027-01-01", "kind": "off"}, {"date": "2027-1-4", "kind": "off"}]',
            ".json",
            "第 2 条记录：日期",
        ),
        ('[{"date": "2027-01-01"\n, ]', ".json", "第 2 行：JSON 格式错误"),
        ("date,kind\n", ".txt", "不支持的文件类型"),
    ],
)
def test_bad_files_change_nothing_and_name_the_line(tmp_path, content, suffix, message):
    path = tmp_path / f"bad{suffix}"
    path.write_text(content, encoding="utf-8")
    before = CalendarException.objects.count()
    with pytest.raises(CommandError, match=message):
        run("calendar", "import", str(path))
    assert (CalendarException.objects.count(), WorkCalendar.objects.get(code="CN").version) == (before, 1)


def test_show_lists_a_years_exceptions():
    lines = run("calendar", "show", "2026").splitlines()
    assert lines[:3] == [
        "2026-01-01 off  元旦 国办发明电〔2025〕7号",
        "2026-01-02 off  元旦 国办发明电〔2025〕7号",
        "2026-01-04 work 元旦 国办发明电〔2025〕7号",
    ]
    assert len(lines) == len([r for r in SEED_ROWS if r.date.year == 2026])
    assert run("calendar", "show", "1999") == "1999 年没有节假日调整记录"
    assert (
        run("calendar", "status")
        == "CN 全国（国务院办公厅节假日安排）：覆盖 2004-01-01 至 2026-12-31，版本 1，调整 558 天"
    )


def test_summer_schedule_recomputes_minute_clocks(unit_a):
    clock = make_clock(
        unit_a, budget_unit=BudgetUnit.WORK_MINUTES, budget=240, started_at=local(2026, 7, 1, 8, 30)
    )
    assert clock.due_at == local(2026, 7, 1, 15, 0)
    set_work_schedule(
        name="夏季作息",
        intervals=[(dt.time(8, 0), dt.time(12, 0)), (dt.time(15, 0), dt.time(18, 0))],
        effective_from=dt.date(2026, 6, 1),
        effective_to=dt.date(2026, 9, 30),
    )
    clock.refresh_from_db()
    assert clock.due_at == local(2026, 7, 1, 15, 30)  # 210 minutes by noon, 30 more from 15:00
    with pytest.raises(ValueError, match="不重叠"):
        set_work_schedule(
            name="错误", intervals=[(dt.time(8, 0), dt.time(12, 0)), (dt.time(11, 0), dt.time(18, 0))]
        )


def test_recompute_works_in_chunks(unit_a):
    for n in range(5):
        make_clock(unit_a, source_id=f"c{n}", budget=3, started_at=local(2026, 12, 28, 9, 0))
    assert recompute_clocks(since=dt.date(2026, 12, 1), chunk_size=2) == 5
    assert set(Clock.objects.values_list("due_at", "provisional")) == {(local(2026, 12, 31, 17, 30), False)}
