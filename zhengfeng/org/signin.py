"""Sign-in bookkeeping: failure counting and lockout per account, throttling per client address, audited.

The staff shell's login form calls these; they live in org because org owns the users. Whatever went
wrong (unknown name, wrong password, locked account) the form shows one message and the server spends
one password hash, so neither the text nor the timing tells which usernames exist.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from zhengfeng.core import audit, ratelimit
from zhengfeng.org.models import User


def is_locked_out(user: User, *, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return user.locked_until is not None and user.locked_until > now


def _ip_key(ip: str) -> str:
    return f"login:ip:{ip}"


def _ip_window() -> int:
    return settings.LOGIN_IP_WINDOW_MINUTES * 60


def take_ip_attempt(ip: str) -> bool:
    """Take one attempt slot for `ip`; False once LOGIN_IP_MAX_FAILURES failures fill the window.

    A success gives its slot back (`record_login_success`), so only failures count: an office of fifty
    behind one NAT address signs in every morning, a password-spraying script does not get past twenty.
    """
    return ratelimit.take(_ip_key(ip), limit=settings.LOGIN_IP_MAX_FAILURES, window_seconds=_ip_window())


def spend_hash_time(password: str) -> None:
    """Hash the password once and forget it: the refused paths then take as long as a real check."""
    make_password(password)


def record_unknown_login(username: str, *, ip: str = "") -> None:
    """A failed sign-in with a username no account has. Side effect: audit row `auth.login_failed`.

    The name tried is kept (at most 150 characters) as the admin needs it to see a spraying attack; the
    password never is.
    """
    with transaction.atomic():
        audit.record(
            "auth.login_failed", by=None, data={"ip": ip, "username": username[:150], "reason": "unknown"}
        )


def record_locked_login(user: User, *, ip: str = "") -> None:
    """A sign-in attempt on a locked account (the password is not checked). Audit row `auth.login_failed`."""
    with transaction.atomic():
        audit.record("auth.login_failed", by=None, target=user, data={"ip": ip, "reason": "locked"})


def record_login_failure(user: User, *, ip: str = "") -> bool:
    """Count one failed password for `user`; lock the account after LOGIN_MAX_FAILURES in a row.

    Returns True when this failure locked the account. Side effects: `failed_logins` (and, when locking,
    `locked_until`) updated; audit row `auth.login_failed` and, when locking, `auth.locked`.
    """
    now = timezone.now()
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
        user.refresh_from_db(fields=["failed_logins", "locked_until"])
        audit.record(
            "auth.login_failed",
            by=None,
            target=user,
            data={"ip": ip, "count": user.failed_logins, "reason": "password"},
        )
        if user.failed_logins >= settings.LOGIN_MAX_FAILURES:
            user.locked_until = now + dt.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
            user.failed_logins = 0
            user.save(update_fields=["locked_until", "failed_logins"])
            audit.record("auth.locked", by=None, target=user, data={"until": user.locked_until.isoformat()})
            return True
    return False


def record_login_success(user: User, *, ip: str = "") -> None:
    """Clear the failure count and any lock; give the address its slot back. Audit row `auth.login`."""
    ratelimit.give_back(_ip_key(ip), window_seconds=_ip_window())
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
        audit.record("auth.login", by=user, target=user, data={"ip": ip})
