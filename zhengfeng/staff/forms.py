from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm

from zhengfeng.core.http import client_ip
from zhengfeng.org import signin
from zhengfeng.org.models import User

# One text for an unknown name, a wrong password and a locked account: it must not tell which names exist.
LOGIN_REFUSED = "用户名或密码错误；连续失败多次的账户将临时锁定，请稍后再试或联系系统管理员。"
ADDRESS_THROTTLED = "此网络地址登录失败次数过多，请稍后再试或联系系统管理员。"


class LockoutAuthenticationForm(AuthenticationForm):
    """Django's login form plus the rules of `org.signin`: per-account lockout, per-address throttling."""

    error_messages = {
        "invalid_login": LOGIN_REFUSED,
        "inactive": LOGIN_REFUSED,
        "throttled": ADDRESS_THROTTLED,
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not username or not password:
            return self.cleaned_data
        ip = client_ip(self.request) if self.request is not None else ""
        if not signin.take_ip_attempt(ip):
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        account = User.objects.filter(username=username).first()
        if account is not None and signin.is_locked_out(account):
            signin.spend_hash_time(password)
            signin.record_locked_login(account, ip=ip)
            raise self.get_invalid_login_error()
        # For an unknown name Django's backend hashes the password too (ModelBackend.authenticate).
        self.user_cache = authenticate(self.request, username=username, password=password)
        if self.user_cache is None:
            if account is None:
                signin.record_unknown_login(username, ip=ip)
            else:
                signin.record_login_failure(account, ip=ip)
            raise self.get_invalid_login_error()
        self.confirm_login_allowed(self.user_cache)
        signin.record_login_success(self.user_cache, ip=ip)
        return self.cleaned_data
