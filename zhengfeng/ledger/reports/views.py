"""Pages of quarterly reports (季度报送); review rounds' pages are in `ledger.reviews.views`.

Office: the dashboard (units × periods, Excel, 通报 DOCX), report review (return with reason /
accept). Units: their reports (fill in, submit). Reads go through `reports.queries`, writes
through `reports.services`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_POST

from zhengfeng.core import uploads
from zhengfeng.core.periods import Period
from zhengfeng.ledger.feedback import refused
from zhengfeng.ledger.ledgers.queries import can_keep_unit, can_read_ledgers, is_unit_user
from zhengfeng.ledger.models import (
    REPORT_FIGURES,
    QuarterlyReport,
    ReportingRule,
    ReportNotice,
    ReportState,
)
from zhengfeng.ledger.reports import queries, services
from zhengfeng.ledger.reports.excel import matrix_workbook
from zhengfeng.ledger.reports.forms import (
    ReasonForm,
    ReportForm,
)
from zhengfeng.org.auth import request_user

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _require_reader(request: HttpRequest) -> None:
    if not can_read_ledgers(request.user):
        raise PermissionDenied("您的角色不能查看季度报送")


def _year(request: HttpRequest, years: list[int]) -> int:
    try:
        wanted = int(request.GET.get("year", ""))
    except ValueError:
        wanted = None
    if wanted is not None and 2000 <= wanted <= 2100:
        return wanted
    return years[0] if years else timezone.localtime().year


def _attachment_response(content: bytes, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


# --- Quarterly reports -------------------------------------------------------------------------


def matrix_body(matrix: queries.Matrix, report_base: str) -> SafeString:
    """The matrix rows as HTML, built in Python: 2,000 units × 4 cells through the template engine
    cost several hundred milliseconds, this a few. Unit names are escaped; labels, classes and
    the base URL are our own constants."""
    parts = []
    for row in matrix.rows:
        cells = "".join(
            f'<td><a class="badge {c.css}" href="{report_base}{c.report_id}/">{c.label}'
            f"{'（迟报）' if c.late else ''}</a></td>"
            if c.report_id is not None
            else "<td>—</td>"
            for c in row.cells
        )
        parts.append(f"<tr><td>{escape(row.unit_name)}</td>{cells}</tr>")
    return mark_safe("\n".join(parts))


@login_required
def report_home(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    if is_unit_user(request.user):
        return redirect("ledger:my_reports")
    return redirect("ledger:report_dashboard")


@login_required
def report_dashboard(request: HttpRequest) -> HttpResponse:
    """Units × periods of a year in the user's scope; each cell drills down to the report."""
    _require_reader(request)
    user = request_user(request)
    years = queries.report_years_for(user)
    year = _year(request, years)
    now = timezone.now()
    matrix = queries.report_matrix(user, year, now=now)
    rules = [rule for rule in queries.rules_for(user) if rule.year == year]
    notices = {(n.rule_id, n.period): n for n in ReportNotice.objects.filter(rule__in=rules)}
    notice_rows = [
        (rule, column, notices.get((rule.pk, str(column.period))), services.can_review(user, rule))
        for rule in rules
        for column in matrix.columns
    ]
    context = {
        "matrix": matrix,
        "year": year,
        "years": years,
        "notice_rows": notice_rows,
        "legend": [queries.Cell.LABELS[code] for code in queries.Cell.ORDER],
        "status_order": [(code, *queries.Cell.LABELS[code]) for code in queries.Cell.ORDER],
        "scope_label": queries.scope_label(user),
        "matrix_body": matrix_body(matrix, reverse("ledger:report_home")),
    }
    return render(request, "ledger/report_dashboard.html", context)


@login_required
def report_export(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    user = request_user(request)
    year = _year(request, queries.report_years_for(user))
    matrix = queries.report_matrix(user, year, now=timezone.now())
    title = f"{queries.scope_label(user)}{year}年“正风”行动季度报送情况"
    return _attachment_response(matrix_workbook(matrix, title=title), f"季度报送_{year}.xlsx", XLSX)


@login_required
def report_notice(request: HttpRequest, rule_pk: int, period: str) -> HttpResponse | FileResponse:
    """POST: issue the period's 通报 (office of the rule's division); GET: download it."""
    _require_reader(request)
    rule = get_object_or_404(ReportingRule.objects.select_related("division"), pk=rule_pk)
    if rule not in queries.rules_for(request.user):
        raise Http404("报送规则不存在或不在您的范围内")
    try:
        wanted = Period.parse(period)
    except ValueError as exc:
        raise Http404(str(exc)) from exc
    if request.method == "POST":
        try:
            services.issue_report_notice(rule, wanted, by=request_user(request))
        except ValidationError as exc:
            refused(request, exc)
        else:
            messages.success(request, f"已印发{wanted.label}报送情况通报")
        return redirect(f"{reverse('ledger:report_dashboard')}?year={rule.year}")
    notice = ReportNotice.objects.filter(rule=rule, period=str(wanted)).first()
    if notice is None or not notice.document:
        raise Http404("该期尚未印发通报")
    return uploads.file_response(notice.document, name=f"{notice.title}.docx")


@login_required
def my_reports(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    # A unit user has a unit; the second test tells the type checker so.
    if not is_unit_user(user) or user.unit is None:
        _require_reader(request)
        return redirect("ledger:report_dashboard")
    unit = user.unit
    now = timezone.now()
    rows = [
        # `overdue` is annotated by `unit_reports`; django-stubs does not see annotations of a QuerySet.
        (report, Period.parse(report.period).label, report.overdue)  # type: ignore[attr-defined]
        for report in queries.unit_reports(unit.pk, now=now)
    ]
    context = {"rows": rows, "unit": unit, "can_keep": can_keep_unit(user, unit.pk)}
    return render(request, "ledger/report_mine.html", context)


def _report(request: HttpRequest, pk: int) -> QuarterlyReport:
    _require_reader(request)
    report = queries.report_for(request.user, pk)
    if report is None:
        raise Http404("季度报送不存在或不在您的范围内")
    return report


@login_required
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    user = request_user(request)
    figures = [(label, report.figures.get(key)) for key, label in REPORT_FIGURES]
    context = {
        "report": report,
        "period_label": Period.parse(report.period).label,
        "figures": figures,
        "items": sorted(report.items.all(), key=lambda item: item.task.number),
        "can_edit": services.can_submit(user, report) and report.state in ReportState.EDITABLE,
        "can_review": services.can_review(user, report.rule) and report.state in ReportState.AWAITING_REVIEW,
        "reason_form": ReasonForm(),
    }
    return render(request, "ledger/report_detail.html", context)


@login_required
def report_edit(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    if not services.can_submit(request.user, report):
        raise PermissionDenied("只有本单位的联络员和单位负责人可以填写季度报送")
    tasks = services.report_tasks(report)
    progress = {item.task_id: item.progress for item in report.items.all()}
    initial: dict[str, Any] = {"summary": report.summary}
    initial |= {f"figure_{key}": report.figures.get(key, "") for key, _label in REPORT_FIGURES}
    initial |= {f"task_{task_id}": text for task_id, text in progress.items()}
    form = ReportForm(request.POST or None, request.FILES or None, initial=initial, tasks=tasks)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.save_report(report, **form.service_arguments(), by=request_user(request))
                if "submit" in request.POST:
                    target = (
                        ReportState.RESUBMITTED
                        if report.state == ReportState.RETURNED
                        else ReportState.SUBMITTED
                    )
                    services.set_report_state(report, target, by=request_user(request))
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                done = "已报送" if "submit" in request.POST else "已保存"
                messages.success(request, f"{done}{Period.parse(report.period).label}工作情况")
                return redirect("ledger:report_detail", pk=report.pk)
        status = 400
    context = {"form": form, "report": report, "period_label": Period.parse(report.period).label}
    return render(request, "ledger/report_form.html", context, status=status)


def _transition(request: HttpRequest, pk: int, state: str, reason: str = "") -> HttpResponse:
    report = _report(request, pk)
    try:
        services.set_report_state(report, state, by=request_user(request), reason=reason)
    except ValidationError as exc:
        refused(request, exc)
    else:
        messages.success(request, f"季度报送：{report.get_state_display()}")
    return redirect("ledger:report_detail", pk=pk)


@login_required
@require_POST
def report_submit(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    target = ReportState.RESUBMITTED if report.state == ReportState.RETURNED else ReportState.SUBMITTED
    return _transition(request, pk, target)


@login_required
@require_POST
def report_return(request: HttpRequest, pk: int) -> HttpResponse:
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _transition(request, pk, ReportState.RETURNED, reason)


@login_required
@require_POST
def report_accept(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition(request, pk, ReportState.ACCEPTED)


@login_required
def report_attachment(request: HttpRequest, pk: int) -> FileResponse:
    _require_reader(request)
    attachment = queries.attachment_for(request.user, pk)
    if attachment is None:
        raise Http404("附件不存在或不在您的范围内")
    return uploads.file_response(attachment.file, name=attachment.name)
