"""Seed the default ladder rule (kind "*"): 通报 after 3 overdue working days, 红牌 after 5 more."""

from decimal import Decimal

from django.db import migrations


def seed_default_rule(apps, schema_editor):
    AlertRule = apps.get_model("alerts", "AlertRule")
    AlertRule.objects.get_or_create(
        kind="*",
        defaults={
            "name": "默认预警规则",
            "is_active": True,
            "remind": True,
            "notice_after_workdays": 3,
            "red_after_workdays": 5,
            "dimension": "efficiency",
            "yellow_points": Decimal("0"),
            "notice_points": Decimal("-1"),
            "red_points": Decimal("-2"),
            "sms_from_level": 2,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("alerts", "0004_ladder")]

    operations = [migrations.RunPython(seed_default_rule, migrations.RunPython.noop)]
