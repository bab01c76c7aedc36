"""Time limits from the rule table, across the 2026 National Day holiday, and overdue clocks: the
alerts ladder's 黄牌 carries the hotline deduction, a late sign-for the ladder never saw deducts once,
and the ladder's steps show on the order's internal timeline."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse

from zhengfeng.alerts.models import Alert, AlertLevel, AlertRule
from zhengfeng.alerts.services import LADDER, sweep
from zhengfeng.assessment.models import ScoreEvent
from zhengfeng.hotline import services
from zhengfeng.hotline.models import (
    REPLY_OVERDUE,
    SIGN_OVERDUE,
    TimeLimitRule,
    WorkOrder,
    WorkOrderAssignment,
)
from zhengfeng.hotline.queries import TimelineEntry, timeline

from .conftest import EVE, PHONE, WED, dispatched, evidence, handling, local, receive, replied


@pytest.mark.parametrize(
    ("request_type", "channel", "urgency", "is_complex", "reply_due"),
    [
        # Working days after Wednesday 09-30: 10-08, 10-09, 10-10 (补班 Saturday), 10-12, 10-13 …
        ("inquiry", "phone", "normal", False, local(2026, 10, 9, 17, 30)),
        ("help", "phone", "normal", False, local(2026, 10, 20, 17, 30)),
        ("suggestion", "web", "normal", False, local(2026, 10, 20, 17, 30)),
        ("complaint", "phone", "normal", False, local(2026, 10, 27, 17, 30)),
        ("report", "letter", "normal", False, local(2026, 10, 27, 17, 30)),
        ("complaint", "radio", "normal", False, local(2026, 10, 13, 17, 30)),
        ("complaint", "radio", "normal", True, local(2026, 10, 20, 17, 30)),
        # Green channel and monitoring points: half, rounded up (15 → 8, 2 → 1).
        ("complaint", "enterprise", "normal", False, local(2026, 10, 16, 17, 30)),
        ("inquiry", "monitor", "normal", False, local(2026, 10, 8, 17, 30)),
        ("complaint", "phone", "urgent", False, local(2026, 10, 8, 17, 30)),
    ],
)
def test_reply_deadline_across_national_day(
    operator, liaison_a, request_type, channel, urgency, is_complex, reply_due
):
    order = handling(
        operator,
        liaison_a,
        request_type=request_type,
        channel=channel,
        urgency=urgency,
        is_complex=is_complex,
    )
    order.refresh_from_db()
    assert order.reply_due_at == reply_due
    main = WorkOrderAssignment.objects.get(order=order, role="main")
    assert main.reply_clock is not None
    assert main.reply_clock.due_at == reply_due


def test_make_up_saturday_counts_as_a_working_day(operator, liaison_a):
    # Signed Thursday 10-08: two working days are Friday 10-09 and the 补班 Saturday 10-10.
    order = handling(operator, liaison_a, request_type="inquiry", sign_at=local(2026, 10, 8, 9, 0))
    order.refresh_from_db()
    assert order.reply_due_at == local(2026, 10, 10, 17, 30)


def test_urgent_sign_for_is_counted_in_working_minutes(operator, unit_a):
    # 120 working minutes from 11:00: 11:00–12:00 and, after the lunch break, 14:30–15:30.
    order = dispatched(operator, unit_a, at=local(2026, 3, 11, 11, 0), urgency="urgent")
    order.refresh_from_db()
    assert order.sign_due_at == local(2026, 3, 11, 15, 30)


def test_sign_for_on_the_eve_of_the_holiday_is_due_after_it(operator, unit_a):
    order = dispatched(operator, unit_a, at=local(2026, 9, 30, 18, 0))
    order.refresh_from_db()
    # Dispatched after close of business: the clock starts on 10-08, so 1 working day ends on 10-09.
    assert order.sign_due_at == local(2026, 10, 9, 17, 30)


def test_most_specific_rule_wins_and_inactive_rules_are_ignored(operator):
    order = receive(operator, request_type="complaint", channel="radio", urgency="urgent")
    assert services.time_limit_for(order).name == "紧急件"
    TimeLimitRule.objects.filter(name="紧急件").update(is_active=False)
    assert services.time_limit_for(order).name == "行风热线"


def _yellow_and_scores():
    alerts = Alert.objects.filter(level=AlertLevel.YELLOW).order_by("clock__kind")
    scores = ScoreEvent.objects.order_by("unit__code", "id")
    return (
        list(alerts.values_list("clock__kind", "unit__code", "score_event__reason_code")),
        [(e.unit.code, e.dimension, e.reason_code, e.points, e.source_type) for e in scores],
    )


def test_alerts_sweep_carries_the_hotline_deduction_once(operator, unit_a, liaison_b):
    # 求助 dispatched and signed Wednesday 03-11: reply due Wednesday 03-25 17:30. The other order,
    # dispatched 03-24 10:00 and never signed: sign-for due the next working day, 03-25 17:30 too.
    late = handling(operator, liaison_b, at=WED)
    unsigned = dispatched(operator, unit_a, at=local(2026, 3, 24, 10, 0))

    before = sweep(local(2026, 3, 25, 17, 0))
    after = sweep(local(2026, 3, 26, 9, 0))
    again = sweep(local(2026, 3, 26, 9, 5))

    # The reply clock warns a working day ahead (提醒); the sign-for clock has no warning.
    assert before == {AlertLevel.REMINDER: 1, AlertLevel.YELLOW: 0, AlertLevel.NOTICE: 0, AlertLevel.RED: 0}
    assert after == {AlertLevel.REMINDER: 0, AlertLevel.YELLOW: 2, AlertLevel.NOTICE: 0, AlertLevel.RED: 0}
    assert again == dict.fromkeys(LADDER, 0)
    assert _yellow_and_scores() == (
        [("hotline_reply", "441800-B", "alert.yellow"), ("hotline_sign", "441800-A", "alert.yellow")],
        [
            ("441800-A", "hotline", "alert.yellow", Decimal("-0.50"), "alerts.alert"),
            ("441800-B", "hotline", "alert.yellow", Decimal("-1.00"), "alerts.alert"),
        ],
    )
    # The order's own records are untouched: the ladder's steps are the record of the overdue clocks.
    assert [e.kind for e in unsigned.events.all()] == ["received", "dispatched"]
    assert [e.kind for e in late.events.all()] == ["received", "dispatched", "signed"]


def test_late_signature_after_the_sweep_adds_no_second_deduction(operator, liaison_a):
    order = dispatched(operator, liaison_a.unit, at=WED)
    sweep(local(2026, 3, 13, 9, 0))

    services.transition(order, "sign", by=liaison_a, at=local(2026, 3, 13, 10, 0))

    assert WorkOrderAssignment.objects.get(order=order).sign_late is True
    assert list(ScoreEvent.objects.values_list("reason_code", "points")) == [
        ("alert.yellow", Decimal("-0.50"))
    ]


@pytest.mark.parametrize("action", ["sign", "request_return"])
def test_late_sign_for_without_a_sweep_in_between_deducts_once(operator, liaison_a, action):
    # Sign-for due Thursday 03-12 17:30; no sweep ran before the unit answered on Friday.
    order = dispatched(operator, liaison_a.unit, at=WED)
    data = {"reason": "不属本单位职责", "evidence": evidence()} if action == "request_return" else {}

    services.transition(order, action, by=liaison_a, at=local(2026, 3, 13, 10, 0), **data)
    issued = sweep(local(2026, 3, 13, 10, 5))

    main = WorkOrderAssignment.objects.get(order=order)
    assert main.sign_late is True
    assert issued == dict.fromkeys(LADDER, 0)
    assert list(ScoreEvent.objects.values_list("unit__code", "reason_code", "points", "source_id")) == [
        ("441800-A", "hotline.overdue_sign", Decimal("-0.50"), str(main.pk))
    ]


@pytest.mark.parametrize(
    ("yellow_points", "is_active", "deducted"),
    [
        # An administrator's own 黄牌 points govern the late sign-for too.
        (Decimal("-0.3"), True, [Decimal("-0.30")]),
        (Decimal("0"), True, []),
        # Without an active hotline_sign rule the sweep issues nothing, so the hotline's own points apply.
        (Decimal("-0.3"), False, [Decimal("-0.50")]),
    ],
)
def test_late_signature_takes_its_points_from_the_sign_for_rule(
    operator, liaison_a, yellow_points, is_active, deducted
):
    AlertRule.objects.filter(kind="hotline_sign").update(yellow_points=yellow_points, is_active=is_active)
    order = dispatched(operator, liaison_a.unit, at=WED)

    services.transition(order, "sign", by=liaison_a, at=local(2026, 3, 13, 10, 0))

    assert list(ScoreEvent.objects.values_list("points", flat=True)) == deducted


def test_timeline_shows_the_yellow_card_to_staff_only(client, api_client, operator, liaison_a):
    order = services.receive_work_order(
        by=operator,
        at=WED,
        channel="phone",
        request_type="help",
        title="路灯不亮",
        content="小区门口路灯已坏一周。",
        division="441800",
        requester_phone=PHONE,
        query_password="246810",
    ).order
    services.transition(order, "dispatch", by=operator, at=WED, main_unit=liaison_a.unit)
    sweep(local(2026, 3, 13, 9, 0))
    services.transition(order, "sign", by=liaison_a, at=local(2026, 3, 13, 10, 0))
    title = f"关于对市甲局“{order.code} 市甲局签收：路灯不亮”逾期未办结的催办通知"
    yellow = TimelineEntry(
        at=local(2026, 3, 13, 9, 0),
        kind="alert_yellow",
        kind_label="黄牌（催办）",
        unit_name="市甲局",
        by_label=None,
        text=f"{title}（清正风督〔2026〕1号）",
        is_public=False,
    )

    entries = timeline(order)
    public = timeline(order, public_only=True)

    assert [(e.kind, e.at) for e in entries] == [
        ("received", WED),
        ("dispatched", WED),
        ("alert_yellow", local(2026, 3, 13, 9, 0)),
        ("signed", local(2026, 3, 13, 10, 0)),
    ]
    assert entries[2] == yellow
    assert [e.kind for e in public] == ["received", "dispatched", "signed"]
    client.force_login(operator)
    page = client.get(reverse("hotline:timeline", args=[order.pk])).content.decode()
    assert "<td>黄牌（催办）</td><td>市甲局</td>" in page
    api_client.force_login(operator)
    api = api_client.get(f"/api/v1/hotline/orders/{order.code}").json()
    assert api["timeline"][2] == {
        "at": "2026-03-13T01:00:00Z",
        "kind": "alert_yellow",
        "kind_label": "黄牌（催办）",
        "unit_name": "市甲局",
        "text": yellow.text,
        "is_public": False,
    }
    client.logout()
    tracked = client.post(reverse("portal:hotline_track"), {"code": order.code, "password": "246810"})
    assert [e.kind for e in tracked.context["events"]] == ["received", "dispatched", "signed"]
    assert "黄牌" not in tracked.content.decode()


def test_late_reply_is_frozen_and_scored(operator, liaison_a, handler_a, head_a):
    order = replied(operator, liaison_a, handler_a, head_a, at=WED, reply_at=local(2026, 3, 26, 9, 0))
    main = WorkOrderAssignment.objects.get(order=order, role="main")
    assert main.reply_late is True
    assert main.reply_clock is not None
    assert main.reply_clock.state == "stopped"
    # The hotline_reply rule's 黄牌 points: the deduction the ladder would have made.
    assert list(ScoreEvent.objects.values_list("reason_code", "points")) == [
        ("hotline.late_reply", Decimal("-1.00"))
    ]


def _late_reply(operator, liaison, handler, head, *, sweep_first: bool):
    """One order replied an hour after its reply deadline; the sweep runs half an hour after the
    deadline (before the reply) or half an hour after the reply."""
    order = handling(operator, liaison, at=WED)
    order.refresh_from_db()
    due = order.reply_due_at
    if sweep_first:
        sweep(due + dt.timedelta(minutes=30))
    services.transition(order, "draft_reply", by=handler, at=due + dt.timedelta(hours=1), text="已修复。")
    services.transition(order, "approve_reply", by=head, at=due + dt.timedelta(hours=1), approve=True)
    if not sweep_first:
        sweep(due + dt.timedelta(hours=1, minutes=30))
    return order


@pytest.mark.parametrize(
    ("sweep_first", "events"),
    [
        # The sweep saw the clock overdue: its 黄牌 is the deduction, the reply adds none.
        (True, [("alert.yellow", Decimal("-1.00"))]),
        # No sweep saw it: the reply makes the same deduction; the later sweep finds the clock stopped.
        (False, [("hotline.late_reply", Decimal("-1.00"))]),
    ],
)
def test_one_late_reply_costs_the_reply_rules_yellow_card_once(
    operator, liaison_a, handler_a, head_a, sweep_first, events
):
    _late_reply(operator, liaison_a, handler_a, head_a, sweep_first=sweep_first)

    unit_events = ScoreEvent.objects.filter(unit=liaison_a.unit)
    assert list(unit_events.values_list("reason_code", "points")) == events
    assert unit_events.aggregate(total=Sum("points"))["total"] == Decimal("-1.00")


def test_late_reply_takes_its_points_from_the_reply_rule(operator, liaison_a, handler_a, head_a):
    AlertRule.objects.filter(kind="hotline_reply").update(yellow_points=Decimal("-0.8"))

    _late_reply(operator, liaison_a, handler_a, head_a, sweep_first=False)

    assert list(ScoreEvent.objects.values_list("reason_code", "points")) == [
        ("hotline.late_reply", Decimal("-0.80"))
    ]


def test_reply_on_time_scores_nothing(operator, liaison_a, handler_a, head_a):
    replied(operator, liaison_a, handler_a, head_a, at=EVE, reply_at=local(2026, 10, 20, 17, 0))
    assert WorkOrderAssignment.objects.get(role="main").reply_late is False
    assert ScoreEvent.objects.count() == 0


def test_overdue_lists_and_one_orders_flags_agree(operator, liaison_a):
    received = receive(operator, at=WED)
    waiting = dispatched(operator, liaison_a.unit, at=WED)
    in_hand = handling(operator, liaison_a, at=WED)
    late = local(2026, 6, 1, 9, 0)
    orders = WorkOrder.objects.order_by("id")

    listed = {
        "sign": list(orders.sign_overdue(at=late)),
        "reply": list(orders.reply_overdue(at=late)),
        "any": list(orders.overdue(at=late)),
        "before": list(orders.overdue(at=WED)),
    }
    flags = [(SIGN_OVERDUE.of(order, late), REPLY_OVERDUE.of(order, late)) for order in orders]

    assert listed == {"sign": [waiting], "reply": [in_hand], "any": [waiting, in_hand], "before": []}
    assert flags == [(False, False), (True, False), (False, True)]
    assert [order.pk for order in orders] == [received.pk, waiting.pk, in_hand.pk]
