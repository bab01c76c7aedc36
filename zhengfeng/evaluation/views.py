"""Staff pages of 公述民评: the action list (scoped, masked), the scores table and its Excel export,
entering an action, the anti-rigging review, the clues, publishing the results."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from zhengfeng.core.http import HtmxHttpRequest
from zhengfeng.core.periods import Period
from zhengfeng.evaluation import exporting, publishing, queries, services
from zhengfeng.evaluation.forms import ActionForm
from zhengfeng.evaluation.models import ActionSource, ActionType, Evaluation, FlagState, OnlineVote
from zhengfeng.org.auth import request_user


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def action_list(request: HtmxHttpRequest) -> HttpResponse:
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


def _year_and_period(request: HttpRequest) -> tuple[list[int], int | None, Period | None]:
    years = sorted({y.year for y in queries.years_for(request.user)}, reverse=True)
    wanted = request.GET.get("year", "")
    year = (
        int(wanted)
        if wanted.isascii() and wanted.isdigit() and int(wanted) in years
        else (years[0] if years else None)
    )
    quarter = request.GET.get("quarter", "")
    period = Period.quarter(year, int(quarter)) if year and quarter in ("1", "2", "3", "4") else None
    return years, year, period


@login_required
def score_table(request: HttpRequest) -> HttpResponse:
    if not queries.can_see_scores(request.user):
        raise PermissionDenied("当前角色无权查看评议得分")
    years, year, period = _year_and_period(request)
    by = "unit" if request.GET.get("by") == "unit" else "staff"
    rows = queries.scores(year, user=request.user, by=by, period=period) if year else []
    # Per unit the page shows the SMS row with the online votes and the total beside it.
    results = queries.unit_results(year, user=request.user, period=period) if year and by == "unit" else []
    publishable = (
        [
            y
            for y in queries.years_for(request.user).filter(year=year)
            if publishing.can_publish(request.user, y)
        ]
        if year
        else []
    )
    context = {
        "rows": rows,
        "results": results,
        "year": year,
        "years": years,
        "by": by,
        "quarter": period.number if period else "",
        "publishable": publishable,
        "publications": queries.publications_for(request.user).filter(period=str(year)) if year else [],
    }
    return render(request, "evaluation/scores.html", context)


@login_required
def score_export(request: HttpRequest) -> HttpResponse:
    if not queries.can_see_scores(request.user):
        raise PermissionDenied("当前角色无权导出评议得分")
    _years, year, period = _year_and_period(request)
    if year is None:
        raise Http404("没有可导出的年度")
    content = exporting.scores_workbook(year, user=request.user, period=period)
    name = f"evaluation-scores-{period or year}.xlsx"
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def flag_list(request: HttpRequest) -> HttpResponse:
    if not queries.can_view_flags(request.user):
        raise PermissionDenied("当前角色无权查看防刷票复核")
    state = request.GET.get("state", FlagState.PENDING)
    if state not in (*FlagState.values, "all") or state == FlagState.NONE:
        state = FlagState.PENDING
    context = {
        "state": state,
        "states": [(value, label) for value, label in FlagState.choices if value],
        "evaluations": queries.flagged_evaluations_for(request.user, state=state)[:200],
        "votes": queries.flagged_votes_for(request.user, state=state)[:200],
        "can_review": queries.can_review_flags(request.user),
    }
    return render(request, "evaluation/flags.html", context)


@login_required
@require_POST
def flag_review(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    if not queries.can_review_flags(request.user):
        raise PermissionDenied("只有正风办可以复核")
    if kind not in ("sms", "vote"):
        raise Http404("未知的评议类别")
    record: Evaluation | OnlineVote
    if kind == "sms":
        record = get_object_or_404(queries.flagged_evaluations_for(request.user, state="all"), pk=pk)
    else:
        record = get_object_or_404(queries.flagged_votes_for(request.user, state="all"), pk=pk)
    decision = request.POST.get("decision", "")
    try:
        if decision not in ("confirm", "clear"):
            raise ValidationError(f"未知的复核结论：{decision!r}（应为确认违规或排除）")
        services.review_record(
            record,
            confirm=decision == "confirm",
            reason=request.POST.get("reason", ""),
            by=request_user(request),
            refer=request.POST.get("refer") == "on",
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"已复核：{record}")
    return redirect("evaluation:flags")


@login_required
def clue_list(request: HttpRequest) -> HttpResponse:
    if not queries.can_view_flags(request.user):
        raise PermissionDenied("当前角色无权查看评议问题线索")
    return render(request, "evaluation/clues.html", {"clues": queries.clues_for(request.user)[:200]})


@login_required
@require_POST
def results_publish(request: HttpRequest, year_id: int) -> HttpResponse:
    evaluation_year = get_object_or_404(queries.years_for(request.user), pk=year_id)
    try:
        publication = publishing.publish_results(evaluation_year, by=request_user(request))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"已发布：{publication.title}")
    return redirect(f"{reverse('evaluation:scores')}?year={evaluation_year.year}&by=unit")


@login_required
@require_POST
def results_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    publication = get_object_or_404(queries.publications_for(request.user), pk=pk)
    try:
        publishing.withdraw_results(
            publication, by=request_user(request), reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"已撤回：{publication.title}")
    return redirect(f"{reverse('evaluation:scores')}?year={publication.period}&by=unit")


@login_required
def action_create(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not queries.can_record_actions(user) or user.unit is None:
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
