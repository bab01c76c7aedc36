"""The alerts inbox on every workbench: the user's unacknowledged alerts, and their count as a tile."""

from __future__ import annotations

from zhengfeng.alerts.models import Alert
from zhengfeng.alerts.queries import inbox_for
from zhengfeng.core.panels import workbench_panel
from zhengfeng.org.models import User


@workbench_panel(
    "alerts",
    template="alerts/panels/inbox.html",
    order=10,
    tile_template="alerts/panels/inbox_tile.html",
    tile_order=20,
)
def alerts_panel(user: User) -> list[Alert]:
    return list(inbox_for(user).filter(acknowledged_at__isnull=True)[:10])
