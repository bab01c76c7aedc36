"""The deadlines panel on every workbench: the user's running clocks, overdue and due soon, in its scope."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from zhengfeng.core.panels import workbench_panel
from zhengfeng.deadlines.models import Clock
from zhengfeng.org.models import User
from zhengfeng.org.queries import scope_filter


@workbench_panel(
    "deadlines",
    template="deadlines/panels/clocks.html",
    order=20,
    tile_template="deadlines/panels/clocks_tile.html",
    tile_order=10,
)
def deadlines_panel(user: User) -> dict[str, Any]:
    now = timezone.now()
    clocks = scope_filter(Clock.objects.running(), user)
    counts = clocks.aggregate(
        overdue=Count("id", filter=Q(due_at__lt=now)),
        due_soon=Count("id", filter=Q(warn_at__lte=now, due_at__gte=now)),
    )
    soonest = list(clocks.filter(due_at__isnull=False).select_related("unit").order_by("due_at")[:10])
    return {"overdue": counts["overdue"], "due_soon": counts["due_soon"], "soonest": soonest, "now": now}
