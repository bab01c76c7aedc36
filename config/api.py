"""The JSON API under /api/v1/: one Ninja router per app, mounted here and nowhere else."""

from ninja import NinjaAPI

from zhengfeng.evaluation.api import router as evaluation_router
from zhengfeng.hotline.api import router as hotline_router
from zhengfeng.org.api import router as org_router
from zhengfeng.org.auth import ApiKeyAuth, SessionAuth

api = NinjaAPI(
    title="正风 API",
    version="1",
    urls_namespace="api",
    # Session (with CSRF) for the UI, an API key for integrations; routers narrow this with scopes.
    auth=[SessionAuth(), ApiKeyAuth()],
    docs_url="/docs",
)

api.add_router("/org/", org_router)
api.add_router("/hotline/", hotline_router)
api.add_router("/evaluation/", evaluation_router)
