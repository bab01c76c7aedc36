"""The plan file layout: headings, groups, numbered tasks, errors by line."""

from __future__ import annotations

import pytest

from zhengfeng.ledger.plans.planfile import PlanFileError, parse_plan_text
from zhengfeng.ledger.tests.conftest import SMALL_PLAN


def test_small_plan_parts():
    plan = parse_plan_text(SMALL_PLAN)
    assert plan.title == "清远市2030年“正风”行动实施方案"
    assert plan.preamble == "为检验导入功能，制定本方案。"
    assert plan.goals == "目标一句话。"
    assert plan.requirements == "要求一句话。"
    assert [(s.number, s.title, [t.number for t in s.tasks]) for s in plan.sections] == [
        ("一", "第一组任务", [1, 2]),
        ("二", "第二组任务", [3]),
    ]
    first = plan.sections[0].tasks[0]
    assert (first.title, first.body, first.clause, first.line) == (
        "任务甲",
        "内容甲。",
        "由市、各县(市、区)纪检监察机关牵头，财政部门按职责分工负责落实",
        7,
    )


def test_tasks_straight_under_a_heading_form_a_group_and_may_span_lines():
    plan = parse_plan_text(
        "一、主要任务\n1.任务甲。内容\n续行。〔由市财政局负责落实〕\n2．任务乙。内容乙。\n"
    )
    assert plan.title == ""
    assert [(s.number, s.title) for s in plan.sections] == [("一", "主要任务")]
    assert [(t.number, t.body, t.clause) for t in plan.tasks] == [
        (1, "内容\n续行。", "由市财政局负责落实"),
        (2, "内容乙。", ""),
    ]


def test_seed_layout(seed_text):
    plan = parse_plan_text(seed_text)
    assert len(plan.sections) == 6
    assert [t.number for t in plan.tasks] == list(range(1, 21))
    assert plan.tasks[0].title == "持续正风肃纪"
    assert plan.goals.startswith("围绕全面从严治党的要求")
    assert plan.requirements.startswith("各地各部门要根据本实施方案的要求")
    assert plan.preamble.startswith("为深入贯彻落实中央和省委")


@pytest.mark.parametrize(
    ("text", "errors"),
    [
        (
            "一、主要任务\n前言\n",
            ["文件中没有找到任何任务（形如“1.任务名称。任务内容〔由…负责落实〕”的段落）"],
        ),
        ("1.任务甲。内容。\n", ["第 1 行：任务“1.任务甲。内容。”出现在任何一级标题（一、二、…）之前"]),
        (
            "一、主要任务\n1.任务甲。内容。\n1.任务乙。内容。\n",
            ["第 3 行：任务序号 1 与第 2 行重复"],
        ),
        ("一、主要任务\n1.没有句号的任务\n", ["第 2 行：任务 1 缺少以“。”结尾的任务名称：没有句号的任务"]),
        (
            "一、主要任务\n(一)甲组\n1.甲。内容。\n(一)乙组\n2.乙。内容。\n",
            ["第 4 行：任务分组序号“一”与第 2 行重复"],
        ),
    ],
)
def test_bad_layout_lists_every_error_by_line(text, errors):
    with pytest.raises(PlanFileError) as exc:
        parse_plan_text(text)
    assert exc.value.errors == errors
