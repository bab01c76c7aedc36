"""Package-internal: the actions of extensions (延期), replies (答复) and the callback (回访).

One `act_<action>(order, step, *, by, at)` per action, `step` its input dataclass (`steps`), run by
`lifecycle.perform` with the order row locked and the actor's right checked
(`permissions.PERMISSIONS`); each returns the summary that goes into the audit row.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from zhengfeng.deadlines.models import Clock
from zhengfeng.hotline.models import (
    TEXT_MAX_LENGTH,
    AssignmentReason,
    AssignmentRole,
    AssignmentStatus,
    Callback,
    EventKind,
    ExtensionRequest,
    ExtensionStatus,
    Reply,
    ReplyStatus,
    Satisfaction,
    Status,
    WorkOrder,
    WorkOrderAssignment,
)
from zhengfeng.hotline.services.common import (
    MAX_EXTENSIONS,
    _choice,
    _event,
    _iso,
    _save,
    _score,
    _score_late_clock,
    _sms_requester,
    _text,
)
from zhengfeng.hotline.services.permissions import (
    _main_assignment,
    _pending_extension,
)
from zhengfeng.hotline.services.rounds import (
    _clock_event,
    _end_live_assignments,
    _new_assignment,
    _next_round,
    _refresh_due,
    _start_reply_clock,
    _stop_if_running,
)
from zhengfeng.hotline.services.rules import time_limit_for
from zhengfeng.hotline.services.steps import (
    CallbackInput,
    DecisionInput,
    DraftReplyInput,
    RequestExtensionInput,
)
from zhengfeng.org.models import Role, User


def _signed_main(order: WorkOrder) -> tuple[WorkOrderAssignment, Clock]:
    """The signed main assignment and its running reply clock (read with it)."""
    main = _main_assignment(order)
    if main is None or main.status != AssignmentStatus.SIGNED or main.reply_clock is None:
        raise ValidationError(f"工单 {order.code} 尚未由主办单位签收")
    return main, main.reply_clock


def act_request_extension(
    order: WorkOrder, step: RequestExtensionInput, *, by: User, at: dt.datetime
) -> dict[str, Any]:
    days, reason = step.days, step.reason
    main, clock = _signed_main(order)
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValidationError(f"延期天数应为正整数（工作日），而不是 {days!r}")
    reason = _text(reason, label="延期理由", max_length=TEXT_MAX_LENGTH)
    if clock.due_at is None or at >= clock.due_at:
        due = timezone.localtime(clock.due_at).strftime("%Y-%m-%d %H:%M") if clock.due_at else "—"
        raise ValidationError(f"延期须在办理期限（{due}）前申请")
    if _pending_extension(order) is not None:
        raise ValidationError(f"工单 {order.code} 已有待审批的延期申请")
    granted = list(main.extensions.filter(status=ExtensionStatus.APPROVED).values_list("days", flat=True))
    limit = main.reply_limit_days or 1
    if len(granted) >= MAX_EXTENSIONS:
        raise ValidationError(f"本轮办理已延期 {len(granted)} 次，最多 {MAX_EXTENSIONS} 次")
    if sum(granted) + days > limit:
        raise ValidationError(
            f"延期合计不得超过原办理时限 {limit} 个工作日：已延期 {sum(granted)} 日，本次申请 {days} 日"
        )
    by_head = by.role == Role.HEAD
    extension = ExtensionRequest.objects.create(
        order=order,
        assignment=main,
        days=days,
        reason=reason,
        requested_at=at,
        requested_by=by,
        due_at_request=clock.due_at,
        # A head asking for his own unit has approved it by asking.
        status=ExtensionStatus.PENDING_HOTLINE if by_head else ExtensionStatus.PENDING_HEAD,
        head_decided_at=at if by_head else None,
        head_decided_by=by if by_head else None,
    )
    _event(
        order,
        EventKind.EXTENSION_REQUESTED,
        at=at,
        by=by,
        unit=main.unit,
        text=f"申请延期 {days} 个工作日：{reason}",
        data={"extension": extension.pk, "days": days},
    )
    return {"extension": extension.pk, "days": days, "status": extension.status}


def act_decide_extension(
    order: WorkOrder, step: DecisionInput, *, by: User, at: dt.datetime
) -> dict[str, Any]:
    approve, note = step.approve, step.note
    extension = _pending_extension(order)
    if extension is None:
        raise ValidationError(f"工单 {order.code} 没有待审批的延期申请")
    if not isinstance(approve, bool):
        raise ValidationError("请选择批准或不予批准")
    note = _text(note, label="审批意见", max_length=TEXT_MAX_LENGTH, required=not approve)
    main = extension.assignment
    # Which approver this stage needs was checked before (permissions.PERMISSIONS).
    head_stage = extension.status == ExtensionStatus.PENDING_HEAD
    extension.decision_note = note
    fields = ["status", "decision_note"]
    if head_stage:
        extension.head_decided_at, extension.head_decided_by = at, by
        fields += ["head_decided_at", "head_decided_by"]
    else:
        extension.hotline_decided_at, extension.hotline_decided_by = at, by
        fields += ["hotline_decided_at", "hotline_decided_by"]
    sms = False
    if not approve:
        extension.status = ExtensionStatus.REJECTED
        kind, text = EventKind.EXTENSION_REJECTED, f"延期 {extension.days} 日不予批准：{note}"
    elif head_stage:
        extension.status = ExtensionStatus.PENDING_HOTLINE
        kind, text = EventKind.EXTENSION_HEAD_APPROVED, f"单位负责人同意延期 {extension.days} 日"
    else:
        extension.status = ExtensionStatus.APPROVED
        if main.reply_clock_id is None:
            # Never taken: an extension is asked for a signed round (_signed_main), which has a reply clock.
            raise ValidationError(f"工单 {order.code} 尚未由主办单位签收")
        clock = Clock.objects.get(pk=main.reply_clock_id)
        clock = _clock_event(
            clock, "extend", at=at, by=by, reason=f"延期申请 {extension.pk}", data={"amount": extension.days}
        )
        extension.new_due_at = clock.due_at
        fields.append("new_due_at")
        order.extension_count += 1
        _refresh_due(order)
        _save(order, at, "extension_count", "reply_due_at")
        due = timezone.localtime(clock.due_at).strftime("%Y年%m月%d日")
        kind, text = EventKind.EXTENSION_APPROVED, f"批准延期 {extension.days} 个工作日，办理期限延至 {due}"
        sms = _sms_requester(
            order,
            f"您的诉求（受理编号 {order.code}）因“{extension.reason[:60]}”需延期办理，办理期限延至{due}。",
            by=by,
        )
    extension.save(update_fields=fields)
    _event(
        order,
        kind,
        at=at,
        by=by,
        unit=main.unit,
        text=text,
        data={"extension": extension.pk},
        public=kind == EventKind.EXTENSION_APPROVED,
    )
    return {"extension": extension.pk, "status": extension.status, "sms": sms}


def act_draft_reply(order: WorkOrder, step: DraftReplyInput, *, by: User, at: dt.datetime) -> dict[str, Any]:
    text = step.text
    main, _clock = _signed_main(order)
    text = _text(text, label="答复内容", max_length=TEXT_MAX_LENGTH)
    reply = Reply.objects.create(
        order=order,
        assignment=main,
        text=text,
        status=ReplyStatus.AWAITING_HEAD,
        drafted_at=at,
        drafted_by=by,
    )
    order.status = Status.REPLY_DRAFTED
    _save(order, at, "status")
    _event(order, EventKind.REPLY_DRAFTED, at=at, by=by, unit=main.unit, text=text, data={"reply": reply.pk})
    return {"reply": reply.pk}


def _current_reply(order: WorkOrder, status: str) -> Reply:
    reply = order.replies.filter(status=status).order_by("-drafted_at", "-id").first()
    if reply is None:
        raise ValidationError(f"工单 {order.code} 没有状态为“{ReplyStatus(status).label}”的答复")
    return reply


def act_approve_reply(order: WorkOrder, step: DecisionInput, *, by: User, at: dt.datetime) -> dict[str, Any]:
    approve, note = step.approve, step.note
    if not isinstance(approve, bool):
        raise ValidationError("请选择签发或退回")
    note = _text(note, label="退回意见", max_length=TEXT_MAX_LENGTH, required=not approve)
    reply = _current_reply(order, ReplyStatus.AWAITING_HEAD)
    main, reply_clock = _signed_main(order)
    result: dict[str, Any] = {"reply": reply.pk, "approved": approve}
    if not approve:
        reply.status = ReplyStatus.HEAD_REJECTED
        reply.review_note = note
        reply.save(update_fields=["status", "review_note"])
        order.status = Status.HANDLING
        _save(order, at, "status")
        _event(
            order, EventKind.REPLY_REJECTED, at=at, by=by, unit=main.unit, text=note, data={"reply": reply.pk}
        )
        return result
    reply.status = ReplyStatus.SUBMITTED
    reply.approved_at, reply.approved_by = at, by
    reply.save(update_fields=["status", "approved_at", "approved_by"])
    clock = _stop_if_running(Clock.objects.get(pk=reply_clock.pk), at=at, by=by, reason="答复签发")
    if clock is not None and clock.is_late:
        main.reply_late = True
        main.save(update_fields=["reply_late"])
        _score_late_clock("hotline.late_reply", clock, assignment=main, at=at, by=by, order=order)
    order.status = Status.REPLIED
    order.replied_at = at
    _save(order, at, "status", "replied_at")
    message = (
        f"您的诉求（受理编号 {order.code}）已由{main.unit.name}答复，可凭受理编号和查询密码查看答复内容。"
    )
    result["sms"] = _sms_requester(order, message, by=by)
    for merged in order.merged_orders.all():
        _sms_requester(merged, message.replace(order.code, merged.code), by=by)
    result["late"] = main.reply_late
    _event(
        order,
        EventKind.REPLY_APPROVED,
        at=at,
        by=by,
        unit=main.unit,
        text=reply.text,
        data={"reply": reply.pk, "late": main.reply_late},
        public=True,
    )
    return result


def act_review_reply(order: WorkOrder, step: DecisionInput, *, by: User, at: dt.datetime) -> dict[str, Any]:
    approve, note = step.approve, step.note
    if not isinstance(approve, bool):
        raise ValidationError("请选择审核通过或退回")
    note = _text(note, label="审核意见", max_length=TEXT_MAX_LENGTH, required=not approve)
    reply = _current_reply(order, ReplyStatus.SUBMITTED)
    main = _main_assignment(order)
    reply.reviewed_at, reply.reviewed_by, reply.review_note = at, by, note
    reply.status = ReplyStatus.PASSED if approve else ReplyStatus.SENT_BACK
    reply.save(update_fields=["status", "reviewed_at", "reviewed_by", "review_note"])
    _end_live_assignments(order, at=at, by=by)
    if approve:
        if order.callback_expected:
            order.status = Status.AWAITING_CALLBACK
        else:
            order.status = Status.CLOSED
            order.closed_at = at
        # reply_due_at keeps the last (frozen) deadline for the record.
        _save(order, at, "status", "closed_at")
        text = "答复审核通过" + (
            "，待回访" if order.status == Status.AWAITING_CALLBACK else "，匿名或无联系电话，不回访，办结"
        )
        _event(order, EventKind.REPLY_PASSED, at=at, by=by, text=text, data={"reply": reply.pk}, public=True)
        return {"reply": reply.pk, "status": order.status}
    # Sent back (不合格): a rework round with half the original limit, rounded up.
    if main is None:
        # Never taken: a submitted reply was signed off for the live main round read above.
        raise ValidationError(f"工单 {order.code} 没有主办单位，不能退回重办")
    limit_days = main.reply_limit_days
    days = math.ceil((limit_days if limit_days is not None else 2) / 2)
    rework = _new_assignment(
        order,
        main.unit,
        role=AssignmentRole.MAIN,
        reason=AssignmentReason.REWORK,
        round_no=_next_round(order),
        at=at,
        by=by,
        rule=main.time_limit_rule or time_limit_for(order),
        signed=True,
    )
    rework.reply_limit_days = days
    rework.reply_clock = _start_reply_clock(rework, days, at=at, by=by)
    rework.save(update_fields=["reply_limit_days", "reply_clock"])
    order.status = Status.HANDLING
    _refresh_due(order)
    _save(order, at, "status", "sign_due_at", "reply_due_at")
    _event(
        order,
        EventKind.REPLY_SENT_BACK,
        at=at,
        by=by,
        unit=main.unit,
        text=note,
        data={"reply": reply.pk, "days": days},
    )
    return {"reply": reply.pk, "status": order.status, "rework_days": days}


def act_callback(order: WorkOrder, step: CallbackInput, *, by: User, at: dt.datetime) -> dict[str, Any]:
    reached, satisfaction, resolved = step.reached, step.satisfaction, step.resolved
    note, false_completion, reopen = step.note, step.false_completion, step.reopen
    note = _text(note, label="回访记录", max_length=TEXT_MAX_LENGTH, required=False)
    last = (
        order.assignments.filter(role=AssignmentRole.MAIN)
        .select_related("unit")
        .order_by("-round", "-id")
        .first()
    )
    if reached:
        satisfaction = _choice(satisfaction, Satisfaction, label="满意度")
        if not isinstance(resolved, bool):
            raise ValidationError("请记录诉求是否已解决（是／否）")
    elif satisfaction or resolved is not None or reopen or false_completion:
        raise ValidationError("未联系上诉求人时不能记录满意度、解决情况、虚假办结或重办")
    if reopen and satisfaction != Satisfaction.DISSATISFIED:
        raise ValidationError("只有诉求人不满意（且属承办单位主观原因）时才能重办")
    if reopen and last is None:
        raise ValidationError(f"工单 {order.code} 没有承办单位，不能重办")
    callback = Callback.objects.create(
        order=order,
        assignment=last,
        at=at,
        by=by,
        reached=bool(reached),
        satisfaction=satisfaction if reached else "",
        resolved=resolved if reached else None,
        false_completion=bool(false_completion),
        reopened=bool(reopen),
        note=note,
    )
    if reached:
        order.satisfaction, order.resolved = satisfaction, resolved
    if false_completion and last is not None:
        _score(
            "hotline.false_completion",
            unit=last.unit,
            source=callback,
            at=at,
            by=by,
            order=order,
            note=note[:60],
        )
    label = callback.get_satisfaction_display() if reached else "未联系上"
    _event(
        order,
        EventKind.CALLBACK,
        at=at,
        by=by,
        unit=last.unit if last else None,
        text=f"回访：{label}"
        + (f"，{'已解决' if resolved else '未解决'}" if reached else "")
        + (f"。{note}" if note else ""),
        data={"callback": callback.pk, "false_completion": bool(false_completion)},
        public=True,
    )
    if reopen and last is not None:  # `last` was required above; the test tells the type checker
        limit = last.time_limit_rule or time_limit_for(order)
        again = _new_assignment(
            order,
            last.unit,
            role=AssignmentRole.MAIN,
            reason=AssignmentReason.REOPEN,
            round_no=_next_round(order),
            at=at,
            by=by,
            rule=limit,
            signed=True,
        )
        again.reply_clock = _start_reply_clock(again, again.reply_limit_days or 1, at=at, by=by)
        again.save(update_fields=["reply_clock"])
        order.status = Status.HANDLING
        order.reopen_count += 1
        order.main_unit = last.unit
        _refresh_due(order)
        _save(
            order,
            at,
            "status",
            "satisfaction",
            "resolved",
            "reopen_count",
            "main_unit",
            "reply_due_at",
            "sign_due_at",
        )
        _event(
            order,
            EventKind.REOPENED,
            at=at,
            by=by,
            unit=last.unit,
            text=f"诉求人不满意，{last.unit.name}重办",
            public=True,
        )
        return {"callback": callback.pk, "reopened": True, "reply_due_at": _iso(order.reply_due_at)}
    order.status = Status.CLOSED
    order.closed_at = at
    _save(order, at, "status", "satisfaction", "resolved", "closed_at")
    _event(order, EventKind.CLOSED, at=at, by=by, text="办结", public=True)
    return {"callback": callback.pk, "reopened": False}
