"""Staff pages of 公述民评: the action list (scoped, masked), the scores table, entering an action."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from zhengfeng.evaluation import queries, services
from zhengfeng.evaluation.forms import ActionForm
from zhengfeng.evaluation.models import ActionSource, ActionType


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def action_list(request: HttpRequest) -> HttpResponse:
    params = request.GET
    filters = queries.ActionFilters(
        unit_code=params.get("unit", "").strip(),
        action_type=params.get("type", "") if params.get("type", "") in ActionType.values else "",
        source=params.get("source", "") if params.get("source", "") in ActionSource.values else "",
        answered=params.get("answered", "") if params.get("answered", "") in ("yes", "no") else "",
        date_from=_date(params.get("from", "")),
        date_to=_date(params.get("to", "")),
    )
    page = Paginator(queries.filtered_actions(request.user, filters), 50).get_page(params.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "types": ActionType.choices,
        "sources": ActionSource.choices,
        "can_record": queries.can_record_actions(request.user),
    }
    template = "evaluation/action_list.html#action-table" if request.htmx else "evaluation/action_list.html"
    return render(request, template, context)


@login_required
def score_table(request: HttpRequest) -> HttpResponse:
    if not queries.can_see_scores(request.user):
        raise PermissionDenied("当前角色无权查看评议得分")
    years = sorted({y.year for y in queries.years_for(request.user)}, reverse=True)
    wanted = request.GET.get("year", "")
    year = int(wanted) if wanted.isdigit() and int(wanted) in years else (years[0] if years else None)
    by = "unit" if request.GET.get("by") == "unit" else "staff"
    rows = queries.scores(year, user=request.user, by=by) if year else []
    return render(request, "evaluation/scores.html", {"rows": rows, "year": year, "years": years, "by": by})


@login_required
def action_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not queries.can_record_actions(user):
        raise PermissionDenied("只有单位的联络员、承办人和负责人可以录入执法监督记录")
    staff = queries.active_staff(user.unit)
    form = ActionForm(request.POST or None, staff_queryset=staff)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.record_action(
                unit=user.unit,
                staff=list(data["staff"]),
                action_type=data["action_type"],
                acted_at=data["acted_at"],
                subject_name=data["subject_name"],
                subject_phone=data["subject_phone"],
                source=ActionSource.MANUAL,
                by=user,
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, "已登记，评议短信将在稍后发给执法对象")
            return redirect("evaluation:action_list")
    return render(request, "evaluation/action_form.html", {"form": form, "unit": user.unit})
