"""Scoped reads. Every list of scoped data goes through `scope_filter` or a `*_for(user)` here.

A user sees what belongs to its unit; office, inspector and hotline operator users see their
division's whole subtree (by GB/T 2260 code prefix); the system administrator sees everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.db.models import Model, Q, QuerySet

from zhengfeng.org.models import Division, Person, Position, Role, Unit, UnitQuerySet, User

M = TypeVar("M", bound=Model)

# Whoever is looking: a staff user, the anonymous visitor a view's `request.user` may be, or nobody
# (a job, an API key without a user). Only a `User` sees anything.
Viewer: TypeAlias = User | AnonymousUser | None


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    division_prefix: str | None = None
    unit_id: int | None = None

    @property
    def empty(self) -> bool:
        return not self.everything and self.division_prefix is None and self.unit_id is None


def scope_of(user: Viewer) -> Scope:
    if not isinstance(user, User) or not user.is_active:
        return Scope()
    if user.is_superuser or user.role == Role.ADMIN:
        return Scope(everything=True)
    if user.unit_id is None:
        return Scope()
    # `user.unit` is read only for the division roles (the unit roles need no query); it is set
    # whenever `unit_id` is, the second test only tells the type checker so.
    if user.role in Role.DIVISION_SCOPED and user.unit is not None:
        return Scope(division_prefix=user.unit.division.prefix)
    return Scope(unit_id=user.unit_id)


def scope_q(
    user: Viewer, *, unit_field: str | None = "unit", division_field: str | None = "division_code"
) -> Q:
    """A Q object restricting rows to what `user` may see.

    `division_field` names a column holding the row's GB/T 2260 code (or a path to it, such as
    "unit__division__code"); `unit_field` names the FK to the owning unit. Either may be None when a
    model lacks it; a unit-scoped user then sees nothing of a model without a unit field, and a
    division-scoped user is matched through the unit's division when the model has no division column.
    """
    scope = scope_of(user)
    if scope.everything:
        return Q()
    if scope.division_prefix is not None:
        if division_field is None:
            if unit_field is None:
                return Q(pk__in=[])
            division_field = f"{unit_field}__division__code"
        return Q(**{f"{division_field}__startswith": scope.division_prefix})
    if scope.unit_id is not None and unit_field is not None:
        return Q(**{f"{unit_field}_id" if "__" not in unit_field else unit_field: scope.unit_id})
    return Q(pk__in=[])


def scope_filter(
    queryset: QuerySet[M],
    user: Viewer,
    *,
    unit_field: str | None = "unit",
    division_field: str | None = "division_code",
) -> QuerySet[M]:
    return queryset.filter(scope_q(user, unit_field=unit_field, division_field=division_field))


def units_for(user: Viewer) -> UnitQuerySet:
    scope = scope_of(user)
    units = Unit.objects.select_related("division", "parent")
    if scope.everything:
        return units
    if scope.division_prefix is not None:
        return units.filter(division__code__startswith=scope.division_prefix)
    if scope.unit_id is not None:
        return units.filter(pk=scope.unit_id)
    return units.none()


def divisions_for(user: Viewer) -> QuerySet[Division]:
    scope = scope_of(user)
    if scope.everything:
        return Division.objects.all()
    if scope.division_prefix is not None:
        return Division.objects.filter(code__startswith=scope.division_prefix)
    if scope.unit_id is not None:
        return Division.objects.filter(units__pk=scope.unit_id)
    return Division.objects.none()


def users_for(user: Viewer) -> QuerySet[User]:
    return scope_filter(
        User.objects.select_related("unit"), user, unit_field="unit", division_field="unit__division__code"
    )


def people_for(user: Viewer) -> QuerySet[Person]:
    """People holding a current position in a unit `user` sees (everyone, for the administrator)."""
    if scope_of(user).everything:
        return Person.objects.all()
    return Person.objects.filter(
        pk__in=Position.objects.filter(ended_on__isnull=True, unit__in=units_for(user)).values("person_id")
    )


def can_see_personal_data(user: Viewer) -> bool:
    """Full (unmasked) personal data is for the discipline inspectors; each view is audited."""
    return isinstance(user, User) and (user.is_superuser or user.role in Role.PERSONAL_DATA_ROLES)


def unit_by_code(code: str) -> Unit | None:
    return Unit.objects.select_related("division").filter(code=code).first()
