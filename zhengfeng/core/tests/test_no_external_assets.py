"""Government intranets have no internet: no page may load anything from another host."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


@pytest.mark.parametrize("url_name", ["login", "api:openapi-view", "portal:index"])
def test_pages_reference_only_local_assets(client, admin_user, url_name):
    client.force_login(admin_user)

    body = client.get(reverse(url_name)).content.decode()

    assert EXTERNAL.findall(body) == []


def test_openapi_document_is_served(api_client):
    response = api_client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    assert response.json()["info"]["title"] == "正风 API"
    assert "/api/v1/org/units" in response.json()["paths"]
