"""Extensions (延期): asked before the deadline with a reason, approved by the head then the hotline,
capped in count and length, the requester told by SMS unless anonymous."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from zhengfeng.hotline import services
from zhengfeng.hotline.models import ExtensionRequest, WorkOrderAssignment
from zhengfeng.messaging.models import OutboxMessage

from .conftest import PHONE, WED, handling, local

# 求助 handled from Wednesday 03-11: 10 working days, due Wednesday 03-25 at 17:30.
DUE = local(2026, 3, 25, 17, 30)


def _sms(order):
    return list(
        OutboxMessage.objects.filter(source_type="hotline.workorder", source_id=str(order.pk)).values_list(
            "phone", flat=True
        )
    )


def test_extension_needs_head_then_hotline_and_moves_the_deadline(operator, liaison_a, handler_a, head_a):
    order = handling(operator, liaison_a, at=WED)
    services.transition(
        order, "request_extension", by=handler_a, at=local(2026, 3, 20, 9, 0), days=3, reason="需协调供电部门"
    )
    extension = ExtensionRequest.objects.get()
    assert extension.status == "pending_head"
    with pytest.raises(PermissionDenied, match="单位负责人审批"):
        services.transition(
            order, "decide_extension", by=operator, at=local(2026, 3, 20, 10, 0), approve=True
        )
    services.transition(order, "decide_extension", by=head_a, at=local(2026, 3, 20, 10, 0), approve=True)
    extension.refresh_from_db()
    assert extension.status == "pending_hotline"
    with pytest.raises(PermissionDenied, match="热线平台审核"):
        services.transition(order, "decide_extension", by=head_a, at=local(2026, 3, 20, 11, 0), approve=True)
    assert _sms(order) == []
    services.transition(order, "decide_extension", by=operator, at=local(2026, 3, 20, 11, 0), approve=True)
    extension.refresh_from_db()
    order.refresh_from_db()
    # Three working days after 03-25: 03-26, 03-27, 03-30.
    assert extension.status == "approved"
    assert extension.new_due_at == order.reply_due_at == local(2026, 3, 30, 17, 30)
    assert order.extension_count == 1
    assert _sms(order) == [PHONE]
    assert "2026年03月30日" in OutboxMessage.objects.get().text
    # The deadline stays frozen with the extension: a reply on 03-27 is on time.
    services.transition(order, "draft_reply", by=handler_a, at=local(2026, 3, 27, 9, 0), text="已协调")
    services.transition(order, "approve_reply", by=head_a, at=local(2026, 3, 27, 10, 0), approve=True)
    assert WorkOrderAssignment.objects.get(order=order).reply_late is False


def test_head_request_goes_straight_to_the_hotline(operator, liaison_a, head_a):
    order = handling(operator, liaison_a, at=WED)
    services.transition(order, "request_extension", by=head_a, at=WED, days=2, reason="现场勘查")
    assert ExtensionRequest.objects.get().status == "pending_hotline"


def test_extension_after_the_deadline_is_refused(operator, liaison_a, handler_a):
    order = handling(operator, liaison_a, at=WED)
    with pytest.raises(ValidationError, match="延期须在办理期限（2026-03-25 17:30）前申请"):
        services.transition(
            order, "request_extension", by=handler_a, at=local(2026, 3, 26, 9, 0), days=2, reason="来不及"
        )
    assert ExtensionRequest.objects.count() == 0


def test_extension_caps_count_and_length(operator, liaison_a, handler_a, head_a):
    order = handling(operator, liaison_a, at=WED)
    with pytest.raises(ValidationError, match="不得超过原办理时限 10 个工作日"):
        services.transition(order, "request_extension", by=head_a, at=WED, days=11, reason="复杂")
    for days in (4, 4):
        services.transition(order, "request_extension", by=head_a, at=WED, days=days, reason="复杂")
        services.transition(order, "decide_extension", by=operator, at=WED, approve=True)
    with pytest.raises(ValidationError, match="最多 2 次"):
        services.transition(order, "request_extension", by=head_a, at=WED, days=1, reason="还要延")
    assert ExtensionRequest.objects.filter(status="approved").count() == 2


def test_extension_total_cannot_exceed_the_original_limit(operator, liaison_a, head_a):
    order = handling(operator, liaison_a, at=WED)
    services.transition(order, "request_extension", by=head_a, at=WED, days=7, reason="复杂")
    services.transition(order, "decide_extension", by=operator, at=WED, approve=True)
    with pytest.raises(ValidationError, match="已延期 7 日，本次申请 4 日"):
        services.transition(order, "request_extension", by=head_a, at=WED, days=4, reason="复杂")


def test_rejection_needs_a_note_and_changes_no_deadline(operator, liaison_a, handler_a, head_a):
    order = handling(operator, liaison_a, at=WED)
    services.transition(order, "request_extension", by=handler_a, at=WED, days=2, reason="人手不足")
    with pytest.raises(ValidationError, match="审批意见不能为空"):
        services.transition(order, "decide_extension", by=head_a, at=WED, approve=False)
    services.transition(order, "decide_extension", by=head_a, at=WED, approve=False, note="理由不充分")
    order.refresh_from_db()
    assert ExtensionRequest.objects.get().status == "rejected"
    assert order.reply_due_at == DUE
    assert _sms(order) == []


def test_anonymous_requester_gets_no_sms(operator, liaison_a, head_a):
    order = handling(operator, liaison_a, at=WED, is_anonymous=True)
    services.transition(order, "request_extension", by=head_a, at=WED, days=2, reason="复杂")
    services.transition(order, "decide_extension", by=operator, at=WED, approve=True)
    assert _sms(order) == []


def test_second_pending_request_is_refused(operator, liaison_a, handler_a):
    order = handling(operator, liaison_a, at=WED)
    services.transition(order, "request_extension", by=handler_a, at=WED, days=2, reason="复杂")
    with pytest.raises(ValidationError, match="不能申请延期"):
        services.transition(order, "request_extension", by=handler_a, at=WED, days=2, reason="复杂")
    assert ExtensionRequest.objects.count() == 1
