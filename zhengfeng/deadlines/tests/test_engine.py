"""The calendar engine on the committed seed file: vectors, yearly counts, coverage, batches, properties."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhengfeng.deadlines.engine import CalendarCoverageError, CalendarIndex, DayException, Schedule
from zhengfeng.deadlines.tests.helpers import (
    CN,
    TZ,
    brute_add,
    brute_add_minutes,
    brute_count,
    brute_elapsed,
    brute_is_work,
    local,
)

D = dt.date


def test_add_workdays_vectors():
    assert CN.add_workdays(D(2026, 9, 30), 5) == D(2026, 10, 13)
    assert CN.add_workdays(D(2015, 3, 31), 5) == D(2015, 4, 8)
    assert CN.add_workdays(D(2026, 2, 15), 1) == D(2026, 2, 24)
    assert CN.add_workdays(D(2026, 10, 13), -5) == D(2026, 9, 30)
    assert CN.add_workdays(D(2026, 10, 3), 0) == D(2026, 10, 3)


def test_quarter_report_due_dates_2015():
    quarter_ends = [D(2015, 3, 31), D(2015, 6, 30), D(2015, 9, 30), D(2015, 12, 31)]
    assert [CN.add_workdays(d, 5) for d in quarter_ends] == [
        D(2015, 4, 8),
        D(2015, 7, 7),
        D(2015, 10, 13),
        D(2016, 1, 8),
    ]


def test_count_vector():
    assert CN.count_workdays(D(2023, 12, 31), D(2024, 12, 31)) == 251
    assert CN.count_workdays(D(2024, 12, 31), D(2023, 12, 31)) == -251


YEAR_COUNTS = {
    2007: 249, 2008: 251, 2009: 250, 2010: 250, 2011: 250, 2012: 249, 2013: 250, 2014: 250, 2015: 249,
    2016: 250, 2017: 249, 2018: 250, 2019: 250, 2020: 249, 2021: 250, 2022: 249, 2023: 249,
    2024: 251, 2025: 248, 2026: 248,
}  # fmt: skip


def test_working_days_per_year():
    counts = {year: CN.count_workdays(D(year - 1, 12, 31), D(year, 12, 31)) for year in YEAR_COUNTS}
    assert counts == YEAR_COUNTS


def test_make_up_days_are_working_days():
    makeup = {
        2024: ["02-04", "02-18", "04-07", "04-28", "05-11", "09-14", "09-29", "10-12"],
        2025: ["01-26", "02-08", "04-27", "09-28", "10-11"],
        2026: ["01-04", "02-14", "02-28", "05-09", "09-20", "10-10"],
    }
    for year, days in makeup.items():
        weekend_workdays = [
            f"{d:%m-%d}" for d in (D(year, 1, 1) + dt.timedelta(days=i) for i in range(366))
            if d.year == year and d.weekday() >= 5 and CN.is_workday(d)
        ]  # fmt: skip
        assert weekend_workdays == days


def test_2026_holidays_are_off():
    off = ["01-01", "01-02", "02-16", "02-17", "02-18", "02-19", "02-20", "02-23", "04-06", "05-01", "05-04",
           "05-05", "06-19", "09-25", "10-01", "10-02", "10-05", "10-06", "10-07"]  # fmt: skip
    weekday_offs = [
        f"{d:%m-%d}" for d in (D(2026, 1, 1) + dt.timedelta(days=i) for i in range(365))
        if d.weekday() < 5 and not CN.is_workday(d)
    ]  # fmt: skip
    assert weekday_offs == off


def test_cross_year_entries_and_the_2005_regression():
    assert CN.is_workday(D(2005, 12, 31)) is True  # Saturday 补班 from the 2006 notice
    assert CN.is_workday(D(2018, 12, 29)) is True
    assert CN.is_workday(D(2018, 12, 31)) is False
    assert CN.day_info(D(2005, 12, 31)).label == "补班（元旦）"


def test_work_minutes_vector_over_spring_festival():
    assert CN.add_work_minutes(local(2026, 2, 13, 16, 0), 5 * 390) == local(2026, 2, 27, 16, 0)


def test_budget_ending_at_noon_ends_at_noon_and_out_of_hours_starts_at_opening():
    assert CN.add_work_minutes(local(2026, 3, 2, 8, 30), 210) == local(2026, 3, 2, 12, 0)
    assert CN.add_work_minutes(local(2026, 3, 2, 8, 30), 211) == local(2026, 3, 2, 14, 31)
    assert CN.add_work_minutes(local(2026, 3, 7, 10, 0), 1) == local(2026, 3, 9, 8, 31)  # Saturday
    assert CN.add_work_minutes(local(2026, 3, 2, 12, 59, 30), 1) == local(2026, 3, 2, 14, 31)  # lunch


def test_business_ordinal_is_monotonic_and_round_trips():
    t = local(2026, 2, 13, 16, 0)
    assert CN.from_business_ordinal(CN.business_ordinal(t)) == t
    assert CN.elapsed_work_minutes(local(2026, 2, 13, 8, 30), local(2026, 2, 24, 8, 30)) == 2 * 390


def test_natural_days_move_off_a_day_off():
    assert CN.add_natural_days(D(2026, 9, 25), 7) == D(2026, 10, 8)
    assert CN.add_natural_days(D(2026, 3, 2), 3) == D(2026, 3, 5)


def test_coverage_errors_name_the_covered_range():
    with pytest.raises(CalendarCoverageError, match=r"2027-01-06.*2004-01-01 至 2026-12-31"):
        CN.add_workdays(D(2026, 12, 30), 5)
    with pytest.raises(CalendarCoverageError, match="2003-12-31"):
        CN.is_workday(D(2003, 12, 31))
    with pytest.raises(CalendarCoverageError, match="2004-01-01 至 2026-12-31"):
        CN.count_workdays(D(2026, 12, 1), D(2027, 1, 10))
    with pytest.raises(CalendarCoverageError):
        CN.add_work_minutes(local(2026, 12, 31, 16, 0), 390)


def test_provisional_extends_with_the_weekday_rule_and_is_marked():
    assert CN.add_workdays(D(2026, 12, 30), 5, provisional=True) == D(2027, 1, 6)
    assert CN.is_settled(D(2026, 12, 30), D(2027, 1, 6)) is False
    assert CN.is_settled(D(2026, 9, 30), D(2026, 10, 13)) is True
    assert CN.count_workdays(D(2026, 12, 31), D(2027, 12, 31), provisional=True) == 261
    assert CN.add_work_minutes(local(2026, 12, 31, 16, 0), 390, provisional=True) == local(2027, 1, 1, 16, 0)
    with pytest.raises(CalendarCoverageError, match="可计算范围"):
        CN.add_workdays(D(2036, 12, 1), 60, provisional=True)


def test_provisional_exception_marks_results():
    index = CalendarIndex(
        coverage_start=D(2026, 1, 1),
        coverage_end=D(2026, 12, 31),
        exceptions=[DayException(D(2026, 3, 10), True, "临时", provisional=True)],
    )
    assert index.add_workdays(D(2026, 3, 9), 1) == D(2026, 3, 11)
    assert index.is_settled(D(2026, 3, 9), D(2026, 3, 11)) is False
    assert index.is_settled(D(2026, 3, 11), D(2026, 3, 20)) is True


def test_seasonal_schedule_changes_working_minutes_on_its_dates_only():
    summer = Schedule(intervals=((8 * 60, 12 * 60), (15 * 60, 18 * 60)), effective_from=D(2026, 6, 1),
                      effective_to=D(2026, 9, 30), name="夏季作息")  # fmt: skip
    index = CalendarIndex(
        coverage_start=D(2026, 1, 1), coverage_end=D(2026, 12, 31), schedules=[Schedule(), summer]
    )
    assert (index.day_minutes(D(2026, 5, 29)), index.day_minutes(D(2026, 6, 1))) == (390, 420)
    assert index.add_work_minutes(local(2026, 6, 1, 8, 0), 241) == local(2026, 6, 1, 15, 1)
    # 10 minutes left on 09-30 (closes at 18:00), then the standard schedule (this index has no holidays).
    assert index.add_work_minutes(local(2026, 9, 30, 17, 50), 60) == local(2026, 10, 1, 9, 20)


def test_overlapping_schedule_intervals_are_refused():
    with pytest.raises(ValueError, match="不重叠"):
        Schedule(intervals=((510, 720), (700, 1050)), name="错误")


def test_batches_equal_scalars():
    rng = np.random.default_rng(7)
    starts = np.datetime64("2004-01-01") + rng.integers(0, 8300, 2000)
    n = rng.integers(-30, 61, 2000)
    got = CN.add_workdays_batch(starts, n)
    want = [CN.add_workdays(d.astype(dt.date), int(k)) for d, k in zip(starts, n, strict=True)]
    assert got.astype(dt.date).tolist() == want
    ends = starts + rng.integers(0, 90, 2000)
    assert CN.count_workdays_batch(starts, ends).tolist() == [
        CN.count_workdays(a.astype(dt.date), b.astype(dt.date)) for a, b in zip(starts, ends, strict=True)
    ]
    assert CN.is_workday_batch(starts).tolist() == [CN.is_workday(d.astype(dt.date)) for d in starts]
    minutes = starts.astype("datetime64[m]") + rng.integers(0, 1440, 2000)
    budgets = rng.integers(1, 3000, 2000)
    due = CN.add_work_minutes_batch(minutes, budgets)
    want_due = [
        CN.add_work_minutes(m.astype(dt.datetime).replace(tzinfo=TZ), int(b)).replace(tzinfo=None)
        for m, b in zip(minutes, budgets, strict=True)
    ]
    assert due.astype(dt.datetime).tolist() == want_due


def test_batch_outside_coverage_raises_unless_provisional():
    starts = np.array(["2026-12-30"], dtype="datetime64[D]")
    with pytest.raises(CalendarCoverageError, match="2004-01-01 至 2026-12-31"):
        CN.add_workdays_batch(starts, 5)
    assert CN.add_workdays_batch(starts, 5, provisional=True).tolist() == [D(2027, 1, 6)]


days = st.dates(min_value=D(2004, 8, 1), max_value=D(2026, 6, 1))


@settings(max_examples=300, deadline=None)
@given(day=days, n=st.integers(min_value=-40, max_value=40))
def test_add_matches_a_day_by_day_walk(day, n):
    assert CN.add_workdays(day, n) == brute_add(day, n)
    if n > 0:
        assert CN.count_workdays(day, CN.add_workdays(day, n)) == n
    elif n < 0:  # working days in [result, day) number exactly -n
        one = dt.timedelta(days=1)
        assert CN.count_workdays(CN.add_workdays(day, n) - one, day - one) == -n


@settings(max_examples=200, deadline=None)
@given(a=days, span=st.integers(min_value=-200, max_value=200))
def test_count_matches_a_day_by_day_walk(a, span):
    b = a + dt.timedelta(days=span)
    expected = brute_count(a, b) if span >= 0 else -brute_count(b, a)
    assert CN.count_workdays(a, b) == expected
    assert CN.is_workday(a) == brute_is_work(a)


# Naive bounds as hypothesis requires; the local time zone is attached in the map.
instants = st.datetimes(min_value=dt.datetime(2004, 3, 1), max_value=dt.datetime(2026, 11, 30)).map(  # noqa: DTZ001
    lambda t: t.replace(microsecond=0, tzinfo=TZ)
)


@settings(max_examples=150, deadline=None)
@given(t=instants, minutes=st.integers(min_value=1, max_value=2400))
def test_work_minutes_match_a_minute_by_minute_walk(t, minutes):
    due = CN.add_work_minutes(t, minutes)
    assert due == brute_add_minutes(t, minutes)
    assert CN.from_business_ordinal(CN.business_ordinal(due)) == due


@settings(max_examples=100, deadline=None)
@given(t=instants, hours=st.integers(min_value=0, max_value=120))
def test_elapsed_business_time_matches_a_walk(t, hours):
    t1 = t.replace(second=0)
    t2 = t1 + dt.timedelta(hours=hours, minutes=17)
    assert CN.elapsed_work_minutes(t1, t2) == brute_elapsed(t1, t2)
