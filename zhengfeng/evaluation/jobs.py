"""Worker jobs of the evaluation app (autodiscovered by core)."""

from __future__ import annotations

import datetime as dt

from zhengfeng.core.worker import periodic
from zhengfeng.evaluation.services import process_replies


@periodic("evaluation.match_replies", every=dt.timedelta(minutes=1))
def match_replies_job(now: dt.datetime) -> dict[str, int]:
    # Once a minute: a citizen's answer need not be scored within seconds, and one pass takes a batch.
    return process_replies(now).as_dict()
