import hashlib
import hmac
import json

import pytest
from django.conf import settings

from zhengfeng.core.models import AuditLog
from zhengfeng.messaging import services
from zhengfeng.messaging.models import OutboxStatus
from zhengfeng.messaging.tests.conftest import PHONE

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def post_inbound(client, text):
    raw = json.dumps(
        {
            "id": "gw-1",
            "from": PHONE,
            "to": "10690000",
            "text": text,
            "received_at": "2025-03-03T10:00:00+08:00",
        }
    ).encode()
    signature = hmac.new(settings.SMS_WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    client.post(
        "/hooks/sms/inbound", data=raw, content_type="application/json", headers={"X-Signature": signature}
    )


@pytest.mark.parametrize(
    "url", ["/admin/messaging/outboxmessage/", "/admin/messaging/inboundsms/", "/admin/messaging/optout/"]
)
def test_admin_lists_mask_phones(admin_client, client, url):
    services.queue_sms(to=PHONE, text="请评价")
    post_inbound(client, "TD")

    response = admin_client.get(url)

    assert response.status_code == 200
    assert "138****5678" in response.text
    assert PHONE not in response.text


def test_admin_change_page_masks_the_phone(admin_client):
    message = services.queue_sms(to=PHONE, text="请评价")

    response = admin_client.get(f"/admin/messaging/outboxmessage/{message.pk}/change/")

    assert response.status_code == 200
    assert "138****5678" in response.text
    assert PHONE not in response.text


def test_admin_search_by_full_phone_uses_the_blind_index(admin_client):
    services.queue_sms(to=PHONE, text="甲")
    services.queue_sms(to="13900000000", text="乙")

    response = admin_client.get("/admin/messaging/outboxmessage/", {"q": "138 1234 5678"})

    assert list(response.context["cl"].result_list.values_list("text", flat=True)) == ["【清远正风】甲"]


def test_admin_action_cancels_pending_through_the_service(admin_client, admin_user):
    message = services.queue_sms(to=PHONE, text="请评价")

    response = admin_client.post(
        "/admin/messaging/outboxmessage/",
        {"action": "cancel_pending", "_selected_action": [message.pk]},
    )

    assert response.status_code == 302
    message.refresh_from_db()
    assert (message.status, message.last_error) == (OutboxStatus.CANCELLED, "管理员取消")
    assert AuditLog.objects.get(action="messaging.cancelled").actor == admin_user
