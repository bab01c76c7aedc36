"""The menu registry: each app adds its menu entries in its own `navigation.py`.

The kernel knows no app's URL names. An app registers its entries the way it registers worker jobs:

    menu_entry("站内消息", url_name="inbox:list", roles=ALL_ROLES, order=30)

`zhengfeng.staff` imports every app's `navigation.py` at start-up (AppConfig.ready) and renders
`navigation_for(user)`. `order` is explicit so the menu does not depend on INSTALLED_APPS or import order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    roles: frozenset[str]
    order: int


_registry: dict[str, NavEntry] = {}


def menu_entry(label: str, *, url_name: str, roles: Iterable[str], order: int) -> NavEntry:
    """Register (or replace: the URL name is the key, so a re-import does not duplicate) one menu entry."""
    entry = NavEntry(label=label, url_name=url_name, roles=frozenset(roles), order=order)
    _registry[url_name] = entry
    return entry


def unregister_menu_entry(url_name: str) -> None:
    _registry.pop(url_name, None)


def registered_entries() -> list[NavEntry]:
    return sorted(_registry.values(), key=lambda entry: (entry.order, entry.url_name))


# `user: Any`: the user model is org's, which the kernel does not import; only `role`, `is_superuser` and
# `is_authenticated` are read.
def navigation_for(user: Any) -> list[NavEntry]:
    """The entries `user` sees: those listing its role; a superuser sees all; anonymous users none."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    role = getattr(user, "role", "")
    return [entry for entry in registered_entries() if role in entry.roles or user.is_superuser]
