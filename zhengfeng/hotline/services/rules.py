"""Rules of an order: the intake checks of its text and place (`check_intake`, every channel), the
time limit (`TimeLimitRule`) and the 派单目录 (`DispatchRule`) that apply to it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from zhengfeng.core.input_guard import control_character
from zhengfeng.hotline.models import (
    ADDRESS_MAX_LENGTH,
    CONTENT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Category,
    DispatchRule,
    TimeLimitRule,
    WorkOrder,
)
from zhengfeng.hotline.services.common import DispatchTarget


@dataclass(frozen=True)
class CheckedIntake:
    """The text and place of a request as `check_intake` accepted them (stripped, coordinates parsed)."""

    title: str
    content: str
    address: str
    latitude: Decimal | None
    longitude: Decimal | None


def check_intake(
    *, title: Any, content: Any, address: Any = "", latitude: Any = None, longitude: Any = None
) -> CheckedIntake:
    """The one check of a request's title, content, address and coordinates, whatever the channel.

    `receive_work_order` runs it (so the staff form, the public form, the JSON API and the import all
    get it); Open311 runs it before storing a submission. Lengths: TITLE_/CONTENT_/ADDRESS_MAX_LENGTH;
    title and content required; latitude within ±90 and longitude within ±180, both given or neither.
    A text holding a C0 control character other than tab, LF and CR is refused (XML cannot carry it).
    Raises one ValidationError holding every bad field (`error_dict`, keyed by these argument names),
    each error with a `code` ("required", "control_character", "too_long", "invalid", "out_of_range",
    "unpaired") and its `params`, so that an interface can word it its own way (Open311 does); the
    messages are the service's own. No side effects.
    """
    errors: dict[str, list[ValidationError]] = {}

    def fail(field: str, message: str, code: str, **params: Any) -> None:
        errors.setdefault(field, []).append(ValidationError(message, code=code, params=params))

    def text(field: str, value: Any, *, label: str, limit: int, required: bool) -> str:
        value = str(value or "").strip()
        control = control_character(value)
        if required and not value:
            fail(field, "%(label)s不能为空", "required", label=label)
        elif control is not None:
            fail(
                field,
                "%(label)s含有控制字符 %(character)s，请删除后重试",
                "control_character",
                label=label,
                character=control,
            )
        elif len(value) > limit:
            fail(
                field,
                "%(label)s过长：共 %(length)d 字，最多 %(limit)d 字",
                "too_long",
                label=label,
                length=len(value),
                limit=limit,
            )
        return value

    def coordinate(field: str, value: Any, *, label: str, limit: int) -> Decimal | None:
        if value is None or value == "":
            return None
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError):
            fail(
                field,
                "%(label)s %(shown)s 不是有效的数字",
                "invalid",
                label=label,
                value=value,
                shown=repr(value),
            )
            return None
        # copy_abs, not abs(): abs() rounds to the context and raises Overflow on 1E+1000000.
        if not number.is_finite() or number.copy_abs() > limit:
            fail(
                field,
                "%(label)s %(value)s 超出范围（-%(limit)d 至 %(limit)d）",
                "out_of_range",
                label=label,
                value=value,
                limit=limit,
            )
            return None
        return number.quantize(Decimal("0.000001"))

    checked = CheckedIntake(
        title=text("title", title, label="标题", limit=TITLE_MAX_LENGTH, required=True),
        content=text("content", content, label="诉求内容", limit=CONTENT_MAX_LENGTH, required=True),
        address=text("address", address, label="地址", limit=ADDRESS_MAX_LENGTH, required=False),
        latitude=coordinate("latitude", latitude, label="纬度", limit=90),
        longitude=coordinate("longitude", longitude, label="经度", limit=180),
    )
    # Paired by what was given, not by what parsed: a bad latitude is reported once, as bad. Filed
    # under longitude, after its own errors (the order Open311 has always answered in).
    if (latitude is None or latitude == "") != (longitude is None or longitude == ""):
        fail("longitude", "经纬度须同时填写或同时留空", "unpaired")
    if errors:
        raise ValidationError(errors)
    return checked


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
        and (rule.division is None or order.division_code.startswith(rule.division.prefix))
    ]
    if not matching:
        return None
    best = max(
        matching,
        key=lambda r: (
            r.category.level,
            len(r.division.prefix) if r.division is not None else 0,
            -r.priority,
            -r.pk,
        ),
    )
    co_units = tuple(
        u for u in best.co_units.all() if u.is_active and u.pk != best.unit_id and u.pk not in excluded
    )
    return DispatchTarget(rule=best, unit=best.unit, co_units=co_units)
