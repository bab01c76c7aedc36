"""Ledger Excel: the exported layout, export → import round trip, row errors with nothing written,
idempotent re-import, dry run and the `zhengfeng ledger` command."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from openpyxl import Workbook, load_workbook

from zhengfeng.core.models import AuditLog
from zhengfeng.deadlines.models import Clock
from zhengfeng.ledger.ledgers import services
from zhengfeng.ledger.ledgers.excel import (
    COLUMNS,
    LedgerImportError,
    export_title,
    export_workbook,
    import_ledgers,
)
from zhengfeng.ledger.ledgers.queries import export_ledgers
from zhengfeng.ledger.models import Ledger, LedgerStep, ProgressEntry, StepStatus
from zhengfeng.ledger.tests.conftest import LEDGER_NOW

HEADERS = [name for name, _width in COLUMNS]


@pytest.fixture
def kept(task_one, task_two, unit_a, liaison_a):
    """Unit A's two ledgers: task 1 with two steps (one done) and progress, task 2 without steps."""
    first = services.create_ledger(
        task=task_one,
        unit=unit_a,
        goals="作风明显好转",
        measures="一、建立制度\n二、开展检查",
        time_requirements="全年",
        responsible_persons="张三",
        by=liaison_a,
    )
    meeting = services.add_step(first, text="召开动员会", due_on=dt.date(2026, 3, 10), by=liaison_a)
    services.add_step(first, text="开展自查", due_on=dt.date(2026, 6, 30), by=liaison_a)
    services.add_progress(first, text="已印发方案", noted_on=dt.date(2026, 2, 27), by=liaison_a)
    services.add_progress(first, text="已召开动员会", step=meeting, by=liaison_a)
    services.set_step_status(meeting, StepStatus.DONE, by=liaison_a)
    services.create_ledger(task=task_two, unit=unit_a, goals="办事更快", by=liaison_a)
    return Ledger.objects.filter(unit=unit_a)


def cell_date(year: int, month: int, day: int) -> dt.datetime:
    """A date as openpyxl reads and writes it: a naive datetime at midnight (Excel has no zones)."""
    return dt.datetime.combine(dt.date(year, month, day), dt.time())


def exported(ledgers, unit, plan) -> bytes:
    return export_workbook(export_ledgers(ledgers), title=export_title(unit=unit, plan=plan))


def sheet_rows(content: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def write_sheet(rows: list[list], headers: list[str] = HEADERS) -> bytes:
    workbook = Workbook()
    sheet = workbook.worksheets[0]
    sheet.append(["台帐"])
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def state() -> tuple:
    return (
        list(
            Ledger.objects.order_by("id").values_list(
                "goals", "measures", "time_requirements", "responsible_persons", "status"
            )
        ),
        list(LedgerStep.objects.order_by("id").values_list("text", "due_on", "status")),
        list(ProgressEntry.objects.order_by("id").values_list("noted_on", "text", "step_id")),
        Clock.objects.count(),
        AuditLog.objects.count(),
    )


def test_export_layout(kept, unit_a, ledger_plan):
    content = exported(kept, unit_a, ledger_plan)
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    assert sheet["A1"].value == "市甲局2026年“正风”行动工作台帐"
    assert sheet["A1"].font.b is True
    assert "A1:K1" in {str(merged) for merged in sheet.merged_cells.ranges}
    assert [cell.value for cell in sheet[2]] == HEADERS
    assert all(cell.font.b for cell in sheet[2])
    assert sheet.column_dimensions["F"].width == 32
    meeting, survey = LedgerStep.objects.order_by("id")
    assert sheet_rows(content)[2:] == [
        [
            meeting.pk,
            "市甲局",
            "1. 持续正风肃纪",
            "作风明显好转",
            "一、建立制度\n二、开展检查",
            "召开动员会",
            "全年",
            cell_date(2026, 3, 10),
            "张三",
            "【2026-02-27 liaison_a】已印发方案\n【2026-03-02 liaison_a】已召开动员会",
            "已完成",
        ],
        [
            survey.pk,
            "市甲局",
            "1. 持续正风肃纪",
            "作风明显好转",
            "一、建立制度\n二、开展检查",
            "开展自查",
            "全年",
            cell_date(2026, 6, 30),
            "张三",
            None,
            "未完成",
        ],
        [None, "市甲局", "2. 优化政务服务", "办事更快", None, None, None, None, None, None, None],
    ]
    assert sheet["H3"].number_format == "yyyy-mm-dd"


def test_round_trip_changes_nothing(kept, unit_a, ledger_plan):
    content = exported(kept, unit_a, ledger_plan)
    before = state()
    result = import_ledgers(content, unit=unit_a, plan=ledger_plan)
    assert result.changed is False
    assert result.line() == "市甲局 2026 年度台帐：无变化"
    assert state() == before


def test_import_creates_ledgers_steps_clocks_and_progress(ledger_plan, unit_a, liaison_a):
    content = write_sheet(
        [
            [
                None,
                "市甲局",
                "1. 持续正风肃纪",
                "目标甲",
                "措施甲",
                "召开动员会",
                "一季度",
                "2026-03-10",
                "张三",
                "已部署",
                None,
            ],
            [
                None,
                None,
                None,
                None,
                None,
                "开展自查",
                None,
                cell_date(2026, 6, 30),
                None,
                "【2026-02-28 李四】自查方案已拟定",
                "已完成",
            ],
            [None, None, "优化政务服务", "目标乙", None, "梳理事项", None, "2026年4月1日", None, None, None],
        ]
    )
    result = import_ledgers(content, unit=unit_a, plan=ledger_plan, by=liaison_a, file_name="台帐.xlsx")
    assert result.counts() == {
        "ledgers_created": 2,
        "ledgers_updated": 0,
        "steps_created": 3,
        "steps_updated": 0,
        "steps_completed": 1,
        "progress_added": 2,
    }
    first = Ledger.objects.get(task__number=1)
    assert (first.goals, first.measures, first.time_requirements, first.responsible_persons) == (
        "目标甲",
        "措施甲",
        "一季度",
        "张三",
    )
    steps = list(LedgerStep.objects.order_by("id").values_list("text", "due_on", "status"))
    assert steps == [
        ("召开动员会", dt.date(2026, 3, 10), "open"),
        ("开展自查", dt.date(2026, 6, 30), "done"),
        ("梳理事项", dt.date(2026, 4, 1), "open"),
    ]
    assert Clock.objects.filter(kind="ledger_step").count() == 3
    entries = list(
        ProgressEntry.objects.order_by("id").values_list("noted_on", "author_name", "text", "step__text")
    )
    assert entries == [
        (dt.date(2026, 3, 2), "liaison_a", "已部署", "召开动员会"),
        (dt.date(2026, 2, 28), "李四", "自查方案已拟定", "开展自查"),
    ]
    audit = AuditLog.objects.get(action="ledger.imported")
    assert (audit.data["file"], audit.data["steps_created"], audit.actor) == ("台帐.xlsx", 3, liaison_a)
    # The same sheet again: nothing changes, not even the audit log.
    before = state()
    assert import_ledgers(content, unit=unit_a, plan=ledger_plan, by=liaison_a).changed is False
    assert state() == before


def test_reimport_after_edits_updates_in_place(kept, unit_a, ledger_plan):
    rows = sheet_rows(exported(kept, unit_a, ledger_plan))[2:]
    survey_id = rows[1][0]
    rows[1][5] = "开展全面自查"  # reworded, matched by 编号
    rows[1][7] = cell_date(2026, 7, 15)
    rows[1][9] = "【2026-03-01 王五】自查过半"
    rows[0][3] = rows[1][3] = "作风根本好转"  # every row of the task agrees
    result = import_ledgers(write_sheet(rows), unit=unit_a, plan=ledger_plan)
    assert result.counts() == {
        "ledgers_created": 0,
        "ledgers_updated": 1,
        "steps_created": 0,
        "steps_updated": 1,
        "steps_completed": 0,
        "progress_added": 1,
    }
    step = LedgerStep.objects.get(pk=survey_id)
    assert (step.text, step.due_on) == ("开展全面自查", dt.date(2026, 7, 15))
    assert step.clock is not None
    assert step.clock.due_at == dt.datetime(2026, 7, 15, 17, 30, tzinfo=LEDGER_NOW.tzinfo)
    assert Ledger.objects.get(task__number=1).goals == "作风根本好转"


def test_row_errors_are_all_reported_and_nothing_is_written(kept, unit_a, ledger_plan):
    meeting = LedgerStep.objects.get(text="召开动员会")
    content = write_sheet(
        [
            [None, None, "9. 不存在的任务", None, None, "步骤", None, None, None, None, None],
            [None, None, "没有这个任务", None, None, "步骤", None, None, None, None, None],
            [None, None, "1", None, None, "新步骤", None, "2026-13-01", None, None, None],
            [None, None, "1", None, None, None, None, "2026-05-01", None, None, None],
            [None, None, "1", None, None, "再一步", None, None, None, None, "办理中"],
            [None, "市乙局", "1", None, None, "乙的步骤", None, None, None, None, None],
            [99999, None, "1", None, None, "编号不对", None, None, None, None, None],
            [meeting.pk, None, "1", None, None, "召开动员会", None, None, None, None, "未完成"],
            [None, None, "1", None, None, "有进展", None, None, None, "【2026-02-30】日期不对", None],
            [None, None, "2", "目标一", None, "甲", None, None, None, None, None],
            [None, None, "2", "目标二", None, "乙", None, None, None, None, None],
            [None, None, "2", None, None, "甲", None, None, None, None, None],
        ]
    )
    before = state()
    with pytest.raises(LedgerImportError) as exc:
        import_ledgers(content, unit=unit_a, plan=ledger_plan)
    assert exc.value.errors == [
        "第 3 行：方案中没有任务 9",
        "第 4 行：方案中没有名为“没有这个任务”的任务",
        "第 5 行：完成时限“2026-13-01”不是有效日期（应为 YYYY-MM-DD）",
        "第 6 行：工作步骤为空",
        "第 7 行：状态“办理中”无法识别（应为 未完成 或 已完成）",
        "第 8 行：单位“市乙局”不是市甲局（441800-A）",
        "第 9 行：编号“99999”不是市甲局任务 1 台帐中的工作步骤",
        "第 10 行：工作步骤“召开动员会”已完成，不能改为未完成",
        "第 11 行：进展中的日期“2026-02-30”不是有效日期（应为 YYYY-MM-DD）",
        "第 12 行：任务 2 的工作目标在第 12、13 行不一致",
        "第 14 行：工作步骤“甲”在任务 2 中重复出现",
    ]
    assert state() == before


def test_a_task_the_unit_does_not_carry_is_an_error(ledger_plan, unit_b):
    content = write_sheet([[None, None, "2. 优化政务服务", None, None, "步骤", None, None, None, None, None]])
    with pytest.raises(LedgerImportError) as exc:
        import_ledgers(content, unit=unit_b, plan=ledger_plan)
    assert exc.value.errors == ["第 3 行：市乙局不承担任务 2（优化政务服务）"]


@pytest.mark.parametrize(
    ("content", "errors"),
    [
        (b"not a workbook", ["文件不是有效的 Excel 工作簿（.xlsx）"]),
        (None, ["前 10 行中没有找到表头（至少需要“任务”和“工作步骤”两列）"]),
    ],
)
def test_unreadable_files(ledger_plan, unit_a, content, errors):
    content = content or write_sheet([["x"]], headers=["名称", "备注"])
    with pytest.raises(LedgerImportError) as exc:
        import_ledgers(content, unit=unit_a, plan=ledger_plan)
    assert exc.value.errors == errors


def test_dry_run_reports_and_writes_nothing(ledger_plan, unit_a):
    content = write_sheet(
        [[None, None, "1", "目标", None, "召开动员会", None, "2026-03-10", None, "已部署", None]]
    )
    before = state()
    result = import_ledgers(content, unit=unit_a, plan=ledger_plan, dry_run=True)
    assert result.line() == (
        "市甲局 2026 年度台帐（试导入，未写入）：新建台帐 1 个，修改台帐 0 个；新增步骤 1 个，修改 0 个，完成 0 个；新增进展 1 条"
    )
    assert state() == before


def test_command_export_then_import(kept, unit_a, ledger_plan, tmp_path):
    path = tmp_path / "台帐.xlsx"
    out = io.StringIO()
    call_command("ledger", "export", "--unit", "441800-A", "-o", str(path), stdout=out)
    assert out.getvalue() == f"已导出台帐 2 个、3 行到 {path}\n"
    before = state()
    out = io.StringIO()
    call_command("ledger", "import", str(path), "--unit", "441800-A", stdout=out)
    assert out.getvalue() == "市甲局 2026 年度台帐：无变化\n"
    assert state() == before


def test_command_export_for_a_division(kept, ledger_plan, county_unit, tmp_path):
    services.create_ledger(task=ledger_plan.tasks.get(number=1), unit=county_unit)
    path = tmp_path / "all.xlsx"
    call_command("ledger", "export", "--division", "441802", "-o", str(path), stdout=io.StringIO())
    rows = sheet_rows(path.read_bytes())
    assert rows[0][0] == "清城区2026年“正风”行动工作台帐"
    assert [row[1] for row in rows[2:]] == ["清城区甲局"]


def test_command_import_errors_exit_1(ledger_plan, unit_a, tmp_path, capsys):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(write_sheet([[None, None, "9", None, None, "步骤", None, None, None, None, None]]))
    with pytest.raises(SystemExit) as exc:
        call_command("ledger", "import", str(path), "--unit", "441800-A", "--dry-run")
    assert exc.value.code == 1
    assert capsys.readouterr().err == "bad.xlsx 有 1 处错误，未导入任何内容：\n  第 3 行：方案中没有任务 9\n"
    assert Ledger.objects.count() == 0


EVIL_STEP = '=HYPERLINK("http://evil.example/","点击查看")'


@pytest.fixture
def dangerous(task_one, unit_a, liaison_a):
    """Unit A's ledger for task 1 whose texts look like formulas (one with a quote the user typed)."""
    ledger = services.create_ledger(
        task=task_one,
        unit=unit_a,
        goals="+86 热线接通率",
        measures="@各科室 自查",
        time_requirements="-全年",
        responsible_persons="'=张三",
        by=liaison_a,
    )
    services.add_step(ledger, text=EVIL_STEP, due_on=dt.date(2026, 6, 30), by=liaison_a)
    return Ledger.objects.filter(unit=unit_a)


def test_export_neutralises_formula_text(dangerous, unit_a, ledger_plan):
    sheet = load_workbook(io.BytesIO(exported(dangerous, unit_a, ledger_plan))).worksheets[0]
    step = LedgerStep.objects.get()

    texts = {column: sheet[f"{column}3"] for column in "DEFGI"}
    assert {column: (cell.data_type, cell.value) for column, cell in texts.items()} == {
        "D": ("s", "'+86 热线接通率"),
        "E": ("s", "'@各科室 自查"),
        "F": ("s", "'" + EVIL_STEP),
        "G": ("s", "'-全年"),
        "I": ("s", "''=张三"),
    }
    assert (sheet["A3"].data_type, sheet["A3"].value) == ("n", step.pk)
    assert (sheet["H3"].data_type, sheet["H3"].value) == ("d", cell_date(2026, 6, 30))
    assert (sheet["B3"].data_type, sheet["B3"].value) == ("s", "市甲局")


def test_round_trip_of_formula_text_changes_nothing(dangerous, unit_a, ledger_plan):
    content = exported(dangerous, unit_a, ledger_plan)
    before = state()

    result = import_ledgers(content, unit=unit_a, plan=ledger_plan)

    assert result.changed is False
    assert state() == before


def test_import_of_an_export_stores_the_original_formula_text(dangerous, unit_a, ledger_plan, liaison_a):
    content = exported(dangerous, unit_a, ledger_plan)
    ledger = dangerous.get()
    step = LedgerStep.objects.get()
    services.update_step(step, text="临时步骤", due_on=step.due_on, by=liaison_a)
    services.update_ledger(
        ledger,
        goals="临时目标",
        measures="临时措施",
        time_requirements="临时",
        responsible_persons="临时",
        responsible_person=None,
        by=liaison_a,
    )

    result = import_ledgers(content, unit=unit_a, plan=ledger_plan)

    assert (result.ledgers_updated, result.steps_updated) == (1, 1)
    assert list(
        Ledger.objects.values_list("goals", "measures", "time_requirements", "responsible_persons")
    ) == [("+86 热线接通率", "@各科室 自查", "-全年", "'=张三")]
    assert list(LedgerStep.objects.values_list("text", flat=True)) == [EVIL_STEP]
