"""Who may call each JSON API endpoint: the one table the auth checks are built from.

Every operation mounted in config/api.py has exactly one row here, keyed by method and path (below
/api/v1): the API-key scope it requires and whether, and for which roles, a signed-in staff session may
call it. `apply()` turns each row into the operation's auth callbacks (org.auth's SessionAuth and
ApiKeyAuth) when the routers are mounted, and refuses to start on an endpoint without a row or a row
without an endpoint. The OpenAPI document (security requirements and `x-zhengfeng-access`) and
docs/api.md are rendered from the same rows by `zhengfeng openapi`.

The routers' own checks come after these (e.g. the hotline refuses lifecycle actions from API keys,
and the services check roles and scope); `note` says so where the docs should.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ninja import Router

from zhengfeng.evaluation.queries import SCORE_ROLES
from zhengfeng.org.auth import ApiKeyAuth, SessionAuth

ANY_KEY = ""  # a live API key, whatever its scopes


@dataclass(frozen=True)
class Access:
    """`key_scope`: the scope an API key must carry (ANY_KEY: any live key; None: keys are not
    accepted). `session`: whether a signed-in staff user may call it; `roles` narrows that to those
    roles (superusers always pass). Neither: the endpoint is public."""

    key_scope: str | None
    session: bool = True
    roles: frozenset[str] | None = None
    note: str = ""

    @property
    def public(self) -> bool:
        return self.key_scope is None and not self.session

    def auth(self) -> list[Callable[..., Any]]:
        # Session first: SessionAuth steps aside without a session or with a Bearer header, so a key
        # is judged by its scope only, and CSRF is checked only for a signed-in session.
        callbacks: list[Callable[..., Any]] = []
        if self.session:
            callbacks.append(SessionAuth(roles=self.roles))
        if self.key_scope is not None:
            callbacks.append(ApiKeyAuth(scope=self.key_scope or None))
        return callbacks


_HOTLINE_ACTION = Access(
    key_scope="hotline", note="接口密钥通过认证后仍被拒绝（403）：办理操作须由工作人员登录后进行"
)

# (method, path below /api/v1) → who may call it. Sorted by path; a new endpoint needs a row here.
ACCESS: dict[tuple[str, str], Access] = {
    ("GET", "/evaluation/scores"): Access(
        key_scope="evaluation", roles=SCORE_ROLES, note="会话按所在区划取数；接口密钥取全部"
    ),
    ("GET", "/evaluation/staff"): Access(key_scope=None, session=False),
    ("POST", "/evaluation/actions"): Access(key_scope="evaluation", session=False),
    ("GET", "/hotline/orders"): Access(
        key_scope="hotline", note="会话按权限范围；接口密钥看全部工单，不含诉求人"
    ),
    ("POST", "/hotline/orders"): Access(key_scope="hotline", note="会话须为热线坐席（否则 403）"),
    ("GET", "/hotline/orders/{code}"): Access(
        key_scope="hotline", note="诉求人信息按权限脱敏；接口密钥不含诉求人"
    ),
    ("POST", "/hotline/orders/{code}/answer"): _HOTLINE_ACTION,
    ("POST", "/hotline/orders/{code}/callback"): _HOTLINE_ACTION,
    ("POST", "/hotline/orders/{code}/dispatch"): _HOTLINE_ACTION,
    ("POST", "/hotline/orders/{code}/extension"): _HOTLINE_ACTION,
    ("POST", "/hotline/orders/{code}/extension-decision"): _HOTLINE_ACTION,
    ("POST", "/hotline/orders/{code}/merge"): _HOTLINE_ACTION,
    ("POST", "/hotline/orders/{code}/note"): _HOTLINE_ACTION,
    ("POST", "/hotline/orders/{code}/refer"): _HOTLINE_ACTION,
    ("POST", "/hotline/orders/{code}/reply"): _HOTLINE_ACTION,
    ("POST", "/hotline/orders/{code}/reply-approval"): _HOTLINE_ACTION,
    ("POST", "/hotline/orders/{code}/reply-review"): _HOTLINE_ACTION,
    ("GET", "/hotline/orders/{code}/requester"): Access(
        key_scope="hotline", note="接口密钥通过认证后仍被拒绝（403）；每次查看记录审计日志"
    ),
    ("POST", "/hotline/orders/{code}/return"): _HOTLINE_ACTION,
    ("POST", "/hotline/orders/{code}/review-return"): _HOTLINE_ACTION,
    ("POST", "/hotline/orders/{code}/sign"): _HOTLINE_ACTION,
    ("POST", "/hotline/orders/{code}/void"): _HOTLINE_ACTION,
    ("GET", "/org/units"): Access(key_scope=ANY_KEY, note="会话按权限范围；接口密钥看全部单位"),
}


def full_path(prefix: str, path: str) -> str:
    """The path below /api/v1 of `path` in the router mounted at `prefix`, as the OpenAPI paths spell it."""
    return re.sub("/+", "/", f"/{prefix}/{path}").rstrip("/") or "/"


def apply(routers: dict[str, Router], access: dict[tuple[str, str], Access] = ACCESS) -> None:
    """Give every operation of the routers (by mount prefix) the auth its row in `access` says.

    Called before the routers are mounted: Ninja copies each operation's auth when it binds a router.
    Raises ImproperlyConfigured for an operation without a row and for a row without an operation, so
    that an endpoint cannot be added, or removed, without its declaration.
    """
    from django.core.exceptions import ImproperlyConfigured

    mounted: set[tuple[str, str]] = set()
    for prefix, router in routers.items():
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    key = (method, full_path(prefix, path))
                    if key not in access:
                        raise ImproperlyConfigured(
                            f"{method} {key[1]}：没有在 config/api_access.py 的 ACCESS 中声明调用权限"
                        )
                    mounted.add(key)
                    # Ninja keeps the declared auth in auth_param and runs auth_callbacks; a public
                    # operation has neither, exactly as `@router.get(..., auth=None)` leaves it.
                    callbacks = access[key].auth()
                    operation.auth_param = callbacks or None
                    operation.auth_callbacks = callbacks
    stale = sorted(set(access) - mounted)
    if stale:
        listed = ", ".join(f"{method} {path}" for method, path in stale)
        raise ImproperlyConfigured(f"config/api_access.py 的 ACCESS 中有不存在的接口：{listed}")


def openapi_security(access: Access) -> list[dict[str, list[str]]]:
    """The operation's OpenAPI security requirements, scopes included (OpenAPI 3.1 allows scopes on
    any scheme: here they are the API key's required scope)."""
    requirements: list[dict[str, list[str]]] = []
    if access.session:
        requirements.append({"SessionAuth": sorted(access.roles or ())})
    if access.key_scope is not None:
        requirements.append({"ApiKeyAuth": [access.key_scope] if access.key_scope else []})
    return requirements


def openapi_extension(access: Access) -> dict[str, Any]:
    """`x-zhengfeng-access`: the row itself, for clients that read the document rather than docs/api.md."""
    return {
        "api_key_scope": access.key_scope,
        "note": access.note,
        "public": access.public,
        "session": access.session,
        "session_roles": sorted(access.roles) if access.roles is not None else None,
    }
