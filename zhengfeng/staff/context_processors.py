"""Navigation per role, available to every template as `nav` (entries registered in each app's navigation.py)."""

from __future__ import annotations

from django.http import HttpRequest

from zhengfeng.core.navigation import navigation_for


def navigation(request: HttpRequest) -> dict[str, object]:
    return {"nav": navigation_for(getattr(request, "user", None))}
