"""The HTTP gateway backend against a real HTTP server on 127.0.0.1 (a fake carrier, not a mock)."""

import datetime as dt
import hashlib
import hmac
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine

from zhengfeng.core import worker
from zhengfeng.core.models import WorkerProcess
from zhengfeng.messaging import services
from zhengfeng.messaging.models import OutboxStatus
from zhengfeng.messaging.sending import claim_due, drain_outbox
from zhengfeng.messaging.tests.conftest import PHONE, local
from zhengfeng.messaging.transports import HttpTransport

pytestmark = pytest.mark.django_db

SECRET = "gateway-shared-secret"
TEN = local(2025, 3, 3, 10)


class FakeGateway:
    """Records every request; answers with the scripted (status, body, delay) triples in order."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: list[tuple[int, bytes, float]] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                gateway.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status, answer, delay = gateway.answers.pop(0) if gateway.answers else (200, b"{}", 0.0)
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, format, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms/send"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def answer(self, status: int, body: dict | str = "", delay: float = 0.0) -> None:
        raw = json.dumps(body).encode() if isinstance(body, dict) else body.encode()
        self.answers.append((status, raw, delay))


@pytest.fixture
def gateway(settings):
    fake = FakeGateway()
    fake.thread.start()
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = fake.url
    settings.SMS_HTTP_SECRET = SECRET
    settings.SMS_HTTP_TIMEOUT = 0.3
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def queue_and_drain(text="请评价"):
    with time_machine.travel(TEN, tick=False):
        message = services.queue_sms(to=PHONE, text=text)
        drain_outbox(TEN)
    message.refresh_from_db()
    return message


def test_accepted_message_is_signed_and_records_the_gateway_id(gateway):
    gateway.answer(200, {"message_id": "gw-20250303-0001"})

    message = queue_and_drain()

    assert (message.status, message.provider_message_id, message.attempts) == (
        OutboxStatus.SENT,
        "gw-20250303-0001",
        1,
    )
    (request,) = gateway.requests
    body = json.loads(request["body"])
    assert request["path"] == "/sms/send"
    assert body == {
        "id": str(message.pk),
        "to": PHONE,
        "text": "【清远正风】请评价",
        "timestamp": body["timestamp"],
    }
    assert request["headers"]["X-Timestamp"] == body["timestamp"]
    assert request["headers"]["Idempotency-Key"] == str(message.pk)
    assert request["headers"]["Content-Type"] == "application/json; charset=utf-8"
    expected = hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-Signature"] == expected


def test_2xx_without_a_message_id_is_still_sent(gateway):
    gateway.answer(202, "accepted")

    message = queue_and_drain()

    assert (message.status, message.provider_message_id) == (OutboxStatus.SENT, "")


def test_5xx_is_temporary_and_retried_later(gateway):
    gateway.answer(503, "maintenance")

    message = queue_and_drain()

    assert (message.status, message.next_attempt_at, message.last_error) == (
        OutboxStatus.PENDING,
        TEN + dt.timedelta(minutes=1),
        "短信网关返回 HTTP 503: maintenance",
    )


def test_429_is_temporary(gateway):
    gateway.answer(429, "slow down")

    assert queue_and_drain().status == OutboxStatus.PENDING


def test_4xx_is_permanent(gateway):
    gateway.answer(400, {"error": "invalid number"})

    message = queue_and_drain()

    assert (message.status, message.last_error) == (
        OutboxStatus.FAILED,
        '短信网关返回 HTTP 400: {"error": "invalid number"}',
    )


def test_timeout_is_temporary(gateway):
    gateway.answer(200, {"message_id": "too-late"}, delay=1.0)

    message = queue_and_drain()

    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 1)
    assert message.last_error.startswith("短信网关无法连接或超时: ")


def test_connection_refused_is_temporary(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more.
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = f"http://127.0.0.1:{port}/sms/send"
    settings.SMS_HTTP_SECRET = SECRET

    message = queue_and_drain()

    assert (message.status, message.next_attempt_at) == (OutboxStatus.PENDING, TEN + dt.timedelta(minutes=1))
    assert message.last_error.startswith("短信网关无法连接或超时: ")


def test_a_resend_after_a_worker_died_carries_the_same_idempotency_key(gateway, settings, monkeypatch):
    settings.WORKER_LEASE_SECONDS = 20
    with time_machine.travel(TEN, tick=False):
        message = services.queue_sms(to=PHONE, text="请评价")
        # The gateway accepted the first try, but the worker died before recording it.
        monkeypatch.setattr(worker, "_current_worker", "w-dead")
        (claimed,) = claim_due(TEN, limit=10)
        HttpTransport().send(claimed)
    WorkerProcess.objects.create(id="w-dead", host="h1", pid=1, started_at=TEN, last_seen=TEN)
    monkeypatch.setattr(worker, "_current_worker", "w-other")
    later = TEN + dt.timedelta(seconds=30)
    with time_machine.travel(later, tick=False):
        assert drain_outbox(later) == 1

    keys = [request["headers"]["Idempotency-Key"] for request in gateway.requests]
    ids = [json.loads(request["body"])["id"] for request in gateway.requests]
    assert keys == ids == [str(message.pk), str(message.pk)]
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 2)
