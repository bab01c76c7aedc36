"""The demo loader: orders in many states through the services, idempotent."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine

from zhengfeng.hotline import demo
from zhengfeng.hotline.models import DispatchRule, WorkOrder
from zhengfeng.org.demo import load_demo as load_org_demo


def test_demo_orders_are_idempotent(db, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    # Built-in taxonomy and generated texts: the test must not depend on the shared data folder.
    monkeypatch.setattr(demo, "DATA_DIR", tmp_path / "missing")
    load_org_demo()
    first = demo.load_demo(count=40)
    statuses = set(WorkOrder.objects.values_list("status", flat=True))
    assert first["created"] == WorkOrder.objects.count() > 30
    assert {"closed", "handling"} <= statuses
    assert len(statuses) >= 4
    assert DispatchRule.objects.filter(division__isnull=False).exists()
    assert demo.load_demo(count=40) == {"created": 0}


@pytest.mark.parametrize(
    "today",
    [
        # Around the National Day holiday, a 补班 Saturday, the Spring Festival and an ordinary week:
        # the stories must respect every rule (extension caps, deadlines) whatever day the demo is loaded.
        "2026-10-09 09:00",
        "2026-10-10 15:00",
        "2026-02-24 10:00",
        "2026-11-27 16:30",
    ],
)
def test_demo_loads_on_any_day(db, settings, tmp_path, monkeypatch, today):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(demo, "DATA_DIR", tmp_path / "missing")
    moment = dt.datetime.fromisoformat(today).replace(tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(moment, tick=False):
        load_org_demo()
        result = demo.load_demo(count=80)

    assert result["created"] == WorkOrder.objects.count() > 60
