import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from zhengfeng.ledger.models import QuarterlyReport, ReportState
from zhengfeng.ledger.reports import services
from zhengfeng.ledger.tests.conftest import local
from zhengfeng.testing.factories import UnitFactory

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("ledger:report_dashboard")


def report_of(unit, period="2015Q1"):
    return QuarterlyReport.objects.get(unit=unit, period=period)


def submit(unit, user, period="2015Q1"):
    report = report_of(unit, period)
    services.save_report(report, summary="本季度工作情况。", by=user)
    services.set_report_state(report, ReportState.SUBMITTED, by=user)
    return report


@pytest.fixture
def mixed(scheduled, report_org, liaison_a, liaison_b, city_office, travel):
    """Seen on 2015-07-08. Q1: A late then returned, B on time and accepted, the county office
    missing (Q2 fell due on 07-07). Q2: A on time, B and the county office overdue."""
    travel(local(2015, 4, 7, 10, 0))
    submit(report_org["b"], liaison_b)
    services.set_report_state(report_of(report_org["b"]), ReportState.ACCEPTED, by=city_office)
    travel(local(2015, 4, 9, 10, 0))
    submit(report_org["a"], liaison_a)
    services.set_report_state(
        report_of(report_org["a"]), ReportState.RETURNED, by=city_office, reason="请补充"
    )
    travel(local(2015, 7, 6, 10, 0))
    submit(report_org["a"], liaison_a, "2015Q2")
    travel(local(2015, 7, 8, 10, 0))
    return scheduled


def matrix_rows(response):
    matrix = response.context["matrix"]
    return [(row.unit_name, [(c.status, c.late) for c in row.cells]) for row in matrix.rows]


def test_the_dashboard_matrix(client, mixed, city_office):
    client.force_login(city_office)

    response = client.get(DASHBOARD, {"year": 2015})

    assert response.status_code == 200
    assert matrix_rows(response) == [
        ("市甲局", [("returned", True), ("on_time", False), ("pending", False), ("pending", False)]),
        ("市乙局", [("on_time", False), ("overdue", False), ("pending", False), ("pending", False)]),
        ("清城区正风办", [("missing", False), ("overdue", False), ("pending", False), ("pending", False)]),
    ]
    assert [column.counts for column in response.context["matrix"].columns][:2] == [
        [1, 0, 1, 0, 0, 1],
        [1, 0, 0, 0, 2, 0],
    ]
    body = response.content.decode()
    assert f'href="/ledger/reports/{report_of(mixed.reports.first().unit).pk}/"' in body
    assert "退回修改（迟报）" in body


def test_a_county_office_sees_only_its_county(client, mixed, county_office):
    client.force_login(county_office)

    response = client.get(DASHBOARD, {"year": 2015})

    assert [name for name, _cells in matrix_rows(response)] == ["清城区正风办"]
    # It reads the rule but cannot issue the city's 通报.
    assert all(not can_issue for *_rest, can_issue in response.context["notice_rows"])


def test_a_liaison_is_sent_to_its_own_reports(client, mixed, liaison_a):
    client.force_login(liaison_a)

    response = client.get(reverse("ledger:report_home"))

    assert response.url == reverse("ledger:my_reports")


def test_dashboard_query_count_does_not_grow_with_units(
    client, scheduled, city, city_office, django_assert_num_queries
):
    client.force_login(city_office)
    client.get(DASHBOARD, {"year": 2015})
    with CaptureQueriesContext(connection) as few:
        client.get(DASHBOARD, {"year": 2015})
    for number in range(3):
        UnitFactory(division=city, name=f"新增单位{number}")
    services.schedule_reports(scheduled)

    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(DASHBOARD, {"year": 2015})
    assert len(response.context["matrix"].rows) == 6


def test_my_reports_query_count_is_constant(
    client, scheduled, report_org, liaison_a, travel, django_assert_num_queries
):
    client.force_login(liaison_a)
    client.get(reverse("ledger:my_reports"))
    with CaptureQueriesContext(connection) as one_year:
        response = client.get(reverse("ledger:my_reports"))
    assert len(response.context["rows"]) == 4
    rule, _ = services.ensure_reporting_rule(division=scheduled.division, year=2016)
    services.schedule_reports(rule)

    with django_assert_num_queries(len(one_year.captured_queries)):
        response = client.get(reverse("ledger:my_reports"))
    assert len(response.context["rows"]) == 8


def test_excel_export(client, mixed, city_office):
    client.force_login(city_office)

    response = client.get(reverse("ledger:report_export"), {"year": 2015})

    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "清远市2015年“正风”行动季度报送情况"
    assert rows[1] == [
        "序号",
        "单位编码",
        "单位",
        "2015年第一季度（04-08截止）",
        "2015年第二季度（07-07截止）",
        "2015年第三季度（10-13截止）",
        "2015年第四季度（01-08截止）",
    ]
    assert rows[2][1:] == ["441800-A", "市甲局", "退回修改（迟报）", "按时报送", "待报送", "待报送"]
    assert rows[4][2:4] == ["清城区正风办", "漏报"]
    assert rows[5] == [None, None, "合计：按时报送", 1, 1, 0, 0]


def test_drill_down_and_scoping(client, mixed, report_org, city_office, liaison_b):
    report = report_of(report_org["a"])
    client.force_login(city_office)
    assert client.get(reverse("ledger:report_detail", args=[report.pk])).status_code == 200
    client.force_login(liaison_b)
    assert client.get(reverse("ledger:report_detail", args=[report.pk])).status_code == 404


def test_the_unit_fills_in_and_submits_through_the_page(client, scheduled, report_org, liaison_a, travel):
    travel(local(2015, 4, 7, 10, 0))
    report = report_of(report_org["a"])
    client.force_login(liaison_a)

    response = client.post(
        reverse("ledger:report_edit", args=[report.pk]),
        {"summary": "开展检查。", "figure_meetings": "2", "submit": "1"},
    )

    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.state, report.summary, report.figures) == ("submitted", "开展检查。", {"meetings": 2})


def test_a_bad_figure_re_renders_the_form_with_the_message(client, scheduled, report_org, liaison_a, travel):
    travel(local(2015, 4, 7, 10, 0))
    report = report_of(report_org["a"])
    client.force_login(liaison_a)

    response = client.post(
        reverse("ledger:report_edit", args=[report.pk]), {"summary": "x", "figure_meetings": "-3"}
    )

    assert response.status_code == 400
    assert "召开专题会议（次）必须是非负整数，而不是“-3”" in response.content.decode()
    report.refresh_from_db()
    assert report.summary == ""


def test_returning_without_a_reason_shows_the_error(
    client, scheduled, report_org, liaison_a, city_office, travel
):
    travel(local(2015, 4, 7, 10, 0))
    submit(report_org["a"], liaison_a)
    client.force_login(city_office)
    report = report_of(report_org["a"])

    response = client.post(reverse("ledger:report_return", args=[report.pk]), {"reason": ""}, follow=True)

    assert "退回须说明原因" in response.content.decode()
    report.refresh_from_db()
    assert report.state == "submitted"


def test_another_unit_cannot_open_the_edit_page(client, scheduled, report_org, liaison_b):
    client.force_login(liaison_b)
    report = report_of(report_org["a"])
    assert client.get(reverse("ledger:report_edit", args=[report.pk])).status_code == 404


def test_the_notice_is_issued_and_downloaded_from_the_dashboard(client, mixed, city_office, media):
    client.force_login(city_office)
    url = reverse("ledger:report_notice", args=[mixed.pk, "2015Q1"])

    response = client.post(url)
    download = client.get(url)

    assert response.status_code == 302
    assert download.status_code == 200
    assert download["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    download.close()
