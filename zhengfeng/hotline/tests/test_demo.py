"""The demo loader: orders in many states through the services, idempotent."""

from __future__ import annotations

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
