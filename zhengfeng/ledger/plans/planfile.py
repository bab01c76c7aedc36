"""Read a plan written like the yearly 正风 plan into sections and numbered tasks (no database).

Layout, one paragraph per line:

    [title]                              optional first line: short, no full stop
    preamble …                           text before the first heading
    一、工作目标                          top-level headings 一、二、三、…
    goals …
    二、主要任务
    (一)围绕…                            task groups (一)(二)… (full- or half-width brackets)
    1.持续正风肃纪。正文…〔由…负责落实〕  numbered tasks: "N.标题。正文" ending with the clause
    三、有关要求
    requirements …

Top-level parts without tasks become the plan's goals (before the tasks) or requirements (after).
Tasks directly under a top-level heading form a group numbered like that heading.

`sequence_problems` finds what a truncated or damaged copy lacks (a heading, group or task number
skipped or out of order, a text ending in the middle of a paragraph); the import refuses such a
text unless told the gaps are intended. `found_summary` says what was found.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from zhengfeng.ledger.plans.clauses import extract_clause

_TOP_RE = re.compile(r"^([一二三四五六七八九十]+)、\s*(.+)$")
_GROUP_RE = re.compile(r"^[(（]([一二三四五六七八九十]+)[)）]\s*(.+)$")
_TASK_RE = re.compile(r"^(\d{1,3})\s*[.．、]\s*(.+)$")
_TITLE_MAX = 200
_SECTION_TITLE_MAX = 300


class PlanFileError(Exception):
    """The file does not follow the plan layout; `errors` name each bad line."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("；".join(errors))
        self.errors = errors


@dataclass
class ParsedTask:
    number: int
    title: str
    body: str
    clause: str
    line: int


@dataclass
class ParsedSection:
    number: str
    title: str
    line: int
    tasks: list[ParsedTask] = field(default_factory=list)
    # False for the tasks straight under a top-level heading (numbered like the heading).
    grouped: bool = True


@dataclass
class ParsedPlan:
    title: str
    preamble: str
    goals: str
    requirements: str
    sections: list[ParsedSection]
    source_text: str
    # The top-level headings (一、二、…) as (number, line).
    headings: list[tuple[str, int]] = field(default_factory=list)

    @property
    def tasks(self) -> list[ParsedTask]:
        return [task for section in self.sections for task in section.tasks]


@dataclass
class _TopPart:
    number: str
    title: str
    line: int
    lines: list[str] = field(default_factory=list)
    has_tasks: bool = False


def _finish_task(raw: tuple[int, int, str] | None, section: ParsedSection | None, errors: list[str]) -> None:
    if raw is None or section is None:
        return
    line_no, number, text = raw
    before, clause = extract_clause(text)
    title, stop, body = before.partition("。")
    title = title.strip()
    if not stop:
        errors.append(f"第 {line_no} 行：任务 {number} 缺少以“。”结尾的任务名称：{text[:40]}")
        return
    if len(title) > _TITLE_MAX:
        errors.append(f"第 {line_no} 行：任务 {number} 的名称超过 {_TITLE_MAX} 个字符：{title[:40]}…")
        return
    section.tasks.append(
        ParsedTask(number=number, title=title, body=body.strip(), clause=clause, line=line_no)
    )


def parse_plan_text(text: str) -> ParsedPlan:
    """Parse the whole file; raise PlanFileError listing every bad line."""
    errors: list[str] = []
    title = ""
    preamble: list[str] = []
    tops: list[_TopPart] = []
    sections: list[ParsedSection] = []
    section: ParsedSection | None = None
    raw_task: tuple[int, int, str] | None = None

    for line_no, raw_line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw_line.strip()
        if not line:
            continue
        top = _TOP_RE.match(line)
        group = _GROUP_RE.match(line)
        task = _TASK_RE.match(line)
        if top:
            _finish_task(raw_task, section, errors)
            raw_task, section = None, None
            tops.append(_TopPart(number=top.group(1), title=top.group(2).strip().rstrip("。"), line=line_no))
        elif group:
            _finish_task(raw_task, section, errors)
            raw_task = None
            if not tops:
                errors.append(f"第 {line_no} 行：任务分组“{line[:30]}”出现在任何一级标题（一、二、…）之前")
                continue
            section = ParsedSection(
                number=group.group(1), title=group.group(2).strip().rstrip("。"), line=line_no
            )
            sections.append(section)
            tops[-1].has_tasks = True
        elif task:
            _finish_task(raw_task, section, errors)
            if not tops:
                errors.append(f"第 {line_no} 行：任务“{line[:30]}”出现在任何一级标题（一、二、…）之前")
                raw_task = None
                continue
            if section is None:
                # Tasks straight under "二、主要任务": the heading itself is their group.
                section = ParsedSection(
                    number=tops[-1].number, title=tops[-1].title, line=line_no, grouped=False
                )
                sections.append(section)
            tops[-1].has_tasks = True
            raw_task = (line_no, int(task.group(1)), task.group(2).strip())
        elif raw_task is not None:
            # A task running over several lines (the clause is often on the last one).
            raw_task = (raw_task[0], raw_task[1], f"{raw_task[2]}\n{line}")
        elif tops:
            tops[-1].lines.append(line)
        elif not title and not preamble and "。" not in line and len(line) <= _TITLE_MAX:
            title = line
        else:
            preamble.append(line)
    _finish_task(raw_task, section, errors)

    seen_sections: dict[str, int] = {}
    seen_tasks: dict[int, int] = {}
    for parsed in sections:
        if parsed.number in seen_sections:
            errors.append(
                f"第 {parsed.line} 行：任务分组序号“{parsed.number}”与第 {seen_sections[parsed.number]} 行重复"
            )
        seen_sections[parsed.number] = parsed.line
        if len(parsed.title) > _SECTION_TITLE_MAX:
            errors.append(f"第 {parsed.line} 行：任务分组名称超过 {_SECTION_TITLE_MAX} 个字符")
        for parsed_task in parsed.tasks:
            if parsed_task.number in seen_tasks:
                errors.append(
                    f"第 {parsed_task.line} 行：任务序号 {parsed_task.number} 与第 {seen_tasks[parsed_task.number]} 行重复"
                )
            seen_tasks[parsed_task.number] = parsed_task.line
    if not seen_tasks and not errors:
        errors.append("文件中没有找到任何任务（形如“1.任务名称。任务内容〔由…负责落实〕”的段落）")
    if errors:
        raise PlanFileError(errors)

    first_task_part = next(index for index, part in enumerate(tops) if part.has_tasks)
    return ParsedPlan(
        title=title,
        preamble="\n".join(preamble),
        goals=_join_parts(tops[:first_task_part]),
        requirements=_join_parts([part for part in tops[first_task_part:] if not part.has_tasks]),
        sections=[parsed for parsed in sections if parsed.tasks],
        source_text=text,
        headings=[(part.number, part.line) for part in tops],
    )


def _join_parts(parts: list[_TopPart]) -> str:
    if len(parts) == 1:
        return "\n".join(parts[0].lines)
    return "\n".join(f"{part.number}、{part.title}\n" + "\n".join(part.lines) for part in parts).strip()


_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
# Endings of a finished paragraph: a sentence, a responsibility clause, a closing quote or bracket.
_PARAGRAPH_ENDS = tuple('。！？!?；;：:〕)）]】”’"」』')


def chinese_number(text: str) -> int | None:
    """一 … 九十九 as an int (the numbering of headings and groups); None for anything else."""
    if text in _DIGITS:
        return _DIGITS[text]
    tens, ten, units = text.partition("十")
    if not ten or len(tens) > 1 or len(units) > 1:
        return None
    high = _DIGITS.get(tens, 0) if tens else 1
    low = _DIGITS.get(units, 0) if units else 0
    if (tens and not high) or (units and not low):
        return None
    return high * 10 + low


def chinese_numeral(number: int) -> str:
    names = {value: name for name, value in _DIGITS.items()}
    if number < 10:
        return names[number]
    high, low = divmod(number, 10)
    return f"{names[high] if high > 1 else ''}十{names[low] if low else ''}"


def _number_run(numbers: list[int]) -> str:
    """1–4、7–20: the numbers found, as runs."""
    runs: list[list[int]] = []
    for number in sorted(set(numbers)):
        if runs and number == runs[-1][1] + 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return "、".join(str(a) if a == b else f"{a}–{b}" for a, b in runs)


def sequence_problems(plan: ParsedPlan) -> list[str]:
    """What a complete plan would have and this one lacks, each naming its line: headings (一、二、…)
    and task groups ((一)(二)… within each heading) numbered in sequence, tasks numbered 1, 2, 3, …
    in order with none missing, and a text that ends at the end of a paragraph (a copy cut off
    mid-sentence ends elsewhere) whose last task has its responsibility clause when the others do,
    and, when a part precedes the tasks (工作目标), a part after them (有关要求).
    Empty for a plan without gaps. No side effects."""
    problems: list[str] = []
    expected = 1
    for number, line in plan.headings:
        value = chinese_number(number)
        if value != expected:
            problems.append(f"第 {line} 行：一级标题“{number}、”不连续，应为“{chinese_numeral(expected)}、”")
        expected = (value or expected) + 1
    for heading, _line in plan.headings:
        groups = [s for s in plan.sections if s.grouped and _heading_of(plan, s.line) == heading]
        expected = 1
        for section in groups:
            value = chinese_number(section.number)
            if value != expected:
                problems.append(
                    f"第 {section.line} 行：任务分组“（{section.number}）”不连续，应为“（{chinese_numeral(expected)}）”"
                )
            expected = (value or expected) + 1
    tasks = plan.tasks
    numbers = [task.number for task in tasks]
    for before, after in itertools.pairwise(tasks):
        if after.number < before.number:
            problems.append(
                f"第 {after.line} 行：任务 {after.number} 排在任务 {before.number} 之后，顺序不对"
            )
    missing = sorted(set(range(1, max(numbers, default=0) + 1)) - set(numbers))
    if missing:
        shown = "、".join(str(number) for number in missing[:20]) + ("等" if len(missing) > 20 else "")
        problems.append(f"任务序号不连续：缺少任务 {shown}（找到任务 {_number_run(numbers)}）")
    lines = [(n, line.strip()) for n, line in enumerate(plan.source_text.lstrip("\ufeff").splitlines(), 1)]
    last = next(((n, line) for n, line in reversed(lines) if line), None)
    if last is not None and not last[1].endswith(_PARAGRAPH_ENDS):
        problems.append(f"第 {last[0]} 行：文本在段落中间结束（“…{last[1][-15:]}”），可能不完整")
    if plan.goals and not plan.requirements and tasks:
        # The layout is 目标 – 任务 – 要求: a copy with the first part but not the last was cut off,
        # even at a paragraph's end (the case of issue #10: a 20-task plan imported as 6 tasks).
        problems.append(
            f"第 {tasks[-1].line} 行：方案在任务 {tasks[-1].number} 之后结束，"
            "任务之后没有“有关要求”等部分，文本可能不完整"
        )
    if len(tasks) > 1 and not tasks[-1].clause and all(task.clause for task in tasks[:-1]):
        problems.append(
            f"第 {tasks[-1].line} 行：最后一项任务 {tasks[-1].number} 没有责任分工条款（〔由…负责落实〕），"
            "其他任务都有，文本可能在此中断"
        )
    return problems


def _heading_of(plan: ParsedPlan, line: int) -> str:
    """The number of the top-level heading above `line`."""
    above = [number for number, heading_line in plan.headings if heading_line < line]
    return above[-1] if above else ""


def found_summary(plan: ParsedPlan) -> str:
    """What the import found, for the operator to compare with the plan in hand."""
    headings = [number for number, _line in plan.headings]
    groups = [section.number for section in plan.sections if section.grouped]
    numbers = [task.number for task in plan.tasks]
    parts = [f"一级标题 {len(headings)} 个（{'、'.join(headings)}）"]
    if groups:
        parts.append(f"任务分组 {len(groups)} 个（{'、'.join(f'（{number}）' for number in groups)}）")
    parts.append(f"任务 {len(numbers)} 项（{_number_run(numbers)}）")
    return "找到：" + "，".join(parts)
