"""`zhengfeng plan import` and `zhengfeng plan show`: the seed, unmatched names, re-import, JSON shape."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from zhengfeng.core.models import AuditLog
from zhengfeng.ledger.models import Plan, PlanVersion, Responsibility, Section, Task, UnitAlias


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("plan", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def roles(task_number, role, year=2015):
    rows = Responsibility.objects.filter(task__plan__year=year, task__number=task_number, role=role)
    return sorted(rows.values_list("unit__code", flat=True))


def counts():
    return (
        Plan.objects.count(),
        Section.objects.count(),
        Task.objects.count(),
        Responsibility.objects.count(),
        PlanVersion.objects.count(),
    )


COUNTY_CODES = ["441802", "441803", "441821", "441823", "441825", "441826", "441881", "441882"]


def everywhere(suffix):
    return sorted([f"441800-{suffix}", *(f"{code}-{suffix}" for code in COUNTY_CODES)])


@pytest.fixture
def seed_file(tmp_path, seed_text):
    path = tmp_path / "plan2015.txt"
    path.write_text(seed_text, encoding="utf-8")
    return path


def test_seed_imports_six_sections_and_twenty_tasks(demo_org, seed_file):
    code, out, err = run("import", str(seed_file), "--year", "2015")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "2015 年度实施方案《清远市2015年“正风”行动实施方案》（清远市）：新建，版本 1",
        "任务分组 6 个；任务 20 项（新增 20，更新 0，删除 0）；责任单位 303 个；未匹配名称 0 个",
        "找到：一级标题 3 个（一、二、三），任务分组 6 个（（一）、（二）、（三）、（四）、（五）、（六）），任务 20 项（1–20）",
    ]
    plan = Plan.objects.get(year=2015)
    assert plan.sections.count() == 6
    assert list(plan.tasks.values_list("number", flat=True)) == list(range(1, 21))
    assert list(plan.sections.values_list("number", flat=True)) == ["一", "二", "三", "四", "五", "六"]
    assert plan.tasks.get(number=1).title == "持续正风肃纪"


def test_seed_named_leads_and_supports(demo_org, seed_file):
    run("import", str(seed_file), "--year", "2015")
    assert roles(7, "lead") == ["441800-XZFWZX"]
    assert Task.objects.get(number=7).open_parties == "各地各相关部门（负责）"
    # Task 8: every level's 直属机关工委 leads (1 + 8), its broadcaster is responsible.
    assert roles(8, "lead") == everywhere("ZSJGGW")
    assert roles(8, "responsible") == everywhere("GBDST")
    assert roles(10, "lead") == ["441800-BB"]
    assert roles(10, "support") == ["441800-FZJ"]
    assert roles(12, "lead") == everywhere("XZFWZX")
    assert roles(13, "lead") == ["441800-BB"]
    assert roles(13, "support") == ["441800-XZFWZX"]
    # "党委、政府办公室" is both offices at every level.
    assert roles(1, "responsible") == sorted(
        [*everywhere("JWJW"), "441800-SWBGS", "441800-ZFBGS"]
        + [f"{code}-DWB" for code in COUNTY_CODES]
        + [f"{code}-ZFBGS" for code in COUNTY_CODES]
    )
    assert roles(2, "lead") == everywhere("JWJW")
    assert roles(2, "responsible") == sorted(everywhere("CZJ") + everywhere("SJJ"))
    assert roles(15, "lead") == everywhere("JWJW")
    assert Task.objects.get(number=15).open_parties == "各相关部门（协助配合）"
    assert roles(18, "responsible") == sorted(everywhere("JWJW") + everywhere("XCB"))
    assert roles(19, "lead") == everywhere("ZFB")
    assert roles(20, "responsible") == everywhere("ZFB")
    assert Responsibility.objects.filter(task__number=8, level="county").count() == 16


def test_reimport_updates_in_place(demo_org, seed_file):
    run("import", str(seed_file), "--year", "2015")
    before = counts()
    task_ids = list(Task.objects.order_by("number").values_list("id", flat=True))
    row_ids = sorted(Responsibility.objects.values_list("id", flat=True))
    code, out, _err = run("import", str(seed_file), "--year", "2015")
    assert code == 0
    assert (
        out.splitlines()[0] == "2015 年度实施方案《清远市2015年“正风”行动实施方案》（清远市）：无变化，版本 1"
    )
    assert counts() == before
    assert list(Task.objects.order_by("number").values_list("id", flat=True)) == task_ids
    assert sorted(Responsibility.objects.values_list("id", flat=True)) == row_ids


def test_changed_file_updates_tasks_and_adds_a_version(small_org, small_plan_file):
    run("import", str(small_plan_file), "--year", "2030")
    task_one = Task.objects.get(number=1)
    text = small_plan_file.read_text(encoding="utf-8")
    text = text.replace("财政部门按职责分工负责落实", "财政部门配合").replace(
        "3.任务丙。内容丙。〔由市、各县（市、区）党委、政府办公室负责落实〕\n", ""
    )
    small_plan_file.write_text(text, encoding="utf-8")
    code, out, _err = run("import", str(small_plan_file), "--year", "2030")
    assert code == 0
    assert (
        out.splitlines()[1]
        == "任务分组 1 个；任务 2 项（新增 0，更新 1，删除 1）；责任单位 8 个；未匹配名称 0 个"
    )
    assert Task.objects.get(number=1).pk == task_one.pk
    assert list(Task.objects.values_list("number", flat=True)) == [1, 2]
    assert list(Section.objects.values_list("number", flat=True)) == ["一"]
    assert roles(1, "support", year=2030) == ["441800-CZJ", "441802-CZJ", "441803-CZJ"]
    plan = Plan.objects.get(year=2030)
    assert plan.version == 2
    assert list(plan.versions.values_list("number", "action")) == [(2, "imported"), (1, "imported")]


def test_unmatched_names_exit_1_and_write_nothing(small_org, small_plan_file):
    small_plan_file.write_text(
        small_plan_file.read_text(encoding="utf-8").replace("市法制局协助", "市体育局协助"), encoding="utf-8"
    )
    audit_rows = AuditLog.objects.count()
    code, out, err = run("import", str(small_plan_file), "--year", "2030")
    assert code == 1
    assert out == ""
    assert err.splitlines() == [
        "未匹配的单位名称 1 个：",
        "  清远市（441800）：“市体育局” — 没有名称以此结尾的在用单位（任务 2）",
        "未导入任何内容。请在单位别名中补充这些名称，或使用 --allow-unmatched 跳过。",
    ]
    assert counts() == (0, 0, 0, 0, 0)
    assert AuditLog.objects.count() == audit_rows


def test_allow_unmatched_imports_the_rest(small_org, small_plan_file):
    small_plan_file.write_text(
        small_plan_file.read_text(encoding="utf-8").replace("市法制局协助", "市体育局协助"), encoding="utf-8"
    )
    code, out, _err = run("import", str(small_plan_file), "--year", "2030", "--allow-unmatched")
    assert code == 0
    assert (
        out.splitlines()[-2]
        == "任务分组 2 个；任务 3 项（新增 3，更新 0，删除 0）；责任单位 13 个；未匹配名称 1 个"
    )
    assert roles(2, "support", year=2030) == []
    assert AuditLog.objects.filter(action="plan.imported").get().data["unmatched"] == [
        "清远市（441800）：“市体育局” — 没有名称以此结尾的在用单位（任务 2）"
    ]


def test_missing_county_unit_is_listed_per_county(small_org, small_plan_file):
    small_org["清新区财政局"].delete()
    code, _out, err = run("import", str(small_plan_file), "--year", "2030")
    assert code == 1
    assert "  清新区（441803）：“财政部门” — 没有名称以此结尾的在用单位（任务 1）" in err.splitlines()


def test_an_added_alias_resolves_a_new_phrase(small_org, small_plan_file):
    small_plan_file.write_text(
        small_plan_file.read_text(encoding="utf-8").replace("市编办牵头", "市编制办牵头"), encoding="utf-8"
    )
    assert run("import", str(small_plan_file), "--year", "2030")[0] == 1
    UnitAlias.objects.create(phrase="编制办", name_suffixes="编办")
    assert run("import", str(small_plan_file), "--year", "2030")[0] == 0
    assert roles(2, "lead", year=2030) == ["441800-BB"]


def test_bad_file_exits_1_naming_the_line(small_org, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("一、主要任务\n1.任务甲。内容。〔由市财政局〕\n", encoding="utf-8")
    code, _out, err = run("import", str(path), "--year", "2030")
    assert code == 1
    assert err.splitlines() == [
        "bad.txt 不符合实施方案格式，未导入：",
        "  第 2 行：任务 1：责任分工条款缺少“牵头/负责/协助/配合落实”等用语：由市财政局",
    ]
    assert Plan.objects.count() == 0


def test_show_json_exact_shape(small_org, small_plan_file):
    run("import", str(small_plan_file), "--year", "2030")
    code, out, _err = run("show", "2030", "--format", "json", "--division", "441800")
    assert code == 0
    assert json.loads(out) == {
        "year": 2030,
        "title": "清远市2030年“正风”行动实施方案",
        "sections": [
            {
                "number": "一",
                "title": "第一组任务",
                "tasks": [
                    {
                        "number": 1,
                        "title": "任务甲",
                        "responsibilities": [
                            {"unit_code": "441800-JWJW", "unit_name": "市纪委监委", "role": "lead"},
                            {"unit_code": "441802-JWJW", "unit_name": "清城区纪委监委", "role": "lead"},
                            {"unit_code": "441803-JWJW", "unit_name": "清新区纪委监委", "role": "lead"},
                            {"unit_code": "441800-CZJ", "unit_name": "市财政局", "role": "responsible"},
                            {"unit_code": "441802-CZJ", "unit_name": "清城区财政局", "role": "responsible"},
                            {"unit_code": "441803-CZJ", "unit_name": "清新区财政局", "role": "responsible"},
                        ],
                    },
                    {
                        "number": 2,
                        "title": "任务乙",
                        "responsibilities": [
                            {"unit_code": "441800-BB", "unit_name": "市编办", "role": "lead"},
                            {"unit_code": "441800-FZJ", "unit_name": "市法制局", "role": "support"},
                        ],
                    },
                ],
            },
            {
                "number": "二",
                "title": "第二组任务",
                "tasks": [
                    {
                        "number": 3,
                        "title": "任务丙",
                        "responsibilities": [
                            {"unit_code": "441800-SWBGS", "unit_name": "市委办公室", "role": "responsible"},
                            {"unit_code": "441800-ZFBGS", "unit_name": "市政府办公室", "role": "responsible"},
                            {"unit_code": "441802-DWB", "unit_name": "清城区委办公室", "role": "responsible"},
                            {
                                "unit_code": "441802-ZFBGS",
                                "unit_name": "清城区政府办公室",
                                "role": "responsible",
                            },
                            {"unit_code": "441803-DWB", "unit_name": "清新区委办公室", "role": "responsible"},
                            {
                                "unit_code": "441803-ZFBGS",
                                "unit_name": "清新区政府办公室",
                                "role": "responsible",
                            },
                        ],
                    }
                ],
            },
        ],
    }
    assert "\\u" not in out


def test_show_text(small_org, small_plan_file):
    run("import", str(small_plan_file), "--year", "2030")
    code, out, _err = run("show", "2030")
    assert code == 0
    assert out.splitlines()[:6] == [
        "清远市2030年“正风”行动实施方案（清远市，2030 年度，版本 1）",
        "（一）第一组任务",
        "  1. 任务甲",
        "      牵头：市纪委监委、清城区纪委监委、清新区纪委监委",
        "      负责：市财政局、清城区财政局、清新区财政局",
        "  2. 任务乙",
    ]
    assert out.splitlines()[6:9] == [
        "      牵头：市编办",
        "      协助配合：市法制局",
        "      其他：各相关部门（负责）",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "2031"), "清远市没有 2031 年度的实施方案"),
        (("show", "20x"), "年度必须是整数：20x"),
        (("show", "2030", "--division", "999999"), "未知的区划代码：999999"),
    ],
)
def test_show_errors(small_org, args, message):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match=message):
        call_command("plan", *args, stdout=io.StringIO())
