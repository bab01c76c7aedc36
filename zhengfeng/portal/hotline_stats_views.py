"""Published hotline statistics: the public list and tables (no login), and the office's page to
publish and withdraw them. The public pages read only the frozen JSON of each publication (core
publication engine); publishing and withdrawing go through `hotline.publishing`.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from zhengfeng.core import publications
from zhengfeng.core.models import PublicationStatus
from zhengfeng.hotline import metrics, publishing
from zhengfeng.hotline.publishing import PublicationKind
from zhengfeng.org.auth import request_user
from zhengfeng.org.models import User


def public_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/hotline_stats/list.html",
        {"publications": publishing.public_publications()[:200]},
    )


def public_detail(request: HttpRequest, pk: int) -> HttpResponse:
    publication = publications.detail(pk, *publishing.KINDS)
    if publication is None:
        raise Http404("没有这项发布")
    if publication.status == PublicationStatus.WITHDRAWN:
        return render(
            request, "portal/hotline_stats/withdrawn.html", {"publication": publication}, status=410
        )
    if publication.publish_at > timezone.now():
        raise Http404("尚未公开")
    data = publication.data
    columns = data.get("columns", [])
    lines = [(row["unit"], list(zip(columns, row["values"], strict=True))) for row in data.get("rows", [])]
    return render(
        request,
        "portal/hotline_stats/detail.html",
        {
            "publication": publication,
            "data": data,
            "lines": lines,
            "total_cells": list(zip(columns, data.get("totals", []), strict=True)),
        },
    )


def _require_publisher(request: HttpRequest) -> User:
    user = request_user(request)
    if not publishing.can_publish(user):
        raise PermissionDenied("只有正风办和系统管理员可以发布统计数据")
    return user


@login_required
def manage(request: HttpRequest) -> HttpResponse:
    publisher = _require_publisher(request)
    today = timezone.localdate()
    return render(
        request,
        "portal/hotline_stats/manage.html",
        {
            "publications": publishing.publications_for(publisher)[:200],
            "kinds": PublicationKind.choices,
            "kind": request.GET.get("kind", PublicationKind.HOTLINE_UNITS),
            "period_value": request.GET.get("period", str(metrics.month_of(today))),
            "choices": metrics.period_choices(today),
        },
    )


def _publish_at(text: str) -> dt.datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"公开时间 {text!r} 无法识别，应为 2026-04-01T09:00 的形式") from None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


@login_required
@require_POST
def publish(request: HttpRequest) -> HttpResponse:
    _require_publisher(request)
    try:
        publication = publishing.publish_hotline_stats(
            by=request_user(request),
            kind=request.POST.get("kind", ""),
            period=request.POST.get("period", ""),
            publish_at=_publish_at(request.POST.get("publish_at", "")),
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"已发布：{publication.title}")
    return redirect("portal:hotline_stats:manage")


@login_required
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    publisher = _require_publisher(request)
    publication = get_object_or_404(publishing.publications_for(publisher), pk=pk)
    try:
        publishing.withdraw_publication(publication, by=publisher, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"已撤回：{publication.title}")
    return redirect("portal:hotline_stats:manage")
