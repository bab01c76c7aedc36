"""Time limits from the rule table, across the 2026 National Day holiday, and the overdue sweep."""

from __future__ import annotations

import pytest

from zhengfeng.assessment.models import ScoreEvent
from zhengfeng.hotline import services
from zhengfeng.hotline.models import TimeLimitRule, WorkOrderAssignment

from .conftest import EVE, WED, dispatched, handling, local, receive, replied


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


def test_sweep_marks_overdue_sign_and_reply_once(operator, unit_a, liaison_b):
    unsigned = dispatched(operator, unit_a, at=WED)
    late = handling(operator, liaison_b, at=WED)
    # Sign-for due Thursday 03-12 17:30; 求助 reply due 03-25 17:30.
    assert services.sweep_overdue(local(2026, 3, 12, 17, 0)) == {"sign": 0, "reply": 0}
    assert services.sweep_overdue(local(2026, 3, 13, 9, 0)) == {"sign": 1, "reply": 0}
    assert services.sweep_overdue(local(2026, 3, 26, 9, 0)) == {"sign": 0, "reply": 1}
    assert services.sweep_overdue(local(2026, 3, 27, 9, 0)) == {"sign": 0, "reply": 0}
    assert sorted(ScoreEvent.objects.values_list("unit__code", "reason_code", "points")) == [
        ("441800-A", "hotline.overdue_sign", pytest.approx(-0.5)),
        ("441800-B", "hotline.overdue_reply", pytest.approx(-1)),
    ]
    assert [e.kind for e in unsigned.events.all()][-1] == "sign_overdue"
    assert [e.kind for e in late.events.all()][-1] == "reply_overdue"


def test_late_signature_counts_once_with_the_sweep(operator, liaison_a):
    order = dispatched(operator, liaison_a.unit, at=WED)
    services.sweep_overdue(local(2026, 3, 13, 9, 0))
    services.transition(order, "sign", by=liaison_a, at=local(2026, 3, 13, 10, 0))
    main = WorkOrderAssignment.objects.get(order=order)
    assert (main.sign_late, main.sign_overdue_at) == (True, local(2026, 3, 12, 17, 30))
    assert list(ScoreEvent.objects.values_list("reason_code", flat=True)) == ["hotline.overdue_sign"]


def test_late_reply_is_frozen_and_scored(operator, liaison_a, handler_a, head_a):
    order = replied(operator, liaison_a, handler_a, head_a, at=WED, reply_at=local(2026, 3, 26, 9, 0))
    main = WorkOrderAssignment.objects.get(order=order, role="main")
    assert main.reply_late is True
    assert main.reply_clock.state == "stopped"
    assert list(ScoreEvent.objects.values_list("reason_code", "points")) == [
        ("hotline.late_reply", pytest.approx(-0.5))
    ]


def test_reply_on_time_scores_nothing(operator, liaison_a, handler_a, head_a):
    replied(operator, liaison_a, handler_a, head_a, at=EVE, reply_at=local(2026, 10, 20, 17, 0))
    assert WorkOrderAssignment.objects.get(role="main").reply_late is False
    assert ScoreEvent.objects.count() == 0
