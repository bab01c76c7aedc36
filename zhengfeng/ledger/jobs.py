"""Worker jobs of the ledger app: schedule the quarterly reports and declare missing ones."""

from __future__ import annotations

import datetime as dt

from zhengfeng.core.worker import periodic
from zhengfeng.ledger.reports import services as reports_services


@periodic("ledger.reports_schedule", every=dt.timedelta(hours=6))
def schedule_reports(now: dt.datetime) -> int:
    """The current and the next quarter's reports for every active rule (idempotent)."""
    return reports_services.schedule_current(now)


@periodic("ledger.reports_missing", every=dt.timedelta(hours=1))
def record_missing_reports(now: dt.datetime) -> int:
    """Reports still not submitted when the next period falls due become 漏报 (scored once)."""
    return reports_services.record_missing_reports(now)
