import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from zhengfeng.assessment.models import ScoreEvent
from zhengfeng.core.models import AuditLog
from zhengfeng.core.worker import registered_jobs
from zhengfeng.deadlines.models import Clock
from zhengfeng.ledger.models import QuarterlyReport, ReportAttachment, ReportItem, ReportState
from zhengfeng.ledger.plans import services as plan_services
from zhengfeng.ledger.reports import services
from zhengfeng.ledger.tests.conftest import local
from zhengfeng.org.models import Role
from zhengfeng.testing.factories import UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


def report_of(unit, period="2015Q1"):
    return QuarterlyReport.objects.select_related("clock", "rule__division", "unit").get(
        unit=unit, period=period
    )


def fill(report, by, summary="本季度开展专项检查 2 次。"):
    return services.save_report(report, summary=summary, by=by)


def scores(report):
    return list(
        ScoreEvent.objects.filter(source_type="ledger.quarterlyreport", source_id=str(report.pk))
        .order_by("id")
        .values_list("reason_code", "points", "year")
    )


# --- Scheduling ------------------------------------------------------------------------------------


def test_schedule_creates_a_report_and_clock_per_reporting_unit_and_quarter(scheduled, report_org):
    reports = QuarterlyReport.objects.order_by("period", "unit__code")

    assert sorted({r.unit.name for r in reports}) == ["市乙局", "市甲局", "清城区正风办"]
    assert reports.count() == 12
    q1 = report_of(report_org["a"])
    assert (q1.state, q1.year, q1.division_code) == ("draft", 2015, "441800")
    assert q1.clock.kind == "quarterly_report"
    assert q1.clock.due_at == local(2015, 4, 8, 17, 30)
    # Reminder 2 working days before (04-04 to 04-06 is the Qingming holiday).
    assert q1.clock.warn_at == local(2015, 4, 3, 17, 30)
    assert [report_of(report_org["a"], f"2015Q{n}").clock.due_at.date() for n in (2, 3, 4)] == [
        dt.date(2015, 7, 7),
        dt.date(2015, 10, 13),
        dt.date(2016, 1, 8),
    ]


def test_schedule_is_idempotent_and_picks_up_new_units(scheduled, city):
    assert services.schedule_reports(scheduled) == 0

    UnitFactory(division=city, name="市丙局")
    assert services.schedule_reports(scheduled) == 4
    assert QuarterlyReport.objects.count() == 16


def test_the_worker_schedules_the_current_and_next_quarter(rule_2015, travel):
    travel(local(2015, 5, 10, 9, 0))
    job = registered_jobs()["ledger.reports_schedule"]

    assert job.func(local(2015, 5, 10, 9, 0)) == 6
    assert job.func(local(2015, 5, 10, 9, 5)) == 0
    assert sorted(set(QuarterlyReport.objects.values_list("period", flat=True))) == ["2015Q2", "2015Q3"]


def test_inactive_units_and_ordinary_county_units_do_not_report(rule_2015, report_org, county_unit):
    report_org["b"].is_active = False
    report_org["b"].save()

    assert [u.name for u in services.reporting_units(rule_2015)] == ["市甲局", "清城区正风办"]


# --- Submission and review ---------------------------------------------------------------------------


def test_an_on_time_submission_stops_the_clock_without_points(scheduled, report_org, liaison_a, travel):
    report = report_of(report_org["a"])
    travel(local(2015, 4, 7, 10, 0))
    fill(report, liaison_a)

    services.set_report_state(report, ReportState.SUBMITTED, by=liaison_a)

    report = report_of(report_org["a"])
    assert (report.state, report.is_late) == ("submitted", False)
    assert report.first_submitted_at == local(2015, 4, 7, 10, 0)
    assert (report.clock.state, report.clock.stopped_at) == ("stopped", local(2015, 4, 7, 10, 0))
    assert scores(report) == []


def test_lateness_is_frozen_across_return_and_resubmission(
    scheduled, report_org, liaison_a, city_office, travel
):
    report = report_of(report_org["a"])
    travel(local(2015, 4, 9, 10, 0))
    fill(report, liaison_a)
    services.set_report_state(report, ReportState.SUBMITTED, by=liaison_a)
    travel(local(2015, 4, 10, 9, 0))
    services.set_report_state(report, ReportState.RETURNED, by=city_office, reason="未报送任务落实数据")
    travel(local(2015, 4, 13, 9, 0))
    fill(report, liaison_a, summary="已补充数据。")
    services.set_report_state(report, ReportState.RESUBMITTED, by=liaison_a)
    services.set_report_state(report, ReportState.ACCEPTED, by=city_office)

    report = report_of(report_org["a"])
    assert (report.state, report.is_late) == ("accepted", True)
    assert report.first_submitted_at == local(2015, 4, 9, 10, 0)
    assert report.submitted_at == local(2015, 4, 13, 9, 0)
    assert report.clock.stopped_at == local(2015, 4, 9, 10, 0)
    assert report.clock.is_late is True
    assert scores(report) == [("report.late", Decimal("-1.00"), 2015)]
    actions = list(
        AuditLog.objects.filter(target_type="ledger.quarterlyreport", target_id=str(report.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "report.saved",
        "report.submitted",
        "report.returned",
        "report.saved",
        "report.resubmitted",
        "report.accepted",
    ]


def test_returning_needs_a_reason(scheduled, report_org, liaison_a, city_office, travel):
    report = report_of(report_org["a"])
    travel(local(2015, 4, 7, 10, 0))
    fill(report, liaison_a)
    services.set_report_state(report, ReportState.SUBMITTED, by=liaison_a)

    with pytest.raises(ValidationError) as error:
        services.set_report_state(report, ReportState.RETURNED, by=city_office, reason="  ")

    assert error.value.messages == ["退回须说明原因"]
    assert report_of(report_org["a"]).state == "submitted"


def test_submitting_twice_is_refused(scheduled, report_org, liaison_a, travel):
    report = report_of(report_org["a"])
    travel(local(2015, 4, 7, 10, 0))
    fill(report, liaison_a)
    services.set_report_state(report, ReportState.SUBMITTED, by=liaison_a)

    with pytest.raises(ValidationError) as error:
        services.set_report_state(report, ReportState.SUBMITTED, by=liaison_a)

    assert error.value.messages == ["市甲局2015Q1 的报送已是“已报送”状态，不能重复操作"]
    assert AuditLog.objects.filter(action="report.submitted").count() == 1


def test_a_unit_cannot_submit_for_another_unit(scheduled, report_org, liaison_a, liaison_b, travel):
    report = report_of(report_org["a"])
    travel(local(2015, 4, 7, 10, 0))
    fill(report, liaison_a)

    with pytest.raises(ValidationError) as error:
        services.set_report_state(report, ReportState.SUBMITTED, by=liaison_b)
    with pytest.raises(ValidationError):
        services.save_report(report, summary="冒名填写", by=liaison_b)

    assert error.value.messages == ["只有市甲局的联络员或单位负责人可以报送本单位的季度报送"]
    report = report_of(report_org["a"])
    assert (report.state, report.summary, report.clock.state) == (
        "draft",
        "本季度开展专项检查 2 次。",
        "running",
    )


def test_a_handler_cannot_submit(scheduled, report_org, travel):
    handler = UserFactory.create(role=Role.HANDLER, unit=report_org["a"])
    report = report_of(report_org["a"])
    travel(local(2015, 4, 7, 10, 0))

    with pytest.raises(ValidationError):
        services.save_report(report, summary="x", by=handler)


def test_submitting_needs_the_summary(scheduled, report_org, liaison_a, travel):
    travel(local(2015, 4, 7, 10, 0))
    with pytest.raises(ValidationError) as error:
        services.set_report_state(report_of(report_org["a"]), ReportState.SUBMITTED, by=liaison_a)

    assert error.value.messages == ["请先填写本期工作情况再报送"]


def test_a_report_cannot_be_submitted_before_its_period_closes(scheduled, report_org, liaison_a, travel):
    travel(local(2015, 3, 20, 10, 0))
    report = report_of(report_org["a"])
    fill(report, liaison_a)

    with pytest.raises(ValidationError) as error:
        services.set_report_state(report, ReportState.SUBMITTED, by=liaison_a)

    assert error.value.messages == ["2015年第一季度的报送自 2015-03-31 起开放，不能提前报送"]


def test_only_the_receiving_office_reviews(scheduled, report_org, liaison_a, county_office, travel):
    report = report_of(report_org["a"])
    travel(local(2015, 4, 7, 10, 0))
    fill(report, liaison_a)
    services.set_report_state(report, ReportState.SUBMITTED, by=liaison_a)

    with pytest.raises(ValidationError) as error:
        services.set_report_state(report, ReportState.ACCEPTED, by=county_office)

    assert error.value.messages == ["只有清远市“正风”办可以审核季度报送"]


def test_accepted_reports_cannot_be_returned(scheduled, report_org, liaison_a, city_office, travel):
    report = report_of(report_org["a"])
    travel(local(2015, 4, 7, 10, 0))
    fill(report, liaison_a)
    services.set_report_state(report, ReportState.SUBMITTED, by=liaison_a)
    services.set_report_state(report, ReportState.ACCEPTED, by=city_office)

    with pytest.raises(ValidationError) as error:
        services.set_report_state(report, ReportState.RETURNED, by=city_office, reason="再看看")

    assert error.value.messages == ["报送状态不能从“已采用”改为“已退回”"]


# --- Filling in ----------------------------------------------------------------------------------


@pytest.fixture
def plan_2015(scheduled, city, report_org):
    plan = plan_services.create_plan(division=city, year=2015, title="清远市2015年“正风”行动实施方案")
    section = plan_services.create_section(plan, number="一", title="正风肃纪")
    task = plan_services.create_task(plan, section=section, number=1, title="持续正风肃纪")
    other = plan_services.create_task(plan, section=section, number=2, title="优化政务服务")
    plan_services.set_responsibility(task, unit=report_org["a"], role="lead")
    plan_services.set_responsibility(other, unit=report_org["b"], role="lead")
    scheduled.plan = plan
    scheduled.save()
    return plan


def test_progress_figures_and_attachments_are_saved(plan_2015, report_org, liaison_a, media, travel):
    travel(local(2015, 4, 7, 10, 0))
    report = report_of(report_org["a"])
    task = plan_2015.tasks.get(number=1)
    pdf = SimpleUploadedFile("一季度材料.pdf", b"%PDF-1.4 test", content_type="application/pdf")

    services.save_report(
        report,
        summary="开展节日检查。",
        figures={"meetings": "2", "inspections": 3, "problems_found": ""},
        progress={task.pk: "已完成节前提醒。"},
        files=[pdf],
        by=liaison_a,
    )

    report = report_of(report_org["a"])
    assert report.figures == {"meetings": 2, "inspections": 3}
    assert list(report.items.values_list("task__number", "progress")) == [(1, "已完成节前提醒。")]
    assert list(report.attachments.values_list("name", "size")) == [("一季度材料.pdf", 13)]


@pytest.mark.parametrize(
    ("figures", "message"),
    [
        ({"meetings": "-1"}, "召开专题会议（次）必须是非负整数，而不是“-1”"),
        ({"meetings": "两次"}, "召开专题会议（次）必须是非负整数，而不是“两次”"),
        ({"visits": "1"}, "未知的工作数据项：visits"),
    ],
)
def test_bad_figures_are_refused_and_nothing_is_saved(
    scheduled, report_org, liaison_a, travel, figures, message
):
    travel(local(2015, 4, 7, 10, 0))
    report = report_of(report_org["a"])

    with pytest.raises(ValidationError) as error:
        services.save_report(report, summary="新内容", figures=figures, by=liaison_a)

    assert error.value.messages == [message]
    assert report_of(report_org["a"]).summary == ""


def test_progress_on_a_task_the_unit_does_not_carry_is_refused(plan_2015, report_org, liaison_a, travel):
    travel(local(2015, 4, 7, 10, 0))
    other = plan_2015.tasks.get(number=2)

    with pytest.raises(ValidationError) as error:
        services.save_report(
            report_of(report_org["a"]), summary="x", progress={other.pk: "冒领任务"}, by=liaison_a
        )

    assert error.value.messages == [f"市甲局不承担任务（编号 {other.pk}），不能填报其落实情况"]
    assert ReportItem.objects.count() == 0


def test_a_disguised_attachment_is_refused_and_nothing_is_saved(
    scheduled, report_org, liaison_a, media, travel
):
    travel(local(2015, 4, 7, 10, 0))
    fake = SimpleUploadedFile("报告.pdf", b"MZ\x90\x00 not a pdf")

    with pytest.raises(ValidationError) as error:
        services.save_report(report_of(report_org["a"]), summary="x", files=[fake], by=liaison_a)

    assert error.value.messages == ["附件“报告.pdf”的内容不是 PDF 文件，与扩展名 .pdf 不符"]
    assert (ReportAttachment.objects.count(), report_of(report_org["a"]).summary) == (0, "")


def test_a_submitted_report_cannot_be_edited(scheduled, report_org, liaison_a, travel):
    travel(local(2015, 4, 7, 10, 0))
    report = report_of(report_org["a"])
    fill(report, liaison_a)
    services.set_report_state(report, ReportState.SUBMITTED, by=liaison_a)

    with pytest.raises(ValidationError) as error:
        fill(report, liaison_a, summary="改动")

    assert error.value.messages == ["2015Q1 的报送已是“已报送”状态，不能修改"]


# --- Missing reports -------------------------------------------------------------------------------


def test_missing_reports_are_declared_and_scored_once(scheduled, report_org, liaison_a, travel):
    travel(local(2015, 4, 7, 10, 0))
    fill(report_of(report_org["a"]), liaison_a)
    services.set_report_state(report_of(report_org["a"]), ReportState.SUBMITTED, by=liaison_a)

    # Q1's grace ends when Q2 falls due (2015-07-07 17:30).
    assert services.record_missing_reports(local(2015, 7, 7, 17, 0)) == 0
    assert services.record_missing_reports(local(2015, 7, 8, 9, 0)) == 2
    assert services.record_missing_reports(local(2015, 7, 8, 10, 0)) == 0

    missing = report_of(report_org["b"])
    assert missing.missing_at == local(2015, 7, 8, 9, 0)
    assert scores(missing) == [("report.missing", Decimal("-2.00"), 2015)]
    assert scores(report_of(report_org["a"])) == []


def test_a_missing_report_handed_in_later_is_late_but_not_scored_twice(
    scheduled, report_org, liaison_b, travel
):
    services.record_missing_reports(local(2015, 7, 8, 9, 0))
    travel(local(2015, 7, 9, 9, 0))
    report = report_of(report_org["b"])
    fill(report, liaison_b)

    services.set_report_state(report, ReportState.SUBMITTED, by=liaison_b)

    assert report_of(report_org["b"]).is_late is True
    assert scores(report) == [("report.missing", Decimal("-2.00"), 2015)]


def test_the_missing_job_is_registered():
    assert registered_jobs()["ledger.reports_missing"].every == dt.timedelta(hours=1)


def test_the_quarterly_report_rule_of_the_ladder_is_seeded():
    from zhengfeng.alerts.models import AlertRule

    rule = AlertRule.objects.get(kind="quarterly_report")
    assert (rule.remind, rule.notice_after_workdays, rule.sms_from_level, rule.dimension) == (
        True,
        3,
        1,
        "implementation",
    )
    assert (rule.yellow_points, rule.notice_points, rule.red_points) == (
        Decimal("0"),
        Decimal("0"),
        Decimal("0"),
    )


def test_clock_of_a_report_points_back_at_it(scheduled, report_org):
    report = report_of(report_org["a"])
    clock = Clock.objects.get(pk=report.clock_id)
    assert (clock.source_type, clock.source_id, clock.label) == (
        "ledger.quarterlyreport",
        str(report.pk),
        "市甲局2015年第一季度“正风”行动工作情况报送",
    )
