"""The JSON API under /api/v1/: one Ninja router per app, mounted here and nowhere else.

Who may call each endpoint is declared in config/api_access.py (one row per operation), not in the
routers; the OpenAPI document carries those rows as security requirements and `x-zhengfeng-access`.
"""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema

from config import api_access
from zhengfeng.evaluation.api import router as evaluation_router
from zhengfeng.hotline.api import router as hotline_router
from zhengfeng.org.api import router as org_router

ROUTERS = {"/org/": org_router, "/hotline/": hotline_router, "/evaluation/": evaluation_router}


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
