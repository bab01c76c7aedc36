"""The warning ladder: 提醒 → 黄牌/催办 → 通报批评 → 红牌, one record per step issued.

`AlertRule` says, per clock kind, when each step is due and what it costs; the sweep
(`services.sweep`) issues the steps. `Clock.alert_level` remembers the highest step issued so the
sweep finds new work with an indexed comparison.
"""

from __future__ import annotations

from decimal import Decimal
from enum import nonmember

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from zhengfeng.assessment.models import Dimension


class AlertLevel(models.IntegerChoices):
    REMINDER = 1, "提醒"
    YELLOW = 2, "黄牌（催办）"
    NOTICE = 3, "通报批评"
    RED = 4, "红牌（移送问责）"

    # Steps that come with a formal document (催办通知书, 通报, 红牌警示通知).
    WITH_DOCUMENT = nonmember(frozenset({2, 3, 4}))


class SmsFrom(models.IntegerChoices):
    NEVER = 0, "不发短信"
    REMINDER = 1, "提醒起"
    YELLOW = 2, "黄牌（催办）起"
    NOTICE = 3, "通报批评起"
    RED = 4, "仅红牌"


DEFAULT_RULE_KIND = "*"


class AlertRule(models.Model):
    """How the ladder runs for one kind of clock (`Clock.kind`); kind "*" is the default for the rest."""

    kind = models.CharField(
        "时限类别",
        max_length=40,
        unique=True,
        help_text="与时限的类别一致；“*”为默认规则，适用于其他所有类别",
    )
    name = models.CharField("规则名称", max_length=80)
    is_active = models.BooleanField("启用", default=True, help_text="停用后该类别不再发出任何预警")
    remind = models.BooleanField("到期前提醒", default=True, help_text="到达提醒时间（warn_at）时发出提醒")
    notice_after_workdays = models.PositiveSmallIntegerField(
        "通报批评（逾期工作日）", default=3, help_text="逾期满多少个工作日仍未办结的，予以通报批评"
    )
    red_after_workdays = models.PositiveSmallIntegerField(
        "红牌（通报后再逾期工作日）", default=5, help_text="通报批评后再逾期多少个工作日，予以红牌并移送问责"
    )
    dimension = models.CharField(
        "计入考核项目", max_length=30, choices=Dimension.choices, default=Dimension.EFFICIENCY
    )
    yellow_points = models.DecimalField("黄牌扣分", max_digits=6, decimal_places=2, default=Decimal("0"))
    notice_points = models.DecimalField("通报批评扣分", max_digits=6, decimal_places=2, default=Decimal("-1"))
    red_points = models.DecimalField("红牌扣分", max_digits=6, decimal_places=2, default=Decimal("-2"))
    sms_from_level = models.PositiveSmallIntegerField(
        "短信通知", choices=SmsFrom.choices, default=SmsFrom.YELLOW
    )
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = "预警规则"
        verbose_name_plural = "预警规则"
        ordering = ["kind"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(notice_after_workdays__gte=1, red_after_workdays__gte=1),
                name="alertrule_workdays_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(yellow_points__lte=0, notice_points__lte=0, red_points__lte=0),
                name="alertrule_points_are_deductions",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.kind}）"

    def clean(self) -> None:
        errors = {}
        if self.notice_after_workdays is not None and self.notice_after_workdays < 1:
            errors["notice_after_workdays"] = f"至少 1 个工作日，而不是 {self.notice_after_workdays}"
        if self.red_after_workdays is not None and self.red_after_workdays < 1:
            errors["red_after_workdays"] = f"至少 1 个工作日，而不是 {self.red_after_workdays}"
        for name in ("yellow_points", "notice_points", "red_points"):
            value = getattr(self, name)
            if value is not None and value > 0:
                errors[name] = f"预警只能扣分（0 或负数），而不是 {value}"
        if errors:
            raise ValidationError(errors)

    def points_for(self, level: int) -> Decimal:
        points: dict[int, Decimal] = {
            AlertLevel.YELLOW: self.yellow_points,
            AlertLevel.NOTICE: self.notice_points,
            AlertLevel.RED: self.red_points,
        }
        return points.get(level, Decimal("0"))


class Alert(models.Model):
    # Foreign keys without their own index where a composite one starts with the column (clock, unit)
    # or lookups by it do not happen (rule, acknowledged_by): fewer indexes for the sweep to fill.
    clock = models.ForeignKey(
        "deadlines.Clock", on_delete=models.PROTECT, related_name="alerts", db_index=False
    )
    level = models.PositiveSmallIntegerField("级别", choices=AlertLevel.choices)
    rule = models.ForeignKey(
        AlertRule,
        verbose_name="依据规则",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alerts",
        db_index=False,
    )
    unit = models.ForeignKey(
        "org.Unit",
        verbose_name="责任单位",
        null=True,
        on_delete=models.PROTECT,
        related_name="alerts",
        db_index=False,
    )
    division_code = models.CharField("行政区划", max_length=12)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("正文", blank=True)
    # The deadline as it stood when the step was issued (the clock may be extended later).
    due_at = models.DateTimeField("截止时间", null=True, blank=True)
    issued_at = models.DateTimeField("发出时间")
    doc_number = models.CharField("发文字号", max_length=40, blank=True)
    # Built on first download (keeps the sweep fast); the text is fixed at issue time.
    document = models.FileField("文书", upload_to="alerts/%Y/%m/", blank=True, max_length=200)
    score_event = models.ForeignKey(
        "assessment.ScoreEvent",
        verbose_name="考核计分",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alerts",
    )
    # Set when the unit's liaison/head were messaged about this step (`services.notify_units`).
    notified_at = models.DateTimeField("通知时间", null=True, blank=True)
    acknowledged_at = models.DateTimeField("签收时间", null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="签收人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = "预警"
        verbose_name_plural = "预警"
        ordering = ["-issued_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["clock", "level"], name="alert_one_per_clock_level")]
        indexes = [
            models.Index(fields=["unit", "-issued_at"], name="alert_unit_issued_idx"),
            # Division subtrees are code prefixes (`startswith` → LIKE 'code%'): one pattern index serves
            # them and equality, so the column has no second, plain index to update on every insert.
            models.Index(
                fields=["division_code"], name="alert_division_idx", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(
                fields=["unit"], name="alert_not_notified_idx", condition=models.Q(notified_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def has_document(self) -> bool:
        return self.level in AlertLevel.WITH_DOCUMENT


class DocumentSerial(models.Model):
    """The last 发文字号 number used per issuing office, series and year (row-locked when numbering)."""

    issuer_code = models.CharField("发文机关区划", max_length=12)
    series = models.CharField("文种", max_length=4)
    year = models.PositiveSmallIntegerField("年度")
    last_number = models.PositiveIntegerField("已用号", default=0)

    class Meta:
        verbose_name = "发文字号"
        verbose_name_plural = "发文字号"
        constraints = [
            models.UniqueConstraint(fields=["issuer_code", "series", "year"], name="document_serial_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.issuer_code} {self.series} {self.year}: {self.last_number}"
