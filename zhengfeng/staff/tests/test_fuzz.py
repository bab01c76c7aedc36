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
import schemathesis
from django.utils import timezone

from zhengfeng.hotline import services
from zhengfeng.hotline.models import Category, Channel
from zhengfeng.org.services import KNOWN_API_SCOPES, create_api_key
from zhengfeng.testing import fuzz

pytestmark = pytest.mark.fuzz


@pytest.fixture
def api_schema(live_server, qingcheng, unit_a) -> Any:
    Category.objects.create(code="01", name="城乡建设", level=1, path="城乡建设")
    services.receive_work_order(
        by=None,
        channel=Channel.PHONE,
        request_type="complaint",
        title="路灯不亮",
        content="人民路路灯连续三晚不亮",
        division="441802",
        category="01",
        at=timezone.now() - dt.timedelta(hours=1),
    )
    loaded = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    loaded.config.update(base_url=live_server.url)
    loaded.config.generation.update(allow_x00=True)
    return loaded


def test_api_answers_no_5xx_and_only_documented_statuses(api_schema):
    token = create_api_key(name="模糊测试", scopes=sorted(KNOWN_API_SCOPES))[1]
    report = fuzz.run(api_schema, headers={"Authorization": f"Bearer {token}"})
    print(report)  # the figures, with -s (docs/security.md)
    assert report.failures == [], "\n\n".join(report.failures)
    assert report.operations == 23
