import datetime as dt
import json

import pytest
from django.core.management import call_command

from zhengfeng.core.periods import Period
from zhengfeng.deadlines.queries import calendar_index
from zhengfeng.ledger.reports.dates import due_dates, opening_day

pytestmark = pytest.mark.django_db


def test_due_dates_of_2015_are_five_working_days_after_each_quarter():
    assert [(str(d.period), d.due.isoformat(), d.provisional) for d in due_dates(2015)] == [
        ("2015Q1", "2015-04-08", False),
        ("2015Q2", "2015-07-07", False),
        ("2015Q3", "2015-10-13", False),
        ("2015Q4", "2016-01-08", False),
    ]


def test_2026_q3_is_due_after_the_national_day_holiday():
    assert due_dates(2026)[2].due == dt.date(2026, 10, 13)


def test_2026_q4_falls_past_the_calendar_and_is_provisional():
    last = due_dates(2026)[3]
    assert (str(last.period), last.provisional) == ("2026Q4", True)


def test_a_quarter_ending_on_a_weekend_opens_on_its_last_working_day():
    index = calendar_index()
    # 2018-03-31 is a Saturday: the clock starts on Friday 03-30 and still ends 5 working days after 03-31.
    assert opening_day(Period.quarter(2018, 1), index) == dt.date(2018, 3, 30)


def test_reports_due_json(capsys):
    call_command("reports", "due", "2015", "--format", "json")

    assert json.loads(capsys.readouterr().out) == [
        {"period": "2015Q1", "due": "2015-04-08"},
        {"period": "2015Q2", "due": "2015-07-07"},
        {"period": "2015Q3", "due": "2015-10-13"},
        {"period": "2015Q4", "due": "2016-01-08"},
    ]


def test_reports_due_json_is_exactly_the_list(capsys):
    call_command("reports", "due", "2015", "--format", "json")

    assert capsys.readouterr().out == (
        '[{"period": "2015Q1", "due": "2015-04-08"}, {"period": "2015Q2", "due": "2015-07-07"}, '
        '{"period": "2015Q3", "due": "2015-10-13"}, {"period": "2015Q4", "due": "2016-01-08"}]\n'
    )


def test_reports_due_text_marks_provisional_dates(capsys):
    call_command("reports", "due", "2026")

    lines = capsys.readouterr().out.splitlines()
    # 2027 is past the published arrangements: the Monday–Friday rule, marked 暂定.
    assert lines[1:] == [
        "2026Q1  2026-04-08",
        "2026Q2  2026-07-07",
        "2026Q3  2026-10-13",
        "2026Q4  2027-01-07  暂定",
    ]
