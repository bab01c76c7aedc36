"""Worker jobs of the hotline app."""

from __future__ import annotations

import datetime as dt

from zhengfeng.core.worker import periodic
from zhengfeng.hotline import services


@periodic("hotline.sweep_overdue", every=dt.timedelta(minutes=5))
def sweep_overdue(now: dt.datetime) -> dict[str, int]:
    return services.sweep_overdue(now)
