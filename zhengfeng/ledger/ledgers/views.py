"""Ledger pages: 我的台帐 for a unit's liaison, handler and head; the office list of ledgers in
scope (filters, htmx partial); ledger detail with steps, clocks and the progress timeline; forms;
Excel export and import. Reads go through `ledger_queries`, writes through `ledger_services`.
"""

from __future__ import annotations

from typing import Any, TypedDict
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from zhengfeng.core import uploads
from zhengfeng.core.http import HtmxHttpRequest
from zhengfeng.ledger.feedback import form_refused, refused
from zhengfeng.ledger.ledgers import services
from zhengfeng.ledger.ledgers.excel import LedgerImportError, export_title, export_workbook, import_ledgers
from zhengfeng.ledger.ledgers.forms import ImportForm, LedgerForm, LedgerStatusForm, ProgressForm, StepForm
from zhengfeng.ledger.ledgers.queries import (
    STATUS_FILTERS,
    attachment_for,
    can_keep,
    can_keep_unit,
    can_read_ledgers,
    export_ledgers,
    filtered_ledgers,
    is_unit_user,
    ledger_for,
    office_scope_label,
    plans_for_unit,
    plans_with_ledgers_for,
    progress_of,
    step_rows,
    unit_task_rows,
    units_with_ledgers_for,
)
from zhengfeng.ledger.ledgers.queries import ledger_list as list_rows
from zhengfeng.ledger.models import Ledger, LedgerStep, Plan, StepStatus, Task
from zhengfeng.org.auth import request_user

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _require_reader(request: HttpRequest) -> None:
    if not can_read_ledgers(request.user):
        raise PermissionDenied("您的角色不能查看工作台帐")


def _readable(request: HttpRequest, pk: int) -> Ledger:
    _require_reader(request)
    ledger = ledger_for(request.user, pk)
    if ledger is None:
        raise Http404("台帐不存在或不在您的范围内")
    return ledger


def _kept(request: HttpRequest, pk: int) -> Ledger:
    ledger = _readable(request, pk)
    if not can_keep(request.user, ledger):
        raise PermissionDenied("只有本单位的联络员和单位负责人可以修改台帐")
    return ledger


def _step(request: HttpRequest, pk: int) -> LedgerStep:
    step = get_object_or_404(LedgerStep.objects.select_related("clock"), pk=pk)
    step.ledger = _kept(request, step.ledger_id)
    return step


def _pick_plan(plans: list[Plan], value: Any) -> Plan | None:
    wanted = _int(value)
    return next((plan for plan in plans if plan.pk == wanted), plans[0] if plans else None)


# --- Lists -------------------------------------------------------------------------------------


@login_required
def my_ledgers(request: HttpRequest) -> HttpResponse:
    """我的台帐: the unit's tasks in the chosen (default: latest) plan, each with its ledger."""
    user = request_user(request)
    # A unit user has a unit; the second test tells the type checker so.
    if not is_unit_user(user) or user.unit is None:
        _require_reader(request)
        return redirect("ledger:ledger_list")
    unit = user.unit
    plans = list(plans_for_unit(unit.pk).select_related("division"))
    plan = _pick_plan(plans, request.GET.get("plan"))
    now = timezone.now()
    rows = unit_task_rows(unit.pk, plan, now=now) if plan else []
    context = {
        "plans": plans,
        "plan": plan,
        "rows": rows,
        "unit": unit,
        "can_keep": can_keep_unit(user, unit.pk),
    }
    return render(request, "ledger/ledger_mine.html", context)


class ListFilters(TypedDict):
    plan: Plan | None
    unit_id: int | None
    task_number: int | None
    status: str


def _list_filters(request: HttpRequest, plans: list[Plan]) -> ListFilters:
    plan = _pick_plan(plans, request.GET.get("plan"))
    status = request.GET.get("status", "")
    return {
        "plan": plan,
        "unit_id": _int(request.GET.get("unit")),
        "task_number": _int(request.GET.get("task")),
        "status": status if status in dict(STATUS_FILTERS) else "",
    }


@login_required
def ledger_list(request: HtmxHttpRequest) -> HttpResponse:
    """Every ledger in the user's scope, filtered by plan, unit, task and status."""
    _require_reader(request)
    user = request_user(request)
    now = timezone.now()
    plans = list(plans_with_ledgers_for(user))
    filters = _list_filters(request, plans)
    plan = filters["plan"]
    ledgers = filtered_ledgers(
        user,
        now=now,
        plan_id=plan.pk if plan else None,
        unit_id=filters["unit_id"],
        task_number=filters["task_number"],
        status=filters["status"],
    )
    page = Paginator(list_rows(ledgers, now=now), 50).get_page(request.GET.get("page"))
    context = {"page": page, "now": now, **filters}
    if request.htmx:
        return render(request, "ledger/ledger_list.html#ledger-table", context)
    context |= {
        "plans": plans,
        "units": units_with_ledgers_for(user, plan.pk if plan else None),
        "tasks": Task.objects.filter(plan=plan).order_by("number").only("number", "title") if plan else [],
        "statuses": STATUS_FILTERS,
        "scope_label": office_scope_label(user),
    }
    return render(request, "ledger/ledger_list.html", context)


# --- One ledger --------------------------------------------------------------------------------


@login_required
@require_POST
def ledger_create(request: HttpRequest, task_pk: int) -> HttpResponse:
    user = request_user(request)
    # A keeper has a unit; the second test tells the type checker so.
    if not can_keep_unit(user, user.unit_id) or user.unit is None:
        raise PermissionDenied("只有本单位的联络员和单位负责人可以建立台帐")
    task = get_object_or_404(Task, pk=task_pk)
    try:
        ledger = services.create_ledger(task=task, unit=user.unit, by=user)
    except ValidationError as exc:
        refused(request, exc)
        return redirect("ledger:my_ledgers")
    messages.success(request, f"已建立任务 {task.number} 的工作台帐，请填写工作目标和措施")
    return redirect("ledger:ledger_edit", pk=ledger.pk)


@login_required
def ledger_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ledger = _readable(request, pk)
    now = timezone.now()
    keeper = can_keep(request.user, ledger)
    context = {
        "ledger": ledger,
        "steps": step_rows(ledger, now=now),
        "entries": progress_of(ledger),
        "can_keep": keeper,
        "unit_user": is_unit_user(request.user),
    }
    if keeper:
        context |= {
            "step_form": StepForm(),
            "progress_form": ProgressForm(ledger=ledger),
            "status_form": LedgerStatusForm(initial={"status": ledger.status}),
        }
    return render(request, "ledger/ledger_detail.html", context)


@login_required
def ledger_edit(request: HttpRequest, pk: int) -> HttpResponse:
    ledger = _kept(request, pk)
    initial = {
        name: getattr(ledger, name)
        for name in ("goals", "measures", "time_requirements", "responsible_persons", "responsible_person")
    }
    form = LedgerForm(request.POST or None, initial=initial, unit=ledger.unit)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.update_ledger(ledger, **form.cleaned_data, by=request_user(request))
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, "已保存台帐" if changed else "没有修改")
            return redirect("ledger:ledger_detail", pk=ledger.pk)
    heading = f"{ledger.unit.name} · 任务 {ledger.task.number} 工作台帐"
    return render(request, "ledger/ledger_form.html", {"form": form, "heading": heading, "ledger": ledger})


@login_required
@require_POST
def ledger_status(request: HttpRequest, pk: int) -> HttpResponse:
    ledger = _kept(request, pk)
    form = LedgerStatusForm(request.POST)
    if form.is_valid():
        try:
            services.set_ledger_status(
                ledger,
                form.cleaned_data["status"],
                by=request_user(request),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            refused(request, exc)
        else:
            messages.success(request, f"台帐状态：{ledger.get_status_display()}")
    else:
        messages.error(request, "请选择台帐状态")
    return redirect("ledger:ledger_detail", pk=ledger.pk)


# --- Steps and progress ------------------------------------------------------------------------


@login_required
@require_POST
def step_add(request: HttpRequest, pk: int) -> HttpResponse:
    ledger = _kept(request, pk)
    form = StepForm(request.POST)
    if form.is_valid():
        try:
            services.add_step(ledger, **form.cleaned_data, by=request_user(request))
        except ValidationError as exc:
            refused(request, exc)
        else:
            messages.success(request, "已新增工作步骤")
    else:
        form_refused(request, form)
    return redirect("ledger:ledger_detail", pk=ledger.pk)


@login_required
def step_edit(request: HttpRequest, pk: int) -> HttpResponse:
    step = _step(request, pk)
    form = StepForm(request.POST or None, initial={"text": step.text, "due_on": step.due_on})
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.update_step(step, **form.cleaned_data, by=request_user(request))
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, "已保存工作步骤" if changed else "没有修改")
            return redirect("ledger:ledger_detail", pk=step.ledger_id)
    return render(
        request,
        "ledger/ledger_form.html",
        {"form": form, "heading": f"修改工作步骤：{step.text}", "ledger": step.ledger, "step": step},
    )


@login_required
@require_POST
def step_done(request: HttpRequest, pk: int) -> HttpResponse:
    step = _step(request, pk)
    try:
        services.set_step_status(step, StepStatus.DONE, by=request_user(request))
    except ValidationError as exc:
        refused(request, exc)
    else:
        messages.success(request, f"工作步骤“{step.text}”已完成")
    return redirect("ledger:ledger_detail", pk=step.ledger_id)


@login_required
@require_POST
def step_remove(request: HttpRequest, pk: int) -> HttpResponse:
    step = _step(request, pk)
    try:
        services.remove_step(step, by=request_user(request))
    except ValidationError as exc:
        refused(request, exc)
    else:
        messages.success(request, f"已删除工作步骤“{step.text}”")
    return redirect("ledger:ledger_detail", pk=step.ledger_id)


@login_required
@require_POST
def progress_add(request: HttpRequest, pk: int) -> HttpResponse:
    ledger = _kept(request, pk)
    form = ProgressForm(request.POST, request.FILES, ledger=ledger)
    if form.is_valid():
        try:
            services.add_progress(ledger, **form.cleaned_data, by=request_user(request))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "已记录工作进展")
            return redirect("ledger:ledger_detail", pk=ledger.pk)
    now = timezone.now()
    context = {
        "ledger": ledger,
        "steps": step_rows(ledger, now=now),
        "entries": progress_of(ledger),
        "can_keep": True,
        "unit_user": True,
        "step_form": StepForm(),
        "progress_form": form,
        "status_form": LedgerStatusForm(initial={"status": ledger.status}),
    }
    return render(request, "ledger/ledger_detail.html", context, status=400)


@login_required
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    _require_reader(request)
    attachment = attachment_for(request.user, pk)
    if attachment is None:
        raise Http404("附件不存在或不在您的范围内")
    return uploads.file_response(attachment.file, name=attachment.name)


# --- Excel -------------------------------------------------------------------------------------


@login_required
def ledger_export(request: HttpRequest) -> HttpResponse:
    """The filtered list (office) or the unit's ledgers of a plan (unit users) as XLSX."""
    _require_reader(request)
    user = request_user(request)
    now = timezone.now()
    filters: ListFilters
    # A unit user has a unit; the second test tells the type checker so.
    if is_unit_user(user) and user.unit_id is not None:
        plans = list(plans_for_unit(user.unit_id))
        plan = _pick_plan(plans, request.GET.get("plan"))
        filters = {"plan": plan, "unit_id": user.unit_id, "task_number": None, "status": ""}
    else:
        filters = _list_filters(request, list(plans_with_ledgers_for(user)))
    plan = filters["plan"]
    ledgers = filtered_ledgers(
        user,
        now=now,
        plan_id=plan.pk if plan else None,
        unit_id=filters["unit_id"],
        task_number=filters["task_number"],
        status=filters["status"],
    )
    rows = export_ledgers(ledgers)
    unit = rows[0].unit if rows and filters["unit_id"] else (user.unit if is_unit_user(user) else None)
    title = export_title(unit=unit, plan=plan, scope_label=office_scope_label(user))
    content = export_workbook(rows, title=title)
    name = f"工作台帐_{unit.code if unit else 'all'}_{plan.year if plan else ''}.xlsx"
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


@login_required
def ledger_import(request: HttpRequest) -> HttpResponse:
    """Upload a sheet for the user's unit; every row error is listed and nothing is written then."""
    user = request_user(request)
    # A keeper has a unit; the second test tells the type checker so.
    if not can_keep_unit(user, user.unit_id) or user.unit is None:
        raise PermissionDenied("只有本单位的联络员和单位负责人可以导入台帐")
    unit = user.unit
    plans = list(plans_for_unit(unit.pk))
    plan = _pick_plan(plans, request.GET.get("plan") or request.POST.get("plan"))
    form = ImportForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    result = None
    if plan is None:
        errors = [f"{unit.name}在实施方案中没有承担任务，无法导入台帐"]
    elif request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            uploads.check_upload(upload, uploads.SPREADSHEET_IMPORT)
            result = import_ledgers(
                upload.read(),
                unit=unit,
                plan=plan,
                dry_run=form.cleaned_data["dry_run"],
                by=user,
                file_name=upload.name,
            )
        except ValidationError as exc:
            errors = exc.messages
        except LedgerImportError as exc:
            errors = exc.errors
        else:
            if not result.dry_run:
                messages.success(request, result.line())
                return redirect(f"{reverse('ledger:my_ledgers')}?plan={plan.pk}")
    status = 400 if errors and request.method == "POST" else 200
    context = {
        "form": form,
        "plan": plan,
        "plans": plans,
        "errors": errors,
        "result": result,
        "unit": unit,
    }
    return render(request, "ledger/ledger_import.html", context, status=status)
