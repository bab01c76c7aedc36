"""Demo data for plans: the units the 2015 plan names that the org demo lacks, and the 2015 plan.

The plan text is read from the shared seed folder next to the repository
(`../shared/seed/000_69ff0bccd2564e91.txt`) and is never copied into the repository; without it the
loader says so and skips the plan. Idempotent: units are looked up by code, and re-importing the
same text changes nothing (the import keeps ids and writes no new version).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zhengfeng.ledger.importing import prepare_import
from zhengfeng.ledger.models import Plan
from zhengfeng.ledger.services import UnmatchedNamesError, import_plan
from zhengfeng.org import services as org_services
from zhengfeng.org.models import Division, DivisionLevel, Unit, UnitKind

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
SEED_PLAN = REPO_ROOT.parent / "shared" / "seed" / "000_69ff0bccd2564e91.txt"
SEED_YEAR = 2015
CITY_CODE = "441800"

# Task 8 of the plan gives the 行风热线 programme to the broadcaster in every county too:
# (code suffix, name pattern, kind); {d} is the county's name. Same code scheme as org.demo.
EXTRA_COUNTY_UNITS = [("GBDST", "{d}广播电视台", UnitKind.MEDIA)]


def _say(stdout: Any, text: str) -> None:
    if stdout is not None:
        stdout.write(text)


def ensure_plan_units(city: Division) -> int:
    """Create the county units the plan names that the org demo does not have. Returns the number created."""
    created = 0
    counties = Division.objects.filter(parent=city, level=DivisionLevel.COUNTY).order_by("code")
    for county in counties:
        for suffix, name, kind in EXTRA_COUNTY_UNITS:
            code = f"{county.code}-{suffix}"
            if Unit.objects.filter(code=code).exists():
                continue
            org_services.create_unit(code=code, name=name.format(d=county.name), division=county, kind=kind)
            created += 1
    return created


def load_demo(*, stdout: Any = None) -> dict[str, Any]:
    """Load the demo plan. Side effects: units and the plan through the services (audited)."""
    city = Division.objects.filter(code=CITY_CODE).first()
    if city is None:
        _say(stdout, "实施方案：未找到演示区划 441800（清远市），跳过。")
        return {}
    units_created = ensure_plan_units(city)
    if not SEED_PLAN.exists():
        _say(stdout, f"实施方案：未找到 2015 年方案原文（{SEED_PLAN.name}，应在 ../shared/seed/ 下），跳过。")
        return {"created": {"units": units_created}}
    text = SEED_PLAN.read_text(encoding="utf-8")
    if Plan.objects.filter(division=city, year=SEED_YEAR, source_text=text).exists():
        _say(stdout, f"实施方案：{SEED_YEAR} 年方案已载入，无变化。")
        return {"created": {"units": units_created, "plan": 0}}
    prepared = prepare_import(text, division=city, year=SEED_YEAR)
    try:
        summary = import_plan(prepared)
    except UnmatchedNamesError as exc:
        names = "；".join(row.describe() for row in exc.prepared.unmatched)
        _say(stdout, f"实施方案：有未匹配的单位名称，未导入：{names}")
        return {"created": {"units": units_created}}
    for line in summary.lines():
        _say(stdout, f"实施方案：{line}")
    return {"created": {"units": units_created, "plan": int(summary.created)}}
