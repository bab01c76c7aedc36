"""The JSON API fuzz test (issue #10 §5): schemathesis against a live server over the whole
/api/v1/openapi.json, failing on any 5xx and any status code the document does not list.

Bounded by zhengfeng.testing.fuzz's examples per operation. Every request carries a real API key with every
scope, so the write endpoints are reached (staff-only actions answer the key with their documented 403).
The long run by hand and its figures are in docs/security.md ("No 5xx on any input").
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests
import schemathesis
from django.test import Client
from django.utils import timezone

from zhengfeng.hotline import services
from zhengfeng.hotline.models import Category, Channel
from zhengfeng.org.models import Role, User
from zhengfeng.org.services import KNOWN_API_SCOPES, create_api_key
from zhengfeng.testing import fuzz
from zhengfeng.testing.factories import UnitFactory

pytestmark = pytest.mark.fuzz


@pytest.fixture
def order_code(live_server, qingcheng, unit_a) -> str:
    Category.objects.create(code="01", name="城乡建设", level=1, path="城乡建设")
    return services.receive_work_order(
        by=None,
        channel=Channel.PHONE,
        request_type="complaint",
        title="路灯不亮",
        content="人民路路灯连续三晚不亮",
        division="441802",
        category="01",
        at=timezone.now() - dt.timedelta(hours=1),
    ).order.code


def _schema(live_server, *, pinned: dict[str, list[str]] | None = None) -> Any:
    """The live document; `pinned` narrows parameters and body fields by name to the given values (in the
    valid cases; the invalid ones still stray), so that a case finds the rows this database has."""
    pinned = pinned or {}
    document = requests.get(f"{live_server.url}/api/v1/openapi.json", timeout=30).json()
    for operations in document["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] in pinned:
                    parameter["schema"] = {"type": "string", "enum": pinned[parameter["name"]]}
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            for name, values in pinned.items():
                if name in body.get("schema", {}).get("properties", {}):
                    body["schema"]["properties"][name] = {"type": "string", "enum": values}
    loaded = schemathesis.openapi.from_dict(document)
    loaded.config.update(base_url=live_server.url)
    # NUL in generated strings too (what input_guard refuses); the credentials are ours, not generated.
    loaded.config.generation.update(allow_x00=True, with_security_parameters=False)
    return loaded


def test_api_with_a_key_answers_no_5xx_and_only_documented_statuses(live_server, order_code):
    token = create_api_key(name="模糊测试", scopes=sorted(KNOWN_API_SCOPES))[1]
    report = fuzz.run(_schema(live_server), headers={"Authorization": f"Bearer {token}"})
    print(report)  # the figures, with -s (docs/security.md)
    assert report.failures == [], "\n\n".join(report.failures)
    assert report.operations == 23


def test_api_with_an_operator_session_answers_no_5xx_and_only_documented_statuses(
    live_server, order_code, city
):
    """The lifecycle actions refuse keys (403): a signed-in operator reaches them, on an order that exists."""
    operator = User.objects.create_user(
        username="fuzz_operator", password=None, role=Role.OPERATOR, unit=UnitFactory(division=city)
    )
    browser = Client()
    browser.force_login(operator)
    # Django accepts an unmasked 32-character secret in the header when it equals the cookie.
    csrf = "f" * 32
    headers = {
        "Cookie": f"sessionid={browser.cookies['sessionid'].value}; csrftoken={csrf}",
        "X-CSRFToken": csrf,
    }
    pinned = {"code": [order_code], "division": ["441802"], "main_unit": ["441800-A"], "into": [order_code]}
    report = fuzz.run(_schema(live_server, pinned=pinned), headers=headers, max_examples=fuzz.examples() // 2)
    print(report)
    assert report.failures == [], "\n\n".join(report.failures)
    # The actions were reached: some answered 200, not only refusals.
    assert sum(counts.get(200, 0) for label, counts in report.statuses.items() if "{code}/" in label) > 0
