"""Claims with a heartbeat: a live worker keeps its job however long it runs; a dead one's is taken over."""

import datetime as dt
import os
import time

import pytest
import time_machine
from django.utils import timezone

from zhengfeng.core import worker
from zhengfeng.core.models import PeriodicJob, WorkerProcess

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 3, 3, 2, 0, tzinfo=dt.UTC)
calls: list[tuple[str, dt.datetime]] = []


@pytest.fixture
def counting_job():
    calls.clear()

    def count(now):
        calls.append((worker.current_worker_id(), now))

    worker.periodic("test.count", every=dt.timedelta(minutes=5))(count)
    yield "test.count"
    worker._registry.pop("test.count", None)


def seen(worker_id: str, at: dt.datetime) -> WorkerProcess:
    return WorkerProcess.objects.create(id=worker_id, host="h1", pid=1, started_at=at, last_seen=at)


def claimed_by(job: str, worker_id: str, *, at: dt.datetime) -> None:
    # The job's own lease ran out long ago: only the worker's heartbeat decides.
    PeriodicJob.objects.create(
        name=job,
        next_run_at=at,
        locked_until=at - dt.timedelta(hours=1),
        locked_by=worker_id,
        last_started_at=at,
    )


def test_a_live_worker_keeps_its_job_past_the_job_lease(counting_job, settings, monkeypatch):
    settings.WORKER_LEASE_SECONDS = 20
    claimed_by(counting_job, "w-live", at=NOW - dt.timedelta(hours=2))
    seen("w-live", NOW - dt.timedelta(seconds=20))
    monkeypatch.setattr(worker, "_current_worker", "w-other")

    assert worker.run_due_jobs(NOW, only=counting_job) == {}
    assert calls == []


def test_a_dead_workers_job_is_taken_over_after_the_worker_lease(counting_job, settings, monkeypatch):
    settings.WORKER_LEASE_SECONDS = 20
    claimed_by(counting_job, "w-dead", at=NOW - dt.timedelta(minutes=1))
    seen("w-dead", NOW - dt.timedelta(seconds=21))
    monkeypatch.setattr(worker, "_current_worker", "w-other")

    assert worker.run_due_jobs(NOW, only=counting_job) == {counting_job: None}

    assert calls == [("w-other", NOW)]
    job = PeriodicJob.objects.get(name=counting_job)
    assert (job.locked_by, job.locked_until, job.runs, job.next_run_at) == (
        "",
        None,
        1,
        NOW + dt.timedelta(minutes=5),
    )


def test_a_job_of_a_worker_whose_row_is_gone_is_taken_over(counting_job):
    claimed_by(counting_job, "w-vanished", at=NOW - dt.timedelta(minutes=1))

    assert worker.run_due_jobs(NOW, only=counting_job) == {counting_job: None}
    assert calls == [("", NOW)]


def test_a_run_recorded_after_the_claim_was_taken_over_changes_nothing(counting_job, monkeypatch):
    job = worker.registered_jobs()[counting_job]
    monkeypatch.setattr(worker, "_current_worker", "w-slow")
    PeriodicJob.objects.create(name=counting_job, next_run_at=NOW)
    assert worker._claim(job, NOW)
    # w-slow stopped beating; w-fast took the job over and ran it.
    later = NOW + dt.timedelta(minutes=1)
    PeriodicJob.objects.filter(name=counting_job).update(locked_by="w-fast", last_started_at=later)

    assert worker.run_job(job, NOW) is None

    row = PeriodicJob.objects.get(name=counting_job)
    assert (row.locked_by, row.last_started_at, row.runs) == ("w-fast", later, 0)


def test_a_run_without_a_heartbeat_holds_the_job_for_the_job_lease(counting_job):
    PeriodicJob.objects.create(name=counting_job, next_run_at=NOW, locked_until=NOW + dt.timedelta(seconds=1))

    assert worker.run_due_jobs(NOW, only=counting_job) == {}
    with time_machine.travel(NOW + dt.timedelta(seconds=2), tick=False):
        assert worker.run_due_jobs(NOW + dt.timedelta(seconds=2), only=counting_job) == {counting_job: None}


@pytest.mark.skipif(
    "FAKETIME" in os.environ,
    reason="under libfaketime (the CI's time-bomb pass) a timed wait in a thread never returns; this test "
    "is about real seconds between beats, not the calendar, and runs in the SQLite and PostgreSQL passes",
)
@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_renews_its_row_from_a_thread_and_removes_it_on_exit(settings):
    settings.WORKER_HEARTBEAT_SECONDS = 1
    with worker.Heartbeat() as heartbeat:
        assert worker.current_worker_id() == heartbeat.id
        first = WorkerProcess.objects.get(id=heartbeat.id).last_seen
        deadline = time.monotonic() + 5
        while WorkerProcess.objects.get(id=heartbeat.id).last_seen == first and time.monotonic() < deadline:
            time.sleep(0.1)
        renewed = WorkerProcess.objects.get(id=heartbeat.id).last_seen
        assert renewed > first
        assert list(worker.live_workers(timezone.now()).values_list("id", flat=True)) == [heartbeat.id]

    assert worker.current_worker_id() == ""
    assert WorkerProcess.objects.count() == 0
