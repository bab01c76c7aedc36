"""The order page's actions clicked through the views: the whole lifecycle, returns, extensions,
callbacks with reopen, merge, void, referral; errors back on the form with nothing saved."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from zhengfeng.alerts.services import sweep
from zhengfeng.assessment.models import ScoreEvent
from zhengfeng.core.models import AuditLog
from zhengfeng.hotline.models import (
    Callback,
    ExtensionRequest,
    Referral,
    Reply,
    ReturnRequest,
    WorkOrder,
    WorkOrderAssignment,
    WorkOrderEvent,
)

from .conftest import EVE, dispatched, evidence, handling, local, receive, replied


@pytest.fixture(autouse=True)
def at_eve():
    with time_machine.travel(EVE, tick=False):
        yield


def act(client, user, order, action, data=None, **extra):
    client.force_login(user)
    return client.post(reverse("hotline:act", args=[order.pk, action]), data or {}, **extra)


def status_of(order) -> str:
    return WorkOrder.objects.values_list("status", flat=True).get(pk=order.pk)


def test_lifecycle_clicked_through_the_views(
    client, operator, category, unit_b, liaison_a, liaison_b, handler_a, head_a
):
    client.force_login(operator)
    form = client.get(reverse("hotline:intake"))
    token = form.context["form"].initial["token"]
    response = client.post(
        reverse("hotline:intake"),
        {
            "token": token,
            "channel": "phone",
            "request_type": "help",
            "urgency": "normal",
            "category_1": category.parent.parent.code,
            "category_2": category.parent.code,
            "category_3": category.code,
            "title": "路灯不亮",
            "content": "小区门口路灯已坏一周，夜间出行不便。",
            "division": "441800",
            "address": "清城区某小区门口",
            "requester_name": "王小明",
            "requester_phone": "138 0013 8000",
        },
    )
    order = WorkOrder.objects.get()
    assert response.url == reverse("hotline:intake_done", args=[order.pk])
    assert (order.status, order.category, order.requester_phone, order.created_by) == (
        "received",
        category,
        "13800138000",
        operator,
    )

    detail = client.get(reverse("hotline:detail", args=[order.pk]))
    assert [panel.name for panel in detail.context["panels"]] == [
        "answer",
        "dispatch",
        "note",
        "merge",
        "void",
        "refer",
    ]
    assert detail.context["suggestion"].unit == liaison_a.unit
    assert "派单目录建议：<strong>市甲局</strong>（主办）" in detail.content.decode()

    response = act(client, operator, order, "dispatch", {"main_unit": "", "co_units": [unit_b.pk]})
    assert response.url == reverse("hotline:detail", args=[order.pk])
    assert status_of(order) == "dispatched"
    assert sorted(WorkOrderAssignment.objects.filter(order=order).values_list("unit__code", "role")) == [
        ("441800-A", "main"),
        ("441800-B", "co"),
    ]

    act(client, liaison_b, order, "sign")
    assert status_of(order) == "dispatched"
    act(client, liaison_a, order, "sign", {"next": reverse("hotline:inbox")})
    assert status_of(order) == "handling"

    response = act(client, handler_a, order, "draft_reply", {"text": "已安排维修，路灯恢复正常。"})
    assert response.status_code == 302
    assert status_of(order) == "reply_drafted"

    detail = client.get(reverse("hotline:detail", args=[order.pk]))
    assert [panel.name for panel in detail.context["panels"]] == ["note"]
    client.force_login(head_a)
    detail = client.get(reverse("hotline:detail", args=[order.pk]))
    assert [panel.name for panel in detail.context["panels"]] == ["note", "approve_reply"]
    assert detail.context["current_reply"].text == "已安排维修，路灯恢复正常。"

    act(client, head_a, order, "approve_reply", {"approve": "yes"})
    assert status_of(order) == "replied"
    act(client, operator, order, "review_reply", {"approve": "yes"})
    assert status_of(order) == "awaiting_callback"
    act(
        client,
        operator,
        order,
        "callback",
        {"reached": "yes", "satisfaction": "satisfied", "resolved": "yes", "note": "路灯已亮"},
    )
    order.refresh_from_db()
    assert (order.status, order.satisfaction, order.resolved, order.closed_at) == (
        "closed",
        "satisfied",
        True,
        EVE,
    )
    assert [e.kind for e in WorkOrderEvent.objects.filter(order=order).order_by("at", "id")] == [
        "received",
        "dispatched",
        "signed",
        "signed",
        "reply_drafted",
        "reply_approved",
        "reply_passed",
        "callback",
        "closed",
    ]
    assert list(Reply.objects.filter(order=order).values_list("status", flat=True)) == ["passed"]


def test_double_submit_is_refused_on_the_form_and_saves_nothing_twice(client, operator, liaison_a, category):
    order = dispatched(operator, liaison_a.unit)
    assert act(client, liaison_a, order, "sign").status_code == 302

    response = act(client, liaison_a, order, "sign")

    assert response.status_code == 400
    errors = response.context["panels"][0].form.non_field_errors()
    assert errors == [f"工单 {order.code} 当前状态为“办理中”，不能签收"]
    assert WorkOrderEvent.objects.filter(order=order, kind="signed").count() == 1


def test_service_error_is_shown_on_the_form_and_nothing_is_saved(client, operator, liaison_a, handler_a):
    order = handling(operator, liaison_a)
    # 求助: 10 working days; asking for 11 exceeds the original limit.
    response = act(client, handler_a, order, "request_extension", {"days": "11", "reason": "需协调多个部门"})

    assert response.status_code == 400
    panel = next(p for p in response.context["panels"] if p.name == "request_extension")
    assert panel.form.non_field_errors() == [
        "延期合计不得超过原办理时限 10 个工作日：已延期 0 日，本次申请 11 日"
    ]
    assert "延期合计不得超过原办理时限" in response.content.decode()
    assert ExtensionRequest.objects.count() == 0
    assert AuditLog.objects.filter(action="hotline.request_extension").count() == 0


def test_empty_required_field_is_a_form_error(client, operator, liaison_a, handler_a):
    order = handling(operator, liaison_a)

    response = act(client, handler_a, order, "draft_reply", {"text": "  "})

    assert response.status_code == 400
    panel = next(p for p in response.context["panels"] if p.name == "draft_reply")
    assert panel.form.errors == {"text": ["这个字段是必填项。"]}
    assert (status_of(order), Reply.objects.count()) == ("handling", 0)


def test_handler_cannot_dispatch(client, operator, liaison_a, handler_a, category):
    order = handling(operator, liaison_a)

    response = act(client, handler_a, order, "dispatch", {"main_unit": ""})

    assert response.status_code == 403
    assert WorkOrderAssignment.objects.filter(order=order).count() == 1


def test_unit_without_the_order_gets_404_on_every_action(client, operator, liaison_a, liaison_b):
    order = dispatched(operator, liaison_a.unit)

    for action in ("sign", "note", "dispatch"):
        assert act(client, liaison_b, order, action, {"text": "越权"}).status_code == 404
    assert status_of(order) == "dispatched"


def test_unknown_action_is_404(client, operator):
    order = receive(operator)
    assert act(client, operator, order, "delete").status_code == 404


def test_answer_directly_closes_an_inquiry(client, operator):
    order = receive(operator, request_type="inquiry")

    act(client, operator, order, "answer", {"text": "办理时间为工作日 9:00–17:00。"})

    order.refresh_from_db()
    assert (order.status, order.answered_directly) == ("closed", True)


def test_return_with_evidence_then_reassign(client, operator, liaison_a, unit_b, category):
    order = dispatched(operator, liaison_a.unit)

    response = act(
        client, liaison_a, order, "request_return", {"reason": "不属本单位职责", "evidence": evidence()}
    )
    assert response.status_code == 302
    assert status_of(order) == "return_requested"

    client.force_login(operator)
    detail = client.get(reverse("hotline:detail", args=[order.pk]))
    returned = ReturnRequest.objects.get()
    assert detail.context["pending_return"] == returned
    # The only rule points back to unit A, which just returned it: no suggestion.
    assert detail.context["reassign_suggestion"] is None
    download = client.get(reverse("hotline:return_evidence", args=[returned.pk]))
    assert (download.status_code, b"".join(download.streaming_content)) == (200, b"%PDF-1.4 evidence")

    act(client, operator, order, "review_return", {"decision": "reassign", "main_unit": unit_b.pk})
    order.refresh_from_db()
    assert (order.status, order.main_unit) == ("dispatched", unit_b)


def test_return_without_evidence_is_a_form_error(client, operator, liaison_a):
    order = dispatched(operator, liaison_a.unit)

    response = act(client, liaison_a, order, "request_return", {"reason": "不属本单位职责"})

    assert response.status_code == 400
    assert ReturnRequest.objects.count() == 0
    assert status_of(order) == "dispatched"


def test_overrule_needs_a_note_and_counts_an_improper_return(client, operator, liaison_a):
    order = dispatched(operator, liaison_a.unit)
    act(client, liaison_a, order, "request_return", {"reason": "不属本单位职责", "evidence": evidence()})

    response = act(client, operator, order, "review_return", {"decision": "overrule", "note": ""})
    assert response.status_code == 400
    assert status_of(order) == "return_requested"

    act(client, operator, order, "review_return", {"decision": "overrule", "note": "路灯属本单位管理"})
    order.refresh_from_db()
    assert (order.status, order.improper_return_count) == ("handling", 1)
    assert list(ScoreEvent.objects.values_list("reason_code", flat=True)) == ["hotline.improper_return"]


def test_extension_head_then_hotline(client, operator, liaison_a, handler_a, head_a):
    order = handling(operator, liaison_a)
    act(client, handler_a, order, "request_extension", {"days": "3", "reason": "需协调供电部门"})

    assert act(client, operator, order, "decide_extension", {"approve": "yes"}).status_code == 403
    act(client, head_a, order, "decide_extension", {"approve": "yes"})
    assert ExtensionRequest.objects.get().status == "pending_hotline"

    client.force_login(operator)
    assert client.get(reverse("hotline:workbench"), {"queue": "extension"}).context["rows"][0].order == order
    act(client, operator, order, "decide_extension", {"approve": "yes"})
    extension = ExtensionRequest.objects.get()
    order.refresh_from_db()
    assert (extension.status, order.extension_count, order.reply_due_at) == (
        "approved",
        1,
        extension.new_due_at,
    )


def test_review_sends_back_then_callback_reopens(client, operator, liaison_a, handler_a, head_a):
    order = replied(operator, liaison_a, handler_a, head_a)
    act(client, operator, order, "review_reply", {"approve": "no", "note": "答复未说明维修时间"})
    assert status_of(order) == "handling"

    act(client, handler_a, order, "draft_reply", {"text": "已于 9 月 30 日修复。"})
    act(client, head_a, order, "approve_reply", {"approve": "yes"})
    act(client, operator, order, "review_reply", {"approve": "yes"})
    act(
        client,
        operator,
        order,
        "callback",
        {"reached": "yes", "satisfaction": "dissatisfied", "resolved": "no", "reopen": "on"},
    )

    order.refresh_from_db()
    assert (order.status, order.reopen_count, order.satisfaction) == ("handling", 1, "dissatisfied")
    assert Callback.objects.get().reopened is True


def test_callback_reopen_when_satisfied_is_refused(client, operator, liaison_a, handler_a, head_a):
    order = replied(operator, liaison_a, handler_a, head_a)
    act(client, operator, order, "review_reply", {"approve": "yes"})

    response = act(
        client,
        operator,
        order,
        "callback",
        {"reached": "yes", "satisfaction": "satisfied", "resolved": "yes", "reopen": "on"},
    )

    assert response.status_code == 400
    assert "只有诉求人不满意" in response.content.decode()
    assert (status_of(order), Callback.objects.count()) == ("awaiting_callback", 0)


def test_merge_offers_candidates_and_merges(client, operator):
    main = receive(operator, at=EVE - dt.timedelta(hours=1), address="和平路 1 号")
    duplicate = receive(operator, at=EVE - dt.timedelta(minutes=5), address="和平路 1 号")
    client.force_login(operator)

    detail = client.get(reverse("hotline:detail", args=[duplicate.pk]))
    assert [c.order for c in detail.context["merge_candidates"]] == [main]

    act(client, operator, duplicate, "merge", {"into": main.code.lower()})
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into) == ("merged", main)


def test_merge_into_an_unknown_code_is_a_form_error(client, operator):
    order = receive(operator)

    response = act(client, operator, order, "merge", {"into": "QY20000101-000001"})

    assert response.status_code == 400
    panel = next(p for p in response.context["panels"] if p.name == "merge")
    assert panel.form.errors == {"into": ["受理编号 QY20000101-000001 不存在或不在您的权限范围内"]}


def test_void_needs_a_reason(client, operator):
    order = receive(operator)
    assert act(client, operator, order, "void", {"reason": ""}).status_code == 400
    act(client, operator, order, "void", {"reason": "骚扰电话"})
    assert status_of(order) == "voided"


def test_inspector_refers_a_conduct_case(client, operator, inspector, discipline, liaison_a):
    order = handling(operator, liaison_a, concerns_conduct=True)
    client.force_login(inspector)
    detail = client.get(reverse("hotline:detail", args=[order.pk]))
    assert [panel.name for panel in detail.context["panels"]] == ["refer"]
    assert list(detail.context["panels"][0].form.fields["to_unit"].queryset) == [discipline]

    act(client, inspector, order, "refer", {"to_unit": discipline.pk, "reason": "反映工作人员推诿"})

    order.refresh_from_db()
    assert (order.is_referred, Referral.objects.get().to_unit) == (True, discipline)


def test_office_refers_but_liaison_cannot(client, operator, city_office, discipline, liaison_a):
    order = handling(operator, liaison_a, concerns_conduct=True)

    assert (
        act(client, liaison_a, order, "refer", {"to_unit": discipline.pk, "reason": "x"}).status_code == 403
    )
    act(client, city_office, order, "refer", {"to_unit": discipline.pk, "reason": "反映工作人员推诿"})
    assert Referral.objects.count() == 1


def test_note_by_the_unit_shows_on_the_timeline(client, operator, liaison_a, handler_a):
    order = handling(operator, liaison_a)
    act(client, handler_a, order, "note", {"text": "已联系供电所现场查看"})

    response = client.get(reverse("hotline:timeline", args=[order.pk]))

    assert [(e.kind, e.text) for e in response.context["events"]][-1] == ("note", "已联系供电所现场查看")
    htmx = client.get(reverse("hotline:timeline", args=[order.pk]), headers={"HX-Request": "true"})
    assert htmx.content.decode().lstrip().startswith('<section class="card" id="timeline">')


def test_sign_from_the_inbox_returns_to_the_inbox(client, operator, liaison_a):
    order = dispatched(operator, liaison_a.unit)
    client.force_login(liaison_a)
    inbox = client.get(reverse("hotline:inbox"))
    assert [row.order for row in inbox.context["rows"]] == [order]

    response = act(client, liaison_a, order, "sign", {"next": reverse("hotline:inbox") + "?queue=sign"})

    assert response.url == "/hotline/inbox/?queue=sign"
    assert status_of(order) == "handling"
    assert local(2026, 9, 30, 10, 0) == WorkOrder.objects.get().signed_at


@pytest.mark.parametrize("notes", [1, 3])
def test_timeline_query_count_does_not_grow(
    client, operator, liaison_a, handler_a, django_assert_num_queries, notes
):
    order = handling(operator, liaison_a)
    for i in range(notes):
        act(client, handler_a, order, "note", {"text": f"记录{i}"})
    # The reply clock (due 10-20 17:30) overdue: a 黄牌 on the timeline too.
    sweep(local(2026, 10, 22, 9, 0))
    client.force_login(operator)
    # session, user, unit, division (scope), the order, its events (actor and unit joined), the alerts
    # on its clocks (unit joined).
    with django_assert_num_queries(7):
        response = client.get(reverse("hotline:timeline", args=[order.pk]))
    assert [e.kind for e in response.context["events"]] == ["received", "dispatched", "signed"] + [
        "note"
    ] * notes + ["alert_yellow"]
