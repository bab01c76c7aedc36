"""The signed-in user's in-app messages (站内消息): list, open (marks read), mark all read."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from zhengfeng.messaging import services
from zhengfeng.messaging.queries import inapp_for
from zhengfeng.org.auth import request_user


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(inapp_for(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "messaging/inbox.html", {"page": page})


@login_required
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(inapp_for(request.user), pk=pk)
    services.mark_read(message, by=request_user(request))
    return render(request, "messaging/message_detail.html", {"message": message})


@require_POST
@login_required
def read_all(request: HttpRequest) -> HttpResponse:
    count = services.mark_all_read(by=request_user(request))
    flash.success(request, f"已将 {count} 条消息标记为已读。")
    return redirect("inbox:list")
