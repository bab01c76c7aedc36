"""Package-internal: the actions answer, dispatch, sign, request/review return, note, merge, void, refer.

One `act_<action>(order, step, *, by, at)` per action, `step` its input dataclass (`steps`); the action
table in `lifecycle` points to them, and `lifecycle.perform` runs them with the order row locked and
the actor's right checked (`permissions.PERMISSIONS`). Each returns the summary that goes into the
audit row. Extension, reply and callback actions: `actions_reply`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError

from zhengfeng.core import uploads
from zhengfeng.hotline.models import (
    TEXT_MAX_LENGTH,
    AssignmentReason,
    AssignmentRole,
    AssignmentStatus,
    EventKind,
    Referral,
    Reply,
    ReplyStatus,
    ReturnRequest,
    ReturnStatus,
    Status,
    WorkOrder,
    WorkOrderAssignment,
)
from zhengfeng.hotline.services.common import (
    _event,
    _iso,
    _save,
    _score,
    _score_late_clock,
    _text,
    _unit,
)
from zhengfeng.hotline.services.permissions import _live_assignments, can_operate
from zhengfeng.hotline.services.rounds import (
    _end_live_assignments,
    _open_round,
    _refresh_due,
    _resolve_units,
    _start_reply_clock,
    _stop_if_running,
)
from zhengfeng.hotline.services.rules import time_limit_for
from zhengfeng.hotline.services.steps import (
    AnswerInput,
    DispatchInput,
    MergeInput,
    NoteInput,
    ReferInput,
    RequestReturnInput,
    ReviewReturnInput,
    SignInput,
    VoidInput,
)
from zhengfeng.org.models import UnitKind, User


def act_answer(order: WorkOrder, step: AnswerInput, *, by: User, at: dt.datetime) -> dict[str, Any]:
    text = step.text
    text = _text(text, label="答复内容", max_length=TEXT_MAX_LENGTH)
    Reply.objects.create(
        order=order,
        text=text,
        status=ReplyStatus.PASSED,
        is_direct=True,
        drafted_at=at,
        drafted_by=by,
        approved_at=at,
        approved_by=by,
        reviewed_at=at,
        reviewed_by=by,
    )
    order.status = Status.CLOSED
    order.answered_directly = True
    order.replied_at = order.closed_at = at
    _save(order, at, "status", "answered_directly", "replied_at", "closed_at")
    _event(order, EventKind.ANSWERED, at=at, by=by, text=text, public=True)
    return {"length": len(text)}


def act_dispatch(order: WorkOrder, step: DispatchInput, *, by: User, at: dt.datetime) -> dict[str, Any]:
    main_unit, co_units = step.main_unit, step.co_units
    main, co, rule = _resolve_units(order, main_unit, co_units)
    limit = time_limit_for(order)
    _open_round(order, main, co, reason=AssignmentReason.DISPATCH, at=at, by=by, rule=limit)
    order.status = Status.DISPATCHED
    order.main_unit = main
    order.dispatched_at = order.dispatched_at or at
    _refresh_due(order)
    _save(order, at, "status", "main_unit", "dispatched_at", "sign_due_at", "reply_due_at")
    names = "、".join(u.name for u in co)
    _event(
        order,
        EventKind.DISPATCHED,
        at=at,
        by=by,
        unit=main,
        text=f"派至{main.name}（主办）" + (f"，协办：{names}" if names else ""),
        data={
            "main": main.pk,
            "co": [u.pk for u in co],
            "rule": rule.pk if rule else None,
            "time_limit": limit.pk,
        },
        public=True,
    )
    return {
        "main": main.code,
        "co": [u.code for u in co],
        "by_rule": rule is not None,
        "sign_due_at": _iso(order.sign_due_at),
    }


def _sign_assignment(
    assignment: WorkOrderAssignment, *, at: dt.datetime, by: User, forced: bool = False
) -> None:
    order = assignment.order
    clock = _stop_if_running(assignment.sign_clock, at=at, by=by, reason="签收" if not forced else "审定强派")
    assignment.status = AssignmentStatus.SIGNED
    assignment.signed_at = at
    assignment.signed_by = None if forced else by
    assignment.is_forced = forced
    if clock is not None and clock.is_late and not forced:
        assignment.sign_late = True
        _score_late_clock("hotline.overdue_sign", clock, assignment=assignment, at=at, by=by, order=order)
    fields = ["status", "signed_at", "signed_by", "is_forced", "sign_late"]
    if assignment.role == AssignmentRole.MAIN:
        assignment.reply_clock = _start_reply_clock(
            assignment, assignment.reply_limit_days or 1, at=at, by=by
        )
        fields.append("reply_clock")
    assignment.save(update_fields=fields)


def act_sign(order: WorkOrder, step: SignInput, *, by: User, at: dt.datetime) -> dict[str, Any]:
    pending = [a for a in _live_assignments(order, by.unit_id) if a.status == AssignmentStatus.PENDING]
    if not pending:
        raise ValidationError(f"工单 {order.code} 没有待本单位签收的派单")
    assignment = pending[0]
    if assignment.role == AssignmentRole.MAIN and order.status != Status.DISPATCHED:
        raise ValidationError(f"工单 {order.code} 当前状态为“{order.get_status_display()}”，不能签收")
    _sign_assignment(assignment, at=at, by=by)
    if assignment.role == AssignmentRole.MAIN:
        order.status = Status.HANDLING
        order.signed_at = order.signed_at or at
    _refresh_due(order)
    _save(order, at, "status", "signed_at", "sign_due_at", "reply_due_at")
    _event(
        order,
        EventKind.SIGNED,
        at=at,
        by=by,
        unit=assignment.unit,
        text=f"{assignment.unit.name}签收（{assignment.get_role_display()}）"
        + ("，已逾期" if assignment.sign_late else ""),
        data={"assignment": assignment.pk, "late": assignment.sign_late},
        public=True,
    )
    return {
        "assignment": assignment.pk,
        "role": assignment.role,
        "late": assignment.sign_late,
        "reply_due_at": _iso(order.reply_due_at),
    }


def act_request_return(
    order: WorkOrder, step: RequestReturnInput, *, by: User, at: dt.datetime
) -> dict[str, Any]:
    reason, evidence = step.reason, step.evidence
    pending = [a for a in _live_assignments(order, by.unit_id) if a.status == AssignmentStatus.PENDING]
    if not pending:
        raise ValidationError(f"工单 {order.code} 没有待本单位签收的派单，签收后不能退单")
    reason = _text(reason, label="退单理由", max_length=TEXT_MAX_LENGTH)
    if evidence is None or not evidence.name:
        raise ValidationError("退单须上传依据材料（如三定方案、权责清单条目）")
    checked = uploads.check_upload(evidence, uploads.EVIDENCE)
    assignment = pending[0]
    request = ReturnRequest(
        order=order,
        assignment=assignment,
        unit=assignment.unit,
        reason=reason,
        evidence_name=checked.name,
        evidence_sha256=checked.sha256,
        requested_at=at,
        requested_by=by,
    )
    request.evidence.save(checked.name, checked.file, save=False)
    try:
        return _return_requested(order, assignment, request, by=by, at=at)
    except Exception:
        # The rows roll back with the transition; the file just written must not stay behind.
        request.evidence.delete(save=False)
        raise


def _return_requested(
    order: WorkOrder, assignment: WorkOrderAssignment, request: ReturnRequest, *, by: User, at: dt.datetime
) -> dict[str, Any]:
    request.save()
    # The unit has answered within (or after) its sign-for limit; the clock measures that answer.
    clock = _stop_if_running(assignment.sign_clock, at=at, by=by, reason="申请退单")
    assignment.status = AssignmentStatus.RETURN_REQUESTED
    if clock is not None and clock.is_late:
        assignment.sign_late = True
        _score_late_clock("hotline.overdue_sign", clock, assignment=assignment, at=at, by=by, order=order)
    assignment.save(update_fields=["status", "sign_late"])
    order.return_count += 1
    if assignment.role == AssignmentRole.MAIN:
        order.status = Status.RETURN_REQUESTED
    _refresh_due(order)
    _save(order, at, "status", "return_count", "sign_due_at", "reply_due_at")
    _event(
        order,
        EventKind.RETURN_REQUESTED,
        at=at,
        by=by,
        unit=assignment.unit,
        text=request.reason,
        data={"return": request.pk, "assignment": assignment.pk},
    )
    # The audit row names the evidence by its checksum, so a later swap of the stored file shows.
    return {
        "return": request.pk,
        "role": assignment.role,
        "evidence": request.evidence_name,
        "evidence_sha256": request.evidence_sha256,
    }


def act_review_return(
    order: WorkOrder, step: ReviewReturnInput, *, by: User, at: dt.datetime
) -> dict[str, Any]:
    decision, note, main_unit, co_units = step.decision, step.note, step.main_unit, step.co_units
    request = (
        order.returns.filter(status=ReturnStatus.PENDING)
        .select_related("assignment", "assignment__unit", "assignment__sign_clock")
        .order_by("requested_at", "id")
        .first()
    )
    if request is None:
        raise ValidationError(f"工单 {order.code} 没有待审核的退单申请")
    if decision not in ("reassign", "overrule"):
        raise ValidationError(f"退单审核结论 {decision!r} 无效，应为 reassign（改派）或 overrule（驳回强派）")
    note = _text(note, label="审核意见", max_length=TEXT_MAX_LENGTH, required=decision == "overrule")
    assignment = request.assignment
    request.reviewed_at = at
    request.reviewed_by = by
    request.review_note = note
    result: dict[str, Any] = {"return": request.pk, "decision": decision}
    if decision == "reassign":
        request.status = ReturnStatus.ACCEPTED
        assignment.status = AssignmentStatus.RETURNED
        assignment.ended_at = at
        assignment.save(update_fields=["status", "ended_at"])
        request.save(update_fields=["status", "reviewed_at", "reviewed_by", "review_note"])
        limit = time_limit_for(order)
        if assignment.role == AssignmentRole.MAIN:
            live_co = {
                a.unit_id
                for a in order.assignments.filter(role="co", status__in=AssignmentStatus.LIVE_STATES)
            }
            main, co, _rule = _resolve_units(order, main_unit, co_units, exclude={assignment.unit_id})
            if main.pk in live_co:
                raise ValidationError(f"“{main.name}”已是本工单的协办单位，不能同时作为主办单位")
            # Co-units still working from the returned round keep their assignment.
            new_co = [unit for unit in co if unit.pk not in live_co]
            _open_round(order, main, new_co, reason=AssignmentReason.REASSIGN, at=at, by=by, rule=limit)
            order.status = Status.DISPATCHED
            order.main_unit = main
            text = f"同意{assignment.unit.name}退单，改派至{main.name}"
            result["main"] = main.code
        else:
            text = f"同意{assignment.unit.name}退出协办"
        kind = EventKind.RETURN_ACCEPTED
    else:
        request.status = ReturnStatus.OVERRULED
        request.save(update_fields=["status", "reviewed_at", "reviewed_by", "review_note"])
        _sign_assignment(assignment, at=at, by=by, forced=True)
        order.improper_return_count += 1
        if assignment.role == AssignmentRole.MAIN:
            order.status = Status.HANDLING
            order.signed_at = order.signed_at or at
        _score(
            "hotline.improper_return",
            unit=assignment.unit,
            source=request,
            at=at,
            by=by,
            order=order,
            note=note,
        )
        text = f"驳回{assignment.unit.name}的退单，审定由其办理：{note}"
        kind = EventKind.RETURN_OVERRULED
    _refresh_due(order)
    _save(
        order, at, "status", "main_unit", "signed_at", "improper_return_count", "sign_due_at", "reply_due_at"
    )
    _event(
        order, kind, at=at, by=by, unit=assignment.unit, text=text, data={"return": request.pk}, public=True
    )
    return result


def act_note(order: WorkOrder, step: NoteInput, *, by: User, at: dt.datetime) -> dict[str, Any]:
    text = step.text
    text = _text(text, label="办理记录", max_length=TEXT_MAX_LENGTH)
    unit = getattr(by, "unit", None)
    _event(order, EventKind.NOTE, at=at, by=by, unit=unit, text=text)
    return {"length": len(text)}


def act_merge(order: WorkOrder, step: MergeInput, *, by: User, at: dt.datetime) -> dict[str, Any]:
    into = step.into
    if not isinstance(into, WorkOrder):
        raise ValidationError("请指定并入的主工单")
    main = WorkOrder.objects.select_for_update().get(pk=into.pk)
    if main.pk == order.pk:
        raise ValidationError("工单不能并入自身")
    if main.status in Status.UNCOUNTED_STATES:
        raise ValidationError(f"主工单 {main.code} 状态为“{main.get_status_display()}”，不能作为并单的主工单")
    if not can_operate(by, main):
        raise PermissionDenied(f"无权操作主工单 {main.code}")
    _end_live_assignments(order, at=at, by=by)
    order.status = Status.MERGED
    order.merged_into = main
    order.sign_due_at = order.reply_due_at = None
    _save(order, at, "status", "merged_into", "sign_due_at", "reply_due_at")
    _event(
        order,
        EventKind.MERGED,
        at=at,
        by=by,
        text=f"与工单 {main.code} 为重复诉求，并入办理",
        data={"into": main.pk},
        public=True,
    )
    _event(
        main,
        EventKind.MERGE_RECEIVED,
        at=at,
        by=by,
        text=f"并入重复诉求 {order.code}",
        data={"merged": order.pk},
    )
    return {"into": main.code}


def act_void(order: WorkOrder, step: VoidInput, *, by: User, at: dt.datetime) -> dict[str, Any]:
    reason = step.reason
    reason = _text(reason, label="作废理由", max_length=TEXT_MAX_LENGTH)
    order.status = Status.VOIDED
    order.closed_at = at
    _save(order, at, "status", "closed_at")
    _event(order, EventKind.VOIDED, at=at, by=by, text=reason)
    return {"reason": reason}


def act_refer(order: WorkOrder, step: ReferInput, *, by: User, at: dt.datetime) -> dict[str, Any]:
    to_unit, reason = step.to_unit, step.reason
    unit = _unit(to_unit, label="移送单位") if to_unit is not None else None
    if unit is None:
        raise ValidationError("请指定移送的纪检监察机关")
    if unit.kind != UnitKind.DISCIPLINE:
        raise ValidationError(f"“{unit.name}”不是纪检监察机关，不能移送")
    reason = _text(reason, label="移送理由", max_length=TEXT_MAX_LENGTH)
    referral = Referral.objects.create(
        order=order, to_unit=unit, reason=reason, at=at, by=by, division_code=order.division_code
    )
    order.is_referred = True
    _save(order, at, "is_referred")
    _event(order, EventKind.REFERRED, at=at, by=by, unit=unit, text=reason, data={"referral": referral.pk})
    return {"referral": referral.pk, "to": unit.code}
