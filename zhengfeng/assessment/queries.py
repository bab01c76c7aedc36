"""Reads for the assessment: per-unit totals (scoped) and the events behind a unit's score."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from zhengfeng.assessment.models import Dimension, ScoreEvent
from zhengfeng.org.models import Unit
from zhengfeng.org.queries import Viewer, units_for

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class UnitTotal:
    unit_id: int
    unit_name: str
    division_code: str
    total: Decimal
    event_count: int
    by_dimension: dict[str, Decimal] = field(default_factory=dict)


def _sum(condition: Q) -> Coalesce:
    return Coalesce(
        Sum("score_events__points", filter=condition),
        Value(ZERO),
        output_field=DecimalField(max_digits=12, decimal_places=2),
    )


def unit_totals(year: int, *, user: Viewer, units: QuerySet[Unit] | None = None) -> list[UnitTotal]:
    """Every unit `user` may see, with its total, per-dimension sums and event count for `year`.

    Only non-voided events count; units without events appear with zeros (they rank too). One
    aggregate query. Sorted by total descending (fewest deductions first), then unit code.
    """
    counted = Q(score_events__year=year, score_events__voided_at__isnull=True)
    base = units_for(user) if units is None else units
    annotations: dict[str, Any] = {
        "score_total": _sum(counted),
        "score_count": Count("score_events", filter=counted),
    }
    for dimension in Dimension.values:
        annotations[f"dim_{dimension}"] = _sum(counted & Q(score_events__dimension=dimension))
    rows = (
        base.order_by()
        .values("id", "name", "code", "division_id")
        .annotate(**annotations)
        .order_by("-score_total", "code")
    )
    return [
        UnitTotal(
            unit_id=row["id"],
            unit_name=row["name"],
            division_code=row["division_id"],
            total=row["score_total"],
            event_count=row["score_count"],
            by_dimension={d: row[f"dim_{d}"] for d in Dimension.values},
        )
        for row in rows
    ]


def explain(unit: Unit, year: int, *, include_voided: bool = False) -> QuerySet[ScoreEvent]:
    """The events that make up `unit`'s score for `year`, oldest first (voided ones on request)."""
    events = ScoreEvent.objects.filter(unit=unit, year=year).select_related("created_by")
    if not include_voided:
        events = events.counted()
    return events.order_by("occurred_at", "id")
