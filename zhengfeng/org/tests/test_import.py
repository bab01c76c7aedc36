"""`zhengfeng org import`: CSV and XLSX, every line checked first, all or nothing, idempotent by code."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from zhengfeng.core.models import AuditLog
from zhengfeng.org.models import Person, Position, Unit

pytestmark = pytest.mark.django_db

UNIT_HEADER = ["单位编码", "单位名称", "简称", "类别", "区划代码", "上级单位编码", "统一社会信用代码"]
PEOPLE_HEADER = ["人员编号", "姓名", "手机号码", "单位编码", "职务", "科室", "是否领导"]

UNITS = [
    # A child before its parent: the order of lines does not matter.
    ["441800-ZFB", "市正风办", "正风办", "正风办", "441800", "441800-JWJW", ""],
    ["441800-JWJW", "市纪委监委", "纪委监委", "纪委监委", "441800", "", "11441800DM0000001Y"],
    ["441802-CZJ", "清城区财政局", "清城财政局", "", "441802", "", ""],
]


def write_csv(path, header, rows, encoding="utf-8-sig"):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def run_import(path, *options):
    out, err = io.StringIO(), io.StringIO()
    call_command("org", "import", str(path), *options, stdout=out, stderr=err)
    return out.getvalue().splitlines()


def run_failing_import(path, *options):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("org", "import", str(path), *options, stdout=out, stderr=err)
    return err.getvalue().splitlines(), str(exc.value)


@pytest.fixture
def divisions(city, qingcheng, qingxin):
    return city, qingcheng, qingxin


@pytest.fixture
def units_csv(tmp_path, divisions):
    return write_csv(tmp_path / "units.csv", UNIT_HEADER, UNITS)


def test_units_are_created_from_csv(units_csv):
    assert run_import(units_csv) == ["单位：新增 3，更新 0，未变 0", "导入完成。"]

    office = Unit.objects.get(code="441800-ZFB")
    assert office.parent is not None
    assert (
        office.name,
        office.short_name,
        office.kind,
        office.division_id,
        office.parent.code,
        office.uscc,
    ) == (
        "市正风办",
        "正风办",
        "campaign_office",
        "441800",
        "441800-JWJW",
        None,
    )
    assert Unit.objects.get(code="441800-JWJW").uscc == "11441800DM0000001Y"
    assert Unit.objects.get(code="441802-CZJ").kind == "government"
    assert list(AuditLog.objects.order_by("seq").values_list("action", flat=True)) == [
        "unit.created",
        "unit.created",
        "unit.created",
        "org.imported",
    ]
    assert AuditLog.objects.get(action="org.imported").data == {
        "file": "units.csv",
        "units": {"created": 3, "updated": 0, "unchanged": 0},
    }


def test_reimport_is_idempotent_and_updates_in_place(tmp_path, units_csv):
    run_import(units_csv)
    ids = dict(Unit.objects.values_list("code", "pk"))

    assert run_import(units_csv) == ["单位：新增 0，更新 0，未变 3", "导入完成。"]
    assert AuditLog.objects.filter(action__startswith="unit.").count() == 3

    changed = [row.copy() for row in UNITS]
    changed[2][1] = "清城区财政局（国资办）"
    changed[0][5] = ""  # the office no longer has a parent
    assert run_import(write_csv(tmp_path / "units2.csv", UNIT_HEADER, changed)) == [
        "单位：新增 0，更新 2，未变 1",
        "导入完成。",
    ]
    assert dict(Unit.objects.values_list("code", "pk")) == ids
    assert Unit.objects.get(code="441802-CZJ").name == "清城区财政局（国资办）"
    assert Unit.objects.get(code="441800-ZFB").parent is None


def test_dry_run_validates_and_writes_nothing(units_csv):
    assert run_import(units_csv, "--dry-run") == [
        "单位：新增 3，更新 0，未变 0",
        "试运行：校验通过，未写入任何数据。",
    ]
    assert Unit.objects.count() == 0
    assert AuditLog.objects.count() == 0


def test_every_bad_line_is_reported_and_nothing_is_written(tmp_path, divisions):
    rows = [
        ["441800-A", "市甲局", "", "", "441800", "", ""],  # fine, but must not be saved
        ["441800-B", "市乙局", "", "", "449999", "", ""],
        ["441800-C", "市丙局", "", "", "441800", "441800-NOPE", ""],
        ["441800-D", "市丁局", "", "", "441800", "", "91350100M000100Y44"],
        ["441800-E", "市戊局", "", "机关", "441800", "", "91350100M000100O43"],
        ["441800-A", "市甲局二", "", "", "441800", "", ""],
        ["441800-F", "", "", "", "441800", "", ""],
        ["441800-G", "市甲局", "", "", "441800", "", ""],
    ]
    errors, message = run_failing_import(write_csv(tmp_path / "bad.csv", UNIT_HEADER, rows))

    assert errors == [
        "第 2 行：同一区划内单位名称重复：市甲局 也用于 441800-G（第 9 行）",
        "第 3 行：未知的行政区划代码 449999",
        "第 4 行：未知的上级单位编码 441800-NOPE",
        "第 5 行：统一社会信用代码校验位错误：应为 3，实为 4：91350100M000100Y44",
        "第 6 行：未知的单位类别：机关（可用：党委及其工作部门、政府工作部门、纪委监委、正风办、行政（政务）服务中心、事业单位、新闻媒体、乡镇（街道）、其他）",
        "第 6 行：统一社会信用代码含有不允许的字符 O（不使用 I、O、S、V、Z）：91350100M000100O43",
        "第 7 行：单位编码 441800-A 与第 2 行重复",
        "第 8 行：单位名称不能为空",
        "第 9 行：同一区划内单位名称重复：市甲局 也用于 441800-A（第 2 行）",
    ]
    assert message == f"导入失败：共 {len(errors)} 处错误，未写入任何数据。"
    assert Unit.objects.count() == 0
    assert AuditLog.objects.count() == 0


def test_parent_cycles_are_refused(tmp_path, divisions):
    rows = [
        ["X1", "甲", "", "", "441800", "X2", ""],
        ["X2", "乙", "", "", "441800", "X1", ""],
        ["X3", "丙", "", "", "441800", "X3", ""],
    ]
    errors, _message = run_failing_import(write_csv(tmp_path / "cycle.csv", UNIT_HEADER, rows))
    assert errors == [
        "第 2 行：上级单位形成循环：X1 → X2 → X1",
        "第 3 行：上级单位形成循环：X2 → X1 → X2",
        "第 4 行：上级单位不能是本单位 X3",
    ]


def test_people_are_created_with_positions_and_encrypted_phones(tmp_path, units_csv):
    run_import(units_csv)
    rows = [
        ["Q001", "陈建国", "139 0263 0001", "441800-JWJW", "副书记", "", "是"],
        ["Q002", "李晓明", "", "441800-ZFB", "联络员", "综合科", "否"],
        ["Q002", "李晓明", "", "441802-CZJ", "联络员", "", ""],  # a concurrent post
        ["Q003", "黄小芳", "13902630003", "", "", "", ""],
    ]
    assert run_import(write_csv(tmp_path / "people.csv", PEOPLE_HEADER, rows)) == [
        "人员：新增 3，更新 0，未变 0",
        "导入完成。",
    ]
    chen = Person.objects.get(external_id="Q001")
    assert (chen.name, chen.phone) == ("陈建国", "13902630001")
    assert list(chen.positions.values_list("unit__code", "title", "is_leader")) == [
        ("441800-JWJW", "副书记", True)
    ]
    assert sorted(
        Position.objects.filter(person__external_id="Q002").values_list("unit__code", "department")
    ) == [("441800-ZFB", "综合科"), ("441802-CZJ", "")]
    assert Person.objects.get(external_id="Q003").positions.count() == 0


def test_transfer_ends_the_old_position(tmp_path, units_csv):
    run_import(units_csv)
    path = write_csv(
        tmp_path / "p.csv", PEOPLE_HEADER, [["Q001", "陈建国", "", "441800-JWJW", "副书记", "", "是"]]
    )
    run_import(path)
    moved = write_csv(
        tmp_path / "p2.csv", PEOPLE_HEADER, [["Q001", "陈建国", "", "441800-ZFB", "主任", "", "是"]]
    )

    assert run_import(moved) == ["人员：新增 0，更新 1，未变 0", "导入完成。"]
    assert run_import(moved) == ["人员：新增 0，更新 0，未变 1", "导入完成。"]
    positions = Position.objects.filter(person__external_id="Q001").order_by("id")
    assert [(p.unit.code, p.title, p.ended_on is not None) for p in positions] == [
        ("441800-JWJW", "副书记", True),
        ("441800-ZFB", "主任", False),
    ]


def test_bad_people_lines(tmp_path, units_csv):
    run_import(units_csv)
    rows = [
        ["Q001", "陈建国", "1390263000", "441800-JWJW", "副书记", "", "是"],
        ["Q002", "李晓明", "13902630002", "441800-NOPE", "联络员", "", ""],
        ["Q003", "黄小芳", "", "441800-ZFB", "", "", ""],
        ["Q004", "周志强", "", "441800-ZFB", "科员", "", "也许"],
        ["", "无名", "", "", "", "", ""],
        ["Q006", "吴文静", "", "", "", "", ""],
        ["Q006", "吴文", "", "", "", "", ""],
    ]
    errors, _message = run_failing_import(write_csv(tmp_path / "people.csv", PEOPLE_HEADER, rows))
    assert errors == [
        "第 2 行：手机号码应为 11 位，当前为 10 位：1390263000",
        "第 3 行：未知的单位编码 441800-NOPE",
        "第 4 行：职务不能为空",
        "第 5 行：是否领导应填“是”或“否”，而不是：也许",
        "第 6 行：人员编号不能为空",
        "第 8 行：人员编号 Q006 的姓名与第 7 行不一致（吴文 / 吴文静）",
    ]
    assert Person.objects.count() == 0


def test_xlsx_with_both_sheets_typed_cells_and_english_headers(tmp_path, divisions):
    workbook = Workbook()
    people = workbook.active
    assert people is not None
    people.title = "人员"
    people.append(["staff_no", "name", "mobile", "unit", "title", "department", "is_leader"])
    people.append(["Q001", "陈建国", 13902630001, "441800-SFJ", "局长", None, True])
    people.append([None, None, None, None, None, None, None])  # a blank line is skipped
    people.append(["Q002", "李晓明", "+86 139 0263 0002", "441800-SFJ", "联络员", "办公室", False])
    units = workbook.create_sheet("单位")
    units.append(["单位编码*", "单位名称*", "类别", "区划代码*"])
    units.append(["441800-SFJ", "市司法局", "政府工作部门", 441800])
    units.append(["441802-SFJ", "清城区司法局", "government", 441802.0])
    path = tmp_path / "org.xlsx"
    workbook.save(path)

    assert run_import(path) == ["单位：新增 2，更新 0，未变 0", "人员：新增 2，更新 0，未变 0", "导入完成。"]
    assert Unit.objects.get(code="441802-SFJ").division_id == "441802"
    chen = Person.objects.get(external_id="Q001")
    assert (chen.phone, chen.positions.get().is_leader) == ("13902630001", True)
    assert Person.objects.get(external_id="Q002").phone == "13902630002"

    assert run_import(path) == ["单位：新增 0，更新 0，未变 2", "人员：新增 0，更新 0，未变 2", "导入完成。"]


def test_xlsx_errors_name_the_sheet(tmp_path, divisions):
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "单位"
    sheet.append(["单位编码", "单位名称", "区划代码", "统一社会信用代码"])
    sheet.append(["441800-A", "市甲局", 441800, "91350100M000100Y4"])
    path = tmp_path / "org.xlsx"
    workbook.save(path)

    errors, _message = run_failing_import(path)
    assert errors == ["工作表“单位”第 2 行：统一社会信用代码应为 18 位，当前为 17 位：91350100M000100Y4"]


def test_gbk_csv_from_a_chinese_excel(tmp_path, divisions):
    path = write_csv(tmp_path / "gbk.csv", UNIT_HEADER, UNITS[1:], encoding="gbk")
    assert run_import(path, "--dry-run")[0] == "单位：新增 2，更新 0，未变 0"


@pytest.mark.parametrize(
    ("header", "error"),
    [
        (
            ["单位编码", "单位名称", "区划代码", "地址"],
            "表头：未知的列“地址”（单位表可用的列：单位编码、单位名称、简称、类别、区划代码、上级单位编码、统一社会信用代码）",
        ),
        (["单位编码", "单位名称"], "表头：缺少必需的列 区划代码"),
        (
            ["编号", "名字"],
            "表头无法识别为单位表或人员表：编号、名字（单位表须有“单位名称”“区划代码”，人员表须有“人员编号”“姓名”）",
        ),
        (["人员编号", "姓名", "姓名"], "表头：列“姓名”重复"),
    ],
)
def test_bad_headers(tmp_path, divisions, header, error):
    errors, _message = run_failing_import(write_csv(tmp_path / "h.csv", header, [["x"] * len(header)]))
    assert errors == [error]


def test_unsupported_or_missing_files(tmp_path):
    (tmp_path / "org.txt").write_text("x")
    errors, _message = run_failing_import(tmp_path / "org.txt")
    assert errors == ["不支持的文件类型“.txt”（请使用 .csv 或 .xlsx）"]

    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    errors, _message = run_failing_import(tmp_path / "broken.xlsx")
    assert errors == ["无法读取 Excel 文件 broken.xlsx：文件损坏或不是 .xlsx 格式"]

    with pytest.raises(CommandError, match="文件不存在："):
        call_command("org", "import", str(tmp_path / "missing.csv"))


def test_a_csv_with_a_nul_names_its_line_and_writes_nothing(tmp_path, divisions):
    rows = [UNITS[0], [UNITS[1][0], UNITS[1][1] + "\x00", *UNITS[1][2:]]]
    errors, _message = run_failing_import(write_csv(tmp_path / "units.csv", UNIT_HEADER, rows))
    assert errors == ["文件 units.csv 第 3 行含有空字符（NUL），请检查文件是否损坏或另存为 UTF-8 编码的 CSV"]
    assert Unit.objects.count() == 0
