"""The unread in-app messages tile on every workbench."""

from __future__ import annotations

from zhengfeng.core.panels import workbench_panel
from zhengfeng.messaging.queries import unread_count
from zhengfeng.org.models import User


@workbench_panel("unread_messages", order=30, tile_template="messaging/panels/unread_tile.html")
def unread_messages_panel(user: User) -> int:
    return unread_count(user)
