"""Working-day calendar tables and SLA clocks."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import nonmember

from django.conf import settings
from django.db import models

DEFAULT_CALENDAR_CODE = "CN"


def _new_revision() -> str:
    return uuid.uuid4().hex


class WorkCalendar(models.Model):
    """A working-day calendar: the Monday–Friday rule plus dated exceptions over a covered range.

    Every change bumps `version` and renews `revision`; the in-process engine cache is keyed by
    both, so a rolled-back or restored change can never be served from a stale index.
    """

    code = models.CharField("编码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=60)
    tz = models.CharField("时区", max_length=40, default="Asia/Shanghai")
    coverage_start = models.DateField("覆盖起始日")
    coverage_end = models.DateField("覆盖截止日")
    version = models.PositiveIntegerField("版本", default=1)
    revision = models.CharField(max_length=32, default=_new_revision, editable=False)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "工作日历"
        verbose_name_plural = "工作日历"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(coverage_end__gte=models.F("coverage_start")),
                name="calendar_coverage_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class CalendarException(models.Model):
    """One date that breaks the Monday–Friday rule: a weekday off, or a weekend working day (补班).

    Weekends that merely adjoin a holiday are ordinary weekends and are not stored.
    """

    calendar = models.ForeignKey(WorkCalendar, on_delete=models.CASCADE, related_name="exceptions")
    date = models.DateField("日期")
    is_off_day = models.BooleanField("休息日", help_text="是：工作日放假；否：周末补班")
    name = models.CharField("节日", max_length=60, blank=True)
    notice_no = models.CharField("通知文号", max_length=60, blank=True)
    notice_url = models.URLField("通知网址", max_length=300, blank=True)
    provisional = models.BooleanField("暂定", default=False, help_text="尚未以国务院办公厅通知核对")

    class Meta:
        verbose_name = "节假日调整"
        verbose_name_plural = "节假日调整"
        ordering = ["calendar_id", "date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="calendar_exception_unique_date"),
        ]

    def __str__(self) -> str:
        kind = "休息" if self.is_off_day else "补班"
        return f"{self.date:%Y-%m-%d} {kind} {self.name}".strip()


class WorkSchedule(models.Model):
    """Working hours of every working day (补班 days included) within an optional date range.

    A schedule with no dates is the default; a dated one (e.g. 夏季作息) wins on its dates, and of
    several dated ones the latest `effective_from` wins.
    """

    calendar = models.ForeignKey(WorkCalendar, on_delete=models.CASCADE, related_name="schedules")
    name = models.CharField("名称", max_length=60)
    effective_from = models.DateField("生效日期", null=True, blank=True)
    effective_to = models.DateField("失效日期", null=True, blank=True, help_text="含当日")

    class Meta:
        verbose_name = "作息时间"
        verbose_name_plural = "作息时间"
        ordering = ["calendar_id", "effective_from", "id"]

    def __str__(self) -> str:
        return self.name


class WorkInterval(models.Model):
    """One working period of a day, such as 08:30–12:00; the lunch break is the gap between two."""

    schedule = models.ForeignKey(WorkSchedule, on_delete=models.CASCADE, related_name="intervals")
    start = models.TimeField("开始")
    end = models.TimeField("结束")

    class Meta:
        verbose_name = "工作时段"
        verbose_name_plural = "工作时段"
        ordering = ["schedule_id", "start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="work_interval_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


class ClockState(models.TextChoices):
    RUNNING = "running", "计时中"
    PAUSED = "paused", "已中止"
    STOPPED = "stopped", "已停止"

    LIVE_STATES = nonmember(("running", "paused"))


class BudgetUnit(models.TextChoices):
    WORKDAYS = "workdays", "工作日"
    WORK_MINUTES = "work_minutes", "工作分钟"
    NATURAL_DAYS = "natural_days", "自然日"
    # Due at close of business of a given date (the START event's `due_on`), not after a budget.
    FIXED_DATE = "fixed_date", "固定日期"

    # Units counted in whole calendar days: pauses, exclusions and extensions move them by days.
    DAY_UNITS = nonmember(("natural_days", "fixed_date"))


class ClockQuerySet(models.QuerySet["Clock"]):
    def running(self) -> ClockQuerySet:
        return self.filter(state=ClockState.RUNNING)

    def overdue(self, *, at: dt.datetime) -> ClockQuerySet:
        return self.running().filter(due_at__lt=at)

    def due_soon(self, *, at: dt.datetime) -> ClockQuerySet:
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
        "org.Unit",
        verbose_name="责任单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="clocks",
    )
    division_code = models.CharField("行政区划", max_length=12)
    budget_unit = models.CharField("时限单位", max_length=20, choices=BudgetUnit.choices)
    # 0 for a fixed-date clock: its due date is in the START event (`due_on`), not a budget.
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
        # Lookups by source use the unique constraint's index (source_type, source_id, kind).
        indexes = [
            # Per-kind reports over deadlines (e.g. hotline 按时办结率 by reply due date).
            models.Index(fields=["kind", "due_at"], name="clock_kind_due_idx"),
            # Division subtrees are code prefixes (`startswith` → LIKE 'code%'): one pattern index serves
            # them and equality, so the column has no second, plain index to update on every insert.
            models.Index(
                fields=["division_code"], name="clock_division_idx", opclasses=["varchar_pattern_ops"]
            ),
            # The alerts sweep's claim, per rule kind and ladder step: `alert_level IN (levels below)`
            # and `due_at < cutoff` read only the clocks that just crossed (alerts.services._Sweeper).
            models.Index(
                fields=["kind", "alert_level", "due_at"],
                name="clock_claim_idx",
                condition=models.Q(state="running"),
            ),
            models.Index(
                fields=["due_at", "alert_level"],
                name="clock_running_due_idx",
                condition=models.Q(state="running"),
            ),
            models.Index(
                fields=["warn_at", "alert_level"],
                name="clock_running_warn_idx",
                condition=models.Q(state="running"),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source_type", "source_id", "kind"], name="clock_unique_per_source_kind"
            ),
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
    # START: {"budget": n}, or {"due_on": iso date} for a fixed-date clock; EXTEND: {"amount": n} in the
    # clock's unit (calendar days for a fixed date); EXCLUDE: {"from": iso, "to": iso}; RESTART:
    # {"budget": n} or, for a fixed date, {"due_on": iso date}.
    data = models.JSONField(default=dict, blank=True)
    reason = models.CharField("原因", max_length=200, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "时限事件"
        verbose_name_plural = "时限事件"
        ordering = ["clock_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"
