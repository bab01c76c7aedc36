import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from openpyxl import Workbook

from zhengfeng.core.models import AuditLog
from zhengfeng.evaluation.importing import WRITE_BATCH
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


REJECT_TRIGGER = {
    "sqlite": """CREATE TRIGGER reject_action BEFORE INSERT ON evaluation_enforcementaction
        WHEN NEW.external_id = 'ZF-0250' BEGIN SELECT RAISE(ABORT, 'rejected by trigger'); END""",
    "postgresql": """CREATE FUNCTION reject_action() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.external_id = 'ZF-0250' THEN RAISE EXCEPTION 'rejected by trigger'; END IF; RETURN NEW; END $$;
        CREATE TRIGGER reject_action BEFORE INSERT ON evaluation_enforcementaction
        FOR EACH ROW EXECUTE FUNCTION reject_action()""",
}
DROP_TRIGGER = {
    "sqlite": "DROP TRIGGER reject_action",
    "postgresql": "DROP TRIGGER reject_action ON evaluation_enforcementaction; DROP FUNCTION reject_action()",
}


def test_a_write_failing_half_way_keeps_the_batches_before_it_and_a_rerun_finishes(
    tmp_path, year, zhang, capsys
):
    # The database refuses line 250 (a trigger: a refusal no check foresaw). The first batch of 200 is
    # committed; importing the same file again, once the cause is gone, skips those and writes the rest.
    assert WRITE_BATCH == 200
    lines = [
        f"ZF-{n:04d},441800-A,张三,执法检查,2015-11-19 10:30,某某餐饮店,1381234{n:04d}\n"
        for n in range(1, 301)
    ]
    path = tmp_path / "actions.csv"
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    with connection.cursor() as cursor:
        cursor.execute(REJECT_TRIGGER[connection.vendor])

    with pytest.raises(CommandError) as refused:
        run(path)

    assert (
        str(refused.value)
        == "导入中断：已写入 200 条；排除问题后重新导入同一文件，已导入的记录按外部编号跳过。"
    )
    assert capsys.readouterr().err.splitlines() == ["第 201 条起未能写入：数据库拒绝写入"]
    assert EnforcementAction.objects.count() == 200
    assert OutboxMessage.objects.count() == 200
    interrupted = AuditLog.objects.get(action="evaluation.actions_imported")
    assert (interrupted.data["created"], interrupted.data["interrupted"]) == (200, True)

    with connection.cursor() as cursor:
        for statement in DROP_TRIGGER[connection.vendor].split(";"):
            cursor.execute(statement)
    run(path)

    assert capsys.readouterr().out.splitlines() == [
        "执法监督记录：新增 100，已导入过（跳过） 200",
        "导入完成。",
    ]
    assert sorted(EnforcementAction.objects.values_list("external_id", flat=True)) == [
        f"ZF-{n:04d}" for n in range(1, 301)
    ]
    assert OutboxMessage.objects.count() == 300
    assert AuditLog.objects.filter(action="evaluation.action_recorded").count() == 300
