"""Callbacks (回访) by the hotline, closing and reopening (重办)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from zhengfeng.assessment.models import ScoreEvent
from zhengfeng.hotline import services
from zhengfeng.hotline.models import Callback, WorkOrderAssignment

from .conftest import WED, local, replied


def _passed(operator, liaison, handler, head, **overrides):
    order = replied(operator, liaison, handler, head, at=WED, **overrides)
    return services.transition(order, "review_reply", by=operator, at=WED, approve=True)


def test_anonymous_order_is_closed_without_callback(operator, liaison_a, handler_a, head_a):
    order = _passed(operator, liaison_a, handler_a, head_a, is_anonymous=True)
    order.refresh_from_db()
    assert (order.status, order.closed_at, order.satisfaction) == ("closed", WED, "")
    assert order.callback_expected is False


def test_unit_cannot_do_the_callback(operator, liaison_a, handler_a, head_a):
    order = _passed(operator, liaison_a, handler_a, head_a)
    with pytest.raises(PermissionDenied):
        services.transition(order, "callback", by=head_a, at=WED, satisfaction="satisfied", resolved=True)


def test_dissatisfied_requester_reopens_with_a_new_clock(operator, liaison_a, handler_a, head_a):
    order = _passed(operator, liaison_a, handler_a, head_a)
    services.transition(
        order,
        "callback",
        by=operator,
        at=local(2026, 3, 16, 9, 0),
        satisfaction="dissatisfied",
        resolved=False,
        reopen=True,
        note="路灯仍不亮",
    )
    order.refresh_from_db()
    assert (order.status, order.reopen_count, order.satisfaction, order.resolved) == (
        "handling",
        1,
        "dissatisfied",
        False,
    )
    rounds = list(WorkOrderAssignment.objects.filter(order=order).values_list("round", "reason", "status"))
    assert rounds == [(1, "dispatch", "ended"), (2, "reopen", "signed")]
    # A fresh 10 working days from Monday 03-16: due 03-30.
    assert order.reply_due_at == local(2026, 3, 30, 17, 30)
    services.transition(order, "draft_reply", by=handler_a, at=local(2026, 3, 17, 9, 0), text="已更换灯具")
    services.transition(order, "approve_reply", by=head_a, at=local(2026, 3, 17, 9, 0), approve=True)
    services.transition(order, "review_reply", by=operator, at=local(2026, 3, 17, 9, 0), approve=True)
    services.transition(
        order, "callback", by=operator, at=local(2026, 3, 18, 9, 0), satisfaction="basically", resolved=True
    )
    order.refresh_from_db()
    assert (order.status, order.satisfaction) == ("closed", "basically")
    assert Callback.objects.filter(order=order).count() == 2


def test_reopen_only_when_dissatisfied(operator, liaison_a, handler_a, head_a):
    order = _passed(operator, liaison_a, handler_a, head_a)
    with pytest.raises(ValidationError, match="只有诉求人不满意"):
        services.transition(
            order, "callback", by=operator, at=WED, satisfaction="satisfied", resolved=True, reopen=True
        )
    order.refresh_from_db()
    assert (order.status, Callback.objects.count()) == ("awaiting_callback", 0)


def test_false_completion_is_scored(operator, liaison_a, handler_a, head_a):
    order = _passed(operator, liaison_a, handler_a, head_a)
    services.transition(
        order,
        "callback",
        by=operator,
        at=WED,
        satisfaction="dissatisfied",
        resolved=False,
        false_completion=True,
        reopen=True,
        note="单位称已修复，实际未修",
    )
    event = ScoreEvent.objects.get()
    assert (event.unit, event.reason_code, float(event.points)) == (
        liaison_a.unit,
        "hotline.false_completion",
        -2.0,
    )


def test_unreached_requester_closes_without_rating(operator, liaison_a, handler_a, head_a):
    order = _passed(operator, liaison_a, handler_a, head_a)
    with pytest.raises(ValidationError, match="未联系上诉求人时不能记录满意度"):
        services.transition(order, "callback", by=operator, at=WED, reached=False, satisfaction="satisfied")
    services.transition(order, "callback", by=operator, at=WED, reached=False, note="三次未接通")
    order.refresh_from_db()
    assert (order.status, order.satisfaction, order.resolved) == ("closed", "", None)


def test_callback_needs_satisfaction_and_resolution(operator, liaison_a, handler_a, head_a):
    order = _passed(operator, liaison_a, handler_a, head_a)
    with pytest.raises(ValidationError, match="未知的满意度 'great'"):
        services.transition(order, "callback", by=operator, at=WED, satisfaction="great", resolved=True)
    with pytest.raises(ValidationError, match="是否已解决"):
        services.transition(order, "callback", by=operator, at=WED, satisfaction="satisfied")
