"""Returns (退单) and their review: reassign, or overrule and force (不当退单)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from zhengfeng.assessment.models import ScoreEvent
from zhengfeng.hotline import services
from zhengfeng.hotline.models import ReturnRequest, WorkOrderAssignment

from .conftest import EVE, dispatched, evidence, local


def test_return_needs_reason_and_evidence(operator, liaison_a):
    order = dispatched(operator, liaison_a.unit)
    with pytest.raises(ValidationError, match="退单理由不能为空"):
        services.transition(order, "request_return", by=liaison_a, at=EVE, reason=" ", evidence=evidence())
    with pytest.raises(ValidationError, match="须上传依据材料"):
        services.transition(order, "request_return", by=liaison_a, at=EVE, reason="不属本单位职责")
    order.refresh_from_db()
    assert (order.status, order.return_count, ReturnRequest.objects.count()) == ("dispatched", 0, 0)


def test_return_reassigned_to_another_unit(operator, liaison_a, liaison_b, unit_b):
    order = dispatched(operator, liaison_a.unit)
    services.transition(
        order,
        "request_return",
        by=liaison_a,
        at=local(2026, 9, 30, 11, 0),
        reason="路灯归市乙局管",
        evidence=evidence(),
    )
    order.refresh_from_db()
    assert (order.status, order.return_count, order.sign_due_at) == ("return_requested", 1, None)
    request = ReturnRequest.objects.get()
    # Stored under the upload's own date (FileField's upload_to), not the order's.
    assert request.evidence.name.startswith(dt.datetime.now().strftime("hotline/returns/%Y/%m/"))  # noqa: DTZ005

    services.transition(
        order,
        "review_return",
        by=operator,
        at=local(2026, 9, 30, 14, 0),
        decision="reassign",
        main_unit=unit_b,
    )
    order.refresh_from_db()
    assert (order.status, order.main_unit) == ("dispatched", unit_b)
    assert list(
        WorkOrderAssignment.objects.filter(order=order).values_list("unit__code", "status", "reason")
    ) == [
        ("441800-A", "returned", "dispatch"),
        ("441800-B", "pending", "reassign"),
    ]
    assert ReturnRequest.objects.get().status == "accepted"
    # The new unit gets its own sign-for limit from the reassignment.
    assert order.sign_due_at == local(2026, 10, 8, 17, 30)
    services.transition(order, "sign", by=liaison_b, at=local(2026, 10, 8, 9, 0))
    order.refresh_from_db()
    assert order.status == "handling"
    assert order.improper_return_count == 0
    assert ScoreEvent.objects.count() == 0


def test_reassign_cannot_go_back_to_the_returning_unit(operator, liaison_a):
    order = dispatched(operator, liaison_a.unit)
    services.transition(
        order, "request_return", by=liaison_a, at=EVE, reason="不属本单位", evidence=evidence()
    )
    with pytest.raises(ValidationError, match="刚退回此工单"):
        services.transition(
            order, "review_return", by=operator, at=EVE, decision="reassign", main_unit=liaison_a.unit
        )
    order.refresh_from_db()
    assert order.status == "return_requested"


def test_overruled_return_is_an_improper_return(operator, liaison_a, handler_a):
    order = dispatched(operator, liaison_a.unit)
    services.transition(
        order, "request_return", by=liaison_a, at=EVE, reason="不归我们管", evidence=evidence()
    )
    with pytest.raises(ValidationError, match="审核意见不能为空"):
        services.transition(order, "review_return", by=operator, at=EVE, decision="overrule")
    services.transition(
        order,
        "review_return",
        by=operator,
        at=local(2026, 9, 30, 15, 0),
        decision="overrule",
        note="权责清单第12项属该局职责",
    )
    order.refresh_from_db()
    assert (order.status, order.improper_return_count, order.signed_at) == (
        "handling",
        1,
        local(2026, 9, 30, 15, 0),
    )
    main = WorkOrderAssignment.objects.get(order=order)
    assert (main.status, main.is_forced, main.signed_by) == ("signed", True, None)
    assert order.reply_due_at == local(2026, 10, 20, 17, 30)
    event = ScoreEvent.objects.get()
    assert (event.unit, event.reason_code, float(event.points)) == (
        liaison_a.unit,
        "hotline.improper_return",
        -1.0,
    )
    assert "权责清单第12项" in event.reason
    # The forced unit handles it like any other.
    services.transition(order, "draft_reply", by=handler_a, at=EVE, text="已处理")


def test_co_unit_return_leaves_the_main_unit_alone(operator, liaison_a, liaison_b, unit_b):
    order = dispatched(operator, liaison_a.unit)
    order = services.receive_work_order(
        by=operator, at=EVE, channel="phone", request_type="help", title="t", content="c", division="441800"
    ).order
    services.transition(order, "dispatch", by=operator, at=EVE, main_unit=liaison_a.unit, co_units=[unit_b])
    services.transition(order, "request_return", by=liaison_b, at=EVE, reason="无需协办", evidence=evidence())
    order.refresh_from_db()
    assert order.status == "dispatched"
    services.transition(order, "review_return", by=operator, at=EVE, decision="reassign")
    assert sorted(order.assignments.values_list("unit__code", "status")) == [
        ("441800-A", "pending"),
        ("441800-B", "returned"),
    ]


def test_signed_order_cannot_be_returned(operator, liaison_a):
    order = dispatched(operator, liaison_a.unit)
    services.transition(order, "sign", by=liaison_a, at=EVE)
    with pytest.raises(ValidationError, match="不能退单"):
        services.transition(order, "request_return", by=liaison_a, at=EVE, reason="x", evidence=evidence())
