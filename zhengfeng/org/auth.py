"""Who is asking: the signed-in staff user of a page, or the JSON API's session or Bearer API key."""

from __future__ import annotations

import hmac

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from zhengfeng.core.memo import TimedMemo
from zhengfeng.org.models import ApiKey, User
from zhengfeng.org.services import hash_api_secret

# Live keys by prefix, for write endpoints that re-check revocation in their own statement.
_recent_keys: TimedMemo[ApiKey] = TimedMemo("org.recent_api_keys", seconds=30)


def request_user(request: HttpRequest) -> User:
    """The signed-in user of a request that a login check (`login_required`, the admin) let through.

    `request.user` may be the anonymous visitor as far as its type says; the services take a `User`.
    Raises PermissionDenied if no one is signed in, which only a view without a login check allows.
    """
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("请先登录")
    return user


def key_from_token(token: str, *, recent: bool = False) -> ApiKey | None:
    """The live key a `zf_<prefix>_<secret>` token names, or None.

    `recent=True` reads the key row from a 30-second per-process memo: a revocation may then be seen
    up to 30 s late, so only a caller that checks `revoked_at IS NULL` again in its own write may ask
    for it (the Open311 POST does, in the statement that stores the request).
    """
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "zf":
        return None
    prefix = parts[1]

    def live_key() -> ApiKey | None:
        return ApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True).first()

    key = _recent_keys.get(prefix, live_key) if recent else live_key()
    if key is None or not hmac.compare_digest(key.key_hash, hash_api_secret(parts[2])):
        return None
    return key


class ApiKeyAuth(HttpBearer):
    """`Authorization: Bearer zf_<prefix>_<secret>`; with `scope`, the key must carry it (else 403)."""

    def __init__(self, scope: str | None = None) -> None:
        self.scope = scope
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        key = key_from_token(token)
        if key is None:
            return None
        if self.scope is not None and self.scope not in key.scopes:
            raise HttpError(403, f"接口密钥没有 {self.scope} 权限")
        # Throttle the write: once a minute is precise enough for "last used".
        now = timezone.now()
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        request.api_key = key  # type: ignore[attr-defined]
        return key


CSRF_FAILED = "CSRF 校验失败：请刷新页面后重试（会话调用的写操作须带 X-CSRFToken 请求头）"


def has_bearer(request: HttpRequest) -> bool:
    """Whether the request names an API key (`Authorization: Bearer …`), valid or not."""
    scheme, _, _ = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer"


class SessionAuth(APIKeyCookie):
    """Django's session login; unsafe methods also need the CSRF token, as in the UI.

    It steps aside (returns None, so Ninja tries the next auth, ApiKeyAuth) when no one is signed in,
    and when the request carries a Bearer header: such a request is judged by its key alone, even
    with a session cookie beside it (a bad key is then a 401, not a fall-back to the session). CSRF
    protects cookies a browser attaches by itself; a browser never adds an Authorization header to
    a cross-site request by itself, so a Bearer request cannot be a forged one. Ninja's own cookie
    check ran CSRF before looking for a session, which refused every key-only write (issue #10).
    """

    param_name = "sessionid"

    def __init__(self, roles: frozenset[str] | None = None) -> None:
        self.roles = roles
        super().__init__(csrf=True)

    def __call__(self, request: HttpRequest) -> User | None:
        if has_bearer(request) or not isinstance(getattr(request, "user", None), User):
            return None
        return self.authenticate(request, self._get_key(request))

    def _get_key(self, request: HttpRequest) -> str | None:
        # Ninja's check, with the message in Chinese; safe methods always pass it.
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise HttpError(403, CSRF_FAILED)
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = getattr(request, "user", None)
        if not isinstance(user, User):
            return None
        if self.roles is not None and not (user.is_superuser or user.role in self.roles):
            raise HttpError(403, "当前角色无权访问")
        return user
