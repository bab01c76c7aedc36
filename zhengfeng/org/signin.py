"""Sign-in bookkeeping on the User: failure counting and lockout, audited.

The staff shell's login form calls these; they live in org because org owns the users.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from zhengfeng.core import audit
from zhengfeng.org.models import User


def is_locked_out(user: User, *, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return user.locked_until is not None and user.locked_until > now


def record_login_failure(user: User, *, ip: str = "") -> bool:
    """Count one failed password for `user`; lock the account after LOGIN_MAX_FAILURES in a row.

    Returns True when this failure locked the account. Side effects: `failed_logins` (and, when locking,
    `locked_until`) updated; audit row `auth.login_failed` and, when locking, `auth.locked`.
    """
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


def record_login_success(user: User, *, ip: str = "") -> None:
    """Clear the failure count and any lock. Side effects: audit row `auth.login`."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
        audit.record("auth.login", by=user, target=user, data={"ip": ip})
