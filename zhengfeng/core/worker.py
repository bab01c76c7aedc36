"""The worker's job registry and one pass of the loop.

Apps register periodic jobs in their `jobs.py`:

    @periodic("messaging.drain_outbox", every=dt.timedelta(seconds=0))
    def drain_outbox(now): ...

Each job is claimed per run with a conditional UPDATE on its `PeriodicJob` row, so two workers
never run the same job at the same time, and a crashed worker's lease simply expires.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import F, Q
from django.utils import timezone

from zhengfeng.core.models import PeriodicJob

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


def _claim(job: Job, now: dt.datetime) -> bool:
    PeriodicJob.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
    claimed = (
        PeriodicJob.objects.filter(name=job.name, next_run_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=now + job.lease, last_started_at=now)
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
    PeriodicJob.objects.filter(name=job.name).update(
        next_run_at=now + job.every,
        locked_until=None,
        last_finished_at=finished,
        last_error=error[-4000:],
        runs=F("runs") + 1,
    )
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
