"""The SMS webhook refuses a time outside the plausible window; a bad row already stored never breaks
the admin list (core.moments, docs/security.md)."""

import datetime as dt

import pytest
import time_machine
from django.db import connection

from zhengfeng.core.models import AuditLog
from zhengfeng.messaging.models import InboundSms
from zhengfeng.messaging.tests.test_webhook import INBOUND, RECEIPT, reply, signed_post

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 16, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
WINDOW = "不在合理范围内（2000-01-01 至 2026-11-17 10:00）"


@pytest.mark.parametrize(
    ("received_at", "error"),
    [
        ("0001-01-01T00:00:00", f"接收时间 received_at 0001-01-01 00:00:00 {WINDOW}"),
        ("9999-12-31T23:59:59+00:00", f"接收时间 received_at 9999-12-31 23:59:59 {WINDOW}"),
        ("2026-11-17T10:00:01+08:00", f"接收时间 received_at 2026-11-17 10:00:01 {WINDOW}"),
        (
            "2026-13-45T10:00:00",
            "received_at 不是有效的时间（ISO 8601，如 2025-03-01T09:30:00+08:00）：2026-13-45T10:00:00",
        ),
    ],
)
@time_machine.travel(NOW, tick=False)
def test_inbound_webhook_refuses_an_implausible_time_and_stores_nothing(client, received_at, error):
    response = signed_post(client, INBOUND, reply(received_at=received_at))

    assert (response.status_code, response.json()) == (400, {"ok": False, "error": error})
    assert (InboundSms.objects.count(), AuditLog.objects.count()) == (0, 0)


@time_machine.travel(NOW, tick=False)
def test_receipt_webhook_answers_400_for_an_impossible_date(client):
    response = signed_post(
        client, RECEIPT, {"id": "1", "status": "delivered", "reported_at": "2026-13-45T10:00:00"}
    )

    assert (response.status_code, response.json()) == (
        400,
        {
            "ok": False,
            "error": "reported_at 不是有效的时间（ISO 8601，如 2025-03-01T09:30:00+08:00）：2026-13-45T10:00:00",
        },
    )


def write_unreadable_row(provider_id="gw-bad"):
    """A row as the webhook stored it before the window: year 1 in Shanghai is year 0 in UTC, which
    PostgreSQL keeps (BC) and Python cannot read back; SQLite keeps the text as given."""
    table = InboundSms._meta.db_table
    stamp = "0001-01-01 00:00:00 BC+00" if connection.vendor == "postgresql" else "0000-12-31 16:00:00"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (provider_id, phone, phone_index, to_number, text, received_at,"  # noqa: S608
            " created_at, matched_type, matched_id, division_code, parked_reason)"
            " VALUES (%s, '', 'x', '', '5', %s, %s, '', '', '', '')",
            [provider_id, stamp, connection.ops.adapt_datetimefield_value(NOW)],
        )
    return InboundSms.objects.values_list("pk", flat=True).get(provider_id=provider_id)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_admin_list_renders_with_an_unreadable_row(admin_client, client):
    signed_post(client, INBOUND, reply(id="gw-good", received_at="2025-03-03T10:15:00+08:00"))
    bad = write_unreadable_row()

    response = admin_client.get("/admin/messaging/inboundsms/")

    assert response.status_code == 200
    assert "gw-good" not in response.text  # the list shows the masked sender, not the gateway id
    assert "138****5678" in response.text
    assert f"/admin/messaging/inboundsms/{bad}/change/" in response.text
    assert "2025-03-03 10:15:00" in response.text
    assert "无法读取：" in response.text
    detail = admin_client.get(f"/admin/messaging/inboundsms/{bad}/change/")
    assert detail.status_code == 200
    assert "无法读取：" in detail.text
