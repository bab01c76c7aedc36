import datetime as dt
import json
import logging

import pytest
import time_machine

from zhengfeng.core import worker
from zhengfeng.core.models import AuditLog, WorkerProcess
from zhengfeng.messaging import services
from zhengfeng.messaging.models import OutboxMessage, OutboxStatus
from zhengfeng.messaging.quiet_hours import quiet_window_end
from zhengfeng.messaging.sending import backoff, claim_conditionally, claim_due, drain_outbox, send_one
from zhengfeng.messaging.tests.conftest import PHONE, local
from zhengfeng.messaging.transports import TransportError, script_locmem

pytestmark = pytest.mark.django_db

TEN = local(2025, 3, 3, 10)


def queue(text="请评价", at=TEN, **kwargs):
    with time_machine.travel(at, tick=False):
        return services.queue_sms(to=PHONE, text=text, **kwargs)


def drain(at):
    with time_machine.travel(at, tick=False):
        return drain_outbox(at)


def test_locmem_backend_sends_once_and_records_the_provider_id(fake_carrier):
    message = queue()

    assert drain(TEN) == 1
    assert drain(TEN + dt.timedelta(minutes=1)) == 0

    message.refresh_from_db()
    assert (
        message.status,
        message.attempts,
        message.sent_at,
        message.provider_message_id,
        message.claim_token,
    ) == (
        OutboxStatus.SENT,
        1,
        TEN,
        f"locmem-{message.pk}",
        "",
    )
    assert fake_carrier == [
        {"id": message.pk, "to": PHONE, "text": "【清远正风】请评价", "provider_id": f"locmem-{message.pk}"}
    ]


def test_a_message_not_yet_due_waits():
    queue(not_before=TEN + dt.timedelta(hours=2))

    assert drain(TEN + dt.timedelta(hours=1, minutes=59)) == 0
    assert drain(TEN + dt.timedelta(hours=2)) == 1


def test_console_backend_logs_the_masked_phone(settings, caplog):
    settings.SMS_BACKEND = "console"
    message = queue()

    with caplog.at_level(logging.INFO, logger="zhengfeng.messaging.transports"):
        assert drain(TEN) == 1

    assert caplog.messages == [f"SMS #{message.pk} → 138****5678: 【清远正风】请评价"]
    message.refresh_from_db()
    assert (message.status, message.provider_message_id) == (OutboxStatus.SENT, "")


def test_file_backend_appends_json_lines_and_creates_the_directory(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "var" / "sms" / "out.jsonl")
    first = queue(text="第一条", source=("hotline.workorder", "7"))
    second = queue(text="第二条")

    assert drain(TEN) == 2

    lines = [
        json.loads(line) for line in (tmp_path / "var" / "sms" / "out.jsonl").read_text("utf-8").splitlines()
    ]
    assert lines == [
        {
            "id": first.pk,
            "to": PHONE,
            "text": "【清远正风】第一条",
            "sent_at": "2025-03-03T02:00:00+00:00",
            "source_type": "hotline.workorder",
            "source_id": "7",
        },
        {
            "id": second.pk,
            "to": PHONE,
            "text": "【清远正风】第二条",
            "sent_at": "2025-03-03T02:00:00+00:00",
            "source_type": "",
            "source_id": "",
        },
    ]
    assert OutboxMessage.objects.get(pk=first.pk).provider_message_id == f"file-{first.pk}"


def test_file_backend_error_is_temporary(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    (tmp_path / "blocker").write_text("a file, not a directory")
    settings.SMS_FILE_PATH = str(tmp_path / "blocker" / "sms.jsonl")
    message = queue()

    assert drain(TEN) == 0

    message.refresh_from_db()
    assert (message.status, message.next_attempt_at) == (OutboxStatus.PENDING, TEN + dt.timedelta(minutes=1))
    assert message.last_error.startswith("无法写入短信文件 ")


def test_email_is_sent_through_the_django_mail_backend(mailoutbox):
    with time_machine.travel(TEN, tick=False):
        message = services.queue_email(
            to="liaison@example.gov.cn", subject="催办通知", text="请于三日内答复。"
        )

    assert drain(TEN) == 1

    assert [(mail.subject, mail.body, mail.to) for mail in mailoutbox] == [
        ("催办通知", "请于三日内答复。", ["liaison@example.gov.cn"])
    ]
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT


def test_backoff_sequence_is_exponential_and_capped():
    assert [backoff(n).total_seconds() / 60 for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_temporary_errors_retry_at_exact_backoff_times(fake_carrier):
    message = queue()
    script_locmem(TransportError("网关繁忙"), TransportError("网关繁忙"), TransportError("网关繁忙"), "gw-9")

    schedule = []
    for minute in (0, 1, 3, 6, 7):
        drain(TEN + dt.timedelta(minutes=minute))
        message.refresh_from_db()
        schedule.append(
            (minute, message.status, message.attempts, message.next_attempt_at, message.last_error)
        )

    assert schedule == [
        (0, OutboxStatus.PENDING, 1, TEN + dt.timedelta(minutes=1), "网关繁忙"),
        (1, OutboxStatus.PENDING, 2, TEN + dt.timedelta(minutes=3), "网关繁忙"),
        (3, OutboxStatus.PENDING, 3, TEN + dt.timedelta(minutes=7), "网关繁忙"),
        (6, OutboxStatus.PENDING, 3, TEN + dt.timedelta(minutes=7), "网关繁忙"),
        (7, OutboxStatus.SENT, 4, TEN + dt.timedelta(minutes=7), ""),
    ]
    assert (message.sent_at, message.provider_message_id) == (TEN + dt.timedelta(minutes=7), "gw-9")
    assert len(fake_carrier) == 1


def test_temporary_errors_fail_after_max_attempts(settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    message = queue()
    script_locmem(*[TransportError("网关繁忙")] * 3)

    for minute in (0, 1, 3):
        drain(TEN + dt.timedelta(minutes=minute))

    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.FAILED, 3, "网关繁忙")
    assert drain(TEN + dt.timedelta(hours=5)) == 0
    row = AuditLog.objects.get(action="messaging.failed")
    assert (row.target_id, row.data) == (
        str(message.pk),
        {"attempts": 3, "error": "网关繁忙", "permanent": False},
    )


def test_permanent_error_fails_at_once():
    message = queue()
    script_locmem(TransportError("空号", permanent=True))

    drain(TEN)

    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error, message.sent_at) == (
        OutboxStatus.FAILED,
        1,
        "空号",
        None,
    )


def test_an_unexpected_exception_is_retried_like_a_temporary_error(settings):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = "\0invalid"  # ValueError from the OS layer, not an OSError
    message = queue()

    drain(TEN)

    message.refresh_from_db()
    assert (message.status, message.next_attempt_at) == (OutboxStatus.PENDING, TEN + dt.timedelta(minutes=1))
    assert message.last_error.startswith("ValueError: ")


def test_an_abandoned_sending_row_is_retried_after_the_lease(fake_carrier):
    message = queue()
    with time_machine.travel(TEN, tick=False):
        assert [row.pk for row in claim_due(TEN, limit=10)] == [message.pk]
    # The worker that claimed it died here.

    assert drain(TEN + dt.timedelta(minutes=9, seconds=59)) == 0
    assert OutboxMessage.objects.get(pk=message.pk).status == OutboxStatus.SENDING

    assert drain(TEN + dt.timedelta(minutes=10, seconds=1)) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.sent_at) == (
        OutboxStatus.SENT,
        2,
        TEN + dt.timedelta(minutes=10, seconds=1),
    )


def test_an_abandoned_row_without_tries_left_fails(settings):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    message = queue()
    with time_machine.travel(TEN, tick=False):
        claim_due(TEN, limit=10)

    assert drain(TEN + dt.timedelta(minutes=11)) == 0

    message.refresh_from_db()
    assert (message.status, message.last_error) == (
        OutboxStatus.FAILED,
        "上次发送未完成（工作进程中断或超时）",
    )


def test_a_late_outcome_of_a_taken_over_claim_changes_nothing(fake_carrier):
    message = queue()
    with time_machine.travel(TEN, tick=False):
        (slow_worker_copy,) = claim_due(TEN, limit=10)
    # Another worker takes the row over after the lease and sends it.
    assert drain(TEN + dt.timedelta(minutes=11)) == 1

    # The first worker wakes up; its claim token no longer matches, so the row keeps the real outcome.
    with time_machine.travel(TEN + dt.timedelta(minutes=12), tick=False):
        assert send_one(slow_worker_copy) == ""

    message.refresh_from_db()
    assert (message.status, message.sent_at, message.attempts) == (
        OutboxStatus.SENT,
        TEN + dt.timedelta(minutes=11),
        2,
    )


def test_two_claimers_with_the_conditional_update_get_each_row_once():
    """The SQLite path: both workers saw the same candidates; the conditional UPDATE lets one win."""
    ids = [queue(text=f"第{n}条").pk for n in range(3)]

    first = claim_conditionally(ids, TEN, "worker-a")
    second = claim_conditionally(ids, TEN, "worker-b")

    assert (first, second) == (ids, [])
    assert set(OutboxMessage.objects.values_list("claim_token", "attempts")) == {("worker-a", 1)}


def test_claim_due_does_not_hand_out_a_claimed_row_twice():
    queue()
    queue()

    with time_machine.travel(TEN, tick=False):
        first = claim_due(TEN, limit=1)
        second = claim_due(TEN, limit=10)
        third = claim_due(TEN, limit=10)

    assert (len(first), len(second), third) == (1, 1, [])
    assert first[0].pk != second[0].pk


def test_drain_limit_counts_messages_handled():
    for n in range(25):
        queue(text=f"第{n}条")

    with time_machine.travel(TEN, tick=False):
        assert drain_outbox(TEN, limit=22) == 22
        assert drain_outbox(TEN, limit=22) == 3
    assert OutboxMessage.objects.filter(status=OutboxStatus.SENT).count() == 25


# The worker loop calls close_old_connections(), which must run outside a test transaction.
@pytest.mark.django_db(transaction=True)
def test_the_worker_job_drains_the_outbox(fake_carrier):
    queue()

    with time_machine.travel(TEN, tick=False):
        results = worker.run_due_jobs(TEN, only="messaging.drain_outbox")

    assert results == {"messaging.drain_outbox": None}
    assert worker.registered_jobs()["messaging.drain_outbox"].every == dt.timedelta(0)
    assert len(fake_carrier) == 1


# --- Quiet hours (default 21:00-08:00 in Asia/Shanghai) ----------------------------------------


def test_sms_queued_in_quiet_hours_waits_until_the_morning(fake_carrier):
    message = queue(at=local(2025, 3, 3, 22, 30))

    assert message.next_attempt_at == local(2025, 3, 4, 8)
    assert drain(local(2025, 3, 3, 22, 30)) == 0
    assert drain(local(2025, 3, 4, 7, 59)) == 0
    assert drain(local(2025, 3, 4, 8)) == 1
    message.refresh_from_db()
    assert message.sent_at == local(2025, 3, 4, 8)


def test_a_due_sms_found_in_quiet_hours_is_postponed_not_sent(fake_carrier):
    message = queue(at=local(2025, 3, 3, 20))

    assert drain(local(2025, 3, 3, 22, 30)) == 0

    message.refresh_from_db()
    assert (message.status, message.next_attempt_at, message.attempts) == (
        OutboxStatus.PENDING,
        local(2025, 3, 4, 8),
        0,
    )
    assert fake_carrier == []


def test_after_midnight_the_window_ends_the_same_morning():
    message = queue(at=local(2025, 3, 4, 1, 15))

    assert message.next_attempt_at == local(2025, 3, 4, 8)


def test_a_retry_that_lands_in_quiet_hours_waits_for_the_morning():
    message = queue(at=local(2025, 3, 3, 20, 59, 30))
    script_locmem(TransportError("网关繁忙"))

    drain(local(2025, 3, 3, 20, 59, 30))

    message.refresh_from_db()
    assert (message.status, message.next_attempt_at) == (OutboxStatus.PENDING, local(2025, 3, 4, 8))


def test_empty_quiet_hours_setting_disables_them(settings, fake_carrier):
    settings.SMS_QUIET_HOURS = None
    message = queue(at=local(2025, 3, 3, 22, 30))

    assert message.next_attempt_at == local(2025, 3, 3, 22, 30)
    assert drain(local(2025, 3, 3, 22, 30)) == 1


def test_urgent_sms_and_email_ignore_quiet_hours(fake_carrier, mailoutbox):
    night = local(2025, 3, 3, 23)
    urgent = queue(at=night, respect_quiet_hours=False)
    with time_machine.travel(night, tick=False):
        services.queue_email(to="office@example.gov.cn", subject="夜间", text="邮件不受免打扰限制")

    assert drain(night) == 2
    assert OutboxMessage.objects.get(pk=urgent.pk).sent_at == night
    assert len(mailoutbox) == 1


def test_a_daytime_window_that_does_not_wrap_midnight(settings):
    settings.SMS_QUIET_HOURS = ((12, 0), (14, 30))

    assert quiet_window_end(local(2025, 3, 3, 11, 59)) is None
    assert quiet_window_end(local(2025, 3, 3, 12)) == local(2025, 3, 3, 14, 30)
    assert quiet_window_end(local(2025, 3, 3, 14, 29)) == local(2025, 3, 3, 14, 30)
    assert quiet_window_end(local(2025, 3, 3, 14, 30)) is None


def test_a_row_claimed_by_a_live_worker_stays_its_own_past_the_lease(fake_carrier, settings, monkeypatch):
    settings.WORKER_LEASE_SECONDS = 20
    message = queue()
    monkeypatch.setattr(worker, "_current_worker", "w-live")
    with time_machine.travel(TEN, tick=False):
        claim_due(TEN, limit=10)
    later = TEN + dt.timedelta(minutes=30)
    WorkerProcess.objects.create(id="w-live", host="h1", pid=1, started_at=TEN, last_seen=later)
    monkeypatch.setattr(worker, "_current_worker", "w-other")

    assert drain(later) == 0

    message.refresh_from_db()
    assert (message.status, message.claimed_by, message.attempts) == (OutboxStatus.SENDING, "w-live", 1)


def test_a_row_of_a_dead_worker_is_sent_again_after_the_worker_lease(fake_carrier, settings, monkeypatch):
    settings.WORKER_LEASE_SECONDS = 20
    message = queue()
    monkeypatch.setattr(worker, "_current_worker", "w-dead")
    with time_machine.travel(TEN, tick=False):
        claim_due(TEN, limit=10)
    WorkerProcess.objects.create(id="w-dead", host="h1", pid=1, started_at=TEN, last_seen=TEN)
    monkeypatch.setattr(worker, "_current_worker", "w-other")

    assert drain(TEN + dt.timedelta(seconds=20)) == 0
    assert drain(TEN + dt.timedelta(seconds=21)) == 1

    message.refresh_from_db()
    assert (message.status, message.claimed_by, message.attempts, message.sent_at) == (
        OutboxStatus.SENT,
        "w-other",
        2,
        TEN + dt.timedelta(seconds=21),
    )
    assert [sent["id"] for sent in fake_carrier] == [message.pk]
