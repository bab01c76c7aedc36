"""The one transition function of a work order (`transition`), its action table and labels.

`ACTIONS` maps each action name to its `_act_*` function (`actions`, `actions_reply`); `allowed_actions`
walks it with `permissions.can_act`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from zhengfeng.hotline.models import WorkOrder
from zhengfeng.hotline.services.actions import (
    _act_answer,
    _act_dispatch,
    _act_merge,
    _act_note,
    _act_refer,
    _act_request_return,
    _act_review_return,
    _act_sign,
    _act_void,
)
from zhengfeng.hotline.services.actions_reply import (
    _act_approve_reply,
    _act_callback,
    _act_decide_extension,
    _act_draft_reply,
    _act_request_extension,
    _act_review_reply,
)
from zhengfeng.hotline.services.common import _audit, _when
from zhengfeng.hotline.services.permissions import _pending_extension, can_act, can_operate, can_refer

ActionFunc = Callable[..., dict[str, Any]]
ACTIONS: dict[str, ActionFunc] = {
    "answer": _act_answer,
    "dispatch": _act_dispatch,
    "sign": _act_sign,
    "request_return": _act_request_return,
    "review_return": _act_review_return,
    "note": _act_note,
    "request_extension": _act_request_extension,
    "decide_extension": _act_decide_extension,
    "draft_reply": _act_draft_reply,
    "approve_reply": _act_approve_reply,
    "review_reply": _act_review_reply,
    "callback": _act_callback,
    "merge": _act_merge,
    "void": _act_void,
    "refer": _act_refer,
}
ACTION_LABELS = {
    "answer": "直接答复",
    "dispatch": "派单",
    "sign": "签收",
    "request_return": "退单",
    "review_return": "退单审核",
    "note": "办理记录",
    "request_extension": "申请延期",
    "decide_extension": "延期审批",
    "draft_reply": "拟写答复",
    "approve_reply": "签发答复",
    "review_reply": "答复审核",
    "callback": "回访",
    "merge": "并单",
    "void": "作废",
    "refer": "移送纪检监察",
}


def allowed_actions(user: Any, order: WorkOrder) -> list[str]:
    return [action for action in ACTIONS if can_act(user, order, action)]


def transition(
    order: WorkOrder, action: str, *, by: Any, at: dt.datetime | None = None, **data: Any
) -> WorkOrder:
    """The one transition function of a work order; `action` and its `data` are listed in docs/hotline.md.

    1. Lock the order row and re-read it (a double submit sees the state the first one left).
    2. Check the actor may do `action` in that state (PermissionDenied / ValidationError otherwise).
    3. Run the action: rows, clock events, score events, SMS; one WorkOrderEvent.
    4. One audit row `hotline.<action>` with the action's summary.
    Nothing is saved when any step raises. Returns the updated order.
    """
    if action not in ACTIONS:
        raise ValidationError(f"未知的工单操作 {action!r}，应为：{'、'.join(ACTIONS)}")
    at = _when(at)
    label = ACTION_LABELS[action]
    with transaction.atomic():
        locked = (
            WorkOrder.objects.select_for_update(of=("self",))
            .select_related("category", "division")
            .get(pk=order.pk)
        )
        if not can_act(by, locked, action):
            if action == "decide_extension" and _pending_extension(locked) is not None:
                pass  # the action reports which approver is missing
            elif _may_ever(by, locked, action):
                raise ValidationError(
                    f"工单 {locked.code} 当前状态为“{locked.get_status_display()}”，不能{label}"
                )
            else:
                raise PermissionDenied(f"无权对工单 {locked.code} 执行“{label}”")
        if at < locked.received_at:
            raise ValidationError(
                f"{label}时间不能早于受理时间 {timezone.localtime(locked.received_at):%Y-%m-%d %H:%M}"
            )
        summary = ACTIONS[action](locked, by=by, at=at, **data)
        _audit(action, locked, by=by, data={"at": at.isoformat(), **summary})
    for name in ("status", "main_unit_id", "sign_due_at", "reply_due_at", "updated_at"):
        setattr(order, name, getattr(locked, name))
    return locked


def _may_ever(user: Any, order: WorkOrder, action: str) -> bool:
    """Whether the role could do `action` on this order in some state (to tell 'wrong state' from 'not yours')."""
    if action in ("answer", "dispatch", "void", "review_return", "review_reply", "callback", "merge"):
        return can_operate(user, order)
    if action == "refer":
        return can_refer(user, order)
    unit_id = getattr(user, "unit_id", None)
    involved = unit_id is not None and order.assignments.filter(unit_id=unit_id).exists()
    if action == "note":
        return can_operate(user, order) or involved
    return involved or (can_operate(user, order) and action == "decide_extension")
