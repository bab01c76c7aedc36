"""Keeps a signed-in user who must pass two-factor (org.twofactor.is_required) but has not yet on the
two-factor pages: every other staff page, the admin and session calls of the JSON API wait for it."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from zhengfeng.org import twofactor
from zhengfeng.org.auth import has_bearer
from zhengfeng.org.models import User

# Pages a half-signed-in user may reach: the two-factor pages themselves, signing out, and what needs no
# sign-in at all (the public site, integrations, static files, the health check).
OPEN_PREFIXES = ("/2fa/", "/login/", "/logout/", "/portal/", "/open311/", "/hooks/", "/healthz")
API_PREFIX = "/api/"
NOT_VERIFIED = "请先完成两步验证（登录后输入身份验证器中的动态验证码）"


class TwoFactorRequired:
    """Placed after django-otp's OTPMiddleware (which sets `user.is_verified()`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if isinstance(user, User) and twofactor.is_required(user) and not twofactor.is_verified(user):
            path = request.path
            if not path.startswith((*OPEN_PREFIXES, settings.STATIC_URL, settings.MEDIA_URL)):
                if path.startswith(API_PREFIX):
                    # A Bearer call is judged by its key alone (org.auth.SessionAuth), not the session.
                    if not has_bearer(request):
                        return JsonResponse({"detail": NOT_VERIFIED}, status=403)
                else:
                    return redirect(f"/2fa/?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
