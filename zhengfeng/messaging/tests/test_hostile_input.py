"""The SMS webhooks with input no view can store (issue #10 §2): each is a 400 in the gateway's error shape
(zhengfeng.core.input_guard), before the signature is even checked, and nothing is stored."""

import json

import pytest

from zhengfeng.messaging.models import InboundSms
from zhengfeng.messaging.tests.test_webhook import INBOUND, RECEIPT, reply, signed_post

pytestmark = pytest.mark.django_db

NUL = "含有空字符（NUL，\\u0000），请删除后重试"
SURROGATE = "含有无效的 Unicode 字符（孤立的代理项 U+DC00），请检查文本编码"


@pytest.mark.parametrize("field", ["text", "id", "to"])
@pytest.mark.parametrize(("value", "problem"), [("5\x00", NUL), ("5\udc00", SURROGATE)])
def test_inbound_field_with_nul_or_surrogate_is_a_400(client, settings, field, value, problem):
    settings.DEBUG = False
    # json.dumps writes the surrogate as the escape "\udc00", as a gateway's JSON would carry it.
    response = signed_post(client, INBOUND, json.dumps({**reply(), field: value}).encode())
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error": f"JSON 字段 {field} {problem}"}
    assert InboundSms.objects.count() == 0


def test_receipt_error_with_nul_is_a_400(client):
    body = {"id": "1", "status": "undelivered", "reported_at": "2025-03-03T10:00:05+08:00", "error": "E\x00"}
    response = signed_post(client, RECEIPT, body)
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error": f"JSON 字段 error {NUL}"}


@pytest.mark.parametrize("message_id", ["99999999999999999999", 10**30, "0"])
def test_receipt_id_beyond_the_database_integer_is_unknown(client, message_id):
    body = {"id": message_id, "status": "delivered", "reported_at": "2025-03-03T10:00:05+08:00"}
    response = signed_post(client, RECEIPT, body)
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error": f"没有编号为 {int(message_id)} 的短信"}
