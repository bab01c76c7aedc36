"""The seeded CN calendar in the database agrees with the committed file and with chinese_calendar."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from zhengfeng.deadlines.models import CalendarException, WorkCalendar
from zhengfeng.deadlines.queries import calendar_index
from zhengfeng.deadlines.tests.helpers import CN, SEED_ROWS

pytestmark = pytest.mark.django_db


def test_migration_seeds_the_national_calendar_from_the_file():
    calendar = WorkCalendar.objects.get(code="CN")
    assert (calendar.coverage_start, calendar.coverage_end, calendar.version) == (
        dt.date(2004, 1, 1),
        dt.date(2026, 12, 31),
        1,
    )
    assert CalendarException.objects.filter(calendar=calendar).count() == len(SEED_ROWS)
    index = calendar_index()
    assert np.array_equal(index.is_work_array, CN.is_work_array)
    assert np.array_equal(index.cum_minutes_array, CN.cum_minutes_array)


def test_seed_has_notice_numbers_for_2024_to_2026():
    rows = CalendarException.objects.filter(date__gte=dt.date(2024, 1, 1))
    assert sorted({(r.date.year, r.notice_no) for r in rows}) == [
        (2024, "国办发明电〔2023〕7号"),
        (2025, "国办发明电〔2024〕12号"),
        (2026, "国办发明电〔2025〕7号"),
    ]
    assert rows.filter(notice_url="").count() == 0


def test_index_is_cached_per_version():
    assert calendar_index() is calendar_index()


def test_agrees_with_chinese_calendar_except_2005_12_31():
    chinese_calendar = pytest.importorskip("chinese_calendar")
    index = calendar_index()
    day, last = dt.date(2004, 1, 1), dt.date(2026, 12, 31)
    mismatches = []
    while day <= last:
        if index.is_workday(day) != chinese_calendar.is_workday(day):
            mismatches.append(day)
        day += dt.timedelta(days=1)
    assert mismatches == [dt.date(2005, 12, 31)]
