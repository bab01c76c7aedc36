"""Every metric on the hand-computed March 2026 fixture (see test_metrics_data.py for the story)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from zhengfeng.core.periods import Period
from zhengfeng.hotline import metrics
from zhengfeng.hotline.metrics import Figures, Month
from zhengfeng.testing.factories import DivisionFactory, UnitFactory

from .test_metrics_data import AT, SHANGHAI, march_fixture  # noqa: F401 (fixture)

MARCH = Month(2026, 3)

UNIT_A = Figures(
    received=6,
    dispatched=6,
    sign_base=5,
    signed_on_time=2,
    signed_late=1,
    returned=2,
    improper_returns=1,
    reply_due=4,
    replied_on_time=3,
    replied_late=0,
    sign_overdue_now=1,
    reply_overdue_now=1,
    closed=3,
    callback_expected=2,
    called_back=2,
    rated=2,
    satisfied=2,
    resolved=1,
    reopened=0,
)
UNIT_B = Figures(
    received=2,
    dispatched=2,
    sign_base=2,
    signed_on_time=2,
    reply_due=3,
    replied_on_time=2,
    replied_late=1,
    closed=2,
    callback_expected=2,
    called_back=2,
    rated=2,
    satisfied=2,
    resolved=2,
    reopened=1,
)


def by_label(rows):
    return {row.label: row for row in rows}


def test_unit_counts_match_the_hand_computed_fixture(march, city_office):
    rows = metrics.unit_metrics(city_office, MARCH, at=AT)

    assert [row.label for row in rows] == ["市甲局", "市乙局"]
    assert rows[0].figures == UNIT_A
    assert rows[1].figures == UNIT_B


def test_unit_rates(march, city_office):
    a, b = metrics.unit_metrics(city_office, MARCH, at=AT)

    assert [
        a.figures.sign_rate,
        a.figures.on_time_rate,
        a.figures.return_rate,
        a.figures.callback_rate,
        a.figures.satisfaction_rate,
        a.figures.resolution_rate,
        a.figures.reopen_rate,
    ] == [
        Decimal("40.0"),
        Decimal("75.0"),
        Decimal("33.3"),
        Decimal("100.0"),
        Decimal("100.0"),
        Decimal("50.0"),
        Decimal("0.0"),
    ]
    assert [
        b.figures.sign_rate,
        b.figures.on_time_rate,
        b.figures.return_rate,
        b.figures.callback_rate,
        b.figures.satisfaction_rate,
        b.figures.resolution_rate,
        b.figures.reopen_rate,
    ] == [
        Decimal("100.0"),
        Decimal("66.7"),
        Decimal("0.0"),
        Decimal("100.0"),
        Decimal("100.0"),
        Decimal("100.0"),
        Decimal("50.0"),
    ]


def test_rate_is_none_without_denominator_and_rounds_half_up():
    assert Figures().sign_rate is None
    assert metrics.rate(1, 8) == Decimal("12.5")
    assert metrics.rate(2, 3) == Decimal("66.7")
    assert metrics.rate(1, 3) == Decimal("33.3")


def test_the_merged_order_counts_once(march, city_office):
    # o7 was dispatched to A and merged into o6: A received 6 orders, not 7.
    a = by_label(metrics.unit_metrics(city_office, MARCH, at=AT))["市甲局"]

    assert a.figures.received == 6
    assert march.orders["o7"].status == "merged"


def test_figures_before_the_deadlines_pass_leave_unsettled_rounds_out(march, city_office):
    # On 03-10 at 12:00: o6 was dispatched at 10:00 (sign-for not yet due), o3's reply is not due.
    a = by_label(
        metrics.unit_metrics(city_office, MARCH, at=dt.datetime(2026, 3, 10, 12, 0, tzinfo=SHANGHAI))
    )["市甲局"]

    assert a.figures.sign_base == 4
    assert a.figures.sign_overdue_now == 0
    assert a.figures.reply_overdue_now == 0
    # o3's reply (due 03-18) is not settled yet; o1, o2 and o5 have replies.
    assert a.figures.reply_due == 3


def test_another_month_shows_only_the_overdue_snapshot(march, city_office):
    rows = metrics.unit_metrics(city_office, Month(2026, 2), at=AT)

    # The overdue counts are "now" (at AT), whatever the period; nothing else happened in February.
    assert [(row.label, row.figures) for row in rows] == [
        ("市甲局", Figures(sign_overdue_now=1, reply_overdue_now=1))
    ]


def test_quarter_and_year_include_the_month(march, city_office):
    quarter = metrics.unit_metrics(city_office, Period.quarter(2026, 1), at=AT)
    year = metrics.unit_metrics(city_office, Period.parse("2026"), at=AT)

    assert [row.figures for row in quarter] == [UNIT_A, UNIT_B]
    assert [row.figures for row in year] == [UNIT_A, UNIT_B]


def test_division_rows_group_units_by_county(march, city_office, qingcheng, operator):
    town = DivisionFactory(code="441802001", name="洲心街道", level=4, parent=qingcheng)
    county_unit = UnitFactory(code="441802-T", name="洲心街道办", division=town)
    from zhengfeng.hotline import services

    order = services.receive_work_order(
        by=operator,
        at=AT - dt.timedelta(days=20),
        channel="phone",
        request_type="help",
        title="积水",
        content="路面积水",
        division="441800",
        requester_name="李四",
        requester_phone="13900139000",
    ).order
    services.transition(order, "dispatch", by=operator, at=AT - dt.timedelta(days=20), main_unit=county_unit)

    rows = metrics.unit_metrics(city_office, MARCH, group="division", at=AT)

    assert [(row.code, row.label) for row in rows] == [("441800", "清远市"), ("441802", "清城区")]
    # o4 went from A to B: the city row receives it once (7), the unit rows once each (6 + 2).
    assert rows[0].figures == Figures(**{**(UNIT_A + UNIT_B).__dict__, "received": 7})
    assert rows[1].figures == Figures(received=1, dispatched=1, sign_base=1, sign_overdue_now=1)


def test_month_rows_of_a_unit(march, city_office, unit_a):
    total, months = metrics.unit_detail(city_office, unit_a, Period.quarter(2026, 1), at=AT)

    assert total == UNIT_A
    assert [row.label for row in months] == ["2026年3月"]
    # The month rows hold the period figures without the overdue snapshot.
    assert months[0].figures == Figures(**{**UNIT_A.__dict__, "sign_overdue_now": 0, "reply_overdue_now": 0})


def test_radio_channel_only_counts_radio_orders(march, city_office):
    rows = metrics.unit_metrics(city_office, Period.quarter(2026, 1), at=AT, channel="radio")

    assert [row.label for row in rows] == ["市乙局"]
    assert rows[0].figures == Figures(
        received=1,
        dispatched=1,
        sign_base=1,
        signed_on_time=1,
        reply_due=1,
        replied_late=1,
        closed=1,
        callback_expected=1,
        called_back=1,
        rated=1,
        satisfied=1,
        resolved=1,
    )


def test_scoping_follows_org_queries(march, city_office, county_office, liaison_a, inspector):
    assert [row.label for row in metrics.unit_metrics(inspector, MARCH, at=AT)] == ["市甲局", "市乙局"]
    # 清城区's office sees only 清城区 units: none of them handled anything.
    assert metrics.unit_metrics(county_office, MARCH, at=AT) == []
    # A unit user sees its own unit only.
    assert [row.label for row in metrics.unit_metrics(liaison_a, MARCH, at=AT)] == ["市甲局"]


def test_unit_detail_outside_scope_is_empty(march, county_office, unit_a):
    total, months = metrics.unit_detail(county_office, unit_a, MARCH, at=AT)

    assert total == Figures()
    assert months == []


def test_totals_sum_the_rows(march, city_office):
    rows = metrics.unit_metrics(city_office, MARCH, at=AT)

    total = metrics.totals(rows)

    assert total == UNIT_A + UNIT_B
    assert total.on_time_rate == Decimal("71.4")  # 5 of 7


def test_scores_come_from_the_assessment(march, city_office):
    rows = metrics.unit_metrics(city_office, MARCH, at=AT)

    metrics.attach_scores(rows, user=city_office, year=2026)

    # A: o2 signed late (-0.5), o3 不当退单 (-1); B: o8 replied late (-1, the hotline_reply rule's 黄牌).
    assert [(row.label, row.score_total, row.score_hotline) for row in rows] == [
        ("市甲局", Decimal("-1.50"), Decimal("-1.50")),
        ("市乙局", Decimal("-1.00"), Decimal("-1.00")),
    ]


def test_sort_rows_puts_missing_values_last(march, city_office, operator, unit_b):
    rows = metrics.unit_metrics(city_office, MARCH, at=AT)
    empty = metrics.Row(key=0, label="空", code="0", figures=Figures(received=1))

    assert [r.label for r in metrics.sort_rows([*rows, empty], "on_time_rate")] == ["市乙局", "市甲局", "空"]
    assert [r.label for r in metrics.sort_rows([*rows, empty], "on_time_rate", descending=True)] == [
        "市甲局",
        "市乙局",
        "空",
    ]
    assert [r.label for r in metrics.sort_rows(rows, "no_such_column")] == ["市甲局", "市乙局"]


def test_overdue_lists(march, city_office, county_office, unit_a):
    sign = metrics.overdue_orders(city_office, kind="sign", at=AT)
    reply = metrics.overdue_orders(city_office, kind="reply", at=AT, unit=unit_a)

    assert [o.code for o in sign] == [march.orders["o6"].code]
    assert [o.code for o in reply] == [march.orders["o3"].code]
    assert list(metrics.overdue_orders(county_office, kind="reply", at=AT)) == []
    with pytest.raises(ValueError, match="未知的超期类别 'both'"):
        metrics.overdue_orders(city_office, kind="both")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03", Month(2026, 3)),
        ("2026M3", Month(2026, 3)),
        ("2026q1", Period.quarter(2026, 1)),
        ("2026", Period(2026, "Y")),
    ],
)
def test_parse_period(text, expected):
    assert metrics.parse_period(text) == expected


@pytest.mark.parametrize("text", ["2026-13", "202603", "三月", ""])
def test_parse_period_rejects_bad_text(text):
    with pytest.raises(ValueError, match=r"统计期间|月份"):
        metrics.parse_period(text)


def test_period_bounds_are_local_midnights():
    start, end = metrics.period_bounds(Month(2026, 12))

    assert start == dt.datetime(2026, 12, 1, tzinfo=SHANGHAI)
    assert end == dt.datetime(2027, 1, 1, tzinfo=SHANGHAI)
    assert metrics.months_in(Period.quarter(2026, 4)) == [Month(2026, 10), Month(2026, 11), Month(2026, 12)]
    assert Month(2026, 2).last == dt.date(2026, 2, 28)
    assert Month(2026, 3).label == "2026年3月"


def test_period_choices_start_with_this_month():
    groups = metrics.period_choices(dt.date(2026, 1, 15))

    assert [label for label, _ in groups] == ["月度", "季度", "年度"]
    assert groups[0][1][:2] == [("2026-01", "2026年1月"), ("2025-12", "2025年12月")]
    assert groups[1][1][:2] == [("2026Q1", "2026年第一季度"), ("2025Q4", "2025年第四季度")]
    assert groups[2][1] == [("2026", "2026年"), ("2025", "2025年"), ("2024", "2024年")]


def test_freeze_table_holds_names_and_figures_only(march, city_office):
    rows = metrics.unit_metrics(city_office, MARCH, at=AT)

    data = metrics.freeze_table(rows, MARCH, at=AT, scope_label="清远市")

    assert data["period"] == "2026-03"
    assert data["period_label"] == "2026年3月"
    assert [c["label"] for c in data["columns"]][:4] == ["受理量", "按时签收率", "按时办结率", "退单率"]
    assert data["rows"][0] == {
        "unit": "市甲局",
        "values": [6, "40.0", "75.0", "33.3", 1, 1, 0, 1, 1, 3, "100.0", "100.0", "50.0", "0.0"],
    }
    assert data["totals"][0] == 8
    assert "王小明" not in str(data)
    assert "13800138000" not in str(data)
