"""Reads for work ledgers (台帐), scoped by user.

Who reads: a unit's liaison, handler and head read their unit's ledgers; the office and inspectors
read every ledger in their division subtree; the administrator reads all. Keepers (who write) are
the unit's liaison and head (`can_keep`). Scoping goes through `zhengfeng.org.queries.scope_filter`
on the ledger's unit and division code, never ad hoc in views.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, Min, OuterRef, Prefetch, Q, QuerySet

from zhengfeng.deadlines.models import Clock
from zhengfeng.ledger.models import (
    Ledger,
    LedgerStatus,
    LedgerStep,
    Plan,
    ProgressAttachment,
    ProgressEntry,
    Responsibility,
    ResponsibilityRole,
    StepStatus,
    Task,
)
from zhengfeng.org.models import Role, Unit, User
from zhengfeng.org.queries import Viewer, scope_filter, scope_of

LEDGER_READER_ROLES = frozenset(
    {Role.ADMIN, Role.OFFICE, Role.INSPECTOR, Role.LIAISON, Role.HANDLER, Role.HEAD}
)
UNIT_ROLES = frozenset({Role.LIAISON, Role.HANDLER, Role.HEAD})
KEEPER_ROLES = frozenset({Role.LIAISON, Role.HEAD})

# The office list's status filter: the stored states plus the derived "overdue".
OVERDUE = "overdue"
STATUS_FILTERS = [*LedgerStatus.choices, (OVERDUE, "已逾期")]


def can_read_ledgers(user: Viewer) -> bool:
    return bool(
        isinstance(user, User) and user.is_active and (user.is_superuser or user.role in LEDGER_READER_ROLES)
    )


def is_unit_user(user: Viewer) -> bool:
    """Liaison, handler or head: their ledger pages are the unit's own (我的台帐)."""
    return bool(isinstance(user, User) and user.role in UNIT_ROLES and user.unit_id)


def can_keep_unit(user: Viewer, unit_id: int | None) -> bool:
    """Whether `user` keeps (creates, edits, adds progress to) the ledgers of unit `unit_id`."""
    return bool(
        isinstance(user, User)
        and user.is_active
        and user.role in KEEPER_ROLES
        and unit_id is not None
        and user.unit_id == unit_id
    )


def can_keep(user: Viewer, ledger: Ledger) -> bool:
    return can_keep_unit(user, ledger.unit_id)


def ledgers_for(user: Viewer) -> QuerySet[Ledger]:
    """Every ledger `user` may read."""
    if not can_read_ledgers(user):
        return Ledger.objects.none()
    return scope_filter(Ledger.objects.all(), user, unit_field="unit", division_field="division_code")


def overdue_step_q(now: dt.datetime, prefix: str = "") -> Q:
    """An open step whose clock is overdue in the deadlines' vocabulary (`Clock.objects.overdue`)."""
    return Q(**{f"{prefix}status": StepStatus.OPEN, f"{prefix}clock__in": Clock.objects.overdue(at=now)})


def with_step_figures(ledgers: QuerySet[Ledger], *, now: dt.datetime) -> QuerySet[Ledger]:
    """Annotate step_count, open_steps, overdue_steps and next_due (the earliest open deadline)."""
    open_q = Q(steps__status=StepStatus.OPEN)
    return ledgers.annotate(
        step_count=Count("steps", distinct=True),
        open_steps=Count("steps", filter=open_q, distinct=True),
        overdue_steps=Count("steps", filter=overdue_step_q(now, "steps__"), distinct=True),
        next_due=Min("steps__clock__due_at", filter=open_q & Q(steps__clock__in=Clock.objects.running())),
    )


def filtered_ledgers(
    user: Viewer,
    *,
    now: dt.datetime,
    plan_id: int | None = None,
    unit_id: int | None = None,
    task_number: int | None = None,
    status: str = "",
) -> QuerySet[Ledger]:
    """Ledgers in scope, filtered as the office list and the export filter them."""
    ledgers = ledgers_for(user)
    if plan_id is not None:
        ledgers = ledgers.filter(task__plan_id=plan_id)
    if unit_id is not None:
        ledgers = ledgers.filter(unit_id=unit_id)
    if task_number is not None:
        ledgers = ledgers.filter(task__number=task_number)
    if status == OVERDUE:
        overdue = LedgerStep.objects.filter(overdue_step_q(now), ledger_id=OuterRef("pk"))
        ledgers = ledgers.filter(Exists(overdue))
    elif status in LedgerStatus.values:
        ledgers = ledgers.filter(status=status)
    return ledgers


def ledger_list(ledgers: QuerySet[Ledger], *, now: dt.datetime) -> QuerySet[Ledger]:
    """The office list's rows: with task, plan, unit and step figures, by task then unit."""
    return with_step_figures(
        ledgers.select_related("task__plan", "unit", "responsible_person"), now=now
    ).order_by("-task__plan__year", "task__number", "unit__division_id", "unit__code")


def step_rows(ledger: Ledger, *, now: dt.datetime) -> list[tuple[LedgerStep, str, str]]:
    """The ledger's steps with the (badge class, label) of their deadline (one query): overdue and
    due soon are the deadlines' vocabulary (`Clock.objects.overdue` / `due_soon`), not re-derived."""
    steps = steps_of(ledger).annotate(
        clock_overdue=Exists(Clock.objects.overdue(at=now).filter(pk=OuterRef("clock_id"))),
        clock_due_soon=Exists(Clock.objects.due_soon(at=now).filter(pk=OuterRef("clock_id"))),
    )
    return [
        (step, *step_state(step, overdue=step.clock_overdue, due_soon=step.clock_due_soon)) for step in steps
    ]


def step_state(step: LedgerStep, *, overdue: bool, due_soon: bool) -> tuple[str, str]:
    """(badge class, label) of a step: overdue, due soon, running, done (late or not); `overdue` and
    `due_soon` are its clock's, from the deadlines' vocabulary (`step_rows`)."""
    clock = step.clock if step.clock_id else None
    if step.status == StepStatus.DONE:
        if clock is not None and clock.is_late:
            return "level-3", "逾期完成"
        return "", "已完成"
    if clock is None:
        return "", "未设时限"
    if overdue:
        return "level-4", "已逾期"
    if due_soon:
        return "level-2", "即将到期"
    return "level-1", "计时中"


def plans_with_ledgers_for(user: Viewer) -> QuerySet[Plan]:
    """Plans that have ledgers `user` may read, newest first (the office list's plan filter)."""
    return Plan.objects.filter(pk__in=ledgers_for(user).values("task__plan_id")).order_by(
        "-year", "division_id"
    )


def units_with_ledgers_for(user: Viewer, plan_id: int | None) -> QuerySet[Unit]:
    ledgers = ledgers_for(user)
    if plan_id is not None:
        ledgers = ledgers.filter(task__plan_id=plan_id)
    return Unit.objects.filter(pk__in=ledgers.values("unit_id")).order_by("division_id", "code")


# --- A unit's own ledgers ------------------------------------------------------------------------


def plans_for_unit(unit_id: int) -> QuerySet[Plan]:
    """Plans giving the unit a task (or holding one of its ledgers), newest first."""
    named = Responsibility.objects.filter(unit_id=unit_id).values("task__plan_id")
    kept = Ledger.objects.filter(unit_id=unit_id).values("task__plan_id")
    return Plan.objects.filter(Q(pk__in=named) | Q(pk__in=kept)).order_by("-year", "-division_id")


@dataclass(frozen=True)
class UnitTaskRow:
    """One line of 我的台帐: a task the unit carries, its role, and its ledger if one was set up."""

    task: Task
    role_label: str
    ledger: Ledger | None


def unit_task_rows(unit_id: int, plan: Plan, *, now: dt.datetime) -> list[UnitTaskRow]:
    """The unit's tasks in `plan` (responsibilities, plus ledgers whose responsibility was since
    removed from the plan), by task number, each with its ledger and step figures. Three queries."""
    roles = dict(
        Responsibility.objects.filter(unit_id=unit_id, task__plan=plan).values_list("task_id", "role")
    )
    ledgers = {
        ledger.task_id: ledger
        for ledger in with_step_figures(
            Ledger.objects.filter(unit_id=unit_id, task__plan=plan).select_related("responsible_person"),
            now=now,
        )
    }
    tasks = Task.objects.filter(plan=plan, pk__in=set(roles) | set(ledgers)).order_by("number")
    labels = dict(ResponsibilityRole.choices)
    return [
        UnitTaskRow(
            task=task,
            role_label=labels.get(roles.get(task.pk, ""), "责任分工已调整"),
            ledger=ledgers.get(task.pk),
        )
        for task in tasks
    ]


# --- One ledger --------------------------------------------------------------------------------


def ledger_for(user: Viewer, pk: int) -> Ledger | None:
    return (
        ledgers_for(user)
        .select_related("task__plan", "task__section", "unit", "responsible_person")
        .filter(pk=pk)
        .first()
    )


def steps_of(ledger: Ledger) -> QuerySet[LedgerStep]:
    return ledger.steps.select_related("clock").order_by("order", "id")


def progress_of(ledger: Ledger) -> QuerySet[ProgressEntry]:
    """The progress timeline, newest first, with steps, authors and attachments (three queries)."""
    return (
        ledger.progress_entries.select_related("step", "created_by")
        .prefetch_related(Prefetch("attachments", queryset=ProgressAttachment.objects.order_by("id")))
        .order_by("-noted_on", "-id")
    )


def attachment_for(user: Viewer, pk: int) -> ProgressAttachment | None:
    readable = ledgers_for(user).values("pk")
    return (
        ProgressAttachment.objects.select_related("entry")
        .filter(pk=pk, entry__ledger_id__in=readable)
        .first()
    )


def export_ledgers(ledgers: QuerySet[Ledger]) -> list[Ledger]:
    """Ledgers with everything the Excel export writes, in sheet order (four queries)."""
    return list(
        ledgers.select_related("task__plan", "unit", "responsible_person")
        .prefetch_related(
            Prefetch("steps", queryset=LedgerStep.objects.order_by("order", "id")),
            Prefetch("progress_entries", queryset=ProgressEntry.objects.order_by("noted_on", "id")),
        )
        .order_by("task__plan__year", "unit__division_id", "unit__code", "task__number")
    )


def office_scope_label(user: Viewer) -> str:
    scope = scope_of(user)
    if scope.everything:
        return "全部"
    unit = user.unit if isinstance(user, User) else None
    return unit.division.name if unit is not None else ""
