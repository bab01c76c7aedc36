"""Seed the default time limits (广东省12345管理办法 and the issue) and the hotline alert rules.

Limits in working days: 咨询 2, 求助 10, 建议 10, 投诉 15, 举报 15, 表扬 10; sign-for 1 working day.
Urgent orders: sign-for within 120 working minutes, reply within 1 working day. 行风热线: 5 (复杂件 10).
效能监测点 and 企业绿色通道: half the normal reply limit, rounded up (sign-for stays 1 working day).
"""

import math
from decimal import Decimal

from django.db import migrations

TYPES = {
    "inquiry": ("咨询", 2),
    "help": ("求助", 10),
    "complaint": ("投诉", 15),
    "report": ("举报", 15),
    "suggestion": ("建议", 10),
    "praise": ("表扬", 10),
}
HALF_CHANNELS = {"monitor": "效能监测点", "enterprise": "企业绿色通道"}


def seed(apps, schema_editor):
    TimeLimitRule = apps.get_model("hotline", "TimeLimitRule")
    AlertRule = apps.get_model("alerts", "AlertRule")
    rules = []
    for code, (label, days) in TYPES.items():
        rules.append({"name": f"{label}（一般）", "request_type": code, "reply_days": days})
        for channel, channel_label in HALF_CHANNELS.items():
            rules.append(
                {
                    "name": f"{channel_label}{label}（时限减半）",
                    "request_type": code,
                    "channel": channel,
                    "reply_days": math.ceil(days / 2),
                }
            )
    rules.append({"name": "紧急件", "urgency": "urgent", "sign_minutes": 120, "reply_days": 1})
    rules.append({"name": "行风热线", "channel": "radio", "reply_days": 5, "complex_reply_days": 10})
    for rule in rules:
        key = {k: rule.pop(k, "") for k in ("request_type", "urgency", "channel")}
        TimeLimitRule.objects.get_or_create(**key, is_active=True, defaults=rule)

    common = {
        "is_active": True,
        "remind": True,
        "dimension": "hotline",
        "yellow_points": Decimal("0"),
        "notice_points": Decimal("-1"),
        "red_points": Decimal("-2"),
        "sms_from_level": 2,
    }
    AlertRule.objects.get_or_create(
        kind="hotline_sign",
        defaults={"name": "12345工单签收", "notice_after_workdays": 2, "red_after_workdays": 3, **common},
    )
    AlertRule.objects.get_or_create(
        kind="hotline_reply",
        defaults={"name": "12345工单办理", "notice_after_workdays": 3, "red_after_workdays": 5, **common},
    )


class Migration(migrations.Migration):
    dependencies = [
        ("hotline", "0001_initial"),
        ("alerts", "0005_default_rule"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
