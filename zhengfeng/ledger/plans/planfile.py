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
"""

from __future__ import annotations

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


@dataclass
class ParsedPlan:
    title: str
    preamble: str
    goals: str
    requirements: str
    sections: list[ParsedSection]
    source_text: str

    @property
    def tasks(self) -> list[ParsedTask]:
        return [task for section in self.sections for task in section.tasks]


@dataclass
class _TopPart:
    number: str
    title: str
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
            tops.append(_TopPart(number=top.group(1), title=top.group(2).strip().rstrip("。")))
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
                section = ParsedSection(number=tops[-1].number, title=tops[-1].title, line=line_no)
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
    )


def _join_parts(parts: list[_TopPart]) -> str:
    if len(parts) == 1:
        return "\n".join(parts[0].lines)
    return "\n".join(f"{part.number}、{part.title}\n" + "\n".join(part.lines) for part in parts).strip()
