"""Fault test: kill -9 the web server and the worker under Open311 load, restart them, count exactly.

Real processes against the test database (PostgreSQL only: SQLite's test database lives in this
process's memory): gunicorn through `zhengfeng serve`, the `zhengfeng worker` loop, Open311 POSTs over
real HTTP with a real API key from client threads, and a fake SMS gateway (a real HTTP server here)
that delivers each `Idempotency-Key` once. Midway, while the worker holds an outbox claim, both process
groups get SIGKILL; they are restarted at once. A client retries a POST that got no answer (as an
Open311 client does), which the request fingerprint answers with the first code.

Checked at the end: every POST acknowledged; the acknowledged codes are exactly the registered work
orders, each once; every SMS delivered once by key; the dead worker's claims taken over within the
worker lease. docs/security.md ("Crash safety") has the figures.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from zhengfeng.core.models import PeriodicJob, WorkerProcess
from zhengfeng.hotline.models import Open311Submission, SubmissionState, WorkOrder
from zhengfeng.messaging import services as messaging
from zhengfeng.messaging.models import OutboxMessage, OutboxStatus
from zhengfeng.org.services import create_api_key

pytestmark = [pytest.mark.fault, pytest.mark.django_db(transaction=True)]

POSTS = 600
CLIENTS = 4
PACE = 0.01
SMS = 80
GATEWAY_DELAY = 0.04
LEASE_SECONDS = 3
BUDGET_SECONDS = 85
ROOT = Path(__file__).resolve().parents[3]


class Gateway:
    """The carrier side of docs/sms-gateway.md: a key seen before is answered 2xx and not delivered again."""

    def __init__(self) -> None:
        self.delivered: Counter[str] = Counter()
        self.repeats = 0
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                key = self.headers["Idempotency-Key"]
                with gateway.lock:
                    if key in gateway.delivered:
                        gateway.repeats += 1
                    else:
                        gateway.delivered[key] += 1
                # Accepted before answering: a worker killed now leaves the row unrecorded.
                time.sleep(GATEWAY_DELAY)
                answer = json.dumps({"message_id": f"gw-{key}"}).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the worker was killed while waiting

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms/send"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.daemon = True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Process:
    """A command in its own process group, so SIGKILL takes gunicorn's master and its workers at once."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.argv, self.env, self.log = argv, env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(  # noqa: S603 (our own interpreter and command line)
                self.argv,
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=10)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def zhengfeng_command(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "manage.py"), *args]


def wait_until(condition: Any, *, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (our local server)
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


@pytest.fixture
def postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("fault test needs PostgreSQL: the server and worker subprocesses share the test database")


def test_kill_9_of_server_and_worker_loses_and_duplicates_nothing(postgres, categories, qingcheng, tmp_path):
    started = time.monotonic()
    token = create_api_key(name="故障演练", scopes=["open311"])[1]
    for n in range(SMS):
        messaging.queue_sms(to="13902630001", text=f"故障演练短信 {n}", respect_quiet_hours=False)
    gateway = Gateway()
    gateway.thread.start()

    db = connection.settings_dict
    port = free_port()
    env = {
        **os.environ,
        "DB_ENGINE": "postgres",
        "DB_NAME": str(db["NAME"]),
        "DB_HOST": str(db["HOST"] or "127.0.0.1"),
        "DB_PORT": str(db["PORT"] or 5432),
        "DB_USER": str(db["USER"] or "postgres"),
        "DB_PASSWORD": str(db["PASSWORD"] or ""),
        "DEBUG": "False",
        "HTTPS": "False",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SMS_BACKEND": "http",
        "SMS_HTTP_URL": gateway.url,
        "SMS_HTTP_SECRET": "fault-test-gateway-secret",
        "SMS_HTTP_TIMEOUT": "5",
        "WORKER_POLL_SECONDS": "1",
        "WORKER_HEARTBEAT_SECONDS": "1",
        "WORKER_LEASE_SECONDS": str(LEASE_SECONDS),
        "WEB_CONCURRENCY": "2",
    }
    server = Process(
        zhengfeng_command("serve", "--no-collectstatic", "--bind", f"127.0.0.1:{port}"),
        env,
        tmp_path / "web.log",
    )
    worker = Process(zhengfeng_command("worker"), env, tmp_path / "worker.log")
    base = f"http://127.0.0.1:{port}"

    codes: dict[int, str] = {}
    failures: list[int] = []
    tries = Counter[int]()
    next_post = iter(range(POSTS))
    lock = threading.Lock()

    def client() -> None:
        while True:
            with lock:
                n = next(next_post, None)
            if n is None:
                return
            body = urllib.parse.urlencode(
                {
                    "api_key": token,
                    "service_code": "010101",
                    "lat": "23.68",
                    "long": "113.05",
                    "description": f"故障演练第 {n} 号：北江路路灯不亮",
                    "attribute[request_type]": "complaint",
                    "phone": "13902630001",
                    "device_id": f"fault-{n}",
                }
            ).encode()
            while time.monotonic() - started < BUDGET_SECONDS - 20:
                tries[n] += 1
                request = urllib.request.Request(  # noqa: S310 (our local server)
                    f"{base}/open311/v2/requests.json", data=body, method="POST"
                )
                try:
                    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                        codes[n] = json.loads(response.read())[0]["service_request_id"]
                        # A steady stream rather than a burst: the kill must land mid-load.
                        time.sleep(PACE)
                        break
                except (OSError, urllib.error.URLError, ValueError):
                    time.sleep(0.1)  # the server is down or was killed mid-answer: the same POST again
            else:
                failures.append(n)

    server.start()
    try:
        assert wait_until(lambda: answers(f"{base}/open311/discovery.json"), timeout=30), server.tail()
        clients = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for thread in clients:
            thread.start()
        # The worker starts under load; it drains the outbox first, then registers the backlog.
        worker.start()
        assert wait_until(lambda: WorkerProcess.objects.exists(), timeout=30), worker.tail()
        (dead_id,) = WorkerProcess.objects.values_list("id", flat=True)

        # Midway, while the worker holds an outbox claim (its gateway call may be accepted already).
        assert wait_until(
            lambda: OutboxMessage.objects.filter(status=OutboxStatus.SENDING, claimed_by=dead_id).exists(),
            timeout=30,
            step=0.005,
        ), worker.tail()
        killed_at = time.monotonic()
        held_jobs = list(PeriodicJob.objects.filter(locked_by=dead_id).values_list("name", flat=True))
        held_rows = OutboxMessage.objects.filter(status=OutboxStatus.SENDING, claimed_by=dead_id).count()
        server.kill()
        worker.kill()
        acknowledged_at_kill = len(codes)
        server.start()
        worker.start()

        def taken_over() -> bool:
            return not (
                PeriodicJob.objects.filter(locked_by=dead_id).exists()
                or OutboxMessage.objects.filter(status=OutboxStatus.SENDING, claimed_by=dead_id).exists()
            )

        assert wait_until(taken_over, timeout=30, step=0.1)
        takeover = time.monotonic() - killed_at
        for thread in clients:
            thread.join(timeout=BUDGET_SECONDS)

        def all_done() -> bool:
            return not (
                Open311Submission.objects.filter(state=SubmissionState.PENDING).exists()
                or OutboxMessage.objects.exclude(status=OutboxStatus.SENT).exists()
            )

        assert wait_until(
            all_done, timeout=max(5, BUDGET_SECONDS - (time.monotonic() - started)), step=0.2
        ), worker.tail()
    finally:
        server.kill(signal.SIGTERM)
        worker.kill(signal.SIGTERM)
        gateway.server.shutdown()
        gateway.server.server_close()

    acknowledged = set(codes.values())
    registered = list(WorkOrder.objects.values_list("code", flat=True))
    figures: dict[str, Any] = {
        "posts": POSTS,
        "acknowledged": len(codes),
        "acknowledged_at_kill": acknowledged_at_kill,
        "retried_posts": sum(1 for count in tries.values() if count > 1),
        "registered": len(registered),
        "lost": len(acknowledged - set(registered)),
        "duplicated": len(registered) - len(set(registered)),
        "unacknowledged_registered": len(set(registered) - acknowledged),
        "parked": Open311Submission.objects.filter(state=SubmissionState.FAILED).count(),
        "sms": SMS,
        "sms_delivered": len(gateway.delivered),
        "sms_repeats_absorbed_by_key": gateway.repeats,
        "sms_duplicates_by_key": sum(count - 1 for count in gateway.delivered.values()),
        "claims_held_at_kill": {"jobs": held_jobs, "outbox_rows": held_rows},
        "takeover_seconds": round(takeover, 1),
        "total_seconds": round(time.monotonic() - started, 1),
    }
    print(
        "fault-test figures:", json.dumps(figures, ensure_ascii=False)
    )  # the figures docs/security.md quotes (pytest -s)
    assert failures == []
    assert (len(codes), len(acknowledged)) == (POSTS, POSTS)
    assert sorted(registered) == sorted(acknowledged)
    assert (figures["lost"], figures["duplicated"], figures["parked"]) == (0, 0, 0)
    assert Open311Submission.objects.filter(state=SubmissionState.REGISTERED).count() == POSTS
    assert sorted(gateway.delivered) == sorted(
        str(pk) for pk in OutboxMessage.objects.values_list("id", flat=True)
    )
    assert figures["sms_duplicates_by_key"] == 0
    assert OutboxMessage.objects.filter(status=OutboxStatus.SENT).count() == SMS
    assert held_rows > 0
    assert 0 < acknowledged_at_kill < POSTS
    assert takeover < LEASE_SECONDS + 5
    assert figures["total_seconds"] < 90
