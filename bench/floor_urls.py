"""The project's URLs plus POST /bench/floor: the durable-insert floor of an accepting POST.

The floor does what any POST that stores its request must do and nothing else: Django's request
handling with every middleware, the form body parsed, one two-column INSERT committed (autocommit:
durable when it returns), a small JSON answer. `bench_open311_post.py` measures it with the same
harness as the Open311 POST, so POST / floor is what the accept path costs above the unavoidable.
Mounted only by bench/floor_settings.py.
"""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.urls import urlpatterns as project_urlpatterns

FLOOR_TABLE = "bench_floor"


@csrf_exempt  # a key-authenticated client sends no CSRF token, as with Open311
@require_POST
def floor(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {FLOOR_TABLE} (device_id, description) VALUES (%s, %s) RETURNING id",  # noqa: S608
            [request.POST.get("device_id", ""), request.POST.get("description", "")],
        )
        (number,) = cursor.fetchone()
    return JsonResponse([{"id": number}], safe=False)


urlpatterns = [path("bench/floor", floor), *project_urlpatterns]
