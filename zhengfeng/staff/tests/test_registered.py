"""The shell renders what the apps registered: the whole menu per role, the panels per role, a new entry."""

from __future__ import annotations

import pytest
from django.urls import reverse

from zhengfeng.core import navigation, panels
from zhengfeng.org.models import Role
from zhengfeng.testing.factories import UserFactory

pytestmark = pytest.mark.django_db

EVERY_ENTRY = [
    "工作台",
    "预警与督办",
    "站内消息",
    "实施方案",
    "我的台帐",
    "工作台帐",
    "季度报送",
    "督查整改",
    "执法评议",
    "评议得分",
    "评议复核",
    "评议线索",
    "热线受理",
    "热线工单",
    "热线待办",
    "热线统计",
    "单位",
    "审计日志",
]


def menu(client, user) -> list[str]:
    client.force_login(user)
    return [entry.label for entry in client.get(reverse("workbench")).context["nav"]]


def test_the_superuser_sees_every_entry_in_order(client, admin_user):
    assert menu(client, admin_user) == EVERY_ENTRY


def test_each_role_sees_its_entries_in_order(client, liaison_a, city_office, inspector, unit_a):
    operator = UserFactory(username="operator", role=Role.OPERATOR, unit=city_office.unit)
    head = UserFactory(username="head_a", role=Role.HEAD, unit=unit_a)

    assert menu(client, liaison_a) == [
        "工作台",
        "预警与督办",
        "站内消息",
        "我的台帐",
        "季度报送",
        "督查整改",
        "执法评议",
        "热线待办",
    ]
    assert menu(client, head) == menu(client, liaison_a)
    assert menu(client, city_office) == [
        "工作台",
        "预警与督办",
        "站内消息",
        "实施方案",
        "工作台帐",
        "季度报送",
        "督查整改",
        "执法评议",
        "评议得分",
        "评议复核",
        "热线工单",
        "热线统计",
        "单位",
    ]
    assert menu(client, inspector) == [
        label for label in EVERY_ENTRY if label not in ("我的台帐", "热线受理", "热线待办")
    ]
    assert menu(client, operator) == [
        "工作台",
        "预警与督办",
        "站内消息",
        "热线受理",
        "热线工单",
        "热线统计",
        "单位",
    ]


def test_an_entry_an_app_registers_appears_for_its_roles_only(client, liaison_a, inspector):
    navigation.menu_entry("登记的入口", url_name="healthz", roles={"inspector"}, order=175)
    try:
        assert menu(client, inspector)[-3:] == ["单位", "登记的入口", "审计日志"]
        assert "登记的入口" not in menu(client, liaison_a)
        client.force_login(inspector)
        assert '<a href="/healthz">登记的入口</a>' in client.get(reverse("workbench")).content.decode()
    finally:
        navigation.unregister_menu_entry("healthz")


def test_a_panel_an_app_registers_appears_for_its_roles_only(client, liaison_a, inspector):
    seen_by: list[str] = []

    @panels.workbench_panel(
        "probe", order=50, roles={"inspector"}, tile_template="alerts/panels/inbox_tile.html"
    )
    def probe(user):
        seen_by.append(user.username)
        return 7

    try:
        client.force_login(liaison_a)
        assert "probe" not in client.get(reverse("workbench")).context
        client.force_login(inspector)
        response = client.get(reverse("workbench"))
        assert (response.context["probe"], [tile.name for tile in response.context["tiles"]]) == (
            7,
            ["deadlines", "alerts", "unread_messages", "probe"],
        )
        assert seen_by == ["inspector"]
    finally:
        panels.unregister_panel("probe")


def test_the_workbench_shows_todays_panels_in_todays_order(client, admin_user, liaison_a):
    client.force_login(admin_user)
    body = client.get(reverse("workbench")).content.decode()
    headings = [
        "已超期事项",
        "即将到期事项",
        "待签收预警",
        "未读消息",
        "待签收的预警与督办",
        "最近到期的时限",
        "系统运行状态",
    ]

    assert sorted(headings, key=body.index) == headings

    client.force_login(liaison_a)
    response = client.get(reverse("workbench"))
    assert [panel.name for panel in response.context["panels"]] == ["alerts", "deadlines"]
    assert "系统运行状态" not in response.content.decode()
    assert "system" not in response.context
