"""Worker jobs of the alerts app."""

from __future__ import annotations

import datetime as dt

from zhengfeng.alerts import services
from zhengfeng.core.worker import periodic


@periodic("alerts.sweep", every=dt.timedelta(minutes=5))
def sweep(now: dt.datetime) -> dict[int, int]:
    counts = services.sweep(now)
    # Separate transaction: the sweep commits first, however long messaging takes.
    services.notify_units(now)
    return counts
