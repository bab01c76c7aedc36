"""Reads for review rounds (督查检查), their findings and rectification demands, scoped by user.

The office and inspectors read the rounds of their division subtree; a unit reads the rounds in
which it has a finding, and its own findings and demands. Scoping goes through
`zhengfeng.org.queries.scope_filter` on the unit and division code.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from zhengfeng.ledger.ledgers.queries import can_read_ledgers
from zhengfeng.ledger.models import (
    Finding,
    RectificationDemand,
    RectificationReport,
    ReviewRound,
)
from zhengfeng.org.queries import Viewer, scope_filter, scope_of


def rounds_for(user: Viewer) -> QuerySet[ReviewRound]:
    """Rounds that concern the user's scope: organised in it, or with findings in it."""
    if not can_read_ledgers(user):
        return ReviewRound.objects.none()
    scope = scope_of(user)
    rounds = ReviewRound.objects.select_related("division")
    if scope.everything:
        return rounds.order_by("-year", "kind", "id")
    findings = findings_for(user).values("round_id")
    if scope.division_prefix is not None:
        rounds = rounds.filter(division__code__startswith=scope.division_prefix) | rounds.filter(
            pk__in=findings
        )
    else:
        rounds = rounds.filter(pk__in=findings)
    return rounds.distinct().order_by("-year", "kind", "id")


def findings_for(user: Viewer) -> QuerySet[Finding]:
    if not can_read_ledgers(user):
        return Finding.objects.none()
    return scope_filter(Finding.objects.all(), user, unit_field="unit", division_field="division_code")


def demands_for(user: Viewer) -> QuerySet[RectificationDemand]:
    if not can_read_ledgers(user):
        return RectificationDemand.objects.none()
    return scope_filter(
        RectificationDemand.objects.all(), user, unit_field="unit", division_field="division_code"
    )


def round_findings(user: Viewer, review: ReviewRound) -> QuerySet[Finding]:
    """The round's findings the user may read, with unit and demand (one query)."""
    return (
        findings_for(user)
        .filter(round=review)
        .select_related("unit", "demand__clock")
        .order_by("unit__division_id", "unit__code", "id")
    )


def demand_for(user: Viewer, pk: int) -> RectificationDemand | None:
    return (
        demands_for(user)
        .select_related("finding__round__division", "unit", "clock", "created_by")
        .prefetch_related(
            Prefetch(
                "reports",
                queryset=RectificationReport.objects.select_related("submitted_by", "reviewed_by").order_by(
                    "-submitted_at", "-id"
                ),
            )
        )
        .filter(pk=pk)
        .first()
    )


def unit_demands(unit_id: int) -> QuerySet[RectificationDemand]:
    return (
        RectificationDemand.objects.filter(unit_id=unit_id)
        .select_related("finding__round", "clock")
        .order_by("state", "due_on", "id")
    )
