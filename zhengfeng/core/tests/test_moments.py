import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from zhengfeng.core.moments import plausible_day, plausible_moment

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 16, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2000, 1, 1, tzinfo=SHANGHAI),
        NOW,
        NOW + dt.timedelta(days=1),
    ],
)
def test_times_inside_the_window_pass_unchanged(value):
    assert plausible_moment(value, field="受理时间", now=NOW) == value


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC), "9999-12-31 23:59:59"),
        (dt.datetime(1, 1, 1, tzinfo=dt.UTC), "0001-01-01 00:00:00"),
        (dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=SHANGHAI), "1999-12-31 23:59:59"),
        (NOW + dt.timedelta(days=1, seconds=1), "2026-11-17 02:00:01"),
    ],
)
def test_times_outside_the_window_are_refused_naming_the_field(value, shown):
    with pytest.raises(ValidationError) as error:
        plausible_moment(value, field="受理时间", now=NOW)

    assert error.value.code == "implausible_time"
    assert error.value.messages == [f"受理时间 {shown} 不在合理范围内（2000-01-01 至 2026-11-17 10:00）"]


def test_a_naive_time_is_refused():
    with pytest.raises(ValidationError) as error:
        plausible_moment(dt.datetime(2026, 1, 1), field="接收时间", now=NOW)  # noqa: DTZ001 (the case tested)

    assert error.value.messages == ["接收时间必须是带时区的日期时间：2026-01-01 00:00:00"]


def test_days_use_the_same_window():
    assert plausible_day(dt.date(2026, 11, 17), field="end_date", now=NOW) == dt.date(2026, 11, 17)
    for day in (dt.date(9999, 12, 31), dt.date(1, 1, 1), dt.date(2026, 11, 18)):
        with pytest.raises(ValidationError) as error:
            plausible_day(day, field="end_date", now=NOW)
        assert error.value.messages == [
            f"end_date {day.isoformat()} 不在合理范围内（2000-01-01 至 2026-11-17）"
        ]
