"""Alert pages: the inbox (filterable, htmx partial), detail, 签收 and the document download."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from zhengfeng.alerts import services
from zhengfeng.alerts.models import AlertLevel
from zhengfeng.alerts.queries import filtered_inbox, inbox_for
from zhengfeng.core import uploads
from zhengfeng.core.http import HtmxHttpRequest
from zhengfeng.org.auth import request_user

STATE_FILTERS = {"pending": True, "acknowledged": False}


@login_required
def inbox(request: HtmxHttpRequest) -> HttpResponse:
    level_param = request.GET.get("level", "")
    level = int(level_param) if level_param in {str(v) for v in AlertLevel.values} else None
    state = request.GET.get("state", "")
    alerts = filtered_inbox(request.user, level=level, pending=STATE_FILTERS.get(state))
    page = Paginator(alerts, 50).get_page(request.GET.get("page"))
    template = "alerts/inbox.html#alert-table" if request.htmx else "alerts/inbox.html"
    context = {"page": page, "level": level, "state": state, "levels": AlertLevel.choices}
    return render(request, template, context)


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(inbox_for(request.user).select_related("acknowledged_by", "score_event"), pk=pk)
    context = {"alert": alert, "can_acknowledge": services.can_acknowledge(request.user, alert)}
    return render(request, "alerts/detail.html", context)


@require_POST
@login_required
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(inbox_for(request.user), pk=pk)
    try:
        services.acknowledge_alert(alert, by=request_user(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "已签收")
    return redirect("alerts:detail", pk=alert.pk)


@login_required
def document(request: HttpRequest, pk: int) -> FileResponse:
    alert = get_object_or_404(inbox_for(request.user), pk=pk)
    if not alert.has_document:
        raise Http404("该预警没有文书")
    alert = services.ensure_document(alert)
    filename = f"{alert.doc_number or alert.title}.docx"
    return uploads.file_response(alert.document, name=filename)
