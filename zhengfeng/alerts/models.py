"""The warning ladder: 提醒 → 黄牌/催办 → 通报批评 → 红牌, one record per step issued."""

from __future__ import annotations

from django.db import models


class AlertLevel(models.IntegerChoices):
    REMINDER = 1, "提醒"
    YELLOW = 2, "黄牌（催办）"
    NOTICE = 3, "通报批评"
    RED = 4, "红牌（移送问责）"


class Alert(models.Model):
    clock = models.ForeignKey("deadlines.Clock", on_delete=models.PROTECT, related_name="alerts")
    level = models.PositiveSmallIntegerField("级别", choices=AlertLevel.choices)
    unit = models.ForeignKey("org.Unit", verbose_name="责任单位", null=True, on_delete=models.PROTECT, related_name="alerts")
    division_code = models.CharField("行政区划", max_length=12, db_index=True)
    title = models.CharField("标题", max_length=200)
    issued_at = models.DateTimeField("发出时间")
    acknowledged_at = models.DateTimeField("签收时间", null=True, blank=True)

    class Meta:
        verbose_name = "预警"
        verbose_name_plural = "预警"
        ordering = ["-issued_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["clock", "level"], name="alert_one_per_clock_level")]

    def __str__(self) -> str:
        return self.title
