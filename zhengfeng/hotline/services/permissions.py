"""Who may do what on a work order: `can_*` and `can_act`, checked against the order's current state.

`allowed_actions` lives in `lifecycle`, beside the action table it walks. The underscore helpers
(`_live_assignments`, `_main_assignment`, `_pending_extension`) are package-internal.
"""

from __future__ import annotations

from typing import Any

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
from zhengfeng.org.models import Role
from zhengfeng.org.queries import scope_of


def _is_staff_admin(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False) or getattr(user, "role", "") == Role.ADMIN)


def _in_division(user: Any, order: WorkOrder) -> bool:
    scope = scope_of(user)
    if scope.everything:
        return True
    return scope.division_prefix is not None and order.division_code.startswith(scope.division_prefix)


def can_intake(user: Any) -> bool:
    """Hotline operators (and the administrator) register orders; monitors file through their channel."""
    role = getattr(user, "role", "")
    return bool(getattr(user, "is_authenticated", False)) and (
        _is_staff_admin(user) or role in (Role.OPERATOR, Role.MONITOR)
    )


def can_operate(user: Any, order: WorkOrder) -> bool:
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


def can_sign(user: Any, order: WorkOrder) -> bool:
    return getattr(user, "role", "") in (Role.LIAISON, Role.HEAD) and any(
        a.status == AssignmentStatus.PENDING for a in _live_assignments(order, getattr(user, "unit_id", None))
    )


def can_handle(user: Any, order: WorkOrder) -> bool:
    """Handling and drafting belong to the main unit's staff (承办人, 联络员, 负责人)."""
    main = _main_assignment(order)
    return (
        main is not None
        and main.status == AssignmentStatus.SIGNED
        and getattr(user, "unit_id", None) == main.unit_id
        and getattr(user, "role", "") in (Role.HANDLER, Role.LIAISON, Role.HEAD)
    )


def can_approve(user: Any, order: WorkOrder) -> bool:
    main = _main_assignment(order)
    return (
        main is not None
        and getattr(user, "role", "") == Role.HEAD
        and getattr(user, "unit_id", None) == main.unit_id
    )


def can_refer(user: Any, order: WorkOrder) -> bool:
    return getattr(user, "is_authenticated", False) and (
        can_operate(user, order) or (user.role in (Role.OFFICE, Role.INSPECTOR) and _in_division(user, order))
    )


def _pending_extension(order: WorkOrder) -> ExtensionRequest | None:
    return order.extensions.filter(status__in=ExtensionStatus.PENDING_STATES).first()


def can_act(user: Any, order: WorkOrder, action: str) -> bool:
    """Whether `user` may perform `action` on `order` in its current state."""
    status = order.status
    if action in ("answer", "dispatch", "void"):
        return status == Status.RECEIVED and can_operate(user, order)
    if action == "sign":
        return status in (Status.DISPATCHED, Status.HANDLING, Status.RETURN_REQUESTED) and can_sign(
            user, order
        )
    if action == "request_return":
        return can_sign(user, order)
    if action == "review_return":
        return can_operate(user, order) and order.returns.filter(status=ReturnStatus.PENDING).exists()
    if action == "note":
        return order.is_open and (
            can_operate(user, order) or bool(_live_assignments(order, getattr(user, "unit_id", None)))
        )
    if action == "request_extension":
        return status == Status.HANDLING and can_handle(user, order) and _pending_extension(order) is None
    if action == "decide_extension":
        pending = _pending_extension(order)
        if pending is None:
            return False
        if pending.status == ExtensionStatus.PENDING_HEAD:
            return can_approve(user, order)
        return can_operate(user, order)
    if action == "draft_reply":
        return status == Status.HANDLING and can_handle(user, order)
    if action == "approve_reply":
        return status == Status.REPLY_DRAFTED and can_approve(user, order)
    if action == "review_reply":
        return status == Status.REPLIED and can_operate(user, order)
    if action == "callback":
        return status == Status.AWAITING_CALLBACK and can_operate(user, order)
    if action == "merge":
        return status in Status.MERGEABLE_STATES and can_operate(user, order)
    if action == "refer":
        return status not in (Status.MERGED, Status.VOIDED) and can_refer(user, order)
    return False
