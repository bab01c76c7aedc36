"""The staff shell's pages: sign-in, home, the per-role workbench, and the audit log page."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from zhengfeng.core import anchors
from zhengfeng.core.models import AuditLog
from zhengfeng.org.auth import request_user
from zhengfeng.org.queries import scope_filter
from zhengfeng.staff.forms import LockoutAuthenticationForm
from zhengfeng.staff.workbench import workbench_context


class LoginView(auth_views.LoginView):
    template_name = "staff/login.html"
    authentication_form = LockoutAuthenticationForm
    redirect_authenticated_user = True


def home(request: HttpRequest) -> HttpResponse:
    return redirect("workbench" if request.user.is_authenticated else "login")


@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    return render(request, "staff/workbench.html", workbench_context(request_user(request)))


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not (user.is_superuser or user.role in ("admin", "inspector")):
        raise PermissionDenied("只有系统管理员和纪检监察人员可以查看审计日志")
    rows = scope_filter(AuditLog.objects.select_related("actor"), user, unit_field=None)
    action = request.GET.get("action", "").strip()
    if action:
        rows = rows.filter(action__startswith=action)
    page = Paginator(rows.order_by("-seq"), 50).get_page(request.GET.get("page"))
    context = {"page": page, "action": action, "anchors": anchors.recent_anchors()}
    return render(request, "staff/audit_log.html", context)
