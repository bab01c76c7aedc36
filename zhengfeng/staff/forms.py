from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest

from zhengfeng.org import signin
from zhengfeng.org.models import User


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


class LockoutAuthenticationForm(AuthenticationForm):
    """Django's login form plus the lockout rule: too many failures lock the account for a while."""

    error_messages = {
        "invalid_login": "用户名或密码错误。",
        "inactive": "该账户已停用。",
        "locked": "连续登录失败次数过多，账户已临时锁定，请稍后再试或联系系统管理员。",
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not username or not password:
            return self.cleaned_data
        account = User.objects.filter(username=username).first()
        if account is not None and signin.is_locked_out(account):
            raise forms.ValidationError(self.error_messages["locked"], code="locked")
        self.user_cache = authenticate(self.request, username=username, password=password)
        if self.user_cache is None:
            if account is not None and signin.record_login_failure(
                account, ip=client_ip(self.request) if self.request is not None else ""
            ):
                raise forms.ValidationError(self.error_messages["locked"], code="locked")
            raise self.get_invalid_login_error()
        self.confirm_login_allowed(self.user_cache)
        signin.record_login_success(
            self.user_cache, ip=client_ip(self.request) if self.request is not None else ""
        )
        return self.cleaned_data
