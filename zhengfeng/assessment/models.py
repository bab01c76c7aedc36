"""Score events: every fact that counts in the annual assessment, pointing at its source.

The assessment of a unit is a plain sum over its non-voided score events of the year, so every point
can be explained by listing the events (`queries.explain`). Events are never deleted: a mistaken
one is voided with a reason and drops out of every sum.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Dimension(models.TextChoices):
    """Assessment dimensions. Add a member to extend (the column stores the code; no data migration)."""

    HOTLINE = "hotline", "热线办理"
    IMPLEMENTATION = "implementation", "工作落实"
    EFFICIENCY = "efficiency", "行政效能"
    EVALUATION = "evaluation", "公述民评"
    ACCOUNTABILITY = "accountability", "执纪问责"
    INSPECTION = "inspection", "明察暗访"
    OTHER = "other", "其他"


class ScoreEventQuerySet(models.QuerySet["ScoreEvent"]):
    def counted(self) -> ScoreEventQuerySet:
        """Events that count: not voided."""
        return self.filter(voided_at__isnull=True)


class ScoreEvent(models.Model):
    unit = models.ForeignKey(
        "org.Unit", verbose_name="单位", on_delete=models.PROTECT, related_name="score_events"
    )
    division_code = models.CharField("行政区划", max_length=12)
    year = models.PositiveSmallIntegerField("考核年度")
    dimension = models.CharField("考核项目", max_length=30, choices=Dimension.choices)
    # Negative = 扣分, positive = 加分.
    points = models.DecimalField("分值", max_digits=7, decimal_places=2)
    # Machine code of the rule that produced the event ("alert.notice", "hotline.late_reply", …);
    # part of the idempotency key together with the source and the dimension.
    reason_code = models.CharField("原因代码", max_length=60)
    reason = models.CharField("原因", max_length=300)
    source_type = models.CharField("来源类型", max_length=60)
    source_id = models.CharField("来源编号", max_length=64)
    occurred_at = models.DateTimeField("发生时间")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        # Never looked up by the user; the alerts sweep inserts thousands of events at a time.
        db_index=False,
    )
    voided_at = models.DateTimeField("作废时间", null=True, blank=True)
    void_reason = models.CharField("作废原因", max_length=300, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="作废人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    objects = ScoreEventQuerySet.as_manager()

    class Meta:
        verbose_name = "考核计分"
        verbose_name_plural = "考核计分"
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["year", "unit"], name="score_year_unit_idx"),
            # Division subtrees are code prefixes (`startswith` → LIKE 'code%'): one pattern index serves
            # them and equality, so the column has no second, plain index to update on every insert.
            models.Index(
                fields=["division_code"], name="score_division_idx", opclasses=["varchar_pattern_ops"]
            ),
        ]
        constraints = [
            # Re-running a sweep or an import never counts the same fact twice.
            models.UniqueConstraint(
                fields=["source_type", "source_id", "dimension", "reason_code"],
                name="score_event_unique_source",
            ),
            models.CheckConstraint(condition=~models.Q(points=0), name="score_event_points_not_zero"),
            models.CheckConstraint(
                condition=models.Q(voided_at__isnull=True) | ~models.Q(void_reason=""),
                name="score_event_void_needs_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.get_dimension_display()} {self.points:+}"
