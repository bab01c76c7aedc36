"""The menu each role sees. Apps add their entries here as they land."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: frozenset[str]


ALL_STAFF = frozenset({"admin", "office", "inspector", "operator", "liaison", "handler", "head", "monitor"})

NAV_ITEMS: list[NavItem] = [
    NavItem("工作台", "workbench", ALL_STAFF),
    NavItem("预警与督办", "alerts:inbox", ALL_STAFF),
    NavItem("站内消息", "inbox:list", ALL_STAFF),
    NavItem("实施方案", "ledger:plan_list", frozenset({"admin", "office", "inspector"})),
    NavItem("我的台帐", "ledger:my_ledgers", frozenset({"liaison", "handler", "head"})),
    NavItem("工作台帐", "ledger:ledger_list", frozenset({"admin", "office", "inspector"})),
    NavItem(
        "季度报送",
        "ledger:report_home",
        frozenset({"admin", "office", "inspector", "liaison", "handler", "head"}),
    ),
    NavItem(
        "督查整改",
        "ledger:review_home",
        frozenset({"admin", "office", "inspector", "liaison", "handler", "head"}),
    ),
    NavItem(
        "执法评议",
        "evaluation:action_list",
        frozenset({"admin", "office", "inspector", "liaison", "handler", "head"}),
    ),
    NavItem("评议得分", "evaluation:scores", frozenset({"admin", "office", "inspector"})),
    NavItem("评议复核", "evaluation:flags", frozenset({"admin", "office", "inspector"})),
    NavItem("评议线索", "evaluation:clues", frozenset({"admin", "inspector"})),
    NavItem("热线受理", "hotline:workbench", frozenset({"admin", "operator"})),
    NavItem("热线工单", "hotline:order_list", frozenset({"admin", "office", "inspector", "operator"})),
    NavItem("热线待办", "hotline:inbox", frozenset({"liaison", "handler", "head"})),
    NavItem("热线统计", "hotline_stats:index", frozenset({"admin", "office", "inspector", "operator"})),
    NavItem("单位", "org:unit_list", frozenset({"admin", "office", "inspector", "operator"})),
    NavItem("审计日志", "audit_log", frozenset({"admin", "inspector"})),
]


def navigation_for(user: Any) -> list[NavItem]:
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    role = getattr(user, "role", "")
    return [item for item in NAV_ITEMS if role in item.roles or user.is_superuser]
