"""The kernel's one page: the liveness check."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for the load balancer and the process supervisor: the process answers requests.

    No database access on purpose: a slow or failing database must not make every web process look
    dead (they would be restarted in a loop); database health is a separate, deeper check.
    """
    return JsonResponse({"status": "ok"})
