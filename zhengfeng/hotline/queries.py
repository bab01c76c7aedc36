"""Reads of the hotline: scoped order lists, overdue lists, the work queues, the timeline (with the alerts ladder's
steps), merge suggestions, the requester as each viewer may see it, and public tracking.

Scope: a unit sees the orders it was ever assigned (and a monitor those it filed); office,
inspector and operator users their division subtree (by code prefix); the administrator all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Min, Q, QuerySet
from django.http import Http404

from zhengfeng.alerts.models import Alert, AlertLevel
from zhengfeng.alerts.services import LEVEL_CODES
from zhengfeng.core.crypto import mask_id_number, mask_name, mask_phone
from zhengfeng.hotline.models import (
    REPLY_OVERDUE,
    SIGN_OVERDUE,
    AssignmentStatus,
    ExtensionRequest,
    ExtensionStatus,
    Open311Submission,
    Status,
    SubmissionState,
    WorkOrder,
    WorkOrderAssignment,
    WorkOrderEvent,
    WorkOrderQuerySet,
)
from zhengfeng.hotline.services import check_query_password
from zhengfeng.org.models import Role, User
from zhengfeng.org.personal_data import reveal
from zhengfeng.org.queries import can_see_personal_data, scope_of

MERGE_WINDOW_DAYS = 30
# Character-bigram Jaccard similarity of titles above which two orders are suggested as duplicates.
TITLE_SIMILARITY = 0.5


def _scope_q(user: User) -> Q:
    scope = scope_of(user)
    if scope.everything:
        return Q()
    if scope.division_prefix is not None:
        return Q(division_code__startswith=scope.division_prefix)
    if scope.unit_id is not None:
        assigned = WorkOrderAssignment.objects.filter(unit_id=scope.unit_id).values("order_id")
        q = Q(pk__in=assigned)
        if user.role == Role.MONITOR:
            q |= Q(created_by=user)
        return q
    return Q(pk__in=[])


def work_orders_for(user: User) -> WorkOrderQuerySet:
    """Orders `user` may see, with what every list shows (category, main unit) joined."""
    return WorkOrder.objects.filter(_scope_q(user)).select_related("category", "main_unit")


def order_for(user: User, pk: int) -> WorkOrder:
    order = work_orders_for(user).filter(pk=pk).first()
    if order is None:
        raise Http404("工单不存在或不在您的权限范围内")
    return order


def overdue_for(user: User, *, at: dt.datetime, kind: str = "reply") -> QuerySet[WorkOrder]:
    """Open orders past their sign-for (kind="sign") or reply deadline at `at`, oldest deadline first."""
    orders = work_orders_for(user)
    if kind == "sign":
        return orders.sign_overdue(at=at).order_by("sign_due_at", "id")
    if kind == "reply":
        return orders.reply_overdue(at=at).order_by("reply_due_at", "id")
    raise ValueError(f"未知的超期类别 {kind!r}，应为 sign 或 reply")


# ------------------------------------------------------------------------------ work queues


@dataclass(frozen=True)
class Queue:
    """One tab of a workbench: the orders in `q` (applied within the user's scope)."""

    key: str
    label: str
    q: Q


def operator_queues(*, at: dt.datetime) -> dict[str, Queue]:
    """The hotline operator's queues (热线坐席工作台): dispatch, reviews, callbacks, overdue at `at`."""
    hotline_extensions = ExtensionRequest.objects.filter(status=ExtensionStatus.PENDING_HOTLINE).values(
        "order_id"
    )
    queues = [
        Queue("received", "待派单", Q(status=Status.RECEIVED)),
        Queue("return_requested", "退单待审", Q(status=Status.RETURN_REQUESTED)),
        Queue("extension", "延期待审核", Q(pk__in=hotline_extensions)),
        Queue("replied", "答复待审核", Q(status=Status.REPLIED)),
        Queue("awaiting_callback", "待回访", Q(status=Status.AWAITING_CALLBACK)),
        Queue("sign_overdue", "签收超期", SIGN_OVERDUE.q(at)),
        Queue("reply_overdue", "办理超期", REPLY_OVERDUE.q(at)),
    ]
    return {queue.key: queue for queue in queues}


def unit_queues(unit_id: int | None) -> dict[str, Queue]:
    """A unit's inbox: to sign for, in hand, awaiting the head's approval, returns under review, all.

    `unit_id` None (a unit role whose account has no unit yet): no assignment is that unit's, and the
    user's scope is empty, so every queue is empty.
    """
    if unit_id is None:
        mine = WorkOrderAssignment.objects.none()
        head_extensions = ExtensionRequest.objects.none().values("order_id")
    else:
        mine = WorkOrderAssignment.objects.filter(unit_id=unit_id)
        head_extensions = ExtensionRequest.objects.filter(
            status=ExtensionStatus.PENDING_HEAD, assignment__unit_id=unit_id
        ).values("order_id")
    queues = [
        Queue("sign", "待签收", Q(pk__in=mine.filter(status=AssignmentStatus.PENDING).values("order_id"))),
        Queue("handling", "办理中", Q(pk__in=mine.filter(status=AssignmentStatus.SIGNED).values("order_id"))),
        Queue(
            "approve",
            "待负责人审批",
            Q(status=Status.REPLY_DRAFTED, main_unit_id=unit_id) | Q(pk__in=head_extensions),
        ),
        Queue(
            "returning",
            "退单待审",
            Q(pk__in=mine.filter(status=AssignmentStatus.RETURN_REQUESTED).values("order_id")),
        ),
        Queue("all", "全部", Q()),
    ]
    return {queue.key: queue for queue in queues}


def queue_orders(user: User, queue: Queue) -> QuerySet[WorkOrder]:
    """The orders of one queue within `user`'s scope, newest first."""
    return work_orders_for(user).filter(queue.q).order_by("-received_at", "-id")


def queue_counts(user: User, queues: dict[str, Queue]) -> dict[str, int]:
    """How many orders of `user`'s scope each queue holds (one aggregate query)."""
    return work_orders_for(user).aggregate(
        **{key: Count("pk", filter=queue.q) for key, queue in queues.items()}
    )


@dataclass(frozen=True)
class TimelineEntry:
    """One line of an order's timeline: one of its events, or a step of the alerts ladder on one of its
    assignments' clocks (kind "alert_yellow" etc., always internal)."""

    at: dt.datetime
    kind: str
    kind_label: str
    unit_name: str | None
    # None: done by the system (the worker's sweeps, an Open311 client).
    by_label: str | None
    text: str
    is_public: bool


def _event_entry(event: WorkOrderEvent) -> TimelineEntry:
    return TimelineEntry(
        at=event.at,
        kind=event.kind,
        kind_label=event.get_kind_display(),
        unit_name=event.unit.name if event.unit is not None else None,
        by_label=event.by.label if event.by is not None else None,
        text=event.text,
        is_public=event.is_public,
    )


def _alert_entry(alert: Alert) -> TimelineEntry:
    return TimelineEntry(
        at=alert.issued_at,
        kind=f"alert_{LEVEL_CODES[AlertLevel(alert.level)]}",
        kind_label=AlertLevel(alert.level).label,
        unit_name=alert.unit.name if alert.unit is not None else None,
        by_label=None,
        text=f"{alert.title}（{alert.doc_number}）" if alert.doc_number else alert.title,
        is_public=False,
    )


def timeline(order: WorkOrder, *, public_only: bool = False) -> list[TimelineEntry]:
    """The order's timeline, oldest first: its events and the ladder's alerts (提醒, 黄牌, 通报, 红牌) on
    the sign-for and reply clocks of all its assignments, which are internal: `public_only` (the
    requester's view) leaves them out. One query for the events and one for the alerts."""
    events = WorkOrderEvent.objects.filter(order=order).select_related("by", "unit").order_by("at", "id")
    if public_only:
        return [_event_entry(event) for event in events.filter(is_public=True)]
    entries = [_event_entry(event) for event in events]
    assignments = WorkOrderAssignment.objects.filter(order=order).order_by()
    # One IN over a UNION, not two ORed INs: PostgreSQL then reads the alerts by their clock index
    # instead of scanning the whole table.
    clocks = assignments.values("sign_clock").union(assignments.values("reply_clock"))
    alerts = (
        Alert.objects.filter(clock__in=clocks).select_related("unit").order_by("issued_at", "level", "id")
    )
    entries += [_alert_entry(alert) for alert in alerts]
    # Stable: at the same instant the order's own event comes before the alert.
    entries.sort(key=lambda entry: entry.at)
    return entries


# ------------------------------------------------------------------------------ merge suggestions


def _bigrams(text: str) -> set[str]:
    chars = "".join(ch for ch in text if ch.isalnum())
    return {chars[i : i + 2] for i in range(len(chars) - 1)} or ({chars} if chars else set())


def title_similarity(a: str, b: str) -> float:
    x, y = _bigrams(a), _bigrams(b)
    if not x or not y:
        return 0.0
    return len(x & y) / len(x | y)


@dataclass(frozen=True)
class MergeCandidate:
    order: WorkOrder
    score: float
    reasons: tuple[str, ...]


def merge_candidates(
    order: WorkOrder, *, days: int = MERGE_WINDOW_DAYS, limit: int = 10
) -> list[MergeCandidate]:
    """Likely duplicates of `order` received within `days` of it: same requester (phone blind index),
    similar title in the same county, or the same address. Best first."""
    window = dt.timedelta(days=days)
    county = order.division_code[:6]
    pool = (
        WorkOrder.objects.filter(
            received_at__gte=order.received_at - window, received_at__lte=order.received_at + window
        )
        .exclude(pk=order.pk)
        .counted()
    )
    same_place = Q(division_code__startswith=county)
    if order.phone_index:
        same_place |= Q(phone_index=order.phone_index)
    candidates = []
    for other in pool.filter(same_place).select_related("main_unit")[:500]:
        reasons = []
        score = 0.0
        if order.phone_index and other.phone_index == order.phone_index:
            reasons.append("同一诉求人")
            score += 0.5
        similarity = title_similarity(order.title, other.title)
        if similarity >= TITLE_SIMILARITY:
            reasons.append(f"标题相似（{similarity:.0%}）")
            score += similarity
        if order.address and other.address and order.address.strip() == other.address.strip():
            reasons.append("地址相同")
            score += 0.3
        if reasons and (score >= TITLE_SIMILARITY or len(reasons) > 1 or "同一诉求人" in reasons):
            candidates.append(MergeCandidate(order=other, score=round(score, 3), reasons=tuple(reasons)))
    candidates.sort(key=lambda c: (-c.score, c.order.received_at))
    return candidates[:limit]


# ------------------------------------------------------------------------------ requester visibility


@dataclass(frozen=True)
class RequesterView:
    name: str
    phone: str
    id_number: str
    # Why the values are hidden ("匿名", "要求保密", "未同意向承办单位公开"), empty when shown masked.
    hidden_reason: str = ""

    @property
    def hidden(self) -> bool:
        return bool(self.hidden_reason)


def _is_hotline_side(user: User) -> bool:
    return bool(
        getattr(user, "is_superuser", False)
        or getattr(user, "role", "") in (Role.ADMIN, Role.OPERATOR, Role.OFFICE, Role.INSPECTOR)
    )


def requester_for(user: User, order: WorkOrder) -> RequesterView:
    """The requester as `user` may see it: always masked; hidden from units unless allowed.

    The hotline side (operators, office, inspectors) sees masked values of every order; a unit sees
    masked values only when the requester allowed unit contact, never for anonymous or confidential
    orders. Full values: `reveal_requester` (inspectors) or `requester_contact` (units, when allowed).
    """
    if order.is_anonymous:
        return RequesterView("匿名", "", "", hidden_reason="匿名")
    if not _is_hotline_side(user):
        if order.is_confidential:
            return RequesterView("保密", "", "", hidden_reason="要求保密")
        if not order.allow_unit_contact:
            return RequesterView("未公开", "", "", hidden_reason="未同意向承办单位公开")
    return RequesterView(
        mask_name(order.requester_name or ""),
        mask_phone(order.requester_phone or "") if order.requester_phone else "",
        mask_id_number(order.requester_id_number or "") if order.requester_id_number else "",
    )


def reveal_requester(order: WorkOrder, *, by: User, purpose: str) -> dict[str, str]:
    """Full requester data for the roles allowed personal data (inspectors); audited by org."""
    return reveal(
        order,
        ["requester_name", "requester_phone", "requester_id_number"],
        by=by,
        purpose=purpose,
        division_code=order.division_code,
    )


def requester_contact(order: WorkOrder, *, by: User, purpose: str) -> dict[str, str]:
    """Name and phone in full for whoever must call the requester, audited as `personal_data.viewed`.

    Allowed: inspectors (any order in scope); the hotline operator of the order's division (callbacks);
    the staff of a unit with a live assignment on the order when the requester allowed unit contact
    (never for anonymous or confidential orders).
    """
    if not purpose.strip():
        raise PermissionDenied("查看完整个人信息须注明用途")
    if can_see_personal_data(by):
        return reveal_requester(order, by=by, purpose=purpose)
    if order.is_anonymous or order.is_confidential:
        raise PermissionDenied("匿名或要求保密的诉求人信息不向承办单位和坐席公开")
    scope = scope_of(by)
    operator = getattr(by, "role", "") == Role.OPERATOR and (
        scope.division_prefix is not None and order.division_code.startswith(scope.division_prefix)
    )
    unit_allowed = (
        order.allow_unit_contact
        and by.unit_id is not None
        and order.assignments.filter(unit_id=by.unit_id, status__in=AssignmentStatus.LIVE_STATES).exists()
    )
    if not (operator or unit_allowed):
        raise PermissionDenied("无权查看该诉求人的联系方式")
    return reveal(
        order,
        ["requester_name", "requester_phone"],
        by=by,
        purpose=purpose,
        division_code=order.division_code,
        granted_by_domain_rule=True,
    )


# ------------------------------------------------------------------------------ public tracking


def track(code: str, password: str) -> WorkOrder | None:
    """The order with this tracking code when the password matches; a merged order shows its main one."""
    order = WorkOrder.objects.filter(code=(code or "").strip().upper()).first()
    if order is None or not check_query_password(order, password or ""):
        return None
    return order


def open311_backlog(now: dt.datetime) -> dict[str, Any]:
    """Accepted Open311 submissions not yet work orders (the backlog panel): waiting for the worker,
    parked as 登记失败, and how long the oldest waiting one has waited (None when none waits)."""
    counts = dict(
        Open311Submission.objects.exclude(state=SubmissionState.REGISTERED)
        .order_by()
        .values_list("state")
        .annotate(n=Count("id"))
    )
    oldest = Open311Submission.objects.filter(state=SubmissionState.PENDING).aggregate(
        oldest=Min("received_at")
    )["oldest"]
    return {
        "waiting": counts.get(SubmissionState.PENDING, 0),
        "parked": counts.get(SubmissionState.FAILED, 0),
        "oldest_wait": now - oldest if oldest is not None else None,
    }
