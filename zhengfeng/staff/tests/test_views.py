import re

import pytest
from django.urls import reverse

from zhengfeng.core import anchors, audit
from zhengfeng.core.models import AuditAnchor

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("workbench"))

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/workbench/"


def test_login_page_is_chinese_and_serves_local_assets(client):
    body = client.get(reverse("login")).content.decode()

    assert "<h1>登录</h1>" in body
    assert "/static/vendor/htmx.min.js" in body
    assert "http://" not in body.replace('xmlns="http://www.w3.org', "")
    assert "https://" not in body


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        (
            "liaison_a",
            {
                "工作台": True,
                "站内消息": True,
                "单位": False,
                "审计日志": False,
                "热线待办": True,
                "热线工单": False,
                "评议复核": False,
                "评议线索": False,
            },
        ),
        (
            "city_office",
            {
                "工作台": True,
                "站内消息": True,
                "单位": True,
                "审计日志": False,
                "热线工单": True,
                "热线受理": False,
                "评议复核": True,
                "评议线索": False,
            },
        ),
        (
            "inspector",
            {
                "工作台": True,
                "站内消息": True,
                "单位": True,
                "审计日志": True,
                "热线工单": True,
                "热线受理": False,
                "评议复核": True,
                "评议线索": True,
            },
        ),
    ],
)
def test_navigation_depends_on_role(client, request, persona, expected):
    # Apps keep adding entries; this pins the entries whose visibility is a security decision.
    user = request.getfixturevalue(persona)
    client.force_login(user)

    response = client.get(reverse("workbench"))

    labels = [item.label for item in response.context["nav"]]
    assert response.status_code == 200
    assert {label: label in labels for label in expected} == expected


def test_audit_log_is_for_inspectors_and_admins(client, liaison_a, inspector, unit_a):
    audit.record("unit.updated", target=unit_a, division_code="441800")

    client.force_login(liaison_a)
    assert client.get(reverse("audit_log")).status_code == 403

    client.force_login(inspector)
    response = client.get(reverse("audit_log"))
    assert response.status_code == 200
    assert [row.action for row in response.context["page"]] == ["unit.updated"]


def test_the_audit_log_page_lists_anchors_with_their_status(client, inspector, unit_a):
    audit.record("unit.updated", target=unit_a, division_code="441800")
    good = anchors.anchor()
    forged = anchors.anchor()
    AuditAnchor.objects.filter(pk=forged.pk).update(seq=1)
    client.force_login(inspector)

    response = client.get(reverse("audit_log"))

    statuses = re.findall(r'<td class="anchor-status">([^<]+)</td>', response.content.decode())
    assert len(statuses) == 2
    assert statuses[0].startswith(f"异常：锚点 #{forged.pk}（")
    assert statuses[0].endswith("签名无效（锚点被伪造或篡改）")
    assert statuses[1] == "一致"
    assert [status.anchor.pk for status in response.context["anchors"]] == [forged.pk, good.pk]
