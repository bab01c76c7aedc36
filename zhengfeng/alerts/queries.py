from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from zhengfeng.alerts.models import Alert
from zhengfeng.org.queries import scope_filter


def inbox_for(user: Any) -> QuerySet[Alert]:
    return scope_filter(Alert.objects.select_related("unit"), user)
