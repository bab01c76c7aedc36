"""What each role's workbench shows. Apps contribute panels as they land."""

from __future__ import annotations

from typing import Any


def workbench_context(user: Any) -> dict[str, Any]:
    from zhengfeng.alerts.queries import inbox_for

    return {
        "role_label": user.get_role_display() if hasattr(user, "get_role_display") else "",
        "alerts": list(inbox_for(user).filter(acknowledged_at__isnull=True)[:10]),
    }
