"""Reads of 公述民评: scoped action lists, scores per staff member and unit, the public staff lists."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from zhengfeng.core import publications
from zhengfeng.core.models import Publication
from zhengfeng.core.periods import Period
from zhengfeng.evaluation.models import (
    Answer,
    Clue,
    DisclosedStaff,
    EnforcementAction,
    Evaluation,
    EvaluationYear,
    FlagState,
    OnlineVote,
)
from zhengfeng.messaging.models import OutboxStatus
from zhengfeng.org.models import Unit, User
from zhengfeng.org.queries import Viewer, scope_filter, scope_of

SCORE_ROLES = frozenset({"admin", "office", "inspector"})
TWO_PLACES = Decimal("0.01")
# The kind of the year's results in the core publication engine (registered by `publishing`).
RESULTS_KIND = "evaluation_results"


def can_see_scores(user: Viewer) -> bool:
    return isinstance(user, User) and (user.is_superuser or user.role in SCORE_ROLES)


def can_record_actions(user: Viewer) -> bool:
    """Units enter their own actions: their liaison (联络员), handlers (承办人) and head."""
    return isinstance(user, User) and user.unit_id is not None and user.role in ("liaison", "handler", "head")


# --- Staff and disclosure ------------------------------------------------------------------------


def disclosed_staff(unit: Unit) -> QuerySet[DisclosedStaff]:
    """What the public may see of a unit's staff: only those marked for disclosure and still in post."""
    return DisclosedStaff.objects.filter(unit=unit, is_disclosed=True, is_active=True).order_by(
        "sort_order", "id"
    )


def active_staff(unit: Unit) -> QuerySet[DisclosedStaff]:
    return DisclosedStaff.objects.filter(unit=unit, is_active=True).order_by("sort_order", "id")


def current_year(*, at: dt.date | None = None) -> EvaluationYear | None:
    """The latest city-or-county year not after `at` (the portal shows this one)."""
    years = EvaluationYear.objects.all()
    if at is not None:
        years = years.filter(year__lte=at.year)
    return years.order_by("-year", "division_id").first()


def public_units(evaluation_year: EvaluationYear) -> QuerySet[Unit]:
    return evaluation_year.key_units.select_related("division").order_by("code")


def years_for(user: Viewer) -> QuerySet[EvaluationYear]:
    scope = scope_of(user)
    years = EvaluationYear.objects.select_related("division")
    if scope.everything:
        return years
    if scope.division_prefix is not None:
        # A county office also sees the city's year (its units' scores are published city-wide).
        return years.filter(
            Q(division__code__startswith=scope.division_prefix)
            | Q(key_units__division__code__startswith=scope.division_prefix)
        ).distinct()
    return years.filter(key_units=scope.unit_id) if scope.unit_id else years.none()


# --- Actions -------------------------------------------------------------------------------------


def actions_for(user: Viewer) -> QuerySet[EnforcementAction]:
    """Actions `user` may see: its own unit's, or its division subtree's for office and inspectors."""
    return scope_filter(
        EnforcementAction.objects.select_related("unit", "evaluation__message").prefetch_related("staff"),
        user,
        unit_field="unit",
        division_field="division_code",
    )


@dataclass(frozen=True)
class ActionFilters:
    unit_code: str = ""
    action_type: str = ""
    source: str = ""
    answered: str = ""  # "yes" / "no" / ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def filtered_actions(user: Viewer, filters: ActionFilters) -> QuerySet[EnforcementAction]:
    actions = actions_for(user)
    if filters.unit_code:
        actions = actions.filter(unit__code=filters.unit_code)
    if filters.action_type:
        actions = actions.filter(action_type=filters.action_type)
    if filters.source:
        actions = actions.filter(source=filters.source)
    if filters.answered == "yes":
        actions = actions.exclude(evaluation__answer="")
    elif filters.answered == "no":
        actions = actions.filter(evaluation__answer="")
    if filters.date_from:
        actions = actions.filter(acted_at__date__gte=filters.date_from)
    if filters.date_to:
        actions = actions.filter(acted_at__date__lte=filters.date_to)
    return actions.order_by("-acted_at", "-id")


# --- Scores --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreRow:
    unit_code: str
    unit_name: str
    staff_id: int | None
    staff_name: str | None
    invited: int
    answered: int
    satisfied: int
    basic: int
    unsatisfied: int
    flagged: int
    score: Decimal | None

    def as_api(self) -> dict[str, Any]:
        return {
            "unit_code": self.unit_code,
            "staff_name": self.staff_name,
            "invited": self.invited,
            "answered": self.answered,
            "satisfied": self.satisfied,
            "basic": self.basic,
            "unsatisfied": self.unsatisfied,
            "flagged": self.flagged,
            "score": float(self.score) if self.score is not None else None,
        }


def compute_score(
    evaluation_year: EvaluationYear, satisfied: int, basic: int, unsatisfied: int
) -> Decimal | None:
    """The year's formula: the mean of the points of the counted answers, rounded half up to 0.01."""
    counted = satisfied + basic + unsatisfied
    if counted == 0:
        return None
    total = (
        evaluation_year.points_satisfied * satisfied
        + evaluation_year.points_basic * basic
        + evaluation_year.points_unsatisfied * unsatisfied
    )
    return (total / counted).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def _counts(prefix: str) -> dict[str, Any]:
    """Conditional counts over evaluations reached through `prefix` (empty for Evaluation itself)."""
    p = prefix
    answered = ~Q(**{f"{p}answer": ""})
    excluded = Q(**{f"{p}flag_state__in": FlagState.EXCLUDED_STATES})
    counted = answered & ~excluded
    return {
        "invited": Count(f"{p}pk", filter=Q(**{f"{p}message__status": OutboxStatus.SENT})),
        "answered": Count(f"{p}pk", filter=answered),
        "satisfied": Count(f"{p}pk", filter=counted & Q(**{f"{p}answer": Answer.SATISFIED})),
        "basic": Count(f"{p}pk", filter=counted & Q(**{f"{p}answer": Answer.BASIC})),
        "unsatisfied": Count(f"{p}pk", filter=counted & Q(**{f"{p}answer": Answer.UNSATISFIED})),
        "flagged": Count(f"{p}pk", filter=answered & excluded),
    }


COUNT_NAMES = ("invited", "answered", "satisfied", "basic", "unsatisfied", "flagged")
ZERO_COUNTS = dict.fromkeys(COUNT_NAMES, 0)


def period_bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a period as aware datetimes in TIME_ZONE."""
    start = timezone.make_aware(dt.datetime.combine(period.first, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(period.last + dt.timedelta(days=1), dt.time.min))
    return start, end


def scores(
    year: int,
    *,
    user: Viewer = None,
    by: str = "staff",
    everything: bool = False,
    period: Period | None = None,
) -> list[ScoreRow]:
    """One row per staff member (or per unit with `by="unit"`) of the year's key units, with counts.

    Rows: every key unit (or every active staff member of one, plus anyone who left but was on an
    action) that `user` may see, including those without evaluations (score None). `everything=True`
    (API keys) skips the scoping. `period` (a quarter of the year) counts only the actions of that
    quarter. Three queries whatever the size.
    """
    years = EvaluationYear.objects.filter(year=year)
    units: QuerySet[Unit] = Unit.objects.filter(evaluation_years__in=years).select_related("division")
    if not everything:
        units = scope_filter(units, user, unit_field=None, division_field="division__code")
    unit_years = {
        row.unit_id: row.evaluationyear
        for row in EvaluationYear.key_units.through.objects.filter(evaluationyear__year=year).select_related(
            "evaluationyear"
        )
    }
    unit_list = sorted(units.distinct(), key=lambda u: u.code)
    evaluations = Evaluation.objects.filter(
        action__year__year=year, action__unit__in=[u.pk for u in unit_list]
    )
    if period is not None:
        start, end = period_bounds(period)
        evaluations = evaluations.filter(action__acted_at__gte=start, action__acted_at__lt=end)
    rows: list[ScoreRow] = []
    if by == "unit":
        counts = {
            row["action__unit_id"]: row
            for row in evaluations.order_by().values("action__unit_id").annotate(**_counts(""))
        }
        for unit in unit_list:
            values = {name: counts.get(unit.pk, ZERO_COUNTS)[name] for name in COUNT_NAMES}
            rows.append(_row(unit_years[unit.pk], unit, None, values))
        return rows
    counts = {
        row["action__staff_links__staff_id"]: row
        for row in evaluations.order_by().values("action__staff_links__staff_id").annotate(**_counts(""))
    }
    staff = DisclosedStaff.objects.filter(unit__in=[u.pk for u in unit_list]).filter(
        Q(is_active=True) | Q(pk__in=[pk for pk in counts if pk is not None])
    )
    by_unit = {u.pk: u for u in unit_list}
    for member in sorted(staff, key=lambda s: (by_unit[s.unit_id].code, s.sort_order, s.pk)):
        values = {name: counts.get(member.pk, ZERO_COUNTS)[name] for name in COUNT_NAMES}
        rows.append(_row(unit_years[member.unit_id], by_unit[member.unit_id], member, values))
    return rows


def _row(
    evaluation_year: EvaluationYear, unit: Unit, member: DisclosedStaff | None, values: dict[str, int]
) -> ScoreRow:
    return ScoreRow(
        unit_code=unit.code,
        unit_name=unit.name,
        staff_id=member.pk if member else None,
        staff_name=member.name if member else None,
        score=compute_score(evaluation_year, values["satisfied"], values["basic"], values["unsatisfied"]),
        **values,
    )


# --- Online votes and combined unit results ----------------------------------------------------


@dataclass(frozen=True)
class UnitResult:
    """A unit's year (or quarter): the SMS evaluation row, the online votes, and the weighted total."""

    unit_id: int
    unit_code: str
    unit_name: str
    sms: ScoreRow
    votes: int
    vote_satisfied: int
    vote_basic: int
    vote_unsatisfied: int
    vote_flagged: int
    vote_score: Decimal | None
    total: Decimal | None

    def as_public(self) -> dict[str, Any]:
        """Unit names and figures only: what a publication freezes."""
        return {
            "unit_code": self.unit_code,
            "unit_name": self.unit_name,
            "sms_answered": self.sms.satisfied + self.sms.basic + self.sms.unsatisfied,
            "sms_satisfied": self.sms.satisfied,
            "sms_basic": self.sms.basic,
            "sms_unsatisfied": self.sms.unsatisfied,
            "sms_score": str(self.sms.score) if self.sms.score is not None else None,
            "votes": self.vote_satisfied + self.vote_basic + self.vote_unsatisfied,
            "vote_satisfied": self.vote_satisfied,
            "vote_basic": self.vote_basic,
            "vote_unsatisfied": self.vote_unsatisfied,
            "vote_score": str(self.vote_score) if self.vote_score is not None else None,
            "total": str(self.total) if self.total is not None else None,
        }


def combine(sms_score: Decimal | None, vote_score: Decimal | None, vote_weight: int) -> Decimal | None:
    """The unit's total: weighted mean of the two scores; the one that exists when only one does."""
    if sms_score is None or vote_score is None:
        return sms_score if vote_score is None else vote_score
    weight = Decimal(vote_weight) / 100
    return (sms_score * (1 - weight) + vote_score * weight).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def unit_results(
    year: int, *, user: Viewer = None, everything: bool = False, period: Period | None = None
) -> list[UnitResult]:
    """Per key unit: SMS counts and score, online vote counts and score, the weighted total.

    Flagged (pending or confirmed) votes are left out like flagged SMS answers. Ordered by unit code.
    """
    sms_rows = scores(year, user=user, by="unit", everything=everything, period=period)
    units = {u.code: u for u in Unit.objects.filter(code__in=[row.unit_code for row in sms_rows])}
    unit_years = {
        row.unit_id: row.evaluationyear
        for row in EvaluationYear.key_units.through.objects.filter(evaluationyear__year=year).select_related(
            "evaluationyear"
        )
    }
    votes = OnlineVote.objects.filter(year__year=year, unit__in=[u.pk for u in units.values()])
    if period is not None:
        start, end = period_bounds(period)
        votes = votes.filter(created_at__gte=start, created_at__lt=end)
    counted = ~Q(flag_state__in=FlagState.EXCLUDED_STATES)
    tallies = {
        row["unit_id"]: row
        for row in votes.order_by()
        .values("unit_id")
        .annotate(
            satisfied=Count("pk", filter=counted & Q(rating=Answer.SATISFIED)),
            basic=Count("pk", filter=counted & Q(rating=Answer.BASIC)),
            unsatisfied=Count("pk", filter=counted & Q(rating=Answer.UNSATISFIED)),
            flagged=Count("pk", filter=~counted),
            total=Count("pk"),
        )
    }
    results = []
    for row in sms_rows:
        unit = units[row.unit_code]
        evaluation_year = unit_years[unit.pk]
        tally = tallies.get(unit.pk, {"satisfied": 0, "basic": 0, "unsatisfied": 0, "flagged": 0, "total": 0})
        vote_score = compute_score(evaluation_year, tally["satisfied"], tally["basic"], tally["unsatisfied"])
        results.append(
            UnitResult(
                unit_id=unit.pk,
                unit_code=unit.code,
                unit_name=unit.name,
                sms=row,
                votes=tally["total"],
                vote_satisfied=tally["satisfied"],
                vote_basic=tally["basic"],
                vote_unsatisfied=tally["unsatisfied"],
                vote_flagged=tally["flagged"],
                vote_score=vote_score,
                total=combine(row.score, vote_score, evaluation_year.vote_weight),
            )
        )
    return results


def voting_year(*, at: dt.datetime) -> EvaluationYear | None:
    """The year whose online evaluation is open at `at` (the portal's vote page)."""
    return (
        EvaluationYear.objects.filter(vote_opens_at__lte=at, vote_closes_at__gt=at)
        .select_related("division")
        .order_by("-year", "division_id")
        .first()
    )


# --- Anti-rigging review and clues ----------------------------------------------------------------

REVIEW_VIEW_ROLES = frozenset({"admin", "office", "inspector"})


def can_view_flags(user: Viewer) -> bool:
    return isinstance(user, User) and (user.is_superuser or user.role in REVIEW_VIEW_ROLES)


def can_review_flags(user: Viewer) -> bool:
    """The campaign office decides (the administrator too); inspectors read."""
    return isinstance(user, User) and (user.is_superuser or user.role in ("admin", "office"))


def flagged_evaluations_for(user: Viewer, *, state: str = FlagState.PENDING) -> QuerySet[Evaluation]:
    rows = (
        Evaluation.objects.exclude(flag_state=FlagState.NONE)
        if state == "all"
        else Evaluation.objects.filter(flag_state=state)
    )
    return scope_filter(
        rows.select_related("action__unit", "reviewed_by").prefetch_related("action__staff"),
        user,
        unit_field=None,
        division_field="division_code",
    ).order_by("-flagged_at", "-id")


def flagged_votes_for(user: Viewer, *, state: str = FlagState.PENDING) -> QuerySet[OnlineVote]:
    rows = (
        OnlineVote.objects.exclude(flag_state=FlagState.NONE)
        if state == "all"
        else OnlineVote.objects.filter(flag_state=state)
    )
    return scope_filter(
        rows.select_related("unit", "reviewed_by"), user, unit_field=None, division_field="division_code"
    ).order_by("-flagged_at", "-id")


def clues_for(user: Viewer) -> QuerySet[Clue]:
    """Clues in the user's division subtree, for inspectors, the office and the administrator."""
    if not can_view_flags(user):
        return Clue.objects.none()
    return scope_filter(
        Clue.objects.select_related("unit", "addressed_to", "created_by"),
        user,
        unit_field=None,
        division_field="division_code",
    ).order_by("-created_at", "-id")


# --- Publications -----------------------------------------------------------------------------------


def public_results() -> QuerySet[Publication]:
    return publications.public(RESULTS_KIND)


def year_publications(evaluation_year: EvaluationYear) -> QuerySet[Publication]:
    """Every results publication of the year (withdrawn ones too), oldest first."""
    return publications.history(
        kind=RESULTS_KIND, period=str(evaluation_year.year), division_code=evaluation_year.division_id
    )


def publications_for(user: Viewer) -> QuerySet[Publication]:
    return scope_filter(
        publications.records(RESULTS_KIND), user, unit_field=None, division_field="division_code"
    ).order_by("-publish_at", "-id")
