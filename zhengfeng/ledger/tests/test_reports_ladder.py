"""Quarterly reports on the shared alerts ladder, and the 通报 of late and missing units."""

import io

import pytest
from django.core.exceptions import ValidationError
from docx import Document

from zhengfeng.alerts.models import Alert, AlertLevel
from zhengfeng.core.periods import Period
from zhengfeng.core.worker import registered_jobs
from zhengfeng.ledger.models import QuarterlyReport, ReportNotice, ReportState
from zhengfeng.ledger.reports import services
from zhengfeng.ledger.tests.conftest import local
from zhengfeng.messaging.models import Channel, OutboxMessage
from zhengfeng.testing.factories import PersonFactory

pytestmark = pytest.mark.django_db


def run_alerts(moment):
    """The worker's alerts job: the sweep, then the messages."""
    return registered_jobs()["alerts.sweep"].func(moment)


def levels(unit, period="2015Q1"):
    report = QuarterlyReport.objects.get(unit=unit, period=period)
    assert report.clock_id is not None
    return sorted(Alert.objects.filter(clock_id=report.clock_id).values_list("level", flat=True))


def submit(unit, user, period="2015Q1"):
    report = QuarterlyReport.objects.get(unit=unit, period=period)
    services.save_report(report, summary="本季度工作情况。", by=user)
    return services.set_report_state(report, ReportState.SUBMITTED, by=user)


@pytest.fixture
def liaison_with_phone(liaison_a):
    liaison_a.person = PersonFactory(phone="13902631234")
    liaison_a.save()
    return liaison_a


def test_the_reminder_goes_out_once_by_sms_and_in_app(scheduled, report_org, liaison_with_phone, travel):
    moment = local(2015, 4, 7, 10, 0)
    travel(moment)

    first = run_alerts(moment)
    second = run_alerts(local(2015, 4, 7, 10, 5))

    assert first == {1: 3, 2: 0, 3: 0, 4: 0}
    assert second == {1: 0, 2: 0, 3: 0, 4: 0}
    mine = OutboxMessage.objects.filter(user=liaison_with_phone)
    assert list(mine.values_list("channel", "text")) == [
        (Channel.INAPP, "市甲局有新的预警督办：提醒 1 条。请登录正风平台查看并签收。")
    ]
    sms = list(OutboxMessage.objects.filter(channel=Channel.SMS))
    assert [message.phone for message in sms] == ["13902631234"]
    assert sms[0].text.endswith("市甲局有新的预警督办：提醒 1 条。请登录正风平台查看并签收。")


def test_no_reminder_before_two_working_days_ahead(scheduled, report_org, travel):
    # warn_at is 2015-04-03 17:30 (Friday); the holiday follows.
    travel(local(2015, 4, 3, 17, 0))
    assert run_alerts(local(2015, 4, 3, 17, 0)) == {1: 0, 2: 0, 3: 0, 4: 0}


def test_urge_on_the_first_overdue_day_and_notice_three_working_days_later(scheduled, report_org, travel):
    travel(local(2015, 4, 7, 10, 0))
    run_alerts(local(2015, 4, 7, 10, 0))

    travel(local(2015, 4, 8, 17, 29))
    assert run_alerts(local(2015, 4, 8, 17, 29)) == {1: 0, 2: 0, 3: 0, 4: 0}
    travel(local(2015, 4, 9, 9, 0))
    assert run_alerts(local(2015, 4, 9, 9, 0)) == {1: 0, 2: 3, 3: 0, 4: 0}
    # Overdue Thu 9, Fri 10, Mon 13: the 通报 comes once Monday has ended.
    travel(local(2015, 4, 13, 23, 0))
    assert run_alerts(local(2015, 4, 13, 23, 0)) == {1: 0, 2: 0, 3: 0, 4: 0}
    travel(local(2015, 4, 14, 9, 0))
    assert run_alerts(local(2015, 4, 14, 9, 0)) == {1: 0, 2: 0, 3: 3, 4: 0}

    assert levels(report_org["a"]) == [AlertLevel.REMINDER, AlertLevel.YELLOW, AlertLevel.NOTICE]
    # The ladder's steps for reports carry no points: 迟报/漏报 are scored by the reporting rule.
    assert Alert.objects.filter(score_event__isnull=False).count() == 0


def test_a_submitted_report_leaves_the_ladder(scheduled, report_org, liaison_a, travel):
    travel(local(2015, 4, 8, 9, 0))
    submit(report_org["a"], liaison_a)

    travel(local(2015, 4, 9, 9, 0))
    run_alerts(local(2015, 4, 9, 9, 0))

    assert levels(report_org["a"]) == []
    assert levels(report_org["b"]) == [AlertLevel.YELLOW]


# --- 通报 ----------------------------------------------------------------------------------------------


def test_the_notice_lists_late_and_missing_units(
    scheduled, report_org, liaison_a, liaison_b, city_office, media, travel
):
    travel(local(2015, 4, 9, 9, 0))
    submit(report_org["a"], liaison_a)
    travel(local(2015, 4, 15, 10, 0))

    notice = services.issue_report_notice(scheduled, Period.parse("2015Q1"), by=city_office)

    assert notice.doc_number == "清正风通〔2015〕1号"
    assert (notice.late_units, notice.missing_units) == (["市甲局"], ["市乙局", "清城区正风办"])
    with notice.document.open("rb") as handle:
        paragraphs = [p.text for p in Document(io.BytesIO(handle.read())).paragraphs if p.text]
    assert paragraphs[:4] == [
        "清远市“正风”办公室文件",
        "清正风通〔2015〕1号",
        "关于2015年第一季度“正风”行动工作情况报送情况的通报",
        "各县（市、区）“正风”办，市直各单位：",
    ]
    assert "一、逾期报送的单位（1 个）：市甲局。" in paragraphs
    assert "二、未报送的单位（2 个）：市乙局、清城区正风办。" in paragraphs
    assert "抄送：清远市纪委监委。" in paragraphs


def test_a_notice_is_issued_once_per_period(scheduled, report_org, city_office, media, travel):
    travel(local(2015, 4, 15, 10, 0))
    services.issue_report_notice(scheduled, Period.parse("2015Q1"), by=city_office)

    with pytest.raises(ValidationError) as error:
        services.issue_report_notice(scheduled, Period.parse("2015Q1"), by=city_office)

    assert error.value.messages == ["2015年第一季度的报送情况通报已经印发，不能重复印发"]
    assert ReportNotice.objects.count() == 1


def test_no_notice_before_the_due_date_or_by_others(
    scheduled, report_org, county_office, city_office, travel
):
    travel(local(2015, 4, 8, 12, 0))
    with pytest.raises(ValidationError) as early:
        services.issue_report_notice(scheduled, Period.parse("2015Q1"), by=city_office)
    travel(local(2015, 4, 15, 10, 0))
    with pytest.raises(ValidationError) as other:
        services.issue_report_notice(scheduled, Period.parse("2015Q1"), by=county_office)

    assert early.value.messages == ["2015年第一季度的报送截止日期 2015-04-08 尚未届满，不能通报"]
    assert other.value.messages == ["只有清远市“正风”办可以印发季度报送情况通报"]
    assert ReportNotice.objects.count() == 0
