"""What each role's workbench shows: the panels the apps registered (core.panels) that the user may see.

Every panel reads through its owning app's queries, so scoping is the same as everywhere else. Each
panel's value is put in the context under the panel's name, which is what its template reads.
"""

from __future__ import annotations

from typing import Any

from zhengfeng.core.panels import panels_for
from zhengfeng.org.models import User


def workbench_context(user: User) -> dict[str, Any]:
    panels = panels_for(user)
    context: dict[str, Any] = {
        "role_label": user.get_role_display(),
        "panels": [panel for panel in panels if panel.template],
        "tiles": sorted(
            (panel for panel in panels if panel.tile_template), key=lambda panel: panel.tile_order
        ),
    }
    for panel in panels:
        context[panel.name] = panel.context(user)
    return context
