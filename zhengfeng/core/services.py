"""Core writes: sign-in bookkeeping (failure counting and lockout), audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone


def is_locked_out(user: Any, *, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return user.locked_until is not None and user.locked_until > now


def record_login_failure(user: Any, *, ip: str = "") -> bool:
    """Count one failed password for `user`; lock the account after LOGIN_MAX_FAILURES in a row.

    Returns True when this failure locked the account. Side effects: audit row `auth.login_failed`
    and, when locking, `auth.locked`.
    """
    from zhengfeng.core import audit
    from zhengfeng.org.models import User

    now = timezone.now()
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
        user.refresh_from_db(fields=["failed_logins", "locked_until"])
        audit.record("auth.login_failed", by=None, target=user, data={"ip": ip, "count": user.failed_logins})
        if user.failed_logins >= settings.LOGIN_MAX_FAILURES:
            user.locked_until = now + dt.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
            user.failed_logins = 0
            user.save(update_fields=["locked_until", "failed_logins"])
            audit.record("auth.locked", by=None, target=user, data={"until": user.locked_until.isoformat()})
            return True
    return False


def record_login_success(user: Any, *, ip: str = "") -> None:
    from zhengfeng.core import audit

    with transaction.atomic():
        type(user).objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
        audit.record("auth.login", by=user, target=user, data={"ip": ip})
