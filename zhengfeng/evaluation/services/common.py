"""Constants and small helpers shared by the evaluation services."""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from zhengfeng.evaluation.models import ActionType, EnforcementAction
from zhengfeng.messaging.services import SMS_MAX_LENGTH
from zhengfeng.org.models import Unit

TEMPLATE_FIELDS = ("unit", "staff", "date", "action")
# A visit recorded a little "in the future" is a clock difference between systems, not an error.
CLOCK_TOLERANCE = dt.timedelta(minutes=10)
SUBJECT_NAME_MAX = 100


# --- Small helpers -----------------------------------------------------------------------------


def full_unit_name(unit: Unit) -> str:
    """清远市司法局 for 市司法局 in 清远市: SMS go to people who do not know which 市 is meant."""
    division_name = unit.division.name
    if unit.name.startswith("市") and division_name.endswith("市"):
        return division_name[:-1] + unit.name
    return unit.name


def clean_template(text: str, *, label: str = "短信模板") -> str:
    """A template may use only {unit} {staff} {date} {action}; anything else is named in the error."""
    text = (text or "").strip()
    if not text:
        raise ValidationError(f"{label}不能为空")
    try:
        names = [name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise ValidationError(f"{label}格式错误（花括号不成对）：{text}") from exc
    unknown = sorted({name for name in names if name not in TEMPLATE_FIELDS})
    if unknown:
        raise ValidationError(
            f"{label}含有未知占位符 {'、'.join('{' + n + '}' for n in unknown)}；"
            f"可用：{'、'.join('{' + n + '}' for n in TEMPLATE_FIELDS)}"
        )
    sample = text.format(
        unit="清远市食品药品监督管理局", staff="欧阳晓明、李四", date="12月31日", action="其他执法监督"
    )
    if len(settings.SMS_SIGNATURE + sample) > SMS_MAX_LENGTH:
        raise ValidationError(f"{label}过长：填入内容后超过 {SMS_MAX_LENGTH} 字")
    return text


def _clean_points(value: Any, label: str) -> Decimal:
    try:
        points = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError(f"{label} {value!r} 不是有效的数字") from exc
    if not points.is_finite() or points < 0 or points > 100 or points != points.quantize(Decimal("0.01")):
        raise ValidationError(f"{label} {value!r} 无效：应为 0–100 之间、最多两位小数的数字")
    return points


def render_sms(template: str, action: EnforcementAction, staff_names: Sequence[str]) -> str:
    local = timezone.localtime(action.acted_at)
    return template.format(
        unit=full_unit_name(action.unit),
        staff="、".join(staff_names),
        date=f"{local.month}月{local.day}日",
        action=ActionType(action.action_type).label,
    )
