"""Reads for plans, scoped by user, and the plan document used by `plan show` and version snapshots.

Who sees a plan: everyone whose scope covers the issuing division (the city office sees the city
plan, a county office its county's plans), and, for a plan above them, whoever has a unit
responsible for one of its tasks; those users see only the tasks their units carry.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from zhengfeng.ledger.models import Plan, PlanVersion, Responsibility, ResponsibilityRole, Section, Task
from zhengfeng.org.models import Role, User
from zhengfeng.org.queries import Viewer, scope_of, scope_q

# Plans are the office's working documents; inspectors read them.
PLAN_READER_ROLES = frozenset({Role.ADMIN, Role.OFFICE, Role.INSPECTOR})


def can_read_plans(user: Viewer) -> bool:
    return bool(isinstance(user, User) and (user.is_superuser or user.role in PLAN_READER_ROLES))


def _responsibilities_in_scope(user: Viewer) -> QuerySet[Responsibility]:
    return Responsibility.objects.filter(scope_q(user, unit_field="unit", division_field="division_code"))


def plans_for(user: Viewer) -> QuerySet[Plan]:
    """Plans `user` may open: issued within its scope, or naming one of its units."""
    own = scope_q(user, unit_field=None, division_field="division__code")
    if scope_of(user).everything:
        return Plan.objects.all()
    named = Q(pk__in=_responsibilities_in_scope(user).values("task__plan_id"))
    return Plan.objects.filter(own | named)


def plan_list_for(user: Viewer) -> QuerySet[Plan]:
    return (
        plans_for(user)
        .select_related("division")
        .defer("preamble", "goals", "requirements", "source_text")
        .annotate(task_count=Count("tasks", distinct=True))
        .order_by("-year", "division_id")
    )


def has_full_view(user: Viewer, plan: Plan) -> bool:
    """Whether the plan was issued within the user's scope (so every task is visible)."""
    scope = scope_of(user)
    if scope.everything:
        return True
    return scope.division_prefix is not None and plan.division_id.startswith(scope.division_prefix)


def tasks_for(user: Viewer, plan: Plan) -> QuerySet[Task]:
    """The plan's tasks `user` sees, with their section and responsibilities in display order."""
    tasks = Task.objects.filter(plan=plan)
    if not has_full_view(user, plan):
        tasks = tasks.filter(pk__in=_responsibilities_in_scope(user).values("task_id"))
    return tasks.select_related("section").prefetch_related(
        Prefetch(
            "responsibilities",
            queryset=Responsibility.objects.select_related("unit").in_display_order(),
        )
    )


def sections_with_tasks(user: Viewer, plan: Plan) -> list[tuple[Section, list[Task]]]:
    """Sections in order, each with the tasks `user` sees (sections without visible tasks are left
    out unless the user sees the whole plan, so an office can add tasks to an empty section)."""
    full = has_full_view(user, plan)
    by_section: dict[int, list[Task]] = {}
    for task in tasks_for(user, plan).order_by("number"):
        by_section.setdefault(task.section_id, []).append(task)
    return [
        (section, by_section.get(section.pk, []))
        for section in plan.sections.order_by("order", "id")
        if full or section.pk in by_section
    ]


def versions_of(plan: Plan) -> QuerySet[PlanVersion]:
    return plan.versions.select_related("created_by").order_by("-number")


def find_plan(*, year: int, division_code: str) -> Plan | None:
    return Plan.objects.filter(year=year, division_id=division_code).select_related("division").first()


def _role_rank(role: str) -> int:
    return ResponsibilityRole.ORDER.get(role, len(ResponsibilityRole.ORDER))


def plan_document(plan: Plan, *, full: bool = False) -> dict[str, Any]:
    """The plan as plain data, in stable order (sections by order, tasks by number, responsibilities
    by role then unit code).

    The short form is what `zhengfeng plan show --format json` prints; `full=True` adds the texts
    and levels, and is what each version snapshot stores.
    """
    sections = list(plan.sections.order_by("order", "id"))
    tasks = list(
        plan.tasks.order_by("number").prefetch_related(
            Prefetch("responsibilities", queryset=Responsibility.objects.select_related("unit"))
        )
    )
    tasks_by_section: dict[int, list[Task]] = {}
    for task in tasks:
        tasks_by_section.setdefault(task.section_id, []).append(task)

    def responsibility_data(task: Task) -> list[dict[str, Any]]:
        rows = sorted(task.responsibilities.all(), key=lambda row: (_role_rank(row.role), row.unit.code))
        data = []
        for row in rows:
            item: dict[str, Any] = {"unit_code": row.unit.code, "unit_name": row.unit.name, "role": row.role}
            if full:
                item["level"] = row.level
            data.append(item)
        return data

    def task_data(task: Task) -> dict[str, Any]:
        item: dict[str, Any] = {"number": task.number, "title": task.title}
        if full:
            item.update({"body": task.body, "clause": task.clause, "open_parties": task.open_parties})
        item["responsibilities"] = responsibility_data(task)
        return item

    document: dict[str, Any] = {"year": plan.year, "title": plan.title}
    if full:
        document.update(
            {
                "division": plan.division_id,
                "preamble": plan.preamble,
                "goals": plan.goals,
                "requirements": plan.requirements,
            }
        )
    document["sections"] = [
        {
            "number": section.number,
            "title": section.title,
            "tasks": [task_data(task) for task in tasks_by_section.get(section.pk, [])],
        }
        for section in sections
    ]
    return document
