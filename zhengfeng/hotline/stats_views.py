"""Staff pages of the hotline metrics (统计): the per-unit table with charts, its Excel export, a unit's
drill-down, the overdue lists and the 行风热线 quarter. Readers: 正风办, 纪检监察, 热线坐席 and the
administrator; every figure comes from `hotline.metrics`, scoped to the reader's units.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from zhengfeng.core.http import HtmxHttpRequest
from zhengfeng.core.periods import Period
from zhengfeng.hotline import metrics
from zhengfeng.hotline.exports import XLSX_CONTENT_TYPE, metrics_workbook
from zhengfeng.hotline.models import Channel
from zhengfeng.org.auth import request_user
from zhengfeng.org.models import Role, User
from zhengfeng.org.queries import scope_of, units_for

READER_ROLES = frozenset({Role.ADMIN, Role.OFFICE, Role.INSPECTOR, Role.OPERATOR})
PUBLISHER_ROLES = frozenset({Role.ADMIN, Role.OFFICE})
GROUPS = {"unit": "按单位", "division": "按区划"}
CHART_KEYS = ("on_time_rate", "satisfaction_rate")
CHART_ROWS = 30


def can_read_stats(user: User) -> bool:
    return user.is_superuser or user.role in READER_ROLES


def _require_reader(request: HttpRequest) -> User:
    """The signed-in reader of the request; PermissionDenied for anyone else."""
    user = request_user(request)
    if not can_read_stats(user):
        raise PermissionDenied("只有正风办、纪检监察、热线坐席和系统管理员可以查看热线统计")
    return user


def _period(request: HttpRequest, *, quarter_only: bool = False) -> tuple[metrics.ReportPeriod, str]:
    """The period asked for (default: this month, or this quarter), and an error text for a bad one."""
    today = timezone.localdate()
    default: metrics.ReportPeriod = (
        Period.quarter(today.year, (today.month - 1) // 3 + 1) if quarter_only else metrics.month_of(today)
    )
    text = request.GET.get("period", "").strip()
    if not text:
        return default, ""
    try:
        period = metrics.parse_period(text)
    except ValueError as exc:
        return default, str(exc)
    if quarter_only and period.kind != "Q":
        return default, f"行风热线按季度公布，{text!r} 不是季度（应为 2026Q1 的形式）"
    return period, ""


def _scope_label(user: User) -> str:
    scope = scope_of(user)
    if scope.everything or user.unit is None:
        return "全市"
    return user.unit.division.name


@dataclass(frozen=True)
class Bar:
    label: str
    value: int | Decimal
    y: int
    width: int


def bar_chart(rows: list[metrics.Row], key: str, title: str) -> dict[str, Any]:
    """Geometry of a horizontal bar chart of a rate (0–100 %), drawn as inline SVG by the template."""
    bars: list[Bar] = []
    for row in rows:
        value = row.value(key)
        if value is None:
            continue
        bars.append(Bar(label=row.label[:14], value=value, y=24 * len(bars), width=int(value * 4)))
        if len(bars) == CHART_ROWS:
            break
    return {"title": title, "bars": bars, "height": 24 * len(bars) + 8, "key": key}


def cells(figures: metrics.Figures, columns: tuple[metrics.Column, ...]) -> list[tuple[metrics.Column, Any]]:
    """(column, value) pairs of one row, for templates (which cannot call `value(key)`)."""
    return [(column, figures.value(column.key)) for column in columns]


def _lines(rows: list[metrics.Row], columns: tuple[metrics.Column, ...]) -> list[tuple[metrics.Row, list]]:
    return [(row, cells(row.figures, columns)) for row in rows]


def _table(request: HttpRequest, user: User, period: metrics.ReportPeriod) -> dict[str, Any]:
    group = request.GET.get("group", "unit")
    if group not in GROUPS:
        group = "unit"
    sort = request.GET.get("sort", "code")
    descending = request.GET.get("dir") == "desc"
    rows = metrics.unit_metrics(user, period, group=group)
    if group == "unit":
        metrics.attach_scores(rows, user=user, year=period.first.year)
    rows = metrics.sort_rows(rows, sort, descending=descending)
    return {
        "group": group,
        "sort": sort,
        "descending": descending,
        "rows": rows,
        "total": metrics.totals(rows),
        "lines": _lines(rows, metrics.COLUMNS),
        "total_cells": cells(metrics.totals(rows), metrics.COLUMNS),
    }


@login_required
def index(request: HtmxHttpRequest) -> HttpResponse:
    user = _require_reader(request)
    period, error = _period(request)
    context = _table(request, user, period)
    labels = {c.key: c.label for c in metrics.COLUMNS}
    context.update(
        period=period,
        period_value=str(period),
        period_error=error,
        choices=metrics.period_choices(timezone.localdate()),
        columns=metrics.COLUMNS,
        groups=GROUPS,
        scope_label=_scope_label(user),
        definitions=metrics.DEFINITIONS,
        charts=[bar_chart(context["rows"], key, labels[key]) for key in CHART_KEYS],
        can_publish=user.is_superuser or user.role in PUBLISHER_ROLES,
    )
    if request.htmx:
        return render(request, "hotline/stats/index.html#metrics-table", context)
    return render(request, "hotline/stats/index.html", context)


@login_required
def export(request: HttpRequest) -> HttpResponse:
    user = _require_reader(request)
    period, _error = _period(request)
    context = _table(request, user, period)
    content = metrics_workbook(
        context["rows"],
        period,
        scope_label=_scope_label(user),
        first_header="单位" if context["group"] == "unit" else "区划",
        with_scores=context["group"] == "unit",
    )
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    filename = f"hotline-metrics-{period}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _require_reader(request)
    unit = get_object_or_404(units_for(user), pk=pk)
    period, error = _period(request)
    total, months = metrics.unit_detail(user, unit, period)
    return render(
        request,
        "hotline/stats/unit.html",
        {
            "unit": unit,
            "period": period,
            "period_value": str(period),
            "period_error": error,
            "choices": metrics.period_choices(timezone.localdate()),
            "columns": metrics.COLUMNS,
            "total_cells": cells(total, metrics.COLUMNS),
            "lines": _lines(months, metrics.COLUMNS),
            "sign_overdue": metrics.overdue_orders(user, kind="sign", unit=unit),
            "reply_overdue": metrics.overdue_orders(user, kind="reply", unit=unit),
            "definitions": metrics.DEFINITIONS,
        },
    )


@login_required
def overdue(request: HttpRequest) -> HttpResponse:
    user = _require_reader(request)
    kind = request.GET.get("kind", "reply")
    if kind not in ("sign", "reply"):
        raise Http404("未知的超期类别")
    return render(
        request,
        "hotline/stats/overdue.html",
        {
            "kind": kind,
            "orders": metrics.overdue_orders(user, kind=kind),
            "now": timezone.now(),
            "limit": 200,
        },
    )


@login_required
def radio(request: HttpRequest) -> HttpResponse:
    user = _require_reader(request)
    period, error = _period(request, quarter_only=True)
    rows = [row for row in metrics.unit_metrics(user, period, channel=Channel.RADIO) if row.figures.received]
    today = timezone.localdate()
    return render(
        request,
        "hotline/stats/radio.html",
        {
            "period": period,
            "period_value": str(period),
            "period_error": error,
            "quarters": metrics.period_choices(today)[1][1],
            "columns": metrics.RADIO_COLUMNS,
            "lines": _lines(rows, metrics.RADIO_COLUMNS),
            "total_cells": cells(metrics.totals(rows), metrics.RADIO_COLUMNS),
            "can_publish": user.is_superuser or user.role in PUBLISHER_ROLES,
        },
    )
