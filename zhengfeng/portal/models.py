"""Publications of the public portal: statistics tables frozen at the moment the office publishes them.

A publication never changes after it is made (later edits of the orders do not move published
figures); a wrong one is withdrawn with a reason and, if needed, published again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class PublicationKind(models.TextChoices):
    HOTLINE_UNITS = "hotline_units", "12345热线各单位办理情况"
    HOTLINE_RADIO = "hotline_radio", "行风热线上线单位办理情况"


class PublicationStatus(models.TextChoices):
    PUBLISHED = "published", "已发布"
    WITHDRAWN = "withdrawn", "已撤回"


class PublicationQuerySet(models.QuerySet["Publication"]):
    def public(self, *, at) -> PublicationQuerySet:
        """What anyone may read at `at`: published, not withdrawn, and past its publication time."""
        return self.filter(status=PublicationStatus.PUBLISHED, publish_at__lte=at)


class Publication(models.Model):
    kind = models.CharField("类别", max_length=20, choices=PublicationKind.choices)
    period = models.CharField("统计期间", max_length=10, help_text="2026-03、2026Q1 或 2026")
    title = models.CharField("标题", max_length=200)
    # The publisher's division: the table covers the units of its subtree.
    division_code = models.CharField("行政区划", max_length=12, db_index=True)
    scope_label = models.CharField("范围", max_length=60)
    # The frozen table: columns, rows (unit names and figures only), totals, definitions.
    data = models.JSONField("数据", default=dict)
    status = models.CharField(
        "状态", max_length=10, choices=PublicationStatus.choices, default=PublicationStatus.PUBLISHED
    )
    publish_at = models.DateTimeField("公开时间", help_text="可定于以后某一时间公开")
    created_at = models.DateTimeField("发布时间")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发布人", on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="撤回人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    withdraw_reason = models.TextField("撤回理由", blank=True)

    objects = PublicationQuerySet.as_manager()

    class Meta:
        verbose_name = "公开发布"
        verbose_name_plural = "公开发布"
        ordering = ["-publish_at", "-id"]
        indexes = [models.Index(fields=["status", "publish_at"], name="portal_pub_status_time_idx")]
        constraints = [
            # One live table per kind, period and division: a correction withdraws the old one first.
            models.UniqueConstraint(
                fields=["kind", "period", "division_code"],
                condition=models.Q(status="published"),
                name="portal_one_live_publication",
            ),
            models.CheckConstraint(
                condition=models.Q(status="published") | ~models.Q(withdraw_reason=""),
                name="portal_withdrawal_needs_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.title
