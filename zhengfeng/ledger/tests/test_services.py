"""Plan services: validation, versions with snapshots, one audit row per change, nothing half-saved."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from zhengfeng.core.models import AuditLog
from zhengfeng.ledger.models import Plan, PlanVersion, Responsibility, Section, Task
from zhengfeng.ledger.plans import services
from zhengfeng.ledger.plans.queries import plan_document


@pytest.fixture
def plan(small_org, city, city_office):
    return services.create_plan(
        division=city, year=2030, title="清远市2030年方案", goals="目标", by=city_office
    )


@pytest.fixture
def task(plan, city_office):
    section = services.create_section(plan, number="一", title="第一组", by=city_office)
    return services.create_task(plan, section=section, number=1, title="任务甲", body="内容", by=city_office)


def test_create_plan_writes_version_one_and_an_audit_row(plan, city_office):
    assert (plan.version, plan.title, plan.goals) == (1, "清远市2030年方案", "目标")
    version = plan.versions.get()
    assert (version.number, version.action, version.created_by) == (1, "created", city_office)
    assert version.snapshot == plan_document(plan, full=True)
    row = AuditLog.objects.get(action="plan.created")
    assert (row.actor, row.division_code, row.data["title"]) == (city_office, "441800", "清远市2030年方案")


def test_one_plan_per_division_and_year(plan, city):
    with pytest.raises(ValidationError, match="清远市已有 2030 年度的实施方案"):
        services.create_plan(division=city, year=2030, title="另一个")
    assert Plan.objects.count() == 1


@pytest.mark.parametrize(
    ("year", "title", "message"),
    [
        (1999, "甲", "年度 1999 超出范围（2000–2100）"),
        ("abc", "甲", "年度必须是整数：abc"),
        (2031, "  ", "标题不能为空"),
    ],
)
def test_create_plan_refuses_bad_values(city, year, title, message):
    with pytest.raises(ValidationError) as exc:
        services.create_plan(division=city, year=year, title=title)
    assert exc.value.messages == [message]
    assert (Plan.objects.count(), PlanVersion.objects.count()) == (0, 0)


def test_update_plan_versions_only_real_changes(plan, city_office):
    assert services.update_plan(plan, title=plan.title, goals="目标", by=city_office) == []
    assert plan.versions.count() == 1
    assert services.update_plan(plan, title="新标题", goals="目标", requirements="要求", by=city_office) == [
        "title",
        "requirements",
    ]
    plan.refresh_from_db()
    assert (plan.version, plan.title) == (2, "新标题")
    latest = plan.versions.order_by("-number").first()
    assert (latest.summary, latest.snapshot["title"], latest.snapshot["requirements"]) == (
        "修改方案：title、requirements",
        "新标题",
        "要求",
    )
    assert AuditLog.objects.get(action="plan.updated").data["fields"] == ["title", "requirements"]


def test_task_numbers_are_unique_and_nothing_is_half_saved(task, plan):
    versions = PlanVersion.objects.count()
    with pytest.raises(ValidationError, match="本方案已有序号为 1 的任务"):
        services.create_task(plan, section=task.section, number=1, title="重复")
    with pytest.raises(ValidationError, match="任务名称不能为空"):
        services.create_task(plan, section=task.section, number=2, title="")
    assert (Task.objects.count(), PlanVersion.objects.count()) == (1, versions)


def test_section_of_another_plan_is_refused(task, plan, city):
    other = services.create_plan(division=city, year=2031, title="另一年")
    with pytest.raises(ValidationError, match="分组（一）不属于本方案"):
        services.create_task(other, section=task.section, number=1, title="甲")


def test_section_numbers_are_chinese_numerals(plan):
    with pytest.raises(ValidationError, match="分组序号应为中文数字（如 一、二）：A"):
        services.create_section(plan, number="A", title="甲")
    assert services.create_section(plan, number="（三）", title="丙").number == "三"


def test_set_responsibility_levels_roles_and_versions(task, small_org, city_office):
    city_row = services.set_responsibility(task, unit=small_org["市财政局"], role="lead", by=city_office)
    county_row = services.set_responsibility(task, unit=small_org["清城区财政局"], role="responsible")
    assert (city_row.level, county_row.level, county_row.division_code) == ("city", "county", "441802")
    version = task.plan.versions.count()
    # Same role again: nothing to record.
    assert services.set_responsibility(task, unit=small_org["市财政局"], role="lead").pk == city_row.pk
    assert task.plan.versions.count() == version
    changed = services.set_responsibility(task, unit=small_org["市财政局"], role="support")
    assert (changed.pk, changed.role) == (city_row.pk, "support")
    assert task.plan.versions.count() == version + 1
    assert AuditLog.objects.filter(action="plan.responsibility_set").count() == 3


def test_set_responsibility_refuses_units_outside_the_plan_and_bad_roles(task, small_org, city, qingcheng):
    county_plan = services.create_plan(division=qingcheng, year=2030, title="清城区方案")
    section = services.create_section(county_plan, number="一", title="组")
    county_task = services.create_task(county_plan, section=section, number=1, title="甲")
    with pytest.raises(
        ValidationError, match="单位 市财政局（441800-CZJ）不在本方案的发文区划 清城区 范围内"
    ):
        services.set_responsibility(county_task, unit=small_org["市财政局"], role="lead")
    with pytest.raises(ValidationError, match="未知的职责：boss"):
        services.set_responsibility(task, unit=small_org["市财政局"], role="boss")
    assert Responsibility.objects.count() == 0


def test_remove_responsibility_and_delete_task(task, small_org, city_office):
    row = services.set_responsibility(task, unit=small_org["市编办"], role="lead")
    services.remove_responsibility(row, by=city_office)
    assert Responsibility.objects.count() == 0
    section = task.section
    with pytest.raises(ValidationError, match="分组（一）下还有任务，不能删除"):
        services.delete_section(section)
    services.delete_task(task, by=city_office)
    services.delete_section(section, by=city_office)
    assert (Task.objects.count(), Section.objects.count()) == (0, 0)
    plan = Plan.objects.get()
    assert [v.action for v in plan.versions.order_by("number")] == [
        "created",
        "section_created",
        "task_created",
        "responsibility_set",
        "responsibility_removed",
        "task_deleted",
        "section_deleted",
    ]
    assert plan.version == 7


def test_update_task_renumbering_conflict(task, plan):
    services.create_task(plan, section=task.section, number=2, title="乙")
    with pytest.raises(ValidationError, match="本方案已有序号为 2 的任务"):
        services.update_task(task, section=task.section, number=2, title="甲")
    assert services.update_task(task, section=task.section, number=3, title="甲改", body="内容") == [
        "number",
        "title",
    ]
    task.refresh_from_db()
    assert (task.number, task.title) == (3, "甲改")
