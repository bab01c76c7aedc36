"""Who may do what on a work order: `can_*`, and the one permission table `PERMISSIONS` behind
`can_act` and `refusal`, checked against the order's current state.

`allowed_actions` lives in `lifecycle`, beside the action table it walks. The underscore helpers
(`_live_assignments`, `_main_assignment`, `_pending_extension`) are package-internal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError

from zhengfeng.hotline.models import (
    AssignmentRole,
    AssignmentStatus,
    ExtensionRequest,
    ExtensionStatus,
    ReturnStatus,
    Status,
    WorkOrder,
    WorkOrderAssignment,
)
from zhengfeng.org.models import Role, User
from zhengfeng.org.queries import scope_of


def _is_staff_admin(user: User) -> bool:
    return bool(getattr(user, "is_superuser", False) or getattr(user, "role", "") == Role.ADMIN)


def _in_division(user: User, order: WorkOrder) -> bool:
    scope = scope_of(user)
    if scope.everything:
        return True
    return scope.division_prefix is not None and order.division_code.startswith(scope.division_prefix)


def can_intake(user: User) -> bool:
    """Hotline operators (and the administrator) register orders; monitors file through their channel."""
    role = getattr(user, "role", "")
    return bool(getattr(user, "is_authenticated", False)) and (
        _is_staff_admin(user) or role in (Role.OPERATOR, Role.MONITOR)
    )


def can_operate(user: User, order: WorkOrder) -> bool:
    """Hotline work (dispatch, reviews, callback, merge, void) on orders of the operator's division."""
    if not getattr(user, "is_authenticated", False):
        return False
    return (_is_staff_admin(user) or user.role == Role.OPERATOR) and _in_division(user, order)


def _live_assignments(order: WorkOrder, unit_id: int | None) -> list[WorkOrderAssignment]:
    if unit_id is None:
        return []
    return list(
        order.assignments.filter(unit_id=unit_id, status__in=AssignmentStatus.LIVE_STATES).order_by("role")
    )


def _main_assignment(order: WorkOrder) -> WorkOrderAssignment | None:
    return (
        order.assignments.filter(role=AssignmentRole.MAIN, status__in=AssignmentStatus.LIVE_STATES)
        .select_related("unit", "reply_clock", "sign_clock")
        .first()
    )


def can_sign(user: User, order: WorkOrder) -> bool:
    return getattr(user, "role", "") in (Role.LIAISON, Role.HEAD) and any(
        a.status == AssignmentStatus.PENDING for a in _live_assignments(order, getattr(user, "unit_id", None))
    )


def can_handle(user: User, order: WorkOrder) -> bool:
    """Handling and drafting belong to the main unit's staff (承办人, 联络员, 负责人)."""
    main = _main_assignment(order)
    return (
        main is not None
        and main.status == AssignmentStatus.SIGNED
        and getattr(user, "unit_id", None) == main.unit_id
        and getattr(user, "role", "") in (Role.HANDLER, Role.LIAISON, Role.HEAD)
    )


def can_approve(user: User, order: WorkOrder) -> bool:
    main = _main_assignment(order)
    return (
        main is not None
        and getattr(user, "role", "") == Role.HEAD
        and getattr(user, "unit_id", None) == main.unit_id
    )


def can_refer(user: User, order: WorkOrder) -> bool:
    return getattr(user, "is_authenticated", False) and (
        can_operate(user, order) or (user.role in (Role.OFFICE, Role.INSPECTOR) and _in_division(user, order))
    )


def _pending_extension(order: WorkOrder) -> ExtensionRequest | None:
    return order.extensions.filter(status__in=ExtensionStatus.PENDING_STATES).first()


def _involved(user: User, order: WorkOrder) -> bool:
    """The user's unit holds (or held) an assignment on the order."""
    unit_id = getattr(user, "unit_id", None)
    return unit_id is not None and order.assignments.filter(unit_id=unit_id).exists()


def _has_live_assignment(user: User, order: WorkOrder) -> bool:
    return bool(_live_assignments(order, getattr(user, "unit_id", None)))


def _operates_or_involved(user: User, order: WorkOrder) -> bool:
    return can_operate(user, order) or _involved(user, order)


def _may_decide_extension(user: User, order: WorkOrder) -> bool:
    pending = _pending_extension(order)
    if pending is None:
        return False
    if pending.status == ExtensionStatus.PENDING_HEAD:
        return can_approve(user, order)
    return can_operate(user, order)


def _extension_approver(user: User, order: WorkOrder) -> str | None:
    """With an extension pending, name the approver its stage needs (head first, then the hotline)."""
    pending = _pending_extension(order)
    if pending is None:
        return None
    if pending.status == ExtensionStatus.PENDING_HEAD:
        return "延期申请须先由承办单位负责人审批"
    return "延期申请须由热线平台审核"


Check = Callable[[User, WorkOrder], bool]


@dataclass(frozen=True)
class Permission:
    """Who may do one action on an order.

    `now(user, order)`: may the user do it now, in the order's current state (`can_act`).
    `ever(user, order)`: could the user's role do it on this order in some state; when `now` fails,
    it tells a wrong state (ValidationError naming the state) from an order that is not theirs
    (PermissionDenied). `reason(user, order)`, when set, gives a more precise refusal (PermissionDenied).
    """

    now: Check
    ever: Check
    reason: Callable[[User, WorkOrder], str | None] | None = None


def _in(*states: str) -> Callable[[WorkOrder], bool]:
    return lambda order: order.status in states


def _in_state(state: Callable[[WorkOrder], bool], who: Check) -> Check:
    return lambda user, order: state(order) and who(user, order)


_RECEIVED = _in(Status.RECEIVED)

# The one permission table: `can_act`, `allowed_actions` and the refusals of `transition` read it.
PERMISSIONS: dict[str, Permission] = {
    "answer": Permission(now=_in_state(_RECEIVED, can_operate), ever=can_operate),
    "dispatch": Permission(now=_in_state(_RECEIVED, can_operate), ever=can_operate),
    "sign": Permission(
        now=_in_state(_in(Status.DISPATCHED, Status.HANDLING, Status.RETURN_REQUESTED), can_sign),
        ever=_involved,
    ),
    "request_return": Permission(now=can_sign, ever=_involved),
    "review_return": Permission(
        now=lambda user, order: (
            can_operate(user, order) and order.returns.filter(status=ReturnStatus.PENDING).exists()
        ),
        ever=can_operate,
    ),
    "note": Permission(
        now=lambda user, order: (
            order.is_open and (can_operate(user, order) or _has_live_assignment(user, order))
        ),
        ever=_operates_or_involved,
    ),
    "request_extension": Permission(
        now=lambda user, order: (
            order.status == Status.HANDLING and can_handle(user, order) and _pending_extension(order) is None
        ),
        ever=_involved,
    ),
    "decide_extension": Permission(
        now=_may_decide_extension, ever=_operates_or_involved, reason=_extension_approver
    ),
    "draft_reply": Permission(now=_in_state(_in(Status.HANDLING), can_handle), ever=_involved),
    "approve_reply": Permission(now=_in_state(_in(Status.REPLY_DRAFTED), can_approve), ever=_involved),
    "review_reply": Permission(now=_in_state(_in(Status.REPLIED), can_operate), ever=can_operate),
    "callback": Permission(now=_in_state(_in(Status.AWAITING_CALLBACK), can_operate), ever=can_operate),
    "merge": Permission(now=_in_state(_in(*Status.MERGEABLE_STATES), can_operate), ever=can_operate),
    "void": Permission(now=_in_state(_RECEIVED, can_operate), ever=can_operate),
    "refer": Permission(
        now=_in_state(lambda order: order.status not in Status.UNCOUNTED_STATES, can_refer), ever=can_refer
    ),
}


def can_act(user: User, order: WorkOrder, action: str) -> bool:
    """Whether `user` may perform `action` on `order` in its current state."""
    permission = PERMISSIONS.get(action)
    return permission is not None and bool(permission.now(user, order))


def refusal(user: User, order: WorkOrder, action: str, *, label: str) -> PermissionDenied | ValidationError:
    """Why `user` may not perform `action` now, as the exception to raise (from `PERMISSIONS`)."""
    permission = PERMISSIONS[action]
    reason = permission.reason(user, order) if permission.reason is not None else None
    if reason:
        return PermissionDenied(reason)
    if permission.ever(user, order):
        return ValidationError(f"工单 {order.code} 当前状态为“{order.get_status_display()}”，不能{label}")
    return PermissionDenied(f"无权对工单 {order.code} 执行“{label}”")
