"""Sign-in, the per-role workbench, and the audit log page."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from zhengfeng.core.forms import LockoutAuthenticationForm
from zhengfeng.core.models import AuditLog


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    authentication_form = LockoutAuthenticationForm
    redirect_authenticated_user = True


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for the load balancer and the process supervisor: the process answers requests.

    No database access on purpose: a slow or failing database must not make every web process look
    dead (they would be restarted in a loop); database health is a separate, deeper check.
    """
    return JsonResponse({"status": "ok"})


def home(request: HttpRequest) -> HttpResponse:
    return redirect("workbench" if request.user.is_authenticated else "login")


@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    from zhengfeng.core.workbench import workbench_context

    return render(request, "core/workbench.html", workbench_context(request.user))


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    from zhengfeng.org.queries import scope_filter

    if not (request.user.is_superuser or request.user.role in ("admin", "inspector")):
        raise PermissionDenied("只有系统管理员和纪检监察人员可以查看审计日志")
    rows = scope_filter(AuditLog.objects.select_related("actor"), request.user, unit_field=None)
    action = request.GET.get("action", "").strip()
    if action:
        rows = rows.filter(action__startswith=action)
    page = Paginator(rows.order_by("-seq"), 50).get_page(request.GET.get("page"))
    return render(request, "core/audit_log.html", {"page": page, "action": action})
