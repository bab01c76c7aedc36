"""Rule tables: the time limit (`TimeLimitRule`) and the 派单目录 (`DispatchRule`) that apply to an order."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError

from zhengfeng.hotline.models import Category, DispatchRule, TimeLimitRule, WorkOrder
from zhengfeng.hotline.services.common import DispatchTarget


def time_limit_for(order: WorkOrder) -> TimeLimitRule:
    """The most specific active TimeLimitRule for the order's type × urgency × channel."""
    candidates = [
        rule
        for rule in TimeLimitRule.objects.filter(is_active=True)
        if rule.request_type in ("", order.request_type)
        and rule.urgency in ("", order.urgency)
        and rule.channel in ("", order.channel)
    ]
    if not candidates:
        raise ValidationError(
            f"没有适用于 {order.get_request_type_display()}／{order.get_urgency_display()}／"
            f"{order.get_channel_display()} 的办理时限规则，请先配置"
        )
    return max(candidates, key=lambda rule: (rule.specificity, -rule.pk))


def reply_days_for(order: WorkOrder, rule: TimeLimitRule) -> int:
    if order.is_complex and rule.complex_reply_days:
        return rule.complex_reply_days
    return rule.reply_days


def dispatch_target(order: WorkOrder, *, exclude: Iterable[int] = ()) -> DispatchTarget | None:
    """The 派单目录's choice: deepest category, then longest division prefix, then priority."""
    if order.category_id is None:
        return None
    lineage: list[int] = []
    category: Category | None = order.category
    while category is not None:
        lineage.append(category.pk)
        category = category.parent
    excluded = set(exclude)
    rules = (
        DispatchRule.objects.filter(is_active=True, category_id__in=lineage, unit__is_active=True)
        .select_related("unit", "category", "division")
        .prefetch_related("co_units")
    )
    matching = [
        rule
        for rule in rules
        if rule.unit_id not in excluded
        and (rule.division_id is None or order.division_code.startswith(rule.division.prefix))
    ]
    if not matching:
        return None
    best = max(
        matching,
        key=lambda r: (r.category.level, len(r.division.prefix) if r.division_id else 0, -r.priority, -r.pk),
    )
    co_units = tuple(
        u for u in best.co_units.all() if u.is_active and u.pk != best.unit_id and u.pk not in excluded
    )
    return DispatchTarget(rule=best, unit=best.unit, co_units=co_units)
