"""The kernel's own worker jobs: the daily audit-chain anchor and the purge of ended rate-limit windows."""

from __future__ import annotations

import datetime as dt

from zhengfeng.core import anchors, ratelimit
from zhengfeng.core.worker import periodic


@periodic("core.anchor_audit_chain", every=dt.timedelta(days=1))
def anchor_audit_chain(now: dt.datetime) -> None:
    anchors.anchor(now=now)


@periodic("core.purge_rate_counters", every=dt.timedelta(hours=1))
def purge_rate_counters(now: dt.datetime) -> None:
    ratelimit.purge_expired(now)
