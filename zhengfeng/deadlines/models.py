"""Working-day calendar tables and SLA clocks."""

from __future__ import annotations

from django.conf import settings
from enum import nonmember

from django.db import models


class ClockState(models.TextChoices):
    RUNNING = "running", "计时中"
    PAUSED = "paused", "已中止"
    STOPPED = "stopped", "已停止"

    LIVE_STATES = nonmember(("running", "paused"))


class BudgetUnit(models.TextChoices):
    WORKDAYS = "workdays", "工作日"
    WORK_MINUTES = "work_minutes", "工作分钟"
    NATURAL_DAYS = "natural_days", "自然日"


class ClockQuerySet(models.QuerySet["Clock"]):
    def running(self) -> ClockQuerySet:
        return self.filter(state=ClockState.RUNNING)

    def overdue(self, *, at) -> ClockQuerySet:
        return self.running().filter(due_at__lt=at)

    def due_soon(self, *, at) -> ClockQuerySet:
        return self.running().filter(warn_at__lte=at, due_at__gte=at)


class Clock(models.Model):
    """A time limit owned by some record (a work order's reply, a quarterly report, …).

    `due_at` / `warn_at` are always the replay of this clock's events under the current calendar
    (`deadlines.services`); views and sweeps only compare them with "now".
    """

    source_type = models.CharField("来源类型", max_length=60)
    source_id = models.CharField("来源编号", max_length=64)
    kind = models.CharField("时限类别", max_length=40)
    label = models.CharField("事项", max_length=200)
    unit = models.ForeignKey(
        "org.Unit", verbose_name="责任单位", null=True, blank=True, on_delete=models.PROTECT, related_name="clocks"
    )
    division_code = models.CharField("行政区划", max_length=12, db_index=True)
    budget_unit = models.CharField("时限单位", max_length=20, choices=BudgetUnit.choices)
    budget = models.PositiveIntegerField("时限")
    warn_before = models.PositiveIntegerField("提前提醒", default=0, help_text="与时限同一单位")
    state = models.CharField("状态", max_length=10, choices=ClockState.choices, default=ClockState.RUNNING)
    started_at = models.DateTimeField("开始时间")
    stopped_at = models.DateTimeField("停止时间", null=True, blank=True)
    # Business ordinals (working minutes since the calendar's first day) of the deadline and warning.
    due_b = models.BigIntegerField(null=True, blank=True)
    warn_b = models.BigIntegerField(null=True, blank=True)
    due_at = models.DateTimeField("截止时间", null=True, blank=True)
    warn_at = models.DateTimeField("提醒时间", null=True, blank=True)
    # Working minutes left when paused (due_at is NULL while paused).
    remaining_minutes = models.BigIntegerField(null=True, blank=True)
    provisional = models.BooleanField("暂定", default=False, help_text="截止日期超出已公布的节假日安排")
    calendar_version = models.PositiveIntegerField(default=0)
    # Highest step of the alerts ladder already issued (0 none, 1 提醒, 2 黄牌, 3 通报, 4 红牌).
    alert_level = models.PositiveSmallIntegerField("预警级别", default=0)

    objects = ClockQuerySet.as_manager()

    class Meta:
        verbose_name = "时限"
        verbose_name_plural = "时限"
        indexes = [
            models.Index(fields=["source_type", "source_id"], name="clock_source_idx"),
            models.Index(
                fields=["due_at", "alert_level"], name="clock_running_due_idx", condition=models.Q(state="running")
            ),
            models.Index(
                fields=["warn_at", "alert_level"], name="clock_running_warn_idx", condition=models.Q(state="running")
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["source_type", "source_id", "kind"], name="clock_unique_per_source_kind"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def is_late(self) -> bool:
        """Stopped after its deadline (frozen: stays late whatever happens later)."""
        return bool(self.stopped_at and self.due_at and self.stopped_at > self.due_at)


class ClockEventKind(models.TextChoices):
    START = "start", "开始"
    PAUSE = "pause", "中止"
    RESUME = "resume", "恢复"
    EXTEND = "extend", "延期"
    EXCLUDE = "exclude", "扣除"
    RESTART = "restart", "重新计时"
    STOP = "stop", "停止"


class ClockEvent(models.Model):
    clock = models.ForeignKey(Clock, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField("事件", max_length=10, choices=ClockEventKind.choices)
    at = models.DateTimeField("时间")
    # EXTEND: {"amount": n} in the clock's unit; EXCLUDE: {"from": iso, "to": iso}; RESTART: {"budget": n}.
    data = models.JSONField(default=dict, blank=True)
    reason = models.CharField("原因", max_length=200, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "时限事件"
        verbose_name_plural = "时限事件"
        ordering = ["clock_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"
