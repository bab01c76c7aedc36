"""The backlog panel for the administrator and 正风办: what the worker has not done yet, and whether it runs."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from zhengfeng.core.panels import workbench_panel
from zhengfeng.core.worker import worker_status
from zhengfeng.hotline.queries import open311_backlog
from zhengfeng.messaging.queries import outbox_backlog
from zhengfeng.org.models import Role, User


# Here rather than in core: the kernel cannot read Open311 submissions or the outbox (the import contract).
@workbench_panel("backlog", template="hotline/panels/backlog.html", order=85, roles={Role.ADMIN, Role.OFFICE})
def backlog_panel(user: User) -> dict[str, Any]:
    now = timezone.now()
    return {"open311": open311_backlog(now), "outbox": outbox_backlog(now), **worker_status(now)}
