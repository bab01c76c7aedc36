import pytest
from django.test import Client


def test_healthz_answers_ok_without_touching_the_database():
    # No django_db mark: any query raises, which is the point (liveness without the database).
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_healthz_refuses_writes(method):
    response = getattr(Client(), method)("/healthz")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
