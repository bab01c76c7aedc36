"""Office pages: who reads, who edits, scoping of a city plan for a county office, query counts."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from zhengfeng.core.models import AuditLog
from zhengfeng.ledger.models import Plan, Responsibility, Task
from zhengfeng.ledger.plans import services
from zhengfeng.org.models import Role
from zhengfeng.testing.factories import UnitFactory, UserFactory


@pytest.fixture
def plan(small_org, small_plan_file):
    call_command("plan", "import", str(small_plan_file), "--year", "2030", stdout=io.StringIO())
    return Plan.objects.get(year=2030)


def login(client, user):
    client.force_login(user)
    return client


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("ledger:plan_list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("path", ["ledger:plan_list", "ledger:plan_create"])
def test_liaison_may_not_read_plans(client, liaison_a, path):
    assert login(client, liaison_a).get(reverse(path)).status_code == 403


def test_office_list_and_query_count(client, city_office, city, django_assert_num_queries):
    login(client, city_office)
    services.create_plan(division=city, year=2030, title="方案2030")
    client.get(reverse("ledger:plan_list"))  # warm the session and content types
    # +1 since issue #10: the office user's two-factor device (django-otp re-reads it per request).
    with django_assert_num_queries(6) as one:
        response = client.get(reverse("ledger:plan_list"))
    assert response.status_code == 200
    assert [p.title for p in response.context["plans"]] == ["方案2030"]
    services.create_plan(division=city, year=2031, title="方案2031")
    services.create_plan(division=city, year=2032, title="方案2032")
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(reverse("ledger:plan_list"))
    assert [p.title for p in response.context["plans"]] == ["方案2032", "方案2031", "方案2030"]


def test_detail_query_count_does_not_grow_with_tasks(
    client, city_office, plan, small_org, django_assert_num_queries
):
    login(client, city_office)
    client.get(reverse("ledger:plan_detail", args=[plan.pk]))
    # +1 since issue #10: the office user's two-factor device (django-otp re-reads it per request).
    with django_assert_num_queries(9) as first:
        assert client.get(reverse("ledger:plan_detail", args=[plan.pk])).status_code == 200
    section = plan.sections.first()
    for number in (4, 5, 6):
        task = services.create_task(plan, section=section, number=number, title=f"任务{number}")
        services.set_responsibility(task, unit=small_org["市编办"], role="lead")
    with django_assert_num_queries(len(first.captured_queries)):
        response = client.get(reverse("ledger:plan_detail", args=[plan.pk]))
    assert [task.number for _s, tasks in response.context["sections"] for task, _g in tasks] == [
        1,
        2,
        4,
        5,
        6,
        3,
    ]


def test_city_office_sees_everything_grouped_by_level(client, city_office, plan):
    response = login(client, city_office).get(reverse("ledger:plan_detail", args=[plan.pk]))
    assert response.context["can_edit"] is True
    (_section, tasks), _second = response.context["sections"]
    task_one, groups = tasks[0]
    assert task_one.number == 1
    assert [
        (g["level"], [(label, [u.name for u in units]) for label, units in g["roles"]]) for g in groups
    ] == [
        ("市级", [("牵头", ["市纪委监委"]), ("负责", ["市财政局"])]),
        (
            "县级",
            [("牵头", ["清城区纪委监委", "清新区纪委监委"]), ("负责", ["清城区财政局", "清新区财政局"])],
        ),
    ]
    assert "各相关部门（负责）" in response.content.decode()


def test_county_office_sees_only_city_tasks_naming_its_units(client, county_office, plan):
    response = login(client, county_office).get(reverse("ledger:plan_detail", args=[plan.pk]))
    assert response.status_code == 200
    assert response.context["can_edit"] is False
    assert [task.number for _s, tasks in response.context["sections"] for task, _g in tasks] == [1, 3]
    assert login(client, county_office).get(reverse("ledger:plan_edit", args=[plan.pk])).status_code == 403
    assert client.get(reverse("ledger:plan_versions", args=[plan.pk])).status_code == 403


def test_county_office_without_responsibilities_cannot_open_the_city_plan(client, plan, qingxin, small_org):
    other = UserFactory(role=Role.OFFICE, unit=UnitFactory(name="清新区正风办", division=qingxin))
    Responsibility.objects.filter(division_code="441803").delete()
    login(client, other)
    assert list(client.get(reverse("ledger:plan_list")).context["plans"]) == []
    assert client.get(reverse("ledger:plan_detail", args=[plan.pk])).status_code == 404


def test_inspector_reads_but_does_not_edit(client, inspector, plan):
    login(client, inspector)
    response = client.get(reverse("ledger:plan_detail", args=[plan.pk]))
    assert (response.status_code, response.context["can_edit"]) == (200, False)
    assert client.get(reverse("ledger:plan_versions", args=[plan.pk])).status_code == 200
    task = Task.objects.get(plan=plan, number=1)
    assert client.get(reverse("ledger:plan_create")).status_code == 403
    assert client.get(reverse("ledger:task_edit", args=[task.pk])).status_code == 403
    assert client.post(reverse("ledger:task_delete", args=[task.pk])).status_code == 403
    assert Task.objects.filter(pk=task.pk).exists()


def test_office_creates_a_plan_through_the_form(client, city_office, city):
    response = login(client, city_office).post(
        reverse("ledger:plan_create"),
        {"year": "2031", "title": "清远市2031年方案", "goals": "目标", "preamble": "", "requirements": ""},
    )
    plan = Plan.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("ledger:plan_detail", args=[plan.pk])
    assert (plan.division_id, plan.year, plan.version) == ("441800", 2031, 1)
    assert AuditLog.objects.get(action="plan.created").actor == city_office
    again = client.post(reverse("ledger:plan_create"), {"year": "2031", "title": "重复"})
    assert again.status_code == 200
    assert again.context["form"].non_field_errors() == ["清远市已有 2031 年度的实施方案"]
    assert Plan.objects.count() == 1


def test_post_without_csrf_token_is_refused(city_office):
    client = Client(enforce_csrf_checks=True)
    client.force_login(city_office)
    assert client.post(reverse("ledger:plan_create"), {"year": "2031", "title": "甲"}).status_code == 403
    assert Plan.objects.count() == 0


def test_office_edits_tasks_and_responsibilities(client, city_office, plan, small_org):
    login(client, city_office)
    section = plan.sections.get(number="一")
    response = client.post(
        reverse("ledger:task_create", args=[plan.pk]),
        {"section": section.pk, "number": "4", "title": "任务丁", "body": "内容丁"},
    )
    task = Task.objects.get(plan=plan, number=4)
    assert response.url == reverse("ledger:task_edit", args=[task.pk])
    response = client.post(
        reverse("ledger:responsibility_set", args=[task.pk]),
        {"unit": small_org["清城区财政局"].pk, "role": "lead"},
    )
    assert response.status_code == 302
    row = Responsibility.objects.get(task=task)
    assert (row.unit.code, row.role, row.level) == ("441802-CZJ", "lead", "county")
    page = client.get(reverse("ledger:task_edit", args=[task.pk]))
    assert [r.unit.code for r in page.context["responsibilities"]] == ["441802-CZJ"]
    client.post(
        reverse("ledger:task_edit", args=[task.pk]),
        {"section": section.pk, "number": "4", "title": "任务丁（修订）", "body": "内容丁"},
    )
    task.refresh_from_db()
    assert task.title == "任务丁（修订）"
    client.post(reverse("ledger:responsibility_remove", args=[row.pk]))
    assert not Responsibility.objects.filter(task=task).exists()
    client.post(reverse("ledger:task_delete", args=[task.pk]))
    assert not Task.objects.filter(pk=task.pk).exists()
    plan.refresh_from_db()
    assert plan.version == 6
    versions = client.get(reverse("ledger:plan_versions", args=[plan.pk]))
    assert [v.summary for v in versions.context["versions"]] == [
        "删除任务 4",
        "任务 4：移除 441802-CZJ",
        "修改任务 4",
        "任务 4：清城区财政局 牵头",
        "新增任务 4",
        "导入：任务 3 项，责任单位 14 个",
    ]
    detail = client.get(reverse("ledger:version_detail", args=[plan.pk, 2]))
    assert detail.context["snapshot"]["sections"][0]["tasks"][2]["title"] == "任务丁"


def test_unit_outside_the_users_scope_is_not_offered(client, plan, county_office, small_org):
    # A county office editing its own county plan cannot pick a city unit.
    county_plan = services.create_plan(division=county_office.unit.division, year=2030, title="清城区方案")
    section = services.create_section(county_plan, number="一", title="组")
    task = services.create_task(county_plan, section=section, number=1, title="甲")
    login(client, county_office)
    response = client.post(
        reverse("ledger:responsibility_set", args=[task.pk]),
        {"unit": small_org["市财政局"].pk, "role": "lead"},
    )
    assert response.status_code == 200
    assert "unit" in response.context["unit_form"].errors
    assert not Responsibility.objects.filter(task=task).exists()


def test_section_pages(client, city_office, plan):
    login(client, city_office)
    client.post(reverse("ledger:section_create", args=[plan.pk]), {"number": "三", "title": "第三组"})
    section = plan.sections.get(number="三")
    client.post(
        reverse("ledger:section_edit", args=[section.pk]), {"number": "三", "title": "第三组改", "order": "3"}
    )
    section.refresh_from_db()
    assert section.title == "第三组改"
    client.post(reverse("ledger:section_delete", args=[section.pk]))
    assert not plan.sections.filter(number="三").exists()


def test_version_list_query_count(client, city_office, city, django_assert_num_queries):
    plan = services.create_plan(division=city, year=2030, title="方案", by=city_office)
    login(client, city_office)
    url = reverse("ledger:plan_versions", args=[plan.pk])
    client.get(url)
    # +1 since issue #10: the office user's two-factor device (django-otp re-reads it per request).
    with django_assert_num_queries(7) as one:
        assert client.get(url).status_code == 200
    services.update_plan(plan, title="方案二", by=city_office)
    services.update_plan(plan, title="方案三", by=city_office)
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(url)
    assert [v.number for v in response.context["versions"]] == [3, 2, 1]
