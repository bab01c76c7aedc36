"""The workbench-panel registry, plus the one panel the kernel owns (the system's health, for admins).

Each app contributes its panels in its own `panels.py`, the way it registers worker jobs:

    @workbench_panel("alerts", template="alerts/panels/inbox.html", order=10)
    def alerts_panel(user): return list(inbox_for(user)...)

The decorated function takes the signed-in user and returns the value the panel's template reads under
`name`. A panel may also show a tile in the row of counters above the panels (`tile_template`, placed by
`tile_order`, which defaults to `order`). `zhengfeng.staff` imports every app's `panels.py` at start-up
and renders `panels_for(user)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from zhengfeng.core.models import AuditChainHead, PeriodicJob

# The user is `Any` here: its model is org's, which the kernel does not import.
PanelContext = Callable[[Any], Any]


@dataclass(frozen=True)
class Panel:
    name: str
    context: PanelContext
    order: int
    template: str = ""
    tile_template: str = ""
    tile_order: int = 0
    # None: every signed-in user; otherwise the roles that see it (a superuser sees every panel).
    roles: frozenset[str] | None = None
    # An extra rule beyond the role, e.g. "only when the user has a unit".
    visible: Callable[[Any], bool] | None = None

    def is_visible_to(self, user: Any) -> bool:
        if user is None or not getattr(user, "is_authenticated", False):
            return False
        if self.roles is not None and not (user.is_superuser or getattr(user, "role", "") in self.roles):
            return False
        return self.visible is None or self.visible(user)


_registry: dict[str, Panel] = {}


def workbench_panel(
    name: str,
    *,
    order: int,
    template: str = "",
    tile_template: str = "",
    tile_order: int | None = None,
    roles: Iterable[str] | None = None,
    visible: Callable[[Any], bool] | None = None,
) -> Callable[[PanelContext], PanelContext]:
    """Register `func(user)` as the context of the panel `name` (the name is the key: re-registering replaces)."""

    def decorator(func: PanelContext) -> PanelContext:
        _registry[name] = Panel(
            name=name,
            context=func,
            order=order,
            template=template,
            tile_template=tile_template,
            tile_order=order if tile_order is None else tile_order,
            roles=None if roles is None else frozenset(roles),
            visible=visible,
        )
        return func

    return decorator


def unregister_panel(name: str) -> None:
    _registry.pop(name, None)


def registered_panels() -> list[Panel]:
    return sorted(_registry.values(), key=lambda panel: (panel.order, panel.name))


def panels_for(user: Any) -> list[Panel]:
    return [panel for panel in registered_panels() if panel.is_visible_to(user)]


# The role's value is a string on purpose: the kernel does not import org (which owns the roles).
@workbench_panel("system", template="core/panels/system.html", order=90, roles={"admin"})
def system_panel(user: Any) -> dict[str, Any]:
    head = AuditChainHead.objects.filter(id=1).first()
    return {
        "jobs": list(PeriodicJob.objects.order_by("name")),
        "audit_rows": head.last_seq if head else 0,
    }
