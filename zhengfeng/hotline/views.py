"""Hotline staff pages: the operator's workbench and intake, the unit's inbox, the order list with
filters, the overdue lists, and the order page with its actions, requester and timeline.

Reads go through `hotline.queries` (scoped: `work_orders_for`, `order_for`, `overdue_for`); every write
goes through `services.receive_work_order` or the one transition function `services.transition`, whose
ValidationError is shown on the form (nothing saved) and whose PermissionDenied becomes a 403.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from zhengfeng.core import uploads
from zhengfeng.core.http import HtmxHttpRequest
from zhengfeng.hotline import forms, queries, services
from zhengfeng.hotline.models import (
    REPLY_OVERDUE,
    SIGN_OVERDUE,
    Category,
    ExtensionStatus,
    ReplyStatus,
    ReturnRequest,
    ReturnStatus,
    WorkOrder,
    WorkOrderQuerySet,
)
from zhengfeng.org.auth import request_user
from zhengfeng.org.models import Role, User
from zhengfeng.org.queries import units_for

PAGE_SIZE = 50
UNIT_ROLES = frozenset({Role.LIAISON, Role.HANDLER, Role.HEAD})
# Intake tokens kept per session (one per intake form opened), oldest dropped first.
MAX_INTAKE_TOKENS = 20
INTAKE_TOKENS = "hotline_intake_tokens"
# The query password of the order just registered, kept only until the next page shows it once.
INTAKE_SHOWN = "hotline_intake_shown"


# ------------------------------------------------------------------------------------ helpers


def _is_unit_user(user: User) -> bool:
    return not user.is_superuser and user.role in UNIT_ROLES


def _page(request: HtmxHttpRequest, orders: QuerySet[WorkOrder]) -> Page:
    return Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))


@dataclass(frozen=True)
class Row:
    """One line of an order list: the order, its requester as the viewer may see it, overdue flags."""

    order: WorkOrder
    requester: queries.RequesterView
    sign_overdue: bool
    reply_overdue: bool


def _overdue_flags(order: WorkOrder, now: dt.datetime) -> tuple[bool, bool]:
    return SIGN_OVERDUE.of(order, now), REPLY_OVERDUE.of(order, now)


def _rows(user: User, page: Page, now: dt.datetime) -> list[Row]:
    return [Row(order, queries.requester_for(user, order), *_overdue_flags(order, now)) for order in page]


def _list_context(request: HtmxHttpRequest, orders: QuerySet[WorkOrder], now: dt.datetime) -> dict[str, Any]:
    page = _page(request, orders)
    return {"page": page, "rows": _rows(request_user(request), page, now), "now": now}


def _safe_next(request: HtmxHttpRequest) -> str | None:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return None


# ------------------------------------------------------------------------------------ order list


def _filtered(orders: WorkOrderQuerySet, form: forms.OrderFilterForm, now: dt.datetime) -> WorkOrderQuerySet:
    """Apply the valid filters of `form`; a field with an error is left out (the page shows why)."""
    if not form.is_bound:
        return orders
    form.is_valid()
    data = form.cleaned_data
    query = (data.get("q") or "").strip()
    if query:
        code = query.upper()
        # Tracking codes are upper case and indexed: a prefix match uses the index.
        orders = orders.filter(Q(code__startswith=code) | Q(title__contains=query))
    if data.get("status"):
        orders = orders.filter(status=data["status"])
    if data.get("unit"):
        orders = orders.filter(main_unit_id=data["unit"])
    if data.get("channel"):
        orders = orders.filter(channel=data["channel"])
    if data.get("request_type"):
        orders = orders.filter(request_type=data["request_type"])
    if data.get("overdue") == "sign":
        orders = orders.sign_overdue(at=now)
    elif data.get("overdue") == "reply":
        orders = orders.reply_overdue(at=now)
    tz = timezone.get_current_timezone()
    if data.get("received_from"):
        orders = orders.filter(received_at__gte=dt.datetime.combine(data["received_from"], dt.time.min, tz))
    if data.get("received_to"):
        end = data["received_to"] + dt.timedelta(days=1)
        orders = orders.filter(received_at__lt=dt.datetime.combine(end, dt.time.min, tz))
    return orders


@login_required
@require_GET
def order_list(request: HtmxHttpRequest) -> HttpResponse:
    """Every order in the user's scope, filtered; htmx gets only the table."""
    now = timezone.now()
    form = forms.OrderFilterForm(request.GET or None)
    user = request_user(request)
    orders = _filtered(queries.work_orders_for(user), form, now).order_by("-received_at", "-id")
    context = {"form": form, **_list_context(request, orders, now)}
    if request.htmx:
        return render(request, "hotline/order_list.html#order-table", context)
    context["units"] = [] if _is_unit_user(user) else units_for(user).filter(is_active=True)
    context["selected_unit"] = form.cleaned_data.get("unit") if form.is_bound else None
    return render(request, "hotline/order_list.html", context)


OVERDUE_KINDS = {"sign": "签收超期工单", "reply": "办理超期工单"}


@login_required
@require_GET
def overdue(request: HtmxHttpRequest, kind: str) -> HttpResponse:
    """Open orders past their sign-for or reply deadline, oldest deadline first."""
    if kind not in OVERDUE_KINDS:
        raise Http404(f"未知的超期类别 {kind}")
    now = timezone.now()
    orders = queries.overdue_for(request_user(request), at=now, kind=kind)
    context = {
        "kind": kind,
        "title": OVERDUE_KINDS[kind],
        "kinds": OVERDUE_KINDS,
        **_list_context(request, orders, now),
    }
    if request.htmx:
        return render(request, "hotline/overdue.html#order-table", context)
    return render(request, "hotline/overdue.html", context)


# ------------------------------------------------------------------------------------ operator workbench


def _queue_page(
    request: HtmxHttpRequest, queues: dict[str, queries.Queue], default: str, template: str
) -> HttpResponse:
    """A page of queues (tabs with counts) and the chosen queue's table."""
    now = timezone.now()
    current = queues.get(request.GET.get("queue", default)) or queues[default]
    user = request_user(request)
    chosen = queries.queue_orders(user, current)
    context = {"queue": current.key, "queue_label": current.label, **_list_context(request, chosen, now)}
    if request.htmx:
        return render(request, f"{template}#order-table", context)
    counts = queries.queue_counts(user, queues)
    context["tabs"] = [(key, queue.label, counts[key]) for key, queue in queues.items()]
    return render(request, template, context)


@login_required
@require_GET
def workbench(request: HtmxHttpRequest) -> HttpResponse:
    """热线坐席工作台: the hotline's queues (dispatch, returns, extensions, replies, callbacks, overdue)."""
    user = request_user(request)
    if not services.can_intake(user) or user.role == Role.MONITOR:
        raise PermissionDenied("只有热线坐席和系统管理员可以使用热线受理工作台")
    return _queue_page(
        request, queries.operator_queues(at=timezone.now()), "received", "hotline/workbench.html"
    )


# ------------------------------------------------------------------------------------ unit inbox


@login_required
@require_GET
def inbox(request: HtmxHttpRequest) -> HttpResponse:
    """The unit's work: to sign for, in hand, awaiting the head's approval, returns under review."""
    user = request_user(request)
    if not _is_unit_user(user):
        return redirect("hotline:order_list")
    return _queue_page(request, queries.unit_queues(user.unit_id), "sign", "hotline/inbox.html")


# ------------------------------------------------------------------------------------ intake


def _new_intake_token(request: HtmxHttpRequest) -> str:
    token = secrets.token_urlsafe(16)
    tokens: dict[str, str] = request.session.get(INTAKE_TOKENS, {})
    tokens[token] = ""
    request.session[INTAKE_TOKENS] = dict(list(tokens.items())[-MAX_INTAKE_TOKENS:])
    return token


def _check_intake_token(request: HtmxHttpRequest, form: forms.IntakeForm) -> bool:
    """A token is good once: a second submit of the same form (double click, reload) is refused."""
    tokens: dict[str, str] = request.session.get(INTAKE_TOKENS, {})
    token = form.cleaned_data["token"]
    if token not in tokens:
        form.add_error(None, "登记表已过期，请刷新页面后重新填写")
        return False
    if tokens[token]:
        form.add_error(None, f"该登记表已提交，受理编号 {tokens[token]}，请勿重复提交")
        return False
    return True


def _intake_context(form: forms.IntakeForm) -> dict[str, Any]:
    def chosen(name: str) -> Category | None:
        return form.cleaned_data.get(name) if form.is_bound and hasattr(form, "cleaned_data") else None

    first, second = chosen("category_1"), chosen("category_2")
    return {
        "form": form,
        "level_1": Category.objects.filter(is_active=True, level=1),
        "level_2": Category.objects.filter(is_active=True, parent=first) if first else [],
        "level_3": Category.objects.filter(is_active=True, parent=second) if second else [],
        "selected": {str(n): getattr(chosen(f"category_{n}"), "code", "") for n in (1, 2, 3)},
    }


@login_required
def intake(request: HtmxHttpRequest) -> HttpResponse:
    """受理登记: on success the tracking code and query password are shown once (intake_done)."""
    user = request_user(request)
    if not services.can_intake(user):
        raise PermissionDenied("只有热线坐席可以登记工单")
    if request.method != "POST":
        form = forms.IntakeForm(user=user, initial={"token": _new_intake_token(request)})
        return render(request, "hotline/intake.html", _intake_context(form))
    form = forms.IntakeForm(request.POST, user=user)
    if form.is_valid() and _check_intake_token(request, form):
        try:
            result = services.receive_work_order(by=user, **form.service_kwargs())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            tokens = request.session[INTAKE_TOKENS]
            tokens[form.cleaned_data["token"]] = result.order.code
            request.session[INTAKE_TOKENS] = tokens
            request.session[INTAKE_SHOWN] = {"pk": result.order.pk, "password": result.password}
            return redirect("hotline:intake_done", pk=result.order.pk)
    return render(request, "hotline/intake.html", _intake_context(form), status=400)


@login_required
@require_GET
def intake_done(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    order = queries.order_for(request_user(request), pk)
    shown = request.session.get(INTAKE_SHOWN)
    password = None
    if shown and shown.get("pk") == order.pk:
        # Shown once: the session forgets it with this page.
        password = shown["password"]
        del request.session[INTAKE_SHOWN]
    return render(request, "hotline/intake_done.html", {"order": order, "password": password})


@login_required
@require_GET
def category_options(request: HtmxHttpRequest, level: int) -> HttpResponse:
    """The <option>s of one level of the category picker, children of the level above (htmx)."""
    if level not in (2, 3):
        raise Http404("分类层级应为 2 或 3")
    parent_code = request.GET.get(f"category_{level - 1}", "")
    options = (
        Category.objects.filter(is_active=True, level=level, parent__code=parent_code) if parent_code else []
    )
    return render(request, "hotline/intake.html#category-options", {"options": options, "level": level})


# ------------------------------------------------------------------------------------ order page


def _auto_id(action: str) -> str:
    # Several action forms share field names (text, reason, note) on one page: ids must stay unique.
    return f"id_{action}_%s"


@dataclass
class ActionPanel:
    name: str
    label: str
    form: forms.ActionForm
    multipart: bool = False


def _panels(
    user: User, order: WorkOrder, bound: forms.ActionForm | None, action: str | None
) -> list[ActionPanel]:
    panels = []
    for name in services.allowed_actions(user, order):
        form = (
            bound
            if name == action and bound is not None
            else forms.ACTION_FORMS[name](order=order, user=user, auto_id=_auto_id(name))
        )
        panels.append(
            ActionPanel(name, services.ACTION_LABELS[name], form, multipart=name == "request_return")
        )
    if action and bound is not None and action not in {panel.name for panel in panels}:
        # The action is no longer open (e.g. a double submit): keep its errors on the page.
        panels.insert(0, ActionPanel(action, services.ACTION_LABELS[action], bound))
    return panels


def _detail_context(
    request: HtmxHttpRequest,
    order: WorkOrder,
    *,
    bound: forms.ActionForm | None = None,
    action: str | None = None,
    revealed: dict[str, str] | None = None,
    reveal_error: str = "",
) -> dict[str, Any]:
    user = request_user(request)
    now = timezone.now()
    panels = _panels(user, order, bound, action)
    names = {panel.name for panel in panels}
    sign_overdue, reply_overdue = _overdue_flags(order, now)
    context: dict[str, Any] = {
        "order": order,
        "sign_overdue": sign_overdue,
        "reply_overdue": reply_overdue,
        "assignments": order.assignments.select_related("unit").order_by("round", "-role", "id"),
        "requester": queries.requester_for(user, order),
        "revealed": revealed,
        "reveal_error": reveal_error,
        "reveal_form": forms.RevealForm(),
        "panels": panels,
        "events": queries.timeline(order),
        "replies": order.replies.select_related("drafted_by", "approved_by").order_by("drafted_at", "id"),
        "merged_orders": order.merged_orders.order_by("received_at"),
    }
    if "dispatch" in names:
        context["suggestion"] = services.dispatch_target(order)
    if "review_return" in names:
        pending = (
            order.returns.filter(status=ReturnStatus.PENDING).select_related("unit", "requested_by").first()
        )
        context["pending_return"] = pending
        if pending is not None:
            context["reassign_suggestion"] = services.dispatch_target(order, exclude={pending.unit_id})
    if "decide_extension" in names:
        context["pending_extension"] = (
            order.extensions.filter(status__in=ExtensionStatus.PENDING_STATES)
            .select_related("requested_by")
            .first()
        )
    if names & {"approve_reply", "review_reply"}:
        context["current_reply"] = (
            order.replies.filter(status__in=(ReplyStatus.AWAITING_HEAD, ReplyStatus.SUBMITTED))
            .order_by("-drafted_at", "-id")
            .first()
        )
    if "merge" in names:
        candidates = queries.merge_candidates(order)
        visible = set(
            queries.work_orders_for(user)
            .filter(pk__in=[c.order.pk for c in candidates])
            .values_list("pk", flat=True)
        )
        context["merge_candidates"] = [c for c in candidates if c.order.pk in visible]
    return context


@login_required
@require_GET
def detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    order = queries.order_for(request_user(request), pk)
    return render(request, "hotline/order_detail.html", _detail_context(request, order))


@login_required
@require_POST
def act(request: HtmxHttpRequest, pk: int, action: str) -> HttpResponse:
    """One lifecycle action through `services.transition`; errors go back onto the action's form."""
    if action not in forms.ACTION_FORMS:
        raise Http404(f"未知的工单操作 {action}")
    user = request_user(request)
    order = queries.order_for(user, pk)
    label = services.ACTION_LABELS[action]
    form = forms.ACTION_FORMS[action](
        request.POST, request.FILES, order=order, user=user, auto_id=_auto_id(action)
    )
    if form.is_valid():
        try:
            services.transition(order, action, by=user, **form.transition_kwargs())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"已{label}：{order.code}")
            return redirect(_safe_next(request) or reverse("hotline:detail", args=[order.pk]))
    elif not services.can_act(user, order, action):
        raise PermissionDenied(
            f"您现在不能对工单 {order.code} 执行“{label}”（当前状态：{order.get_status_display()}）"
        )
    order.refresh_from_db()
    context = _detail_context(request, order, bound=form, action=action)
    return render(request, "hotline/order_detail.html", context, status=400)


@login_required
@require_POST
def requester(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Full requester data for who may see it (audited with the purpose); a clear refusal otherwise."""
    user = request_user(request)
    order = queries.order_for(user, pk)
    form = forms.RevealForm(request.POST)
    revealed, error = None, ""
    if not form.is_valid():
        error = "查看完整个人信息须注明用途"
    else:
        try:
            revealed = queries.requester_contact(order, by=user, purpose=form.cleaned_data["purpose"])
        except PermissionDenied as exc:
            error = str(exc)
    context = _detail_context(request, order, revealed=revealed, reveal_error=error)
    if request.htmx:
        # htmx swaps only successful responses, so a refusal is a 200 carrying the message.
        return render(request, "hotline/order_detail.html#requester", context)
    return render(request, "hotline/order_detail.html", context, status=403 if error else 200)


@login_required
@require_GET
def timeline(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The full timeline of one order: its events and the alerts ladder's steps on its clocks."""
    order = queries.order_for(request_user(request), pk)
    context = {"order": order, "events": queries.timeline(order)}
    if request.htmx:
        return render(request, "hotline/order_detail.html#timeline", context)
    return render(request, "hotline/timeline.html", context)


@login_required
@require_GET
def return_evidence(request: HtmxHttpRequest, pk: int) -> FileResponse:
    """The evidence file of a return request, for those who see the order."""
    request_row = get_object_or_404(ReturnRequest, pk=pk)
    queries.order_for(request_user(request), request_row.order_id)
    name = request_row.evidence_name or request_row.evidence.name.rsplit("/", 1)[-1]
    return uploads.file_response(request_row.evidence, name=name)
