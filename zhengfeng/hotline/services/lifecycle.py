"""The one transition function of a work order (`perform`, and `transition` by action name), its
action table and labels.

`ACTIONS` maps each action name to its `Action`: label, input dataclass (`steps`) and the function that
runs it (`actions`, `actions_reply`). Who may run it is the one permission table
`permissions.PERMISSIONS`; `allowed_actions` walks `ACTIONS` with `permissions.can_act`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from zhengfeng.hotline.models import WorkOrder
from zhengfeng.hotline.services import actions, actions_reply, steps
from zhengfeng.hotline.services.common import _audit, _when
from zhengfeng.hotline.services.permissions import can_act, refusal
from zhengfeng.org.models import User


@dataclass(frozen=True)
class Action:
    """One work-order action: its name, Chinese label, input dataclass and implementation."""

    name: str
    label: str
    inputs: type[steps.Step]
    run: Callable[..., dict[str, Any]]

    def step(self, data: dict[str, Any]) -> steps.Step:
        """The action's input from keyword data; an unknown keyword is refused, naming it."""
        known = {field.name for field in dataclasses.fields(self.inputs)}
        unknown = sorted(set(data) - known)
        if unknown:
            allowed = "、".join(sorted(known)) or "无"
            raise ValidationError(f"“{self.label}”没有参数 {'、'.join(unknown)}（可用：{allowed}）")
        return self.inputs(**data)


_TABLE = [
    Action("answer", "直接答复", steps.AnswerInput, actions.act_answer),
    Action("dispatch", "派单", steps.DispatchInput, actions.act_dispatch),
    Action("sign", "签收", steps.SignInput, actions.act_sign),
    Action("request_return", "退单", steps.RequestReturnInput, actions.act_request_return),
    Action("review_return", "退单审核", steps.ReviewReturnInput, actions.act_review_return),
    Action("note", "办理记录", steps.NoteInput, actions.act_note),
    Action("request_extension", "申请延期", steps.RequestExtensionInput, actions_reply.act_request_extension),
    Action("decide_extension", "延期审批", steps.DecisionInput, actions_reply.act_decide_extension),
    Action("draft_reply", "拟写答复", steps.DraftReplyInput, actions_reply.act_draft_reply),
    Action("approve_reply", "签发答复", steps.DecisionInput, actions_reply.act_approve_reply),
    Action("review_reply", "答复审核", steps.DecisionInput, actions_reply.act_review_reply),
    Action("callback", "回访", steps.CallbackInput, actions_reply.act_callback),
    Action("merge", "并单", steps.MergeInput, actions.act_merge),
    Action("void", "作废", steps.VoidInput, actions.act_void),
    Action("refer", "移送纪检监察", steps.ReferInput, actions.act_refer),
]
ACTIONS: dict[str, Action] = {action.name: action for action in _TABLE}
ACTION_LABELS = {action.name: action.label for action in _TABLE}
# The action of each input type that belongs to one action only (DecisionInput serves three).
_BY_INPUT = {
    inputs: names[0]
    for inputs, names in (
        (inputs, [a.name for a in _TABLE if a.inputs is inputs]) for inputs in {a.inputs for a in _TABLE}
    )
    if len(names) == 1
}


def allowed_actions(user: User, order: WorkOrder) -> list[str]:
    return [action for action in ACTIONS if can_act(user, order, action)]


def transition(
    order: WorkOrder, action: str, *, by: User, at: dt.datetime | None = None, **data: Any
) -> WorkOrder:
    """The one transition function by action name: `data` are the fields of the action's input
    dataclass (`steps`, listed in docs/hotline.md); an unknown action or field is a ValidationError.
    Everything else as `perform`."""
    if action not in ACTIONS:
        raise ValidationError(f"未知的工单操作 {action!r}，应为：{'、'.join(ACTIONS)}")
    return perform(order, ACTIONS[action].step(data), by=by, at=at, action=action)


def perform(
    order: WorkOrder, step: steps.Step, *, by: User, at: dt.datetime | None = None, action: str | None = None
) -> WorkOrder:
    """Run one action, typed by its input (`steps.DispatchInput(...)` etc.; `action` names it when the
    input type serves several, as `DecisionInput` does).

    1. Lock the order row and re-read it (a double submit sees the state the first one left).
    2. Check the actor may do the action in that state (`permissions.PERMISSIONS`: PermissionDenied /
       ValidationError naming the state otherwise).
    3. Run the action: rows, clock events, score events, SMS; one WorkOrderEvent.
    4. One audit row `hotline.<action>` with the action's summary.
    Nothing is saved when any step raises. Returns the updated order.
    """
    name = action or _BY_INPUT.get(type(step))
    if name is None or name not in ACTIONS or not isinstance(step, ACTIONS[name].inputs):
        raise ValidationError(f"无法确定 {type(step).__name__} 对应的工单操作，请指明 action")
    spec = ACTIONS[name]
    at = _when(at)
    with transaction.atomic():
        locked = (
            WorkOrder.objects.select_for_update(of=("self",))
            .select_related("category", "division")
            .get(pk=order.pk)
        )
        if not can_act(by, locked, name):
            raise refusal(by, locked, name, label=spec.label)
        if at < locked.received_at:
            raise ValidationError(
                f"{spec.label}时间不能早于受理时间 {timezone.localtime(locked.received_at):%Y-%m-%d %H:%M}"
            )
        summary = spec.run(locked, step, by=by, at=at)
        _audit(name, locked, by=by, data={"at": at.isoformat(), **summary})
    for field in ("status", "main_unit_id", "sign_due_at", "reply_due_at", "updated_at"):
        setattr(order, field, getattr(locked, field))
    return locked
