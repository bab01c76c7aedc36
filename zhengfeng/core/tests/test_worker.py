import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from zhengfeng.core import worker
from zhengfeng.core.models import PeriodicJob

pytestmark = pytest.mark.django_db

calls: list[dt.datetime] = []


@pytest.fixture
def counting_job():
    calls.clear()

    def count(now):
        calls.append(now)

    worker.periodic("test.count", every=dt.timedelta(minutes=5))(count)
    yield "test.count"
    worker._registry.pop("test.count", None)


@pytest.fixture
def failing_job():
    def fail(now):
        raise RuntimeError("boom")

    worker.periodic("test.fail", every=dt.timedelta(minutes=1))(fail)
    yield "test.fail"
    worker._registry.pop("test.fail", None)


def test_due_job_runs_once_per_interval(counting_job):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        worker.run_due_jobs(only=None)
        worker.run_due_jobs()
    assert len(calls) == 1

    with time_machine.travel(start + dt.timedelta(minutes=4), tick=False):
        worker.run_due_jobs()
    assert len(calls) == 1

    with time_machine.travel(start + dt.timedelta(minutes=5), tick=False):
        worker.run_due_jobs()
    assert len(calls) == 2
    assert PeriodicJob.objects.get(name=counting_job).runs == 2


def test_a_claimed_job_is_not_run_by_a_second_worker(counting_job):
    now = timezone.now()
    PeriodicJob.objects.create(
        name=counting_job, next_run_at=now, locked_until=now + dt.timedelta(minutes=10)
    )

    results = worker.run_due_jobs(now)

    assert counting_job not in results
    assert calls == []


def test_an_expired_lease_is_taken_over(counting_job):
    now = timezone.now()
    PeriodicJob.objects.create(name=counting_job, next_run_at=now, locked_until=now - dt.timedelta(seconds=1))

    assert worker.run_due_jobs(now)[counting_job] is None
    assert calls == [now]


def test_a_failing_job_records_the_error_and_others_still_run(counting_job, failing_job):
    results = worker.run_due_jobs()

    assert results[counting_job] is None
    error = results[failing_job]
    assert error is not None
    assert "RuntimeError: boom" in error
    assert "RuntimeError: boom" in PeriodicJob.objects.get(name=failing_job).last_error
    assert PeriodicJob.objects.get(name=failing_job).locked_until is None


def test_worker_command_once_and_unknown_job(counting_job, capsys):
    call_command("worker", "--job", counting_job)
    assert len(calls) == 1
    assert f"任务 {counting_job} 完成" in capsys.readouterr().out

    with pytest.raises(SystemExit) as exc:
        call_command("worker", "--job", "no.such.job")
    assert exc.value.code == 2
