"""Two workers at once on PostgreSQL: every row is sent exactly once.

Threads get their own database connections; `transaction=True` lets them see each other's commits.
SQLite serialises writers, so the claim there is covered by the sequential two-claimer test in
test_drain.py instead.
"""

import threading
from collections import Counter

import pytest
import time_machine
from django.db import connection, transaction

from zhengfeng.messaging import services
from zhengfeng.messaging.models import OutboxMessage, OutboxStatus
from zhengfeng.messaging.sending import claim_due, drain_outbox
from zhengfeng.messaging.tests.conftest import local

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks (PostgreSQL)"),
]

TEN = local(2025, 3, 3, 10)


def run_in_threads(*targets):
    errors = []

    def wrap(target):
        def run():
            try:
                target()
            except Exception as exc:  # surfaced in the main thread below
                errors.append(exc)
            finally:
                connection.close()

        return run

    threads = [threading.Thread(target=wrap(target)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []


def test_two_workers_send_each_message_exactly_once(fake_carrier):
    with time_machine.travel(TEN, tick=False):
        ids = [services.queue_sms(to=f"139{n:08d}", text=f"第{n}条").pk for n in range(120)]
    start = threading.Barrier(2)
    sent_by_worker = []

    def worker():
        start.wait()
        sent_by_worker.append(drain_outbox(TEN))

    run_in_threads(worker, worker)

    assert sum(sent_by_worker) == 120
    assert Counter(item["id"] for item in fake_carrier) == Counter(ids)
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(OutboxStatus.SENT, 1)}


def test_a_row_locked_by_another_worker_is_skipped_not_waited_for():
    with time_machine.travel(TEN, tick=False):
        locked, free = (services.queue_sms(to="13900000000", text=f"第{n}条").pk for n in range(2))
    holding = threading.Event()
    release = threading.Event()

    def other_worker():
        with transaction.atomic():
            list(OutboxMessage.objects.select_for_update().filter(pk=locked))
            holding.set()
            release.wait(timeout=30)

    def other_worker_then_close() -> None:
        other_worker()
        connection.close()

    thread = threading.Thread(target=other_worker_then_close)
    thread.start()
    try:
        assert holding.wait(timeout=30)
        claimed = [message.pk for message in claim_due(TEN, limit=10)]
    finally:
        release.set()
        thread.join(timeout=30)

    assert claimed == [free]
    assert OutboxMessage.objects.get(pk=locked).status == OutboxStatus.PENDING
