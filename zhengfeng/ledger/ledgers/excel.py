"""Ledgers as Excel, in the layout offices use: one row per step (docs/ledger.md §台帐 Excel).

Columns: 编号 (the step's id, blank for a new step), 单位, 任务 ("7. 标题"), 工作目标, 工作措施,
工作步骤, 时间要求, 完成时限 (a date), 责任人, 进展 (entries as "【YYYY-MM-DD 姓名】内容"), 状态.

Import reads a sheet for one unit and one plan in two phases: every row is checked first and every
error is reported by row; only a sheet without errors is written, in one transaction, through the
ledger services (so each change is audited and each dated step gets its clock). Importing the same
sheet twice changes nothing: steps are matched by 编号 or by task and step text, progress entries by
date and text, and blank cells never erase anything.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from zhengfeng.core import audit
from zhengfeng.core.spreadsheet import restore_cell, safe_cell
from zhengfeng.ledger.ledgers import services
from zhengfeng.ledger.models import (
    Ledger,
    LedgerStatus,
    LedgerStep,
    Plan,
    ProgressEntry,
    Responsibility,
    StepStatus,
    Task,
)
from zhengfeng.org.models import Unit, User

# (header, width); the order of the exported sheet.
COLUMNS: list[tuple[str, int]] = [
    ("编号", 8),
    ("单位", 18),
    ("任务", 28),
    ("工作目标", 32),
    ("工作措施", 36),
    ("工作步骤", 32),
    ("时间要求", 16),
    ("完成时限", 12),
    ("责任人", 14),
    ("进展", 44),
    ("状态", 8),
]
HEADER_ALIASES = {
    "编号": "编号",
    "步骤编号": "编号",
    "id": "编号",
    "单位": "单位",
    "责任单位": "单位",
    "任务": "任务",
    "工作任务": "任务",
    "任务项": "任务",
    "工作目标": "工作目标",
    "目标": "工作目标",
    "工作措施": "工作措施",
    "措施": "工作措施",
    "工作步骤": "工作步骤",
    "步骤": "工作步骤",
    "时间要求": "时间要求",
    "完成时限": "完成时限",
    "完成时间": "完成时限",
    "截止日期": "完成时限",
    "责任人": "责任人",
    "责任领导": "责任人",
    "进展": "进展",
    "进展情况": "进展",
    "工作进展": "进展",
    "状态": "状态",
    "完成情况": "状态",
}
LEDGER_COLUMNS = {
    "工作目标": "goals",
    "工作措施": "measures",
    "时间要求": "time_requirements",
    "责任人": "responsible_persons",
}
STATUS_WORDS = {"": None, "未完成": StepStatus.OPEN, "已完成": StepStatus.DONE, "完成": StepStatus.DONE}
HEADER_SEARCH_ROWS = 10
MAX_ROWS = 5000

_PROGRESS_HEAD = re.compile(r"【\s*([^】\s]+)(?:\s+([^】]*?))?\s*】")
_TASK = re.compile(r"^\s*(?:任务\s*)?(\d{1,3})\s*(?:[.．、:：]\s*(.*))?$", re.S)
_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


class LedgerImportError(Exception):
    """The sheet has errors; nothing was written. `errors` are lines like "第 5 行：…"."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(f"{len(errors)} 处错误")
        self.errors = errors


# --- Export ------------------------------------------------------------------------------------


def progress_cell(entries: Iterable[ProgressEntry]) -> str:
    lines = []
    for entry in entries:
        head = f"{entry.noted_on:%Y-%m-%d}"
        if entry.author_name:
            head += f" {entry.author_name}"
        lines.append(f"【{head}】{entry.text}")
    return "\n".join(lines)


def export_workbook(ledgers: list[Ledger], *, title: str) -> bytes:
    """The ledgers as an XLSX: a title row, a bold header, one row per step (a ledger without steps
    gets one row). Ledgers come from `ledger_queries.export_ledgers`."""
    workbook = Workbook()
    sheet = workbook.worksheets[0]  # the one sheet of a new workbook (its `active`)
    sheet.title = "工作台帐"
    last = get_column_letter(len(COLUMNS))
    sheet.merge_cells(f"A1:{last}1")
    sheet["A1"] = safe_cell(title)
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center", vertical="center")
    sheet.row_dimensions[1].height = 28
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for column, (header, width) in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=2, column=column, value=header)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE4EE")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = border
        sheet.column_dimensions[get_column_letter(column)].width = width
    wrap = Alignment(vertical="top", wrap_text=True)
    row = 3
    for ledger in ledgers:
        steps = list(ledger.steps.all())
        entries = list(ledger.progress_entries.all())
        by_step: dict[int | None, list[ProgressEntry]] = {}
        for entry in entries:
            by_step.setdefault(entry.step_id, []).append(entry)
        common: dict[str, str | int | dt.date | None] = {
            "单位": ledger.unit.name,
            "任务": f"{ledger.task.number}. {ledger.task.title}",
            "工作目标": ledger.goals,
            "工作措施": ledger.measures,
            "时间要求": ledger.time_requirements,
            "责任人": ledger.persons_label,
        }
        # Progress not tied to a step goes on the ledger's first row.
        loose = by_step.get(None, [])
        lines: list[dict[str, Any]] = []
        for index, step in enumerate(steps or [None]):
            values = dict(common)
            step_entries = (loose if index == 0 else []) + (by_step.get(step.pk, []) if step else [])
            values["进展"] = progress_cell(step_entries)
            if step is not None:
                values.update(
                    {
                        "编号": step.pk,
                        "工作步骤": step.text,
                        "完成时限": step.due_on,
                        "状态": step.get_status_display(),
                    }
                )
            lines.append(values)
        for values in lines:
            for column, (header, _width) in enumerate(COLUMNS, start=1):
                cell = sheet.cell(row=row, column=column, value=safe_cell(values.get(header) or None))
                cell.alignment = wrap
                cell.border = border
                if header == "完成时限":
                    cell.number_format = "yyyy-mm-dd"
            row += 1
    sheet.freeze_panes = "A3"
    sheet.auto_filter.ref = f"A2:{last}{max(row - 1, 2)}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_title(*, unit: Unit | None, plan: Plan | None, scope_label: str = "") -> str:
    year = f"{plan.year}年" if plan else ""
    who = unit.name if unit else scope_label
    return f"{who}{year}“正风”行动工作台帐"


# --- Import: reading -----------------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_date(value: Any) -> dt.date:
    """A due date from a cell: a date, or text like 2015-06-30, 2015/6/30, 2015.6.30, 2015年6月30日."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _cell_text(value)
    match = _DATE.match(text)
    if match:
        try:
            return dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise ValueError(text)


@dataclass
class SheetRow:
    number: int
    values: dict[str, Any]

    def text(self, column: str) -> str:
        return _cell_text(self.values.get(column))


def read_sheet(content: bytes) -> tuple[list[SheetRow], list[str]]:
    """The data rows of the first sheet, keyed by canonical header; or errors."""
    try:
        workbook = load_workbook(io.BytesIO(content), data_only=True)
    except Exception:  # openpyxl raises many types (zip, XML, key errors) on a file that is no xlsx
        return [], ["文件不是有效的 Excel 工作簿（.xlsx）"]
    sheet = workbook.worksheets[0]
    header_row = None
    columns: dict[int, str] = {}
    for row_number, cells in enumerate(
        sheet.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True), start=1
    ):
        found = {
            index: HEADER_ALIASES[_cell_text(value).replace(" ", "").lower()]
            for index, value in enumerate(cells)
            if _cell_text(value).replace(" ", "").lower() in HEADER_ALIASES
        }
        if "任务" in found.values() and "工作步骤" in found.values():
            header_row, columns = row_number, found
            break
    if header_row is None:
        return [], [f"前 {HEADER_SEARCH_ROWS} 行中没有找到表头（至少需要“任务”和“工作步骤”两列）"]
    rows = []
    for row_number, cells in enumerate(
        sheet.iter_rows(min_row=header_row + 1, values_only=True), start=header_row + 1
    ):
        # Our own export quoted formula-like text (zhengfeng.core.spreadsheet); drop exactly that quote.
        values = {name: restore_cell(cells[index]) for index, name in columns.items() if index < len(cells)}
        if all(_cell_text(value) == "" for value in values.values()):
            continue
        rows.append(SheetRow(row_number, values))
        if len(rows) > MAX_ROWS:
            return [], [f"数据超过 {MAX_ROWS} 行，请分批导入"]
    return rows, []


# --- Import: checking --------------------------------------------------------------------------


@dataclass
class ProgressItem:
    noted_on: dt.date | None
    author: str
    text: str


@dataclass
class StepChange:
    row: int
    step: LedgerStep | None
    text: str
    due_on: dt.date | None
    complete: bool
    progress: list[ProgressItem] = field(default_factory=list)


@dataclass
class LedgerChange:
    task: Task
    ledger: Ledger | None
    fields: dict[str, str]
    steps: list[StepChange] = field(default_factory=list)
    loose_progress: list[ProgressItem] = field(default_factory=list)


@dataclass
class ImportResult:
    unit: Unit
    plan: Plan
    dry_run: bool
    ledgers_created: int = 0
    ledgers_updated: int = 0
    steps_created: int = 0
    steps_updated: int = 0
    steps_completed: int = 0
    progress_added: int = 0

    @property
    def changed(self) -> bool:
        return any(
            (
                self.ledgers_created,
                self.ledgers_updated,
                self.steps_created,
                self.steps_updated,
                self.steps_completed,
                self.progress_added,
            )
        )

    def counts(self) -> dict[str, int]:
        return {
            "ledgers_created": self.ledgers_created,
            "ledgers_updated": self.ledgers_updated,
            "steps_created": self.steps_created,
            "steps_updated": self.steps_updated,
            "steps_completed": self.steps_completed,
            "progress_added": self.progress_added,
        }

    def line(self) -> str:
        mode = "（试导入，未写入）" if self.dry_run else ""
        if not self.changed:
            return f"{self.unit.name} {self.plan.year} 年度台帐：无变化{mode}"
        return (
            f"{self.unit.name} {self.plan.year} 年度台帐{mode}：新建台帐 {self.ledgers_created} 个，"
            f"修改台帐 {self.ledgers_updated} 个；新增步骤 {self.steps_created} 个，修改 {self.steps_updated} 个，"
            f"完成 {self.steps_completed} 个；新增进展 {self.progress_added} 条"
        )


def parse_progress(cell: str) -> list[ProgressItem]:
    """Entries of a 进展 cell. Text before the first 【…】 head (or a cell without heads) is one
    undated entry. Raises ValueError with the bad head's date."""
    items: list[ProgressItem] = []
    heads = list(_PROGRESS_HEAD.finditer(cell))
    lead = cell[: heads[0].start()] if heads else cell
    if lead.strip():
        items.append(ProgressItem(None, "", lead.strip()))
    for index, head in enumerate(heads):
        end = heads[index + 1].start() if index + 1 < len(heads) else len(cell)
        text = cell[head.end() : end].strip()
        noted_on = parse_date(head.group(1))
        if text:
            items.append(ProgressItem(noted_on, (head.group(2) or "").strip(), text))
    return items


def _task_of(cell: str, tasks_by_number: dict[int, Task], tasks_by_title: dict[str, Task]) -> Task | str:
    match = _TASK.match(cell)
    if match:
        number = int(match.group(1))
        task = tasks_by_number.get(number)
        return task if task is not None else f"方案中没有任务 {number}"
    task = tasks_by_title.get(cell)
    return task if task is not None else f"方案中没有名为“{cell}”的任务"


class _Checker:
    def __init__(self, unit: Unit, plan: Plan, *, today: dt.date) -> None:
        self.unit = unit
        self.plan = plan
        self.today = today
        self._errors: list[tuple[int, str]] = []
        tasks = list(Task.objects.filter(plan=plan))
        self.tasks_by_number = {task.number: task for task in tasks}
        self.tasks_by_title = {task.title: task for task in tasks}
        self.carried = set(
            Responsibility.objects.filter(unit=unit, task__plan=plan).values_list("task_id", flat=True)
        )
        self.ledgers = {
            ledger.task_id: ledger
            for ledger in Ledger.objects.filter(unit=unit, task__plan=plan).select_related(
                "responsible_person"
            )
        }
        self.steps = {
            step.pk: step
            for step in LedgerStep.objects.filter(ledger__in=list(self.ledgers.values())).select_related(
                "clock"
            )
        }
        self.entries: dict[int, set[tuple[dt.date, str]]] = {}
        self.entry_texts: dict[int, set[str]] = {}
        for ledger_id, noted_on, text in ProgressEntry.objects.filter(
            ledger__in=list(self.ledgers.values())
        ).values_list("ledger_id", "noted_on", "text"):
            self.entries.setdefault(ledger_id, set()).add((noted_on, text))
            self.entry_texts.setdefault(ledger_id, set()).add(text)

    def error(self, row: int, message: str) -> None:
        self._errors.append((row, f"第 {row} 行：{message}"))

    @property
    def errors(self) -> list[str]:
        """Every error, in row order (a sort by row keeps each row's errors in the order found)."""
        return [message for _row, message in sorted(self._errors, key=lambda item: item[0])]

    def check(self, rows: list[SheetRow]) -> list[LedgerChange]:
        grouped: dict[int, list[tuple[SheetRow, Task]]] = {}
        previous_task: Task | None = None
        for row in rows:
            unit_cell = row.text("单位")
            if unit_cell and unit_cell not in (self.unit.name, self.unit.code):
                self.error(row.number, f"单位“{unit_cell}”不是{self.unit.name}（{self.unit.code}）")
                continue
            task_cell = row.text("任务")
            if not task_cell:
                # A merged 任务 cell is read once: an empty cell continues the task above.
                if previous_task is None:
                    self.error(row.number, "任务为空")
                    continue
                task: Task | str = previous_task
            else:
                task = _task_of(task_cell, self.tasks_by_number, self.tasks_by_title)
            if isinstance(task, str):
                self.error(row.number, task)
                previous_task = None
                continue
            if task.pk not in self.carried and task.pk not in self.ledgers:
                self.error(row.number, f"{self.unit.name}不承担任务 {task.number}（{task.title}）")
                previous_task = None
                continue
            previous_task = task
            grouped.setdefault(task.pk, []).append((row, task))
        return [self.check_ledger(task_rows) for task_rows in grouped.values()]

    def check_ledger(self, task_rows: list[tuple[SheetRow, Task]]) -> LedgerChange:
        task = task_rows[0][1]
        ledger = self.ledgers.get(task.pk)
        fields: dict[str, str] = {}
        for column, name in LEDGER_COLUMNS.items():
            seen: dict[str, int] = {}
            for row, _task in task_rows:
                value = row.text(column)
                if value:
                    seen.setdefault(value, row.number)
            if len(seen) > 1:
                rows_text = "、".join(str(number) for number in seen.values())
                self.error(task_rows[0][0].number, f"任务 {task.number} 的{column}在第 {rows_text} 行不一致")
                continue
            if seen:
                value = next(iter(seen))
                current = (
                    (ledger.persons_label if name == "responsible_persons" else getattr(ledger, name))
                    if ledger
                    else ""
                )
                if value != current:
                    fields[name] = value
        change = LedgerChange(task=task, ledger=ledger, fields=fields)
        known_entries = set(self.entries.get(ledger.pk, set())) if ledger else set()
        known_texts = set(self.entry_texts.get(ledger.pk, set())) if ledger else set()
        used_steps: set[int] = set()
        used_texts: set[str] = set()
        for row, _task in task_rows:
            step_change = self.check_step(row, task, ledger, used_steps, used_texts)
            try:
                items = parse_progress(row.text("进展"))
            except ValueError as exc:
                self.error(row.number, f"进展中的日期“{exc}”不是有效日期（应为 YYYY-MM-DD）")
                continue
            fresh = []
            for item in items:
                if item.noted_on is not None and item.noted_on > self.today:
                    self.error(row.number, f"进展日期 {item.noted_on:%Y-%m-%d} 晚于今天")
                    continue
                if item.noted_on is None:
                    if item.text in known_texts:
                        continue
                elif (item.noted_on, item.text) in known_entries:
                    continue
                known_texts.add(item.text)
                if item.noted_on is not None:
                    known_entries.add((item.noted_on, item.text))
                fresh.append(item)
            if step_change is None:
                if row.text("工作步骤") == "":
                    change.loose_progress.extend(fresh)
                continue
            step_change.progress = fresh
            if (
                step_change.step is None
                or step_change.progress
                or step_change.complete
                or step_change.text != step_change.step.text
                or step_change.due_on is not None
            ):
                change.steps.append(step_change)
        if ledger is not None and ledger.status == LedgerStatus.DONE:
            for step_change in change.steps:
                if step_change.step is None:
                    self.error(step_change.row, f"任务 {task.number} 的台帐已完成，不能新增工作步骤")
        return change

    def check_step(
        self, row: SheetRow, task: Task, ledger: Ledger | None, used_steps: set[int], used_texts: set[str]
    ) -> StepChange | None:
        text = row.text("工作步骤")
        id_cell = row.text("编号")
        due_cell = row.values.get("完成时限")
        status_cell = row.text("状态")
        if not text:
            if id_cell or _cell_text(due_cell) or status_cell:
                self.error(row.number, "工作步骤为空")
            return None
        if len(text) > 500:
            self.error(row.number, f"工作步骤最多 500 个字符，当前 {len(text)} 个")
            return None
        step = None
        if id_cell:
            try:
                step = self.steps.get(int(id_cell))
            except ValueError:
                step = None
            if step is None or ledger is None or step.ledger_id != ledger.pk:
                self.error(
                    row.number, f"编号“{id_cell}”不是{self.unit.name}任务 {task.number} 台帐中的工作步骤"
                )
                return None
        elif ledger is not None:
            step = next((s for s in self.steps.values() if s.ledger_id == ledger.pk and s.text == text), None)
        if (step is not None and step.pk in used_steps) or text in used_texts:
            self.error(row.number, f"工作步骤“{text}”在任务 {task.number} 中重复出现")
            return None
        if step is not None:
            used_steps.add(step.pk)
        used_texts.add(text)
        due_on = None
        if _cell_text(due_cell):
            try:
                due_on = parse_date(due_cell)
            except ValueError:
                self.error(row.number, f"完成时限“{_cell_text(due_cell)}”不是有效日期（应为 YYYY-MM-DD）")
                return None
        if status_cell not in STATUS_WORDS:
            self.error(row.number, f"状态“{status_cell}”无法识别（应为 未完成 或 已完成）")
            return None
        status = STATUS_WORDS[status_cell]
        if step is not None:
            if status == StepStatus.OPEN and step.status == StepStatus.DONE:
                self.error(row.number, f"工作步骤“{step.text}”已完成，不能改为未完成")
                return None
            if due_on is not None and due_on != step.due_on:
                if step.status == StepStatus.DONE:
                    self.error(row.number, f"工作步骤“{step.text}”已完成，完成时限不能再修改")
                    return None
                if step.clock_id is not None and due_on <= self.today:
                    self.error(row.number, f"调整后的完成时限 {due_on:%Y-%m-%d} 须晚于今天")
                    return None
            if due_on == step.due_on:
                due_on = None
        complete = status == StepStatus.DONE and (step is None or step.status == StepStatus.OPEN)
        return StepChange(row=row.number, step=step, text=text, due_on=due_on, complete=complete)


def check_import(
    rows: list[SheetRow], *, unit: Unit, plan: Plan, today: dt.date
) -> tuple[list[LedgerChange], list[str]]:
    checker = _Checker(unit, plan, today=today)
    changes = checker.check(rows)
    return changes, checker.errors


# --- Import: writing ---------------------------------------------------------------------------


def _apply(changes: list[LedgerChange], result: ImportResult, *, by: User | None) -> None:
    for change in changes:
        ledger = change.ledger
        if ledger is None:
            # The sheet's texts only: its 责任人 is a text, never a person picked from the staff list.
            ledger = services.create_ledger(
                task=change.task, unit=result.unit, responsible_person=None, by=by, **change.fields
            )
            result.ledgers_created += 1
        elif change.fields:
            values = {
                "goals": ledger.goals,
                "measures": ledger.measures,
                "time_requirements": ledger.time_requirements,
                "responsible_persons": ledger.responsible_persons,
            } | change.fields
            # A 责任人 typed in the sheet replaces the person picked from the staff list.
            person = None if "responsible_persons" in change.fields else ledger.responsible_person
            services.update_ledger(ledger, responsible_person=person, by=by, **values)
            result.ledgers_updated += 1
        for item in change.loose_progress:
            services.add_progress(
                ledger, text=item.text, noted_on=item.noted_on, author_name=item.author, by=by
            )
            result.progress_added += 1
        for step_change in change.steps:
            step = step_change.step
            if step is None:
                step = services.add_step(ledger, text=step_change.text, due_on=step_change.due_on, by=by)
                result.steps_created += 1
            elif step_change.text != step.text or step_change.due_on is not None:
                services.update_step(
                    step, text=step_change.text, due_on=step_change.due_on or step.due_on, by=by
                )
                result.steps_updated += 1
            for item in step_change.progress:
                services.add_progress(
                    ledger, step=step, text=item.text, noted_on=item.noted_on, author_name=item.author, by=by
                )
                result.progress_added += 1
            if step_change.complete:
                services.set_step_status(step, StepStatus.DONE, by=by)
                result.steps_completed += 1


def import_ledgers(
    content: bytes,
    *,
    unit: Unit,
    plan: Plan,
    dry_run: bool = False,
    by: User | None = None,
    file_name: str = "",
) -> ImportResult:
    """Check the whole sheet, then (unless `dry_run`) write it in one transaction.

    Raises LedgerImportError listing every error by row; nothing is written then.
    Side effects: ledgers, steps (with clocks), progress entries and step completions through the
    ledger services (each audited); one audit row `ledger.imported` when something changed.
    """
    rows, errors = read_sheet(content)
    if errors:
        raise LedgerImportError(errors)
    if not rows:
        raise LedgerImportError(["表格中没有数据行"])
    changes, errors = check_import(rows, unit=unit, plan=plan, today=services.local_today())
    if errors:
        raise LedgerImportError(errors)
    result = ImportResult(unit=unit, plan=plan, dry_run=dry_run)
    if dry_run:
        result.ledgers_created = sum(1 for c in changes if c.ledger is None)
        result.ledgers_updated = sum(1 for c in changes if c.ledger is not None and c.fields)
        result.steps_created = sum(1 for c in changes for s in c.steps if s.step is None)
        result.steps_updated = sum(
            1 for c in changes for s in c.steps if s.step is not None and (s.text != s.step.text or s.due_on)
        )
        result.steps_completed = sum(1 for c in changes for s in c.steps if s.complete)
        result.progress_added = sum(
            len(c.loose_progress) + sum(len(s.progress) for s in c.steps) for c in changes
        )
        return result
    try:
        with transaction.atomic():
            _apply(changes, result, by=by)
            if result.changed:
                audit.record(
                    "ledger.imported",
                    by=by,
                    target=plan,
                    division_code=unit.division_id,
                    data={"unit": unit.code, "plan": plan.pk, "year": plan.year, "file": file_name}
                    | result.counts(),
                )
    except ValidationError as exc:
        raise LedgerImportError(
            [f"导入未完成，未写入任何内容：{message}" for message in exc.messages]
        ) from exc
    return result
