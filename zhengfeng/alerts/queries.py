"""Scoped reads of the alerts: a unit sees its own, an office or inspector its division subtree."""

from __future__ import annotations

from django.db.models import QuerySet

from zhengfeng.alerts.models import Alert
from zhengfeng.org.queries import Viewer, scope_filter


def inbox_for(user: Viewer) -> QuerySet[Alert]:
    return scope_filter(Alert.objects.select_related("unit"), user)


def filtered_inbox(user: Viewer, *, level: int | None = None, pending: bool | None = None) -> QuerySet[Alert]:
    """The inbox with the list filters: one level, and pending (not signed for) or signed only."""
    alerts = inbox_for(user)
    if level is not None:
        alerts = alerts.filter(level=level)
    if pending is not None:
        alerts = alerts.filter(acknowledged_at__isnull=pending)
    return alerts.order_by("-issued_at", "-id")
