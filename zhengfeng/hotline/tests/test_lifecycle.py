"""The whole lifecycle of a work order, from intake to close, and the direct answer of an inquiry."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from zhengfeng.assessment.models import ScoreEvent
from zhengfeng.core.models import AuditLog
from zhengfeng.deadlines.models import Clock
from zhengfeng.hotline import services
from zhengfeng.hotline.models import Reply, WorkOrder, WorkOrderAssignment
from zhengfeng.hotline.queries import timeline
from zhengfeng.hotline.services import steps
from zhengfeng.messaging.models import OutboxMessage

from .conftest import EVE, PHONE, dispatched, local, receive


def test_intake_numbers_the_order_and_hashes_the_password(operator, category):
    intake = services.receive_work_order(
        by=operator,
        at=EVE,
        channel="phone",
        request_type="complaint",
        title="路灯不亮",
        content="小区门口路灯坏了",
        division="441800",
        category=category.code,
        requester_phone="138-0013-8000",
    )
    second = services.receive_work_order(
        by=operator,
        at=EVE,
        channel="web",
        request_type="inquiry",
        title="咨询",
        content="内容",
        division="441800",
    )
    order = WorkOrder.objects.get(pk=intake.order.pk)
    assert order.code == "QY20260930-000001"
    assert second.order.code == "QY20260930-000002"
    assert len(intake.password) == 6
    assert intake.password not in order.query_password_hash
    assert services.check_query_password(order, intake.password) is True
    assert (
        services.check_query_password(order, "000000" if intake.password != "000000" else "111111") is False
    )
    assert order.requester_phone == PHONE
    assert order.status == "received"
    assert [e.kind for e in timeline(order)] == ["received"]


def test_whole_lifecycle_with_co_unit(operator, category, unit_b, liaison_a, liaison_b, handler_a, head_a):
    order = services.receive_work_order(
        by=operator,
        at=EVE,
        channel="phone",
        request_type="help",
        title="路灯不亮",
        content="小区门口路灯已坏一周",
        division="441800",
        category=category,
        requester_name="王小明",
        requester_phone=PHONE,
    ).order

    services.transition(order, "dispatch", by=operator, at=EVE, co_units=[unit_b])
    order.refresh_from_db()
    assert order.status == "dispatched"
    assert order.main_unit == liaison_a.unit
    # Sign-for: 1 working day from Wednesday 09-30, the holiday skipped: Thursday 10-08 at close of business.
    assert order.sign_due_at == local(2026, 10, 8, 17, 30)

    services.transition(order, "sign", by=liaison_b, at=local(2026, 9, 30, 11, 0))
    order.refresh_from_db()
    assert order.status == "dispatched"  # a co-unit's signature does not start the handling

    services.transition(order, "sign", by=liaison_a, at=local(2026, 9, 30, 15, 0))
    order.refresh_from_db()
    assert order.status == "handling"
    assert order.signed_at == local(2026, 9, 30, 15, 0)
    # 求助: 10 working days from 09-30: 10-08, 09, 10 (补班), 12 … 20.
    assert order.reply_due_at == local(2026, 10, 20, 17, 30)

    services.transition(order, "note", by=handler_a, at=local(2026, 10, 8, 9, 0), text="已联系路灯所现场查看")
    services.transition(order, "draft_reply", by=handler_a, at=local(2026, 10, 9, 9, 0), text="路灯已修复。")
    order.refresh_from_db()
    assert order.status == "reply_drafted"
    services.transition(order, "approve_reply", by=head_a, at=local(2026, 10, 9, 10, 0), approve=True)
    order.refresh_from_db()
    assert order.status == "replied"
    assert order.replied_at == local(2026, 10, 9, 10, 0)
    sms = OutboxMessage.objects.filter(source_type="hotline.workorder", source_id=str(order.pk))
    assert [m.phone for m in sms] == [PHONE]
    assert order.code in sms[0].text

    services.transition(order, "review_reply", by=operator, at=local(2026, 10, 9, 11, 0), approve=True)
    order.refresh_from_db()
    assert order.status == "awaiting_callback"
    services.transition(
        order, "callback", by=operator, at=local(2026, 10, 10, 9, 0), satisfaction="satisfied", resolved=True
    )
    order.refresh_from_db()
    assert order.status == "closed"
    assert order.closed_at == local(2026, 10, 10, 9, 0)
    assert (order.satisfaction, order.resolved) == ("satisfied", True)

    assert [e.kind for e in timeline(order)] == [
        "received",
        "dispatched",
        "signed",
        "signed",
        "note",
        "reply_drafted",
        "reply_approved",
        "reply_passed",
        "callback",
        "closed",
    ]
    assert list(
        AuditLog.objects.filter(target_type="hotline.workorder", target_id=str(order.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    ) == [
        "hotline.received",
        "hotline.dispatch",
        "hotline.sign",
        "hotline.sign",
        "hotline.note",
        "hotline.draft_reply",
        "hotline.approve_reply",
        "hotline.review_reply",
        "hotline.callback",
    ]
    assignments = WorkOrderAssignment.objects.filter(order=order)
    assert sorted(assignments.values_list("role", "status")) == [("co", "ended"), ("main", "ended")]
    clocks = Clock.objects.filter(source_type="hotline.assignment")
    assert sorted(clocks.values_list("kind", "state")) == [
        ("hotline_reply", "stopped"),
        ("hotline_sign", "stopped"),
        ("hotline_sign", "stopped"),
    ]
    assert ScoreEvent.objects.count() == 0


def test_inquiry_answered_directly_is_closed_at_once(operator):
    order = services.receive_work_order(
        by=operator,
        at=EVE,
        channel="phone",
        request_type="inquiry",
        title="社保查询",
        content="如何查询社保",
        division="441800",
    ).order
    services.transition(order, "answer", by=operator, at=EVE, text="请登录粤省事查询。")
    order.refresh_from_db()
    assert (order.status, order.answered_directly, order.closed_at) == ("closed", True, EVE)
    assert Reply.objects.get(order=order).is_direct is True
    assert order.assignments.count() == 0


def test_head_can_send_a_draft_back(operator, liaison_a, handler_a, head_a, category):
    from .conftest import handling

    order = handling(operator, liaison_a, category=category)
    services.transition(order, "draft_reply", by=handler_a, at=EVE, text="草稿")
    services.transition(order, "approve_reply", by=head_a, at=EVE, approve=False, note="答复不完整")
    order.refresh_from_db()
    assert order.status == "handling"
    assert list(Reply.objects.filter(order=order).values_list("status", "review_note")) == [
        ("head_rejected", "答复不完整")
    ]


def test_platform_sends_a_reply_back_for_rework(operator, liaison_a, handler_a, head_a):
    from .conftest import replied

    order = replied(operator, liaison_a, handler_a, head_a)
    services.transition(
        order, "review_reply", by=operator, at=local(2026, 10, 8, 9, 0), approve=False, note="未答复诉求核心"
    )
    order.refresh_from_db()
    assert order.status == "handling"
    rework = WorkOrderAssignment.objects.get(order=order, reason="rework")
    # Half of 10 working days: 5, counted from Thursday 10-08: 09, 10 (补班), 12, 13, 14.
    assert (rework.reply_limit_days, rework.status) == (5, "signed")
    assert order.reply_due_at == local(2026, 10, 14, 17, 30)


def test_referral_to_the_discipline_office(operator, discipline, liaison_a):
    from .conftest import handling

    order = handling(operator, liaison_a, concerns_conduct=True)
    services.transition(
        order, "refer", by=operator, at=EVE, to_unit=discipline, reason="反映工作人员索要好处"
    )
    order.refresh_from_db()
    assert order.is_referred is True
    assert list(order.referrals.values_list("to_unit__code", "reason")) == [
        ("441800-JW", "反映工作人员索要好处")
    ]


# ------------------------------------------------------------------------------------ the action table


def test_every_action_has_one_permission_and_one_input_type():
    assert list(services.PERMISSIONS) == sorted(services.PERMISSIONS, key=list(services.ACTIONS).index)
    assert set(services.PERMISSIONS) == set(services.ACTIONS)
    assert {name: action.inputs.__name__ for name, action in services.ACTIONS.items()} == {
        "answer": "AnswerInput",
        "dispatch": "DispatchInput",
        "sign": "SignInput",
        "request_return": "RequestReturnInput",
        "review_return": "ReviewReturnInput",
        "note": "NoteInput",
        "request_extension": "RequestExtensionInput",
        "decide_extension": "DecisionInput",
        "draft_reply": "DraftReplyInput",
        "approve_reply": "DecisionInput",
        "review_reply": "DecisionInput",
        "callback": "CallbackInput",
        "merge": "MergeInput",
        "void": "VoidInput",
        "refer": "ReferInput",
    }


def test_perform_runs_a_typed_action_like_transition(operator, unit_a):
    order = receive(operator)

    services.perform(order, steps.DispatchInput(main_unit=unit_a), by=operator, at=EVE)

    order.refresh_from_db()
    assert (order.status, order.main_unit) == ("dispatched", unit_a)
    assert AuditLog.objects.filter(action="hotline.dispatch").count() == 1


def test_a_shared_input_type_needs_the_action_named(operator, unit_a):
    order = receive(operator)

    with pytest.raises(ValidationError, match="无法确定 DecisionInput 对应的工单操作"):
        services.perform(order, steps.DecisionInput(approve=True), by=operator, at=EVE)


def test_an_unknown_field_is_refused_naming_it(operator, unit_a):
    order = receive(operator)

    with pytest.raises(ValidationError) as error:
        services.transition(order, "dispatch", by=operator, at=EVE, main=unit_a)

    assert error.value.messages == ["“派单”没有参数 main（可用：co_units、main_unit）"]
    assert WorkOrder.objects.get().status == "received"


def test_refusal_tells_a_wrong_state_from_an_order_not_theirs(operator, liaison_a, liaison_b):
    order = dispatched(operator, liaison_a.unit)

    # The operator could dispatch this order, but not in 待签收; the other unit never could sign it.
    with pytest.raises(ValidationError) as wrong_state:
        services.transition(order, "dispatch", by=operator, at=EVE, main_unit=liaison_b.unit)
    with pytest.raises(PermissionDenied) as not_theirs:
        services.transition(order, "sign", by=liaison_b, at=EVE)

    assert wrong_state.value.messages == [f"工单 {order.code} 当前状态为“待签收”，不能派单"]
    assert str(not_theirs.value) == f"无权对工单 {order.code} 执行“签收”"
