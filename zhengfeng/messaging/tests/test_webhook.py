import hashlib
import hmac
import json
import logging

import pytest
import time_machine
from django.db import connection

from zhengfeng.core.crypto import blind_index
from zhengfeng.core.models import AuditLog
from zhengfeng.messaging import queries, services
from zhengfeng.messaging.models import DeliveryStatus, InboundSms, OptOut, OutboxMessage, OutboxStatus
from zhengfeng.messaging.sending import drain_outbox
from zhengfeng.messaging.tests.conftest import PHONE, local

pytestmark = pytest.mark.django_db

INBOUND = "/hooks/sms/inbound"
RECEIPT = "/hooks/sms/receipt"


def signed_post(client, url, body, *, secret=None, signature=None):
    from django.conf import settings

    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    if signature is None:
        signature = hmac.new(
            (secret or settings.SMS_WEBHOOK_SECRET).encode(), raw, hashlib.sha256
        ).hexdigest()
    headers = {"X-Signature": signature} if signature else {}
    return client.post(url, data=raw, content_type="application/json", headers=headers)


def view_log(caplog):
    return [record.getMessage() for record in caplog.records if record.name == "zhengfeng.messaging.views"]


def reply(text="5", id="gw-in-1", received_at="2025-03-03T10:15:00+08:00", **extra):
    return {
        "id": id,
        "from": "+8613812345678",
        "to": "106900001234",
        "text": text,
        "received_at": received_at,
        **extra,
    }


def test_inbound_sms_is_stored_encrypted_and_left_for_the_modules(client):
    response = signed_post(client, INBOUND, reply())

    assert (response.status_code, response.json()) == (200, {"ok": True, "id": "gw-in-1"})
    inbound = InboundSms.objects.get()
    assert (inbound.provider_id, inbound.phone, inbound.phone_index, inbound.to_number, inbound.text) == (
        "gw-in-1",
        PHONE,
        blind_index(PHONE),
        "106900001234",
        "5",
    )
    assert inbound.received_at == local(2025, 3, 3, 10, 15)
    assert (inbound.matched_type, inbound.matched_id, inbound.handled_at, inbound.division_code) == (
        "",
        "",
        None,
        "",
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM messaging_inboundsms WHERE id = %s", [inbound.pk])
        assert cursor.fetchone()[0].startswith("sm4gcm:v1:")
    assert list(queries.unmatched_inbound()) == [inbound]
    assert AuditLog.objects.get(action="messaging.inbound_received").data == {
        "id": "gw-in-1",
        "from": "138****5678",
        "length": 1,
    }


def test_local_time_without_offset_is_read_in_the_configured_zone(client):
    signed_post(client, INBOUND, reply(received_at="2025-03-03 10:15:00"))

    assert InboundSms.objects.get().received_at == local(2025, 3, 3, 10, 15)


def test_a_repeated_id_is_accepted_once_with_the_same_answer(client):
    first = signed_post(client, INBOUND, reply())
    second = signed_post(client, INBOUND, reply(text="重发时内容不同也不覆盖"))

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.content == second.content
    assert list(InboundSms.objects.values_list("provider_id", "text")) == [("gw-in-1", "5")]
    assert AuditLog.objects.filter(action="messaging.inbound_received").count() == 1


@pytest.mark.parametrize(
    "signature",
    ["", "0" * 64, "not-hex"],
    ids=["missing", "wrong", "garbage"],
)
def test_bad_or_missing_signature_is_refused_and_nothing_is_stored(client, signature, caplog):
    with caplog.at_level(logging.WARNING, logger="zhengfeng.messaging.views"):
        response = signed_post(client, INBOUND, reply(), signature=signature)

    assert (response.status_code, response.json()) == (403, {"ok": False, "error": "签名无效"})
    assert InboundSms.objects.count() == 0
    assert AuditLog.objects.count() == 0
    assert view_log(caplog) == ["SMS webhook /hooks/sms/inbound refused: bad or missing X-Signature"]


def test_signature_with_another_secret_is_refused(client):
    response = signed_post(client, INBOUND, reply(), secret="someone-elses-secret")

    assert response.status_code == 403
    assert InboundSms.objects.count() == 0


def test_without_a_configured_secret_every_request_is_refused(client, settings, caplog):
    settings.SMS_WEBHOOK_SECRET = ""
    raw = json.dumps(reply()).encode()
    # Signed with the empty key, as an attacker could do if an empty secret were accepted.
    signature = hmac.new(b"", raw, hashlib.sha256).hexdigest()

    with caplog.at_level(logging.WARNING, logger="zhengfeng.messaging.views"):
        response = signed_post(client, INBOUND, raw, signature=signature)

    assert response.status_code == 403
    assert InboundSms.objects.count() == 0
    assert view_log(caplog) == ["SMS webhook /hooks/sms/inbound refused: SMS_WEBHOOK_SECRET is not set"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            b"{not json",
            "请求体不是有效的 JSON：Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        (b"[1, 2]", "请求体应为 JSON 对象"),
        (json.dumps({"id": "x", "text": "5"}).encode(), "缺少字段：from, to, received_at"),
        (json.dumps(reply(text={"nested": 1})).encode(), "字段应为字符串：text"),
        (
            json.dumps(reply(received_at="yesterday")).encode(),
            "received_at 不是有效的时间（ISO 8601，如 2025-03-01T09:30:00+08:00）：yesterday",
        ),
        (
            json.dumps(reply(**{"from": "12345678901"})).encode(),
            "不是有效的中国大陆手机号码（应以 13–19 开头）：12345678901",
        ),
        (json.dumps(reply(id=" ")).encode(), "上行短信编号 id不能为空"),
    ],
    ids=["syntax", "not-object", "missing", "not-text", "bad-time", "bad-phone", "blank-id"],
)
def test_malformed_body_gets_400_with_the_reason(client, body, error):
    response = signed_post(client, INBOUND, body)

    assert (response.status_code, response.json()) == (400, {"ok": False, "error": error})
    assert InboundSms.objects.count() == 0


def test_get_is_not_allowed(client):
    assert client.get(INBOUND).status_code == 405


@pytest.mark.parametrize("text", ["TD", " td ", "Td", "ＴＤ", "ｔｄ", "退订", "\u3000退订\u3000"])
def test_opt_out_replies_stop_sms_to_the_number(client, text):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False):
        pending = services.queue_sms(to=PHONE, text="请评价")
        other = services.queue_sms(to="13900000000", text="请评价")

    response = signed_post(client, INBOUND, reply(text=text))

    assert response.status_code == 200
    opt_out = OptOut.objects.get()
    inbound = InboundSms.objects.get()
    assert (opt_out.phone, opt_out.phone_index, opt_out.inbound) == (PHONE, blind_index(PHONE), inbound)
    assert (inbound.matched_type, inbound.matched_id) == ("messaging.optout", str(opt_out.pk))
    assert inbound.handled_at is not None
    assert list(queries.unmatched_inbound()) == []
    assert OutboxMessage.objects.get(pk=pending.pk).status == OutboxStatus.CANCELLED
    assert OutboxMessage.objects.get(pk=other.pk).status == OutboxStatus.PENDING
    assert services.queue_sms(to=PHONE, text="再次发送").status == OutboxStatus.CANCELLED


@pytest.mark.parametrize("text", ["TD我不满意", "不退订", "T D", "5"])
def test_other_replies_do_not_opt_out(client, text):
    signed_post(client, INBOUND, reply(text=text))

    assert OptOut.objects.count() == 0
    assert InboundSms.objects.get().handled_at is None


def test_modules_match_replies_once(client, unit_a, qingcheng):
    signed_post(client, INBOUND, reply(id="a", received_at="2025-03-03T10:00:00+08:00"))
    signed_post(client, INBOUND, reply(id="b", received_at="2025-03-03T11:00:00+08:00"))
    first, second = queries.unmatched_inbound()
    unit_a.division_code = "441802"  # what a module's record carries

    assert list(queries.unmatched_inbound(after=local(2025, 3, 3, 10))) == [second]
    assert services.mark_inbound_handled(first, matched=unit_a) is True
    assert services.mark_inbound_handled(first, matched=None) is False

    first.refresh_from_db()
    assert (first.matched_type, first.matched_id, first.division_code) == (
        "org.unit",
        str(unit_a.pk),
        "441802",
    )
    assert list(queries.unmatched_inbound()) == [second]
    assert AuditLog.objects.filter(action="messaging.inbound_handled").count() == 1


# --- Delivery receipts ---------------------------------------------------------------------------


def sent_sms():
    with time_machine.travel(local(2025, 3, 3, 10), tick=False):
        message = services.queue_sms(to=PHONE, text="请评价")
        drain_outbox(local(2025, 3, 3, 10))
    return message


def test_delivery_receipt_is_recorded_once(client):
    message = sent_sms()
    body = {"id": str(message.pk), "status": "delivered", "reported_at": "2025-03-03T10:00:05+08:00"}

    first = signed_post(client, RECEIPT, body)
    second = signed_post(client, RECEIPT, body)

    assert (first.status_code, first.json(), second.content) == (
        200,
        {"ok": True, "id": str(message.pk)},
        first.content,
    )
    message.refresh_from_db()
    assert (message.delivery_status, message.delivery_reported_at) == (
        DeliveryStatus.DELIVERED,
        local(2025, 3, 3, 10, 0, 5),
    )
    assert AuditLog.objects.filter(action="messaging.delivery_reported").count() == 1


def test_delivery_receipt_errors(client):
    message = sent_sms()
    pending = services.queue_sms(to=PHONE, text="尚未发送")
    at = "2025-03-03T10:00:05+08:00"

    cases = [
        ({"id": "abc", "status": "delivered", "reported_at": at}, "id 应为本系统的短信编号（整数）：abc"),
        ({"id": "999999", "status": "delivered", "reported_at": at}, "没有编号为 999999 的短信"),
        (
            {"id": str(message.pk), "status": "lost", "reported_at": at},
            "回执状态应为 delivered 或 undelivered：lost",
        ),
        (
            {"id": str(pending.pk), "status": "delivered", "reported_at": at},
            f"短信 {pending.pk} 尚未发送成功（状态：待发送），不能登记回执",
        ),
    ]
    answers = [signed_post(client, RECEIPT, body) for body, _ in cases]

    assert [(a.status_code, a.json()["error"]) for a in answers] == [(400, error) for _, error in cases]
    assert signed_post(client, RECEIPT, cases[0][0], signature="0" * 64).status_code == 403
