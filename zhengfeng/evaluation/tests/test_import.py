import pytest
import time_machine
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from zhengfeng.core.models import AuditLog
from zhengfeng.evaluation.models import EnforcementAction, Evaluation
from zhengfeng.evaluation.tests.conftest import NOW, local
from zhengfeng.messaging.models import OutboxMessage

pytestmark = pytest.mark.django_db

HEADER = "外部编号,单位编码,执法人员,执法类型,执法时间,执法对象,对象手机号码\n"
GOOD = HEADER + (
    "ZF-001,441800-A,张三,执法检查,2015-11-19 10:30,某某餐饮店,13812345678\n"
    "ZF-002,441800-A,张三、李四,监督检查,2015/11/20 09:00,某某药店,１３９８７６５４３２１\n"
)


def run(path, *args):
    with time_machine.travel(NOW, tick=False):
        call_command("evaluation", "import-actions", str(path), *args)


def test_import_csv_twice_creates_once(tmp_path, year, zhang, li, capsys):
    path = tmp_path / "actions.csv"
    path.write_text(GOOD, encoding="utf-8")

    run(path)
    run(path)

    out = capsys.readouterr().out
    assert out.splitlines() == [
        "执法监督记录：新增 2，已导入过（跳过） 0",
        "导入完成。",
        "执法监督记录：新增 0，已导入过（跳过） 2",
        "导入完成。",
    ]
    actions = list(EnforcementAction.objects.order_by("external_id"))
    assert [(a.external_id, a.source, a.acted_at, a.subject_phone) for a in actions] == [
        ("ZF-001", "import", local(11, 19, 10, 30), "13812345678"),
        ("ZF-002", "import", local(11, 20, 9), "13987654321"),
    ]
    assert [list(a.staff.values_list("name", flat=True)) for a in actions] == [["张三"], ["张三", "李四"]]
    assert OutboxMessage.objects.count() == 2
    assert AuditLog.objects.filter(action="evaluation.actions_imported").count() == 1


def test_import_errors_name_the_line_and_write_nothing(tmp_path, year, zhang, capsys):
    path = tmp_path / "actions.csv"
    path.write_text(
        HEADER
        + "ZF-001,441800-A,张三,执法检查,2015-11-19 10:30,某某餐饮店,13812345678\n"
        + "ZF-002,441800-X,张三,执法检查,2015-11-19 10:30,某某餐饮店,13812345678\n"
        + "ZF-003,441800-A,张四,执法检查,2015-11-19 10:30,某某餐饮店,13812345678\n"
        + "ZF-001,441800-A,张三,抽查,昨天,某某餐饮店,12345\n",
        encoding="utf-8",
    )

    with pytest.raises(CommandError, match="导入失败：共 4 处错误，未写入任何数据。"):
        run(path)

    assert capsys.readouterr().err.splitlines() == [
        "第 3 行：未知的单位编码：441800-X",
        "第 4 行：市甲局没有名为“张四”的在岗执法监督人员",
        "第 5 行：外部编号 ZF-001 与第 2 行重复",
        "第 5 行：执法时间“昨天”无法识别（格式如 2015-11-20 10:30）",
    ]
    assert (EnforcementAction.objects.count(), Evaluation.objects.count(), OutboxMessage.objects.count()) == (
        0,
        0,
        0,
    )


def test_dry_run_and_xlsx(tmp_path, year, zhang, capsys):
    workbook = Workbook()
    sheet = workbook.worksheets[0]  # `workbook.active` of a new workbook
    sheet.append(["外部编号", "单位编码", "执法人员", "执法类型", "执法时间", "执法对象", "对象手机号码"])
    sheet.append(
        ["X1", "441800-A", "张三", "inspection", local(11, 19, 10).replace(tzinfo=None), "某店", 13812345678]
    )
    path = tmp_path / "actions.xlsx"
    workbook.save(path)

    run(path, "--dry-run")
    assert EnforcementAction.objects.count() == 0
    run(path)

    assert capsys.readouterr().out.splitlines() == [
        "执法监督记录：新增 1，已导入过（跳过） 0",
        "试运行：校验通过，未写入任何数据。",
        "执法监督记录：新增 1，已导入过（跳过） 0",
        "导入完成。",
    ]
    assert EnforcementAction.objects.get().acted_at == local(11, 19, 10)


def test_unknown_column(tmp_path, year, capsys):
    path = tmp_path / "actions.csv"
    path.write_text("外部编号,单位,执法人员\n", encoding="utf-8")

    with pytest.raises(CommandError):
        run(path)

    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("第 1 行（表头）：未知的列“单位”")
    assert err[1] == "第 1 行（表头）：缺少必需的列 单位编码、执法类型、执法时间、执法对象、对象手机号码"
