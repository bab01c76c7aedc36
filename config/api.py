"""The JSON API under /api/v1/: one Ninja router per app, mounted here and nowhere else.

Who may call each endpoint is declared in config/api_access.py (one row per operation), not in the
routers; the OpenAPI document carries those rows as security requirements and `x-zhengfeng-access`.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.openapi.schema import OpenAPISchema

from config import api_access
from zhengfeng.core.api_errors import field_error
from zhengfeng.evaluation.api import router as evaluation_router
from zhengfeng.hotline.api import router as hotline_router
from zhengfeng.org.api import router as org_router

ROUTERS = {"/org/": org_router, "/hotline/": hotline_router, "/evaluation/": evaluation_router}

_ERROR_BODY = {
    "type": "object",
    "properties": {"detail": {"type": "string", "description": "中文说明"}},
    "required": ["detail"],
}
# Answers any operation can give, whatever its router declares: 400 from core.input_guard (NUL, lone
# surrogates, deep JSON, an unparsable or oversized body, on any path) and from the parameter handler
# below; 401 and 403 from the auth that api_access builds for every operation that is not public.
_ANY_OPERATION = {400: "请求无效（参数或请求体无法处理；detail 说明原因）"}
UNAUTHENTICATED = "未登录，或接口密钥无效、已吊销（请登录，或在 Authorization 头中提供 Bearer 接口密钥）"
_AUTHENTICATED = {
    401: UNAUTHENTICATED,
    403: "无权调用（密钥缺少所需权限范围、角色不符，或会话请求缺少 CSRF 令牌）",
}


class Api(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        """Ninja's document, with each operation's scopes and callers from ACCESS."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        root = self.get_root_path(path_params or {}) if path_prefix is None else path_prefix
        for path, operations in schema["paths"].items():
            below = api_access.full_path("", path.removeprefix(root.rstrip("/")))
            for method, operation in operations.items():
                access = api_access.ACCESS[(method.upper(), below)]
                if access.public:
                    operation.pop("security", None)
                else:
                    operation["security"] = api_access.openapi_security(access)
                operation["x-zhengfeng-access"] = api_access.openapi_extension(access)
                answers = {**_ANY_OPERATION, **({} if access.public else _AUTHENTICATED)}
                responses = operation.setdefault("responses", {})
                for status, description in answers.items():
                    responses.setdefault(
                        status,
                        {
                            "description": description,
                            "content": {"application/json": {"schema": _ERROR_BODY}},
                        },
                    )
        return schema


api_access.apply(ROUTERS)

api = Api(
    title="正风 API",
    version="1",
    urls_namespace="api",
    # No API-wide auth: every operation gets its own from api_access.ACCESS (Session with CSRF for the
    # UI, an API key with a scope for integrations).
    docs_url="/docs",
)

for _prefix, _router in ROUTERS.items():
    api.add_router(_prefix, _router)


@api.exception_handler(ValidationError)
def invalid_parameters(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """A parameter of the wrong type (`page=abc`) is a 400 in Chinese like every other refusal of the API,
    not Ninja's English 422."""
    return api.create_response(
        request, {"detail": "；".join(field_error(error) for error in exc.errors)}, status=400
    )


@api.exception_handler(AuthenticationError)
def not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    """No session and no valid key: Ninja's answer is the English "Unauthorized"."""
    return api.create_response(request, {"detail": UNAUTHENTICATED}, status=401)
