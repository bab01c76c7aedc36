"""The navigation and workbench-panel registries: order, roles, superusers, anonymous users, re-registration."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from zhengfeng.core import navigation, panels


def user(role: str, *, superuser: bool = False):
    # Unsaved: the registries read only `role`, `is_superuser` and `is_authenticated`.
    return get_user_model()(username=f"u-{role}", role=role, is_superuser=superuser)


@pytest.fixture
def entries():
    names = ["test:third", "test:first", "test:second"]
    navigation.menu_entry("第三", url_name="test:third", roles={"office"}, order=-70)
    navigation.menu_entry("第一", url_name="test:first", roles={"office", "liaison"}, order=-90)
    navigation.menu_entry("第二", url_name="test:second", roles={"inspector"}, order=-80)
    yield
    for name in names:
        navigation.unregister_menu_entry(name)


def test_menu_entries_come_in_their_explicit_order_filtered_by_role(entries):
    def mine(u):
        return [entry.label for entry in navigation.navigation_for(u) if entry.url_name.startswith("test:")]

    assert mine(user("office")) == ["第一", "第三"]
    assert mine(user("liaison")) == ["第一"]
    assert mine(user("head")) == []
    assert mine(user("", superuser=True)) == ["第一", "第二", "第三"]
    assert navigation.navigation_for(AnonymousUser()) == []
    assert navigation.navigation_for(None) == []


def test_registering_an_entry_again_replaces_it(entries):
    navigation.menu_entry("第一（改）", url_name="test:first", roles={"head"}, order=-90)

    registered = [entry for entry in navigation.registered_entries() if entry.url_name == "test:first"]
    assert registered == [
        navigation.NavEntry(label="第一（改）", url_name="test:first", roles=frozenset({"head"}), order=-90)
    ]


@pytest.fixture
def probe_panels():
    panels.workbench_panel("probe_everyone", order=-30)(lambda u: "all")
    panels.workbench_panel("probe_heads", order=-20, roles={"head"})(lambda u: "heads")
    panels.workbench_panel("probe_named", order=-10, visible=lambda u: u.username == "u-office")(
        lambda u: "one"
    )
    yield
    for name in ("probe_everyone", "probe_heads", "probe_named"):
        panels.unregister_panel(name)


def probes(u) -> dict[str, object]:
    return {panel.name: panel.context(u) for panel in panels.panels_for(u) if panel.name.startswith("probe_")}


def test_panels_are_shown_by_role_or_rule_in_their_order(probe_panels):
    assert probes(user("head")) == {"probe_everyone": "all", "probe_heads": "heads"}
    assert probes(user("office")) == {"probe_everyone": "all", "probe_named": "one"}
    assert list(probes(user("", superuser=True))) == ["probe_everyone", "probe_heads"]
    assert panels.panels_for(AnonymousUser()) == []


def test_a_panel_tile_is_placed_by_its_own_order(probe_panels):
    panels.workbench_panel("probe_tile", order=-5, tile_template="t.html", tile_order=1)(lambda u: 0)
    panels.workbench_panel("probe_plain", order=-4, template="p.html")(lambda u: 0)
    try:
        registered = {panel.name: panel for panel in panels.registered_panels()}
        assert (registered["probe_tile"].tile_order, registered["probe_plain"].tile_order) == (1, -4)
    finally:
        panels.unregister_panel("probe_tile")
        panels.unregister_panel("probe_plain")


def test_the_kernel_contributes_the_system_panel_for_admins():
    system = {panel.name: panel for panel in panels.registered_panels()}["system"]

    assert (system.template, system.roles) == ("core/panels/system.html", frozenset({"admin"}))
    assert [system.is_visible_to(user(role)) for role in ("admin", "inspector", "liaison")] == [
        True,
        False,
        False,
    ]
