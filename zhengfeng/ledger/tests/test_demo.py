"""The demo loads the 2015 plan on top of the org demo, idempotently."""

from __future__ import annotations

import io
from collections import Counter

from zhengfeng.core.models import AuditLog
from zhengfeng.deadlines.models import Clock
from zhengfeng.ledger import demo
from zhengfeng.ledger.models import (
    Ledger,
    LedgerStep,
    Plan,
    ProgressEntry,
    QuarterlyReport,
    RectificationDemand,
    Responsibility,
    Task,
)
from zhengfeng.org.models import Unit


def test_demo_loads_the_seed_plan_and_ledgers_once(demo_org, seed_text):
    out = io.StringIO()
    assert demo.load_demo(stdout=out) == {
        "created": {"units": 0, "plan": 1, "ledgers": 4, "reports": 124, "reviews": 1}
    }
    plan = Plan.objects.get(year=2015, division_id="441800")
    # Version 2: the demo makes 市司法局 responsible for task 19 after the import.
    assert (plan.sections.count(), plan.tasks.count(), plan.version) == (6, 20, 2)
    assert Unit.objects.filter(code__endswith="-GBDST").count() == 9
    liaison_ledger = Ledger.objects.get(unit__code="441800-SFJ")
    assert (liaison_ledger.task.number, liaison_ledger.status) == (19, "in_progress")
    assert liaison_ledger.steps.count() == 3
    assert Clock.objects.filter(kind="ledger_step").count() == 9
    # 31 reporting units (the city's units but its 正风办, and the 8 county 正风办) × 4 quarters.
    states = Counter(QuarterlyReport.objects.values_list("state", flat=True))
    assert states == {"accepted": 100, "submitted": 10, "draft": 13, "returned": 1}
    assert QuarterlyReport.objects.filter(is_late=True).count() == 15
    assert QuarterlyReport.objects.get(unit__code="441800-SFJ", period="2015Q4").state == "draft"
    assert RectificationDemand.objects.filter(unit__code="441800-SFJ", state="open").count() == 1
    counts = (
        Task.objects.count(),
        Responsibility.objects.count(),
        Ledger.objects.count(),
        LedgerStep.objects.count(),
        ProgressEntry.objects.count(),
        QuarterlyReport.objects.count(),
        AuditLog.objects.count(),
    )
    assert demo.load_demo(stdout=io.StringIO()) == {
        "created": {"units": 0, "plan": 0, "ledgers": 0, "reports": 0, "reviews": 0}
    }
    assert (
        Task.objects.count(),
        Responsibility.objects.count(),
        Ledger.objects.count(),
        LedgerStep.objects.count(),
        ProgressEntry.objects.count(),
        QuarterlyReport.objects.count(),
        AuditLog.objects.count(),
    ) == counts


def test_demo_adds_the_county_broadcasters(db):
    from zhengfeng.org.demo import load_demo as load_org

    load_org()
    from zhengfeng.org.models import Division

    assert demo.ensure_plan_units(Division.objects.get(code="441800")) == 8
    assert Unit.objects.get(code="441823-GBDST").name == "阳山县广播电视台"
    assert demo.ensure_plan_units(Division.objects.get(code="441800")) == 0


def test_demo_without_the_seed_says_so(demo_org, monkeypatch, tmp_path):
    monkeypatch.setattr(demo, "SEED_PLAN", tmp_path / "missing.txt")
    out = io.StringIO()
    assert demo.load_demo(stdout=out) == {"created": {"units": 0}}
    assert (
        out.getvalue() == "实施方案：未找到 2015 年方案原文（missing.txt，应在 ../shared/seed/ 下），跳过。"
    )
    assert Plan.objects.count() == 0
