"""Worker jobs of the hotline app."""

from __future__ import annotations

import datetime as dt
import time

from zhengfeng.core.worker import periodic
from zhengfeng.hotline.services import submissions

REGISTER_BUDGET = dt.timedelta(seconds=30)


# Every pass of the worker loop: an accepted Open311 POST becomes a work order within seconds.
@periodic("hotline.register_open311", every=dt.timedelta(seconds=0))
def register_open311(now: dt.datetime) -> dict[str, int]:
    """Batches until the queue is empty or REGISTER_BUDGET is spent (a burst is worked off in one run
    without keeping the worker's other jobs waiting for long)."""
    totals = {"registered": 0, "failed": 0}
    deadline = time.monotonic() + REGISTER_BUDGET.total_seconds()
    while True:
        counts = submissions.register_open311_submissions(limit=submissions.REGISTER_BATCH)
        for name, value in counts.items():
            totals[name] += value
        if sum(counts.values()) < submissions.REGISTER_BATCH or time.monotonic() >= deadline:
            return totals
