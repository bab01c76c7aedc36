"""What each role's workbench shows: its alerts inbox, its deadlines, and for admins the system's health.

Every panel reads through the owning app's queries, so scoping is the same as everywhere else.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.utils import timezone


def _deadline_panel(user: Any) -> dict[str, Any]:
    from zhengfeng.deadlines.models import Clock
    from zhengfeng.org.queries import scope_filter

    now = timezone.now()
    clocks = scope_filter(Clock.objects.running(), user)
    counts = clocks.aggregate(
        overdue=Count("id", filter=Q(due_at__lt=now)),
        due_soon=Count("id", filter=Q(warn_at__lte=now, due_at__gte=now)),
    )
    soonest = list(clocks.filter(due_at__isnull=False).select_related("unit").order_by("due_at")[:10])
    return {"overdue": counts["overdue"], "due_soon": counts["due_soon"], "soonest": soonest, "now": now}


def _system_panel() -> dict[str, Any]:
    from zhengfeng.core.models import AuditChainHead, PeriodicJob

    head = AuditChainHead.objects.filter(id=1).first()
    return {
        "jobs": list(PeriodicJob.objects.order_by("name")),
        "audit_rows": head.last_seq if head else 0,
    }


def workbench_context(user: Any) -> dict[str, Any]:
    from zhengfeng.alerts.queries import inbox_for
    from zhengfeng.messaging.queries import unread_count

    role = getattr(user, "role", "")
    context: dict[str, Any] = {
        "role_label": user.get_role_display(),
        "alerts": list(inbox_for(user).filter(acknowledged_at__isnull=True)[:10]),
        "deadlines": _deadline_panel(user),
        "unread_messages": unread_count(user),
    }
    if role == "admin" or user.is_superuser:
        context["system"] = _system_panel()
    return context
