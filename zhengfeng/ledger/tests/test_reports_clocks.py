"""Report deadlines are read from the stored clocks: a calendar import moves the dashboard, the 漏报
detection and the 通报 check with the recomputed clocks (no second computation from the calendar)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from zhengfeng.core.periods import Period
from zhengfeng.deadlines.engine import DayException
from zhengfeng.deadlines.services import import_calendar
from zhengfeng.deadlines.tests.helpers import SEED_ROWS
from zhengfeng.ledger.models import QuarterlyReport
from zhengfeng.ledger.reports import queries, services
from zhengfeng.ledger.tests.conftest import local

pytestmark = pytest.mark.django_db

Q1 = Period.parse("2015Q1")


def move_deadlines():
    """A (fictional) supplementary notice: 04-07, 04-08 and 07-07 become days off, so Q1 falls due on
    04-10 instead of 04-08 and Q2 on 07-08 instead of 07-07."""
    rows = [r for r in SEED_ROWS if r.date.year == 2015] + [
        DayException(dt.date(2015, 4, 7), True, "临时调整"),
        DayException(dt.date(2015, 4, 8), True, "临时调整"),
        DayException(dt.date(2015, 7, 7), True, "临时调整"),
    ]
    return import_calendar(rows=rows, year=2015, source="补充通知")


def q1_cells(matrix):
    return [row.cells[0].status for row in matrix.rows]


def test_the_dashboard_follows_the_recomputed_clocks(scheduled, city_office):
    now = local(2015, 4, 9, 10, 0)
    before = queries.report_matrix(city_office, 2015, now=now)
    assert [c.due for c in before.columns] == [
        dt.date(2015, 4, 8),
        dt.date(2015, 7, 7),
        dt.date(2015, 10, 13),
        dt.date(2016, 1, 8),
    ]
    assert q1_cells(before) == ["overdue", "overdue", "overdue"]

    assert move_deadlines().recomputed == 12

    after = queries.report_matrix(city_office, 2015, now=now)
    assert [c.due for c in after.columns][:2] == [dt.date(2015, 4, 10), dt.date(2015, 7, 8)]
    assert q1_cells(after) == ["pending", "pending", "pending"]
    # Q1 is missing once Q2 falls due: 07-08 17:30 now, no longer 07-07 17:30.
    july = queries.report_matrix(city_office, 2015, now=local(2015, 7, 8, 9, 0))
    assert q1_cells(july) == ["overdue", "overdue", "overdue"]
    july_evening = queries.report_matrix(city_office, 2015, now=local(2015, 7, 8, 18, 0))
    assert q1_cells(july_evening) == ["missing", "missing", "missing"]


def test_missing_reports_follow_the_recomputed_next_period(scheduled):
    move_deadlines()

    assert services.record_missing_reports(local(2015, 7, 8, 9, 0)) == 0
    assert services.record_missing_reports(local(2015, 7, 8, 18, 0)) == 3
    assert QuarterlyReport.objects.filter(period="2015Q1", missing_at=local(2015, 7, 8, 18, 0)).count() == 3


def test_the_notice_waits_for_the_recomputed_due_date(scheduled, city_office, media):
    move_deadlines()

    with pytest.raises(ValidationError) as refused:
        services.issue_report_notice(scheduled, Q1, by=city_office, now=local(2015, 4, 10, 17, 0))
    assert refused.value.messages == ["2015年第一季度的报送截止日期 2015-04-10 尚未届满，不能通报"]

    notice = services.issue_report_notice(scheduled, Q1, by=city_office, now=local(2015, 4, 10, 18, 0))
    assert "2015年第一季度的报送截止日期为2015年4月10日。" in notice.body
    assert notice.missing_units == ["市甲局", "市乙局", "清城区正风办"]


def test_a_period_without_reports_has_no_deadline_and_no_grace(scheduled):
    reports = QuarterlyReport.objects.all()
    # 2015Q4's grace is 2016Q1's due date: no 2016 reports are scheduled yet.
    assert queries.grace_ends(reports, [Period.parse("2015Q4")]) == {"2015Q4": None}
    assert queries.period_deadlines(reports, [Period.parse("2016Q1")]) == {
        "2016Q1": queries.PeriodDeadline(None, False)
    }


def test_grace_ends_when_the_next_quarter_falls_due(scheduled):
    """Moved from test_reports_dates (grace_end was a second computation from the calendar)."""
    rule_2016, _ = services.ensure_reporting_rule(division=scheduled.division, year=2016)
    services.schedule_reports(rule_2016, periods=[Period.parse("2016Q1")])
    graces = queries.grace_ends(QuarterlyReport.objects.all(), [Q1, Period.parse("2015Q4")])
    assert graces == {"2015Q1": local(2015, 7, 7, 17, 30), "2015Q4": local(2016, 4, 8, 17, 30)}
