"""The alerts ladder detects overdue hotline clocks alone: its 黄牌 carries the hotline deduction.

The hotline_sign rule's 黄牌 now costs 0.5 points and hotline_reply's 1 point (what the removed
`hotline.sweep_overdue` deducted), set only where the seeded 0 is still there so an administrator's
own value stands. The sweep's marks on the assignments and its two timeline event kinds go; the
order's timeline shows the ladder's alerts instead (`hotline.queries.timeline`). Timeline rows the
old sweep wrote are kept as they are (the timeline is append-only).
"""

from decimal import Decimal

from django.db import migrations, models
from django.utils import timezone

YELLOW_POINTS = {"hotline_sign": Decimal("-0.5"), "hotline_reply": Decimal("-1")}


def set_yellow_points(apps, schema_editor):
    AlertRule = apps.get_model("alerts", "AlertRule")
    for kind, points in YELLOW_POINTS.items():
        AlertRule.objects.filter(kind=kind, yellow_points=0).update(
            yellow_points=points, updated_at=timezone.now()
        )


def unset_yellow_points(apps, schema_editor):
    AlertRule = apps.get_model("alerts", "AlertRule")
    for kind, points in YELLOW_POINTS.items():
        AlertRule.objects.filter(kind=kind, yellow_points=points).update(
            yellow_points=Decimal("0"), updated_at=timezone.now()
        )


class Migration(migrations.Migration):
    dependencies = [
        ("hotline", "0004_open311submission"),
        ("alerts", "0006_alert_notified_at"),
    ]

    operations = [
        migrations.RunPython(set_yellow_points, unset_yellow_points),
        migrations.RemoveField(
            model_name="workorderassignment",
            name="reply_overdue_at",
        ),
        migrations.RemoveField(
            model_name="workorderassignment",
            name="sign_overdue_at",
        ),
        migrations.AlterField(
            model_name="workorderevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("received", "受理"),
                    ("answered", "直接答复"),
                    ("dispatched", "派单"),
                    ("signed", "签收"),
                    ("return_requested", "申请退单"),
                    ("return_accepted", "退单改派"),
                    ("return_overruled", "退单驳回（审定强派）"),
                    ("note", "办理记录"),
                    ("extension_requested", "申请延期"),
                    ("extension_head_approved", "延期经单位负责人同意"),
                    ("extension_approved", "延期批准"),
                    ("extension_rejected", "延期不予批准"),
                    ("reply_drafted", "拟写答复"),
                    ("reply_approved", "负责人签发答复"),
                    ("reply_rejected", "负责人退回答复"),
                    ("reply_passed", "答复审核通过"),
                    ("reply_sent_back", "答复审核退回"),
                    ("callback", "回访"),
                    ("reopened", "重办"),
                    ("closed", "办结"),
                    ("merged", "并单"),
                    ("merge_received", "并入重复诉求"),
                    ("voided", "作废"),
                    ("referred", "移送纪检监察"),
                ],
                max_length=24,
                verbose_name="事件",
            ),
        ),
    ]
