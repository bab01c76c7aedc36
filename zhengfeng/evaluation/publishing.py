"""Publishing a year's results on the portal and turning them into assessment score events.

A publication freezes the per-unit table (unit names and figures, never a person's data) at the
moment the office publishes it; later flags or answers do not move a published figure. Storing and
withdrawing are the core publication engine's (`zhengfeng.core.publications`, kind
`evaluation_results`, period the year, division that of the evaluation year). The score
events of the annual assessment follow the published table: publishing records them, withdrawing
voids them, publishing again voids what changed and records the new figures.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from zhengfeng.assessment import services as assessment
from zhengfeng.assessment.models import Dimension, ScoreEvent
from zhengfeng.core import publications
from zhengfeng.core.models import Publication, PublicationStatus
from zhengfeng.evaluation import queries
from zhengfeng.evaluation.models import EvaluationYear
from zhengfeng.org.models import Unit, User
from zhengfeng.org.queries import Viewer, scope_of

PUBLISHER_ROLES = frozenset({"office", "admin"})
SCORE_SOURCE = "evaluation.unit_year"
SCORE_REASON_CODE = "evaluation.unit_score"
RESULTS_KIND = queries.RESULTS_KIND
REASON_MAX_LENGTH = 300

# The audit actions keep their names: `evaluation.results_published` / `evaluation.results_withdrawn`.
publications.register_kind(RESULTS_KIND, "公述民评结果", audit_prefix="evaluation.results")


def year_of(publication: Publication) -> EvaluationYear:
    """The evaluation year a results publication belongs to (its key: period = year, division)."""
    return EvaluationYear.objects.get(year=int(publication.period), division_id=publication.division_code)


def can_publish(user: Viewer, evaluation_year: EvaluationYear) -> bool:
    """The campaign office of the year's division (or above it), or the administrator."""
    if not isinstance(user, User):
        return False
    scope = scope_of(user)
    if scope.everything:
        return True
    return (
        user.role in PUBLISHER_ROLES
        and scope.division_prefix is not None
        and evaluation_year.division_id.startswith(scope.division_prefix)
    )


def deduction(evaluation_year: EvaluationYear, total: Decimal | None) -> Decimal:
    """The assessment points for a unit total: −assessment_points × (100 − total) / 100, 2 places.

    A unit with 100 (or with no counted answer at all) loses nothing and gets no event.
    """
    if total is None:
        return Decimal(0)
    lost = evaluation_year.assessment_points * (Decimal(100) - total) / Decimal(100)
    return -lost.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _snapshot(evaluation_year: EvaluationYear) -> dict[str, Any]:
    results = [
        row
        for row in queries.unit_results(evaluation_year.year, everything=True)
        if evaluation_year.key_units.filter(pk=row.unit_id).exists()
    ]
    ranked = sorted(results, key=lambda r: (r.total is None, -(r.total or 0), r.unit_code))
    rows = []
    for rank, row in enumerate(ranked, start=1):
        rows.append({"rank": rank if row.total is not None else None, **row.as_public()})
    return {
        "year": evaluation_year.year,
        "formula": {
            "satisfied": str(evaluation_year.points_satisfied),
            "basic": str(evaluation_year.points_basic),
            "unsatisfied": str(evaluation_year.points_unsatisfied),
            "vote_weight": evaluation_year.vote_weight,
        },
        "rows": rows,
    }


def record_score_events(
    evaluation_year: EvaluationYear, rows: list[dict[str, Any]], *, by: User, reason: str = "评议结果重新发布"
) -> dict[str, int]:
    """One 公述民评 score event per unit with a deduction, from a published table; idempotent.

    A unit whose live event already carries the same points keeps it; a different figure voids the
    old event (with `reason`) and records a new one (source id `<year id>:<unit id>:<n>`).
    Side effects: ScoreEvents and their audit rows (`score.recorded`, `score.voided`).
    """
    stats = {"recorded": 0, "kept": 0, "voided": 0}
    occurred_at = timezone.now()
    units = {u.code: u for u in Unit.objects.filter(code__in=[row["unit_code"] for row in rows])}
    with transaction.atomic():
        for row in rows:
            unit = units[row["unit_code"]]
            points = deduction(evaluation_year, Decimal(row["total"]) if row["total"] is not None else None)
            prefix = f"{evaluation_year.pk}:{unit.pk}:"
            events = ScoreEvent.objects.filter(
                source_type=SCORE_SOURCE, source_id__startswith=prefix, dimension=Dimension.EVALUATION
            )
            live = [event for event in events if event.voided_at is None]
            if points and any(event.points == points for event in live):
                stats["kept"] += 1
                continue
            for event in live:
                assessment.void_score_event(event, reason=reason, by=by)
                stats["voided"] += 1
            if points:
                assessment.record_score_event(
                    unit=unit,
                    dimension=Dimension.EVALUATION,
                    points=points,
                    reason=f"{evaluation_year.title}：单位总分 {row['total']}",
                    reason_code=SCORE_REASON_CODE,
                    source_type=SCORE_SOURCE,
                    source_id=f"{prefix}{events.count() + 1}",
                    occurred_at=occurred_at,
                    year=evaluation_year.year,
                    by=by,
                )
                stats["recorded"] += 1
    return stats


def void_score_events(evaluation_year: EvaluationYear, *, by: User, reason: str) -> int:
    """Void every live 公述民评 event of the year (the results were withdrawn)."""
    events = ScoreEvent.objects.filter(
        source_type=SCORE_SOURCE,
        source_id__startswith=f"{evaluation_year.pk}:",
        dimension=Dimension.EVALUATION,
        voided_at__isnull=True,
    )
    count = 0
    with transaction.atomic():
        for event in events:
            assessment.void_score_event(event, reason=reason, by=by)
            count += 1
    return count


def publish_results(evaluation_year: EvaluationYear, *, by: User) -> Publication:
    """Freeze the year's per-unit results and publish them on the portal; record the score events.

    Refused while a publication of the year is live (withdraw it first) or while flags are pending
    (the office reviews them first, so nothing published moves afterwards).
    Side effects: one `core.Publication` of kind `evaluation_results` (through the engine); score
    events (`record_score_events`); audit row `evaluation.results_published`.
    """
    if not can_publish(by, evaluation_year):
        raise PermissionDenied("只有本级正风办和系统管理员可以发布评议结果")
    if queries.year_publications(evaluation_year).filter(status=PublicationStatus.PUBLISHED).exists():
        raise ValidationError(f"{evaluation_year.title}的结果已发布；如需更正，请先撤回")
    pending = queries.flagged_evaluations_for(by).filter(action__year=evaluation_year).count()
    pending += queries.flagged_votes_for(by).filter(year=evaluation_year).count()
    if pending:
        raise ValidationError(f"还有 {pending} 条待复核的评议，请先复核后再发布")
    data = _snapshot(evaluation_year)
    with transaction.atomic():
        # The score events first, so that the publication's audit row can count them; a refused
        # publication rolls them back with it.
        stats = record_score_events(evaluation_year, data["rows"], by=by)
        publication = publications.publish(
            by=by,
            kind=RESULTS_KIND,
            period=str(evaluation_year.year),
            title=f"{evaluation_year.title}结果",
            division_code=evaluation_year.division_id,
            data=data,
            audit_data={"year": evaluation_year.year, "units": len(data["rows"]), "score_events": stats},
        )
    return publication


def withdraw_results(publication: Publication, *, by: User, reason: str) -> Publication:
    """Take a publication off the portal (kept, with the reason) and void its score events.

    Side effects: status, withdrawn_at/by/reason (through the engine); voided score events; audit
    row `evaluation.results_withdrawn`.
    """
    evaluation_year = year_of(publication)
    if not can_publish(by, evaluation_year):
        raise PermissionDenied("只有本级正风办和系统管理员可以撤回评议结果")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("撤回理由不能为空")
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(f"撤回理由过长（{len(reason)} 字，最多 {REASON_MAX_LENGTH} 字）")
    with transaction.atomic():
        # Voided first so that the withdrawal's audit row counts them; a refused (second)
        # withdrawal rolls the voiding back with it.
        voided = void_score_events(evaluation_year, by=by, reason=f"评议结果撤回：{reason}")
        try:
            return publications.withdraw(publication, by=by, reason=reason, audit_data={"voided": voided})
        except ValidationError:
            raise ValidationError(f"“{publication.title}”已撤回") from None
