"""Office pages for plans: list, detail, create and edit (through the services), version history.

Readers are the office, the administrator and inspectors (read-only); `plans_for` decides which
plans and `tasks_for` which tasks a reader sees. Editing needs `can_edit_plan`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from zhengfeng.ledger.models import Level, Plan, Responsibility, ResponsibilityRole, Section, Task
from zhengfeng.ledger.plans import services
from zhengfeng.ledger.plans.forms import PlanForm, ResponsibilityForm, SectionForm, TaskForm
from zhengfeng.ledger.plans.queries import (
    can_read_plans,
    has_full_view,
    plan_list_for,
    plans_for,
    sections_with_tasks,
    versions_of,
)
from zhengfeng.org.auth import request_user
from zhengfeng.org.models import Unit
from zhengfeng.org.queries import divisions_for, scope_of, units_for

ROLE_LABELS = dict(ResponsibilityRole.choices)
LEVEL_LABELS = dict(Level.choices)


def _require_reader(request: HttpRequest) -> None:
    if not can_read_plans(request.user):
        raise PermissionDenied("只有正风办、纪检监察人员和系统管理员可以查看实施方案")


def _readable_plan(request: HttpRequest, pk: int) -> Plan:
    _require_reader(request)
    return get_object_or_404(plans_for(request.user).select_related("division"), pk=pk)


def _editable_plan(request: HttpRequest, pk: int) -> Plan:
    plan = _readable_plan(request, pk)
    if not services.can_edit_plan(request.user, plan):
        raise PermissionDenied("只有发文区划的正风办可以修改本方案")
    return plan


def _form_error(form: forms.Form, exc: ValidationError) -> None:
    for message in exc.messages:
        form.add_error(None, message)


def _grouped_responsibilities(task: Task) -> list[dict[str, Any]]:
    """[{level label, roles: [(role label, [units])]}] for the detail page, city level first."""
    groups: list[dict[str, Any]] = []
    for level, level_label in LEVEL_LABELS.items():
        rows = [row for row in task.responsibilities.all() if row.level == level]
        roles = [
            (ROLE_LABELS[role], [row.unit for row in rows if row.role == role])
            for role in ResponsibilityRole.ORDER
        ]
        roles = [(label, units) for label, units in roles if units]
        if roles:
            groups.append({"level": level_label, "roles": roles})
    return groups


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    return render(
        request,
        "ledger/plan_list.html",
        {"plans": plan_list_for(request.user), "can_create": services.can_create_plans(request.user)},
    )


@login_required
def plan_create(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    if not services.can_create_plans(request.user):
        raise PermissionDenied("只有正风办和系统管理员可以新建实施方案")
    # An office issues plans for its own division; the administrator picks one.
    divisions = divisions_for(request.user) if scope_of(request.user).everything else None
    form = PlanForm(request.POST or None, divisions=divisions)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        division = data.get("division")
        if division is None:
            # An office: `can_create_plans` needs a non-empty scope, so its unit is set.
            unit = request_user(request).unit
            if unit is None:
                raise PermissionDenied("只有正风办和系统管理员可以新建实施方案")
            division = unit.division
        try:
            plan = services.create_plan(
                division=division,
                year=data["year"],
                title=data["title"],
                preamble=data["preamble"],
                goals=data["goals"],
                requirements=data["requirements"],
                by=request_user(request),
            )
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"已新建实施方案《{plan.title}》")
            return redirect("ledger:plan_detail", pk=plan.pk)
    return render(
        request, "ledger/form.html", {"form": form, "heading": "新建实施方案", "back": "ledger:plan_list"}
    )


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _readable_plan(request, pk)
    sections = [
        (section, [(task, _grouped_responsibilities(task)) for task in tasks])
        for section, tasks in sections_with_tasks(request.user, plan)
    ]
    return render(
        request,
        "ledger/plan_detail.html",
        {
            "plan": plan,
            "sections": sections,
            "full_view": has_full_view(request.user, plan),
            "can_edit": services.can_edit_plan(request.user, plan),
        },
    )


@login_required
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _editable_plan(request, pk)
    initial = {name: getattr(plan, name) for name in ("title", "preamble", "goals", "requirements")}
    form = PlanForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.update_plan(plan, **form.cleaned_data, by=request_user(request))
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "已保存" if changed else "没有修改")
            return redirect("ledger:plan_detail", pk=plan.pk)
    return render(
        request, "ledger/form.html", {"form": form, "heading": f"修改《{plan.title}》", "plan": plan}
    )


@login_required
def section_create(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _editable_plan(request, pk)
    form = SectionForm(request.POST or None)
    del form.fields["order"]
    if request.method == "POST" and form.is_valid():
        try:
            services.create_section(
                plan,
                number=form.cleaned_data["number"],
                title=form.cleaned_data["title"],
                by=request_user(request),
            )
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "已新增任务分组")
            return redirect("ledger:plan_detail", pk=plan.pk)
    return render(request, "ledger/form.html", {"form": form, "heading": "新增任务分组", "plan": plan})


@login_required
def section_edit(request: HttpRequest, pk: int) -> HttpResponse:
    section = get_object_or_404(Section, pk=pk)
    plan = _editable_plan(request, section.plan_id)
    initial = {"number": section.number, "title": section.title, "order": section.order}
    form = SectionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_section(
                section,
                number=data["number"],
                title=data["title"],
                order=data["order"] or section.order,
                by=request_user(request),
            )
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "已保存任务分组")
            return redirect("ledger:plan_detail", pk=plan.pk)
    return render(
        request,
        "ledger/form.html",
        {
            "form": form,
            "heading": f"修改任务分组（{section.number}）",
            "plan": plan,
            "delete_section": section,
        },
    )


@login_required
@require_POST
def section_delete(request: HttpRequest, pk: int) -> HttpResponse:
    section = get_object_or_404(Section, pk=pk)
    plan = _editable_plan(request, section.plan_id)
    try:
        services.delete_section(section, by=request_user(request))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已删除任务分组")
    return redirect("ledger:plan_detail", pk=plan.pk)


def _plan_units(request: HttpRequest, plan: Plan) -> QuerySet[Unit]:
    return (
        units_for(request.user)
        .filter(is_active=True, division__code__startswith=plan.division.prefix)
        .order_by("division_id", "code")
    )


@login_required
def task_create(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _editable_plan(request, pk)
    next_number = (plan.tasks.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    form = TaskForm(request.POST or None, plan=plan, initial={"number": next_number})
    if request.method == "POST" and form.is_valid():
        try:
            task = services.create_task(plan, **form.cleaned_data, by=request_user(request))
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"已新增任务 {task.number}，请添加责任单位")
            return redirect("ledger:task_edit", pk=task.pk)
    return render(request, "ledger/form.html", {"form": form, "heading": "新增任务", "plan": plan})


def _task_page(
    request: HttpRequest, task: Task, plan: Plan, form: TaskForm, unit_form: ResponsibilityForm
) -> HttpResponse:
    responsibilities = task.responsibilities.select_related("unit").in_display_order()
    return render(
        request,
        "ledger/task_edit.html",
        {
            "task": task,
            "plan": plan,
            "form": form,
            "unit_form": unit_form,
            "responsibilities": responsibilities,
        },
    )


@login_required
def task_edit(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(Task.objects.select_related("section"), pk=pk)
    plan = _editable_plan(request, task.plan_id)
    initial = {
        "section": task.section,
        "number": task.number,
        "title": task.title,
        "body": task.body,
        "clause": task.clause,
        "open_parties": task.open_parties,
    }
    form = TaskForm(request.POST or None, plan=plan, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.update_task(task, **form.cleaned_data, by=request_user(request))
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "已保存任务" if changed else "没有修改")
            return redirect("ledger:task_edit", pk=task.pk)
    return _task_page(request, task, plan, form, ResponsibilityForm(units=_plan_units(request, plan)))


@login_required
@require_POST
def task_delete(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(Task, pk=pk)
    plan = _editable_plan(request, task.plan_id)
    try:
        services.delete_task(task, by=request_user(request))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("ledger:task_edit", pk=task.pk)
    messages.success(request, f"已删除任务 {task.number}")
    return redirect("ledger:plan_detail", pk=plan.pk)


@login_required
@require_POST
def responsibility_set(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(Task.objects.select_related("section"), pk=pk)
    plan = _editable_plan(request, task.plan_id)
    unit_form = ResponsibilityForm(request.POST, units=_plan_units(request, plan))
    if unit_form.is_valid():
        try:
            services.set_responsibility(
                task,
                unit=unit_form.cleaned_data["unit"],
                role=unit_form.cleaned_data["role"],
                by=request_user(request),
            )
        except ValidationError as exc:
            _form_error(unit_form, exc)
        else:
            messages.success(request, "已保存责任单位")
            return redirect("ledger:task_edit", pk=task.pk)
    form = TaskForm(
        plan=plan,
        initial={
            "section": task.section,
            "number": task.number,
            "title": task.title,
            "body": task.body,
            "clause": task.clause,
            "open_parties": task.open_parties,
        },
    )
    return _task_page(request, task, plan, form, unit_form)


@login_required
@require_POST
def responsibility_remove(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(Responsibility.objects.select_related("task", "unit"), pk=pk)
    _editable_plan(request, row.task.plan_id)
    services.remove_responsibility(row, by=request_user(request))
    messages.success(request, f"已移除 {row.unit.name}")
    return redirect("ledger:task_edit", pk=row.task_id)


@login_required
def plan_versions(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _readable_plan(request, pk)
    if not has_full_view(request.user, plan):
        raise PermissionDenied("只有发文区划的用户可以查看方案的修改历史")
    return render(request, "ledger/version_list.html", {"plan": plan, "versions": versions_of(plan)})


@login_required
def version_detail(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    plan = _readable_plan(request, pk)
    if not has_full_view(request.user, plan):
        raise PermissionDenied("只有发文区划的用户可以查看方案的修改历史")
    version = get_object_or_404(versions_of(plan), number=number)
    snapshot = version.snapshot
    for section in snapshot.get("sections", []):
        for task in section.get("tasks", []):
            for row in task.get("responsibilities", []):
                row["role_label"] = ROLE_LABELS.get(row.get("role"), row.get("role"))
                row["level_label"] = LEVEL_LABELS.get(row.get("level"), "")
            task["open_lines"] = [line for line in task.get("open_parties", "").splitlines() if line]
    return render(
        request, "ledger/version_detail.html", {"plan": plan, "version": version, "snapshot": snapshot}
    )
