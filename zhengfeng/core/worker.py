"""The worker's job registry and one pass of the loop.

Apps register periodic jobs in their `jobs.py`:

    @periodic("messaging.drain_outbox", every=dt.timedelta(seconds=0))
    def drain_outbox(now): ...

Each job is claimed per run with a conditional UPDATE on its `PeriodicJob` row, so two workers
never run the same job at the same time.

A running `zhengfeng worker` has a `Heartbeat`: its `WorkerProcess` row, renewed from a thread every
WORKER_HEARTBEAT_SECONDS. Its claims name it, and stay its own however long a job runs as long as it
beats; once its row is older than WORKER_LEASE_SECONDS (killed, host gone) any other worker takes the
claims over. A run without a heartbeat (`worker --once`, tests) holds its job for the job's `lease`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from zhengfeng.core.models import PeriodicJob, WorkerProcess

logger = logging.getLogger(__name__)

JobFunc = Callable[[dt.datetime], object]


@dataclass(frozen=True)
class Job:
    name: str
    func: JobFunc
    every: dt.timedelta
    lease: dt.timedelta


_registry: dict[str, Job] = {}


def periodic(
    name: str, *, every: dt.timedelta, lease: dt.timedelta = dt.timedelta(minutes=10)
) -> Callable[[JobFunc], JobFunc]:
    """Register `func(now)` to run at most once per `every` across all workers."""

    def decorator(func: JobFunc) -> JobFunc:
        _registry[name] = Job(name=name, func=func, every=every, lease=lease)
        return func

    return decorator


def registered_jobs() -> dict[str, Job]:
    return dict(_registry)


# ------------------------------------------------------------------------------------- heartbeat

# The id of this process's running Heartbeat ("" when there is none); claims are made in its name.
_current_worker = ""


def current_worker_id() -> str:
    return _current_worker


def worker_lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.WORKER_LEASE_SECONDS)


def live_workers(now: dt.datetime) -> QuerySet[WorkerProcess]:
    """Workers seen within the lease: their claims are theirs, however old."""
    return WorkerProcess.objects.filter(last_seen__gte=now - worker_lease())


def abandoned_by_dead_worker(now: dt.datetime, *, field: str) -> Q:
    """Claims (`field` names the worker) made by a worker that has stopped beating."""
    return ~Q(**{field: ""}) & ~Q(**{f"{field}__in": live_workers(now).values("id")})


class Heartbeat:
    """This process's WorkerProcess row, renewed from a daemon thread while the worker runs.

    The thread only touches that row (its own connection), so it never waits on a job's locks; a beat
    that fails (database restarting) is logged and retried at the next period.
    """

    def __init__(self) -> None:
        self.id = secrets.token_hex(16)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Heartbeat:
        global _current_worker
        now = timezone.now()
        # Rows of workers gone for a day are of no use to anyone (the panel shows the live ones).
        WorkerProcess.objects.filter(last_seen__lt=now - dt.timedelta(days=1)).delete()
        WorkerProcess.objects.create(
            id=self.id, host=socket.gethostname()[:255], pid=os.getpid(), started_at=now, last_seen=now
        )
        _current_worker = self.id
        self._thread = threading.Thread(target=self._run, name="worker-heartbeat", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        global _current_worker
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=settings.WORKER_HEARTBEAT_SECONDS + 5)
        _current_worker = ""
        # A clean stop: nothing of ours is claimed any more, and the panel must not count us as live.
        WorkerProcess.objects.filter(id=self.id).delete()

    def beat(self) -> None:
        now = timezone.now()
        if not WorkerProcess.objects.filter(id=self.id).update(last_seen=now):
            # Our row was deleted (declared dead after a long pause): come back under the same id.
            WorkerProcess.objects.create(
                id=self.id, host=socket.gethostname()[:255], pid=os.getpid(), started_at=now, last_seen=now
            )

    def _run(self) -> None:
        try:
            while not self._stop.wait(settings.WORKER_HEARTBEAT_SECONDS):
                try:
                    self.beat()
                except Exception:
                    logger.exception("worker heartbeat failed; retrying")
                    connection.close()
        finally:
            connection.close()


def worker_status(now: dt.datetime) -> dict[str, Any]:
    """The jobs' last runs and errors, and the live workers (the backlog panel)."""
    return {
        "jobs": list(PeriodicJob.objects.order_by("name")),
        "live": list(live_workers(now).order_by("started_at", "id")),
    }


# ------------------------------------------------------------------------------------------- runs


def _claim(job: Job, now: dt.datetime) -> bool:
    PeriodicJob.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
    free = (
        Q(locked_until__isnull=True)
        | Q(locked_by="", locked_until__lt=now)
        | abandoned_by_dead_worker(now, field="locked_by")
    )
    claimed = (
        PeriodicJob.objects.filter(name=job.name, next_run_at__lte=now)
        .filter(free)
        .update(locked_until=now + job.lease, locked_by=current_worker_id(), last_started_at=now)
    )
    # Another worker updated the row first, or the job is not due yet.
    return claimed == 1


def run_job(job: Job, now: dt.datetime) -> str | None:
    """Run one claimed job; return the error text if it failed (the worker keeps going)."""
    error = ""
    try:
        job.func(now)
    except Exception:
        error = traceback.format_exc()
        logger.exception("job %s failed", job.name)
    finished = timezone.now()
    # Only while the claim is still ours: a worker that took the job over owns its row now.
    recorded = PeriodicJob.objects.filter(
        name=job.name, locked_by=current_worker_id(), last_started_at=now
    ).update(
        next_run_at=now + job.every,
        locked_until=None,
        locked_by="",
        last_finished_at=finished,
        last_error=error[-4000:],
        runs=F("runs") + 1,
    )
    if not recorded:
        logger.warning("job %s: claim lost before the run was recorded", job.name)
    return error or None


def run_due_jobs(now: dt.datetime | None = None, *, only: str | None = None) -> dict[str, str | None]:
    """One pass: run every due job (or just `only`, due or not). Returns {job name: error or None}."""
    now = now or timezone.now()
    results: dict[str, str | None] = {}
    for job in list(_registry.values()):
        if only is not None:
            if job.name != only:
                continue
            PeriodicJob.objects.update_or_create(name=job.name, defaults={"next_run_at": now})
        if _claim(job, now):
            results[job.name] = run_job(job, now)
    return results
