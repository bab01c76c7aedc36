"""A truncated or gapped plan text is refused with what is missing named, unless --allow-gaps
(issue #10 §4: a cut-off copy of the 20-task plan was imported as a 6-task plan without a word)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from zhengfeng.ledger.models import Plan, Task
from zhengfeng.ledger.plans.planfile import found_summary, parse_plan_text, sequence_problems
from zhengfeng.ledger.tests.conftest import SMALL_PLAN

LINES = SMALL_PLAN.splitlines()
# SMALL_PLAN: 1 title, 2 preamble, 3 一、工作目标, 4 goals, 5 二、主要任务, 6 (一), 7 task 1, 8 task 2,
# 9 （二）, 10 task 3, 11 三、有关要求, 12 requirements.


def text(lines):
    return "\n".join(lines) + "\n"


def problems(lines):
    return sequence_problems(parse_plan_text(text(lines)))


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("plan", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_a_complete_plan_has_no_gaps_and_says_what_it_found():
    plan = parse_plan_text(SMALL_PLAN)

    assert sequence_problems(plan) == []
    assert (
        found_summary(plan)
        == "找到：一级标题 3 个（一、二、三），任务分组 2 个（（一）、（二）），任务 3 项（1–3）"
    )


def test_a_text_cut_off_in_the_middle_of_a_task():
    cut = [*LINES[:9], "3.任务丙。内容丙。〔由市、各县（市、"]

    assert problems(cut) == [
        "第 10 行：文本在段落中间结束（“…丙。内容丙。〔由市、各县（市、”），可能不完整",
        "第 10 行：方案在任务 3 之后结束，任务之后没有“有关要求”等部分，文本可能不完整",
        "第 10 行：最后一项任务 3 没有责任分工条款（〔由…负责落实〕），其他任务都有，文本可能在此中断",
    ]


def test_a_text_cut_off_after_a_whole_task():
    # The case of the issue: every line complete, the rest of the plan missing.
    assert problems(LINES[:8]) == [
        "第 8 行：方案在任务 2 之后结束，任务之后没有“有关要求”等部分，文本可能不完整"
    ]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda lines: [*lines[:7], *lines[8:]],
            ["任务序号不连续：缺少任务 2（找到任务 1、3）"],
        ),
        (
            lambda lines: [*lines[:6], lines[7], lines[6], *lines[8:]],
            ["第 8 行：任务 1 排在任务 2 之后，顺序不对"],
        ),
        (
            lambda lines: [*lines[:8], "（三）第二组任务", *lines[9:]],
            ["第 9 行：任务分组“（三）”不连续，应为“（二）”"],
        ),
        (
            lambda lines: [*lines[:10], "四、有关要求", *lines[11:]],
            ["第 11 行：一级标题“四、”不连续，应为“三、”"],
        ),
    ],
    ids=["missing task", "tasks out of order", "group skipped", "heading skipped"],
)
def test_a_gap_names_what_is_missing(edit, expected):
    assert problems(edit(LINES)) == expected


def test_numbers_beyond_nine_are_read():
    headings = "".join(f"{name}、部分{name}\n内容。\n" for name in "一二三四五六七八九")
    plan = text([*headings.splitlines(), "十、主要任务", "1.任务。内容。", "十一、要求", "要求。"])

    assert sequence_problems(parse_plan_text(plan)) == []


def test_the_command_refuses_a_gapped_copy_and_writes_nothing(small_org, tmp_path):
    path = tmp_path / "plan.txt"
    path.write_text(text([*LINES[:7], *LINES[8:]]), encoding="utf-8")

    code, out, err = run("import", str(path), "--year", "2030")

    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "找到：一级标题 3 个（一、二、三），任务分组 2 个（（一）、（二）），任务 2 项（1、3）",
        "plan.txt 不完整或序号不连续，未导入：",
        "  任务序号不连续：缺少任务 2（找到任务 1、3）",
        "如确认原文如此，请使用 --allow-gaps 导入。",
    ]
    assert Plan.objects.count() == 0


def test_allow_gaps_imports_the_text_as_it_is_and_lists_the_gaps(small_org, tmp_path):
    path = tmp_path / "plan.txt"
    path.write_text(text([*LINES[:7], *LINES[8:]]), encoding="utf-8")

    code, out, _err = run("import", str(path), "--year", "2030", "--allow-gaps")

    assert code == 0
    assert out.splitlines()[-3:] == [
        "找到：一级标题 3 个（一、二、三），任务分组 2 个（（一）、（二）），任务 2 项（1、3）",
        "不连续或不完整之处 1 处（--allow-gaps，已照原文导入）：",
        "  任务序号不连续：缺少任务 2（找到任务 1、3）",
    ]
    assert list(Task.objects.values_list("number", flat=True).order_by("number")) == [1, 3]


def test_the_seed_plan_cut_after_task_6_is_refused(seed_text):
    lines = seed_text.splitlines()
    seventh = next(index for index, line in enumerate(lines) if line.strip().startswith("7."))
    plan = parse_plan_text(text(lines[:seventh]))

    assert [task.number for task in plan.tasks] == [1, 2, 3, 4, 5, 6]
    assert sequence_problems(plan) == [
        f"第 {plan.tasks[-1].line} 行：方案在任务 6 之后结束，任务之后没有“有关要求”等部分，文本可能不完整"
    ]
    assert sequence_problems(parse_plan_text(seed_text)) == []
