"""Pages of review rounds (督查检查).

Office: review rounds with findings and rectification demands. Units: their rectification
demands (report what was done). Reads go through `reviews.queries`, writes through
`reviews.services`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from zhengfeng.ledger.feedback import form_refused, refused
from zhengfeng.ledger.ledgers.queries import can_keep_unit, can_read_ledgers, is_unit_user
from zhengfeng.ledger.models import DemandState, RectificationDemand, ReviewRound
from zhengfeng.ledger.reports.forms import ReasonForm
from zhengfeng.ledger.reviews import queries
from zhengfeng.ledger.reviews import services as reviews_services
from zhengfeng.ledger.reviews.forms import DemandForm, FindingForm, RectificationForm, ReviewRoundForm
from zhengfeng.org.auth import request_user
from zhengfeng.org.models import Division, Role, Unit, User
from zhengfeng.org.queries import Viewer, units_for


def _require_reader(request: HttpRequest) -> None:
    if not can_read_ledgers(request.user):
        raise PermissionDenied("您的角色不能查看季度报送")


def _office_division(user: User) -> Division | None:
    if user.role == Role.OFFICE and user.unit is not None:
        return user.unit.division
    return None


@login_required
def review_home(request: HttpRequest) -> HttpResponse:
    """Office: the rounds and a form to open one. Units: their rectification demands."""
    _require_reader(request)
    user = request_user(request)
    division = _office_division(user)
    context: dict[str, Any] = {
        "rounds": list(queries.rounds_for(user)),
        # A unit user has a unit; the second test tells the type checker so.
        "demands": (
            list(queries.unit_demands(user.unit_id))
            if is_unit_user(user) and user.unit_id is not None
            else []
        ),
        "can_create": division is not None,
        "form": ReviewRoundForm(initial={"year": timezone.localtime().year}),
    }
    return render(request, "ledger/review_list.html", context)


@login_required
@require_POST
def review_create(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    division = _office_division(request_user(request))
    if division is None:
        raise PermissionDenied("只有“正风”办可以组织督查检查")
    form = ReviewRoundForm(request.POST)
    if not form.is_valid():
        form_refused(request, form)
        return redirect("ledger:review_home")
    try:
        review = reviews_services.create_review_round(
            division=division, **form.cleaned_data, by=request_user(request)
        )
    except ValidationError as exc:
        refused(request, exc)
        return redirect("ledger:review_home")
    messages.success(request, f"已建立：{review.title}")
    return redirect("ledger:review_detail", pk=review.pk)


def _round(request: HttpRequest, pk: int) -> ReviewRound:
    _require_reader(request)
    review = queries.rounds_for(request.user).filter(pk=pk).first()
    if review is None:
        raise Http404("督查检查不存在或不在您的范围内")
    return review


def _units_of(user: Viewer, division: Division) -> QuerySet[Unit]:
    return (
        units_for(user)
        .filter(division__code__startswith=division.prefix, is_active=True)
        .order_by("division_id", "code")
    )


@login_required
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    review = _round(request, pk)
    user = request_user(request)
    office = reviews_services.can_run_reviews(user, review.division)
    context = {
        "review": review,
        "findings": list(queries.round_findings(user, review)),
        "office": office,
        "finding_form": FindingForm(units=_units_of(user, review.division)) if office else None,
        "demand_form": DemandForm() if office else None,
    }
    return render(request, "ledger/review_detail.html", context)


@login_required
@require_POST
def finding_add(request: HttpRequest, pk: int) -> HttpResponse:
    review = _round(request, pk)
    form = FindingForm(request.POST, units=_units_of(request.user, review.division))
    if form.is_valid():
        try:
            reviews_services.add_finding(review, **form.cleaned_data, by=request_user(request))
        except ValidationError as exc:
            refused(request, exc)
        else:
            messages.success(request, "已登记问题")
    else:
        form_refused(request, form)
    return redirect("ledger:review_detail", pk=review.pk)


@login_required
@require_POST
def demand_issue(request: HttpRequest, pk: int) -> HttpResponse:
    _require_reader(request)
    finding = get_object_or_404(
        queries.findings_for(request.user).select_related("round__division", "unit"), pk=pk
    )
    form = DemandForm(request.POST)
    if form.is_valid():
        try:
            reviews_services.issue_demand(finding, **form.cleaned_data, by=request_user(request))
        except ValidationError as exc:
            refused(request, exc)
        else:
            messages.success(request, f"已向{finding.unit.name}下达整改通知")
    else:
        form_refused(request, form)
    return redirect("ledger:review_detail", pk=finding.round_id)


def _demand(request: HttpRequest, pk: int) -> RectificationDemand:
    _require_reader(request)
    demand = queries.demand_for(request.user, pk)
    if demand is None:
        raise Http404("整改通知不存在或不在您的范围内")
    return demand


@login_required
def demand_detail(request: HttpRequest, pk: int) -> HttpResponse:
    demand = _demand(request, pk)
    user = request_user(request)
    context = {
        "demand": demand,
        "can_submit": can_keep_unit(user, demand.unit_id) and demand.state in DemandState.EDITABLE,
        "can_review": reviews_services.can_run_reviews(user, demand.finding.round.division)
        and demand.state == DemandState.SUBMITTED,
        "form": RectificationForm(),
        "reason_form": ReasonForm(),
    }
    return render(request, "ledger/demand_detail.html", context)


@login_required
@require_POST
def demand_submit(request: HttpRequest, pk: int) -> HttpResponse:
    demand = _demand(request, pk)
    form = RectificationForm(request.POST)
    text = form.cleaned_data["text"] if form.is_valid() else ""
    try:
        reviews_services.set_demand_state(demand, DemandState.SUBMITTED, text=text, by=request_user(request))
    except ValidationError as exc:
        refused(request, exc)
    else:
        messages.success(request, "已报送整改情况")
    return redirect("ledger:demand_detail", pk=pk)


@login_required
@require_POST
def demand_review(request: HttpRequest, pk: int) -> HttpResponse:
    demand = _demand(request, pk)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    state = DemandState.ACCEPTED if request.POST.get("action") == "accept" else DemandState.RETURNED
    try:
        reviews_services.set_demand_state(demand, state, reason=reason, by=request_user(request))
    except ValidationError as exc:
        refused(request, exc)
    else:
        messages.success(request, f"整改通知：{demand.get_state_display()}")
    return redirect("ledger:demand_detail", pk=pk)
