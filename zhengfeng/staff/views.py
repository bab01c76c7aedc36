"""The staff shell's pages: sign-in and its second factor, home, the per-role workbench, the audit log."""

from __future__ import annotations

import base64
from typing import Any

import django_otp
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from zhengfeng.core import anchors
from zhengfeng.core.http import client_ip
from zhengfeng.core.models import AuditLog
from zhengfeng.org import twofactor
from zhengfeng.org.auth import request_user
from zhengfeng.org.queries import scope_filter
from zhengfeng.staff.forms import LockoutAuthenticationForm
from zhengfeng.staff.workbench import workbench_context

VERIFY_FAILED = "验证码不正确或已过期，请输入身份验证器中当前的 6 位数字，或一个未用过的恢复码。"
ENROL_FAILED = "验证码不正确：请用身份验证器扫描二维码后，输入其显示的当前 6 位数字。"


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


# ------------------------------------------------------------------------------------ two-factor


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """After the password: verify a code, or at the first sign-in enrol an authenticator and get the
    recovery codes (shown on this response only)."""
    user = request_user(request)
    next_url = _next_url(request)
    if not twofactor.is_required(user) or twofactor.is_verified(user):
        return redirect(next_url)
    context: dict[str, Any] = {"next": next_url, "error": ""}
    code = request.POST.get("code", "") if request.method == "POST" else ""
    if twofactor.is_enrolled(user):
        if request.method == "POST":
            device = twofactor.verify(user, code, ip=client_ip(request))
            if device is not None:
                django_otp.login(request, device)
                return redirect(next_url)
            context["error"] = VERIFY_FAILED
        return render(
            request, "staff/two_factor_verify.html", context, status=400 if context["error"] else 200
        )
    device = twofactor.pending_device(user)
    if request.method == "POST":
        enrolled = twofactor.confirm_enrolment(user, code)
        if enrolled is not None:
            django_otp.login(request, enrolled[0])
            response = render(
                request, "staff/two_factor_codes.html", {"codes": enrolled[1], "next": next_url}
            )
            # The recovery codes are on this page only: no browser or proxy may keep a copy.
            response["Cache-Control"] = "no-store"
            return response
        context["error"] = ENROL_FAILED
    context["secret"] = base64.b32encode(device.bin_key).decode()
    response = render(
        request, "staff/two_factor_enrol.html", context, status=400 if context["error"] else 200
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
def two_factor_qr(request: HttpRequest) -> HttpResponse:
    """The QR code of the enrolment in progress (an SVG drawn by us; none once enrolled)."""
    user = request_user(request)
    if twofactor.is_enrolled(user):
        raise Http404("已绑定身份验证器")
    response = HttpResponse(twofactor.qr_svg(twofactor.pending_device(user)), content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    return response
