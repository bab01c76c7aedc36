"""Staff statistics pages: the metrics table, sorting, charts, the Excel export, drill-down, overdue
lists and the 行风热线 quarter; permissions and query-count guards."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from zhengfeng.hotline import services
from zhengfeng.testing.factories import UnitFactory

from .test_metrics_data import AT, day, march_fixture  # noqa: F401 (fixture)

INDEX = reverse("hotline_stats:index")


@pytest.fixture
def at_end_of_march():
    with time_machine.travel(AT, tick=False):
        yield


def login(client, user):
    client.force_login(user)
    return client


def test_office_sees_the_table_with_rates_scores_and_charts(client, march, city_office, at_end_of_march):
    response = login(client, city_office).get(INDEX, {"period": "2026-03"})

    assert response.status_code == 200
    lines = response.context["lines"]
    assert [(row.label, [value for _, value in values][:4]) for row, values in lines] == [
        ("市甲局", [6, Decimal("40.0"), Decimal("75.0"), Decimal("33.3")]),
        ("市乙局", [2, Decimal("100.0"), Decimal("66.7"), Decimal("0.0")]),
    ]
    html = response.content.decode()
    assert "40.0%" in html
    assert "<svg" in html
    # A's score total (o2 signed late, o3 不当退单).
    assert '<td class="num">-1.50</td>' in html
    assert response.context["total"].received == 8
    # The charts hold the rated units, one bar each, 4 px per percentage point.
    on_time = response.context["charts"][0]
    assert [(bar.label, bar.width) for bar in on_time["bars"]] == [("市甲局", 300), ("市乙局", 266)]


def test_default_period_is_this_month(client, march, inspector, at_end_of_march):
    response = login(client, inspector).get(INDEX)

    assert response.context["period_value"] == "2026-03"
    assert len(response.context["lines"]) == 2


def test_sorting_by_a_rate_descending(client, march, city_office, at_end_of_march):
    response = login(client, city_office).get(
        INDEX, {"period": "2026-03", "sort": "on_time_rate", "dir": "desc"}
    )

    assert [row.label for row, _ in response.context["lines"]] == ["市甲局", "市乙局"]
    response = client.get(INDEX, {"period": "2026-03", "sort": "on_time_rate", "dir": "asc"})
    assert [row.label for row, _ in response.context["lines"]] == ["市乙局", "市甲局"]


def test_division_grouping(client, march, city_office, at_end_of_march):
    response = login(client, city_office).get(INDEX, {"period": "2026Q1", "group": "division"})

    assert [(row.label, row.figures.received) for row, _ in response.context["lines"]] == [("清远市", 7)]


def test_bad_period_shows_an_error_and_falls_back(client, march, city_office, at_end_of_march):
    response = login(client, city_office).get(INDEX, {"period": "2026-13"})

    assert response.status_code == 200
    assert response.context["period_value"] == "2026-03"
    assert "月份必须是 1–12，而不是 13" in response.content.decode()


def test_htmx_request_gets_the_table_partial(client, march, city_office, at_end_of_march):
    response = login(client, city_office).get(INDEX, {"period": "2026-03"}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="metrics-table">')
    assert "<h1>" not in html


@pytest.mark.parametrize("username", ["liaison_a", "handler_a"])
def test_unit_users_may_not_read_the_statistics(client, request, username):
    user = request.getfixturevalue(username)

    assert login(client, user).get(INDEX).status_code == 403
    assert client.get(reverse("hotline_stats:export")).status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get(INDEX)

    assert response.status_code == 302
    assert "login" in response["Location"]


def test_operator_may_read(client, operator, at_end_of_march):
    assert login(client, operator).get(INDEX).status_code == 200


def _orders_for(units, operator):
    for unit in units:
        order = services.receive_work_order(
            by=operator,
            at=day(2),
            channel="phone",
            request_type="help",
            title="路灯不亮",
            content="路灯坏了",
            division="441800",
            requester_name="王小明",
            requester_phone="13800138000",
        ).order
        services.transition(order, "dispatch", by=operator, at=day(2), main_unit=unit)


def test_query_count_is_the_same_for_one_and_three_units(
    client, city, city_office, operator, django_assert_num_queries, at_end_of_march
):
    units = [UnitFactory(code=f"441800-Q{n}", name=f"测试局{n}", division=city) for n in range(3)]
    login(client, city_office)
    _orders_for(units[:1], operator)
    with CaptureQueriesContext(connection) as one:
        response = client.get(INDEX, {"period": "2026-03"})
    assert len(response.context["lines"]) == 1
    _orders_for(units[1:], operator)

    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(INDEX, {"period": "2026-03"})

    assert len(response.context["lines"]) == 3


def test_excel_export_holds_the_same_table(client, march, city_office, at_end_of_march):
    response = login(client, city_office).get(reverse("hotline_stats:export"), {"period": "2026-03"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == 'attachment; filename="hotline-metrics-2026-03.xlsx"'
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["办理情况", "指标说明"]
    sheet = book["办理情况"]
    assert sheet["A1"].value == "清远市12345热线办理情况统计表（2026年3月）"
    header = [cell.value for cell in sheet[2]]
    assert header[:5] == ["单位", "受理量", "按时签收率", "按时办结率", "退单率"]
    assert header[-2:] == ["考核计分合计", "其中热线办理"]
    assert sheet["B2"].font.bold is True
    assert sheet["B2"].fill.fgColor.rgb == "00F0EEEA"
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=3)]
    assert rows[0][:5] == ["市甲局", 6, 0.4, 0.75, pytest.approx(0.333)]
    assert rows[0][-2:] == [-1.5, -1.5]
    assert sheet["C3"].number_format == "0.0%"
    assert rows[1][0] == "市乙局"
    assert rows[2][:2] == ["合计", 8]
    assert len(rows) == 3
    assert book["指标说明"]["A2"].value == "受理量"


def test_unit_drill_down(client, march, city_office, unit_a, at_end_of_march):
    response = login(client, city_office).get(
        reverse("hotline_stats:unit", args=[unit_a.pk]), {"period": "2026Q1"}
    )

    assert response.status_code == 200
    assert [row.label for row, _ in response.context["lines"]] == ["2026年3月"]
    assert [o.code for o in response.context["sign_overdue"]] == [march.orders["o6"].code]
    assert [o.code for o in response.context["reply_overdue"]] == [march.orders["o3"].code]
    assert "40.0%" in response.content.decode()


def test_unit_drill_down_outside_scope_is_404(client, march, county_office, unit_a, at_end_of_march):
    response = login(client, county_office).get(reverse("hotline_stats:unit", args=[unit_a.pk]))

    assert response.status_code == 404


def test_overdue_lists(client, march, city_office, county_office, at_end_of_march):
    url = reverse("hotline_stats:overdue")
    response = login(client, city_office).get(url, {"kind": "sign"})

    assert [o.code for o in response.context["orders"]] == [march.orders["o6"].code]
    assert march.orders["o6"].code in response.content.decode()
    assert [o.code for o in client.get(url).context["orders"]] == [march.orders["o3"].code]
    assert client.get(url, {"kind": "both"}).status_code == 404
    assert list(login(client, county_office).get(url).context["orders"]) == []


def test_radio_quarter_lists_units_on_air(client, march, city_office, at_end_of_march):
    url = reverse("hotline_stats:radio")
    response = login(client, city_office).get(url, {"period": "2026Q1"})

    assert [(row.label, [v for _, v in values]) for row, values in response.context["lines"]] == [
        ("市乙局", [1, 1, 0, Decimal("0.0"), 1, 1, Decimal("100.0")])
    ]
    response = client.get(url, {"period": "2026-03"})
    assert response.context["period_value"] == "2026Q1"
    assert "行风热线按季度公布，&#x27;2026-03&#x27; 不是季度" in response.content.decode()
