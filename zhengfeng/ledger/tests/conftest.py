"""Fixtures for plan tests: a small organisation, a synthetic plan text and the real seed plan.

`small_org` gives the city and two counties (清城区, 清新区) the units the synthetic plan names, reusing
the personas' units (市纪委监委 of `inspector`, the offices) so names stay unique per division.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

import pytest
import time_machine

from zhengfeng.ledger.demo import SEED_PLAN, ensure_plan_units
from zhengfeng.org.models import Division, Unit, UnitKind
from zhengfeng.testing.factories import UnitFactory

SMALL_PLAN = """清远市2030年“正风”行动实施方案
为检验导入功能，制定本方案。
一、工作目标
目标一句话。
二、主要任务
(一)第一组任务
1.任务甲。内容甲。〔由市、各县(市、区)纪检监察机关牵头，财政部门按职责分工负责落实〕
2.任务乙。内容乙。(由市编办牵头，市法制局协助，各相关部门按职责分工负责落实)
（二）第二组任务
3.任务丙。内容丙。〔由市、各县（市、区）党委、政府办公室负责落实〕
三、有关要求
要求一句话。
"""


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Personas and demo users get passwords; these tests never log in with them.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def small_org(city, qingcheng, qingxin, inspector, city_office, county_office):
    """{name: unit} for every unit the synthetic plan names, with stable codes."""
    Unit.objects.filter(pk=inspector.unit_id).update(code="441800-JWJW", kind=UnitKind.DISCIPLINE)
    Unit.objects.filter(pk=city_office.unit_id).update(code="441800-ZFB", kind=UnitKind.CAMPAIGN_OFFICE)
    Unit.objects.filter(pk=county_office.unit_id).update(code="441802-ZFB", kind=UnitKind.CAMPAIGN_OFFICE)
    specs = [
        (city, "441800-SWBGS", "市委办公室"),
        (city, "441800-ZFBGS", "市政府办公室"),
        (city, "441800-CZJ", "市财政局"),
        (city, "441800-BB", "市编办"),
        (city, "441800-FZJ", "市法制局"),
        (city, "441800-XZFWZX", "市行政服务中心"),
    ]
    for county in (qingcheng, qingxin):
        specs += [
            (county, f"{county.code}-DWB", f"{county.name}委办公室"),
            (county, f"{county.code}-ZFBGS", f"{county.name}政府办公室"),
            (county, f"{county.code}-CZJ", f"{county.name}财政局"),
        ]
    specs.append((qingxin, "441803-JWJW", "清新区纪委监委"))
    specs.append((qingcheng, "441802-JWJW", "清城区纪委监委"))
    for division, code, name in specs:
        UnitFactory(division=division, code=code, name=name)
    return {unit.name: unit for unit in Unit.objects.all()}


@pytest.fixture
def small_plan_file(tmp_path) -> Path:
    path = tmp_path / "plan.txt"
    path.write_text(SMALL_PLAN, encoding="utf-8")
    return path


@pytest.fixture
def seed_text() -> str:
    if not SEED_PLAN.exists():
        pytest.skip("未找到 ../shared/seed 下的 2015 年方案原文")
    return SEED_PLAN.read_text(encoding="utf-8")


@pytest.fixture
def demo_org(db):
    """The org demo (city, 8 counties, their units and users) plus the units the plan adds."""
    from zhengfeng.org.demo import load_demo

    load_demo()
    city = Division.objects.get(code="441800")
    ensure_plan_units(city)
    return city


# --- Work ledgers ---------------------------------------------------------------------------------

# A Monday morning in Qingyuan, inside the seeded calendar; ledger tests run at this instant.
LEDGER_NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def frozen():
    with time_machine.travel(LEDGER_NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def ledger_plan(frozen, city, qingcheng, qingxin, unit_a, unit_b, county_unit, other_county_unit):
    """A 2026 plan: task 1 carried by units A and B and one unit in each county; task 2 by A only."""
    from zhengfeng.ledger.plans import services as plan_services

    plan = plan_services.create_plan(division=city, year=2026, title="清远市2026年“正风”行动实施方案")
    section = plan_services.create_section(plan, number="一", title="正风肃纪")
    first = plan_services.create_task(plan, section=section, number=1, title="持续正风肃纪")
    second = plan_services.create_task(plan, section=section, number=2, title="优化政务服务")
    plan_services.set_responsibility(first, unit=unit_a, role="lead")
    for unit in (unit_b, county_unit, other_county_unit):
        plan_services.set_responsibility(first, unit=unit, role="responsible")
    plan_services.set_responsibility(second, unit=unit_a, role="support")
    return plan


@pytest.fixture
def task_one(ledger_plan):
    return ledger_plan.tasks.get(number=1)


@pytest.fixture
def task_two(ledger_plan):
    return ledger_plan.tasks.get(number=2)


# --- Quarterly reports ---------------------------------------------------------------------------

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def travel():
    """`travel(moment)` moves the clock there (and stays): reports are submitted "now"."""
    with time_machine.travel(local(2015, 1, 5, 9, 0), tick=False) as traveller:
        yield lambda moment: traveller.move_to(moment)


@pytest.fixture
def report_org(city, qingcheng, qingxin, unit_a, unit_b, county_unit, city_office, county_office):
    """City units A and B report; the city 正风办 receives; 清城区正风办 reports for its county;
    清城区甲局 (an ordinary county unit) does not report."""
    Unit.objects.filter(pk__in=[city_office.unit_id, county_office.unit_id]).update(
        kind=UnitKind.CAMPAIGN_OFFICE
    )
    city_office.unit.refresh_from_db()
    county_office.unit.refresh_from_db()
    return {"a": unit_a, "b": unit_b, "county_office": county_office.unit}


@pytest.fixture
def rule_2015(report_org, city):
    from zhengfeng.ledger.reports.services import ensure_reporting_rule

    rule, _ = ensure_reporting_rule(division=city, year=2015)
    return rule


@pytest.fixture
def scheduled(rule_2015, travel):
    """The 2015 reports of the three reporting units, scheduled on 2015-01-05."""
    from zhengfeng.ledger.reports.services import schedule_reports

    schedule_reports(rule_2015)
    return rule_2015
