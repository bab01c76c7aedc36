from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo

import pytest

from zhengfeng.deadlines.models import BudgetUnit, Clock, ClockState

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# A Wednesday in an ordinary working week (no holiday within ten working days either side).
NOW = dt.datetime(2026, 3, 11, 10, 0, tzinfo=SHANGHAI)
MINUTE = dt.timedelta(minutes=1)

_numbers = itertools.count(1)


def make_clock(
    unit, *, due_at, warn_at=None, kind="hotline.reply", label=None, state=ClockState.RUNNING, level=0
):
    """A running clock with explicit deadlines (the engine's replay is not under test here)."""
    number = next(_numbers)
    return Clock.objects.create(
        source_type="test.item",
        source_id=str(number),
        kind=kind,
        label=label or f"工单QY{number:05d}答复",
        unit=unit,
        division_code=unit.division_id if unit else "441800",
        budget_unit=BudgetUnit.WORKDAYS,
        budget=5,
        state=state,
        started_at=due_at - dt.timedelta(days=7),
        due_at=due_at,
        warn_at=warn_at,
        alert_level=level,
    )


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
