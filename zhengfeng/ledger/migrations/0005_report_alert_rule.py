"""The ladder's rule for quarterly reports (clock kind "quarterly_report").

提醒 2 working days before the due date (the clock's warn_at) by in-app message and SMS; 催办 on the
first overdue day; 通报 after 3 more working days. The steps carry no points: a late or missing
report is scored by the reporting rule itself (迟报/漏报), so the same lateness is not counted twice.
"""

from decimal import Decimal

from django.db import migrations

KIND = "quarterly_report"


def add_rule(apps, schema_editor):
    AlertRule = apps.get_model("alerts", "AlertRule")
    AlertRule.objects.get_or_create(
        kind=KIND,
        defaults={
            "name": "季度报送预警规则",
            "is_active": True,
            "remind": True,
            "notice_after_workdays": 3,
            "red_after_workdays": 5,
            "dimension": "implementation",
            "yellow_points": Decimal("0"),
            "notice_points": Decimal("0"),
            "red_points": Decimal("0"),
            # 1 = from the reminder on: the liaison gets the reminder by SMS as well as in-app.
            "sms_from_level": 1,
        },
    )


def remove_rule(apps, schema_editor):
    AlertRule = apps.get_model("alerts", "AlertRule")
    AlertRule.objects.filter(kind=KIND, alerts__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0004_reports"),
        ("alerts", "0006_alert_notified_at"),
    ]

    operations = [migrations.RunPython(add_rule, remove_rule)]
