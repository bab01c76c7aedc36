"""Worker jobs of the messaging app (autodiscovered by core)."""

from __future__ import annotations

import datetime as dt

from zhengfeng.core.worker import periodic
from zhengfeng.messaging.sending import drain_outbox


@periodic("messaging.drain_outbox", every=dt.timedelta(seconds=0))
def drain_outbox_job(now: dt.datetime) -> int:
    # Every pass: a message is due the moment its service commits.
    return drain_outbox(now)
