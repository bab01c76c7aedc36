from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from zhengfeng.alerts.queries import inbox_for


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "alerts/inbox.html", {"alerts": inbox_for(request.user)[:100]})


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(inbox_for(request.user), pk=pk)
    return render(request, "alerts/detail.html", {"alert": alert})
