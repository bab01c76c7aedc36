"""Import units and people from CSV or XLSX: check every line first, then write all or nothing.

The column layout is documented in docs/org.md. A table (a CSV file, or one worksheet of an XLSX
workbook) is a unit table or a people table, told apart by its header. Records are matched by code
(单位编码, 人员编号), so importing the same file twice changes nothing the second time.

For the columns a table has, the file is authoritative (an empty 上级单位编码 cell removes the parent,
an empty 手机号码 cell clears the phone); columns a table lacks are left as they are. Two exceptions
keep an empty cell from destroying data: an empty 类别 keeps an existing unit's category, and a person
line without 单位编码 and 职务 leaves that person's positions alone.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch

from zhengfeng.core import audit
from zhengfeng.core.input_guard import nul_in_file
from zhengfeng.org import services
from zhengfeng.org.models import Division, Person, Position, Unit, UnitKind, User

UNITS = "units"
PEOPLE = "people"

# field → accepted headers (compared without spaces, case-insensitively, ignoring a trailing *).
UNIT_COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("单位编码", "code", "unit_code"),
    "name": ("单位名称", "name", "unit_name"),
    "short_name": ("简称", "单位简称", "short_name"),
    "kind": ("类别", "单位类别", "kind", "category"),
    "division": ("区划代码", "行政区划代码", "division", "division_code"),
    "parent": ("上级单位编码", "parent", "parent_code"),
    "uscc": ("统一社会信用代码", "信用代码", "uscc", "credit_code"),
}
PEOPLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": ("人员编号", "external_id", "staff_no", "person_code"),
    "name": ("姓名", "name"),
    "phone": ("手机号码", "手机号", "手机", "phone", "mobile"),
    "unit": ("单位编码", "unit", "unit_code"),
    "title": ("职务", "title", "position"),
    "department": ("科室", "department"),
    "is_leader": ("是否领导", "is_leader", "leader"),
}
REQUIRED = {UNITS: ("code", "name", "division"), PEOPLE: ("external_id", "name")}
KIND_LABELS = {UNITS: "单位", PEOPLE: "人员"}

# Headers that only one kind of table has: they decide what a table is.
_UNIT_ONLY = {
    "单位名称",
    "unit_name",
    "区划代码",
    "行政区划代码",
    "division",
    "division_code",
    "统一社会信用代码",
    "uscc",
}
_PEOPLE_ONLY = {
    "人员编号",
    "external_id",
    "staff_no",
    "person_code",
    "姓名",
    "手机号码",
    "phone",
    "mobile",
    "职务",
    "title",
}

_YES = {"是", "y", "yes", "true", "1", "√"}
_NO = {"否", "n", "no", "false", "0", ""}


def _header_key(text: str) -> str:
    return re.sub(r"\s+", "", text).rstrip("*＊").lower()


def _cell_text(value: Any) -> str:
    """Spreadsheet cells come typed: 441800 and 13800138000 arrive as numbers, flags as booleans."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


@dataclass
class Row:
    where: str
    values: dict[str, str]


@dataclass
class Table:
    kind: str
    label: str
    columns: set[str]
    rows: list[Row]


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


@dataclass
class ImportResult:
    errors: list[str] = field(default_factory=list)
    counts: dict[str, Counts] = field(default_factory=dict)
    dry_run: bool = False

    def summary_lines(self) -> list[str]:
        return [
            f"{KIND_LABELS[kind]}：新增 {c.created}，更新 {c.updated}，未变 {c.unchanged}"
            for kind, c in self.counts.items()
        ]


# --- Reading files -----------------------------------------------------------------------------


def _table_from_rows(prefix: str, rows: Iterable[tuple[int, list[Any]]], errors: list[str]) -> Table | None:
    iterator = iter(rows)
    header: list[str] = []
    for _number, cells in iterator:
        header = [_cell_text(cell) for cell in cells]
        if any(header):
            break
    if not any(header):
        return None  # an empty sheet
    keys = [_header_key(text) for text in header]
    is_units = any(key in _UNIT_ONLY for key in keys)
    is_people = any(key in _PEOPLE_ONLY for key in keys)
    if is_units == is_people:
        errors.append(
            f"{prefix}表头无法识别为单位表或人员表：{'、'.join(h for h in header if h)}"
            "（单位表须有“单位名称”“区划代码”，人员表须有“人员编号”“姓名”）"
        )
        return None
    kind = UNITS if is_units else PEOPLE
    aliases = UNIT_COLUMNS if kind == UNITS else PEOPLE_COLUMNS
    lookup = {_header_key(alias): name for name, names in aliases.items() for alias in names}
    positions: dict[int, str] = {}
    ok = True
    for index, (text, key) in enumerate(zip(header, keys, strict=True)):
        if not key:
            continue
        name = lookup.get(key)
        if name is None:
            known = "、".join(names[0] for names in aliases.values())
            errors.append(f"{prefix}表头：未知的列“{text}”（{KIND_LABELS[kind]}表可用的列：{known}）")
            ok = False
        elif name in positions.values():
            errors.append(f"{prefix}表头：列“{text}”重复")
            ok = False
        else:
            positions[index] = name
    missing = [aliases[name][0] for name in REQUIRED[kind] if name not in positions.values()]
    if missing:
        errors.append(f"{prefix}表头：缺少必需的列 {'、'.join(missing)}")
        ok = False
    if not ok:
        return None
    table_rows = []
    for number, cells in iterator:
        texts = {
            name: _cell_text(cells[index]) if index < len(cells) else "" for index, name in positions.items()
        }
        extra = [_cell_text(cell) for index, cell in enumerate(cells) if index not in positions]
        if not any(texts.values()) and not any(extra):
            continue  # blank lines between blocks are common in hand-made sheets
        table_rows.append(Row(where=f"{prefix}第 {number} 行", values=texts))
    return Table(kind=kind, label=prefix, columns=set(positions.values()), rows=table_rows)


def _decode(raw: bytes) -> str:
    # Excel's "CSV UTF-8" adds a BOM; plain "CSV" from a Chinese Excel is GB18030 (GBK).
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def read_tables(path: Path, errors: list[str]) -> list[Table]:
    """Read the tables of a CSV or XLSX file; file-level problems are appended to `errors`."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            text = _decode(path.read_bytes())
        except OSError as exc:
            errors.append(f"无法读取文件 {path.name}：{exc.strerror}")
            return []
        except UnicodeDecodeError:
            errors.append(f"无法识别文件 {path.name} 的编码（请保存为 UTF-8 或 GBK 编码的 CSV）")
            return []
        nul = nul_in_file(text, name=path.name)
        if nul is not None:
            errors.append(nul)
            return []
        reader = csv.reader(io.StringIO(text, newline=""))
        table = _table_from_rows("", ((reader.line_num, cells) for cells in reader), errors)
        return [table] if table else []
    if suffix in (".xlsx", ".xlsm"):
        # Imported here: only the importer needs openpyxl, and it is slow to import.
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except OSError as exc:
            errors.append(f"无法读取文件 {path.name}：{exc.strerror}")
            return []
        except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError):
            errors.append(f"无法读取 Excel 文件 {path.name}：文件损坏或不是 .xlsx 格式")
            return []
        tables = []
        try:
            for sheet in workbook.worksheets:
                rows = (
                    (number, list(cells)) for number, cells in enumerate(sheet.iter_rows(values_only=True), 1)
                )
                table = _table_from_rows(f"工作表“{sheet.title}”", rows, errors)
                if table:
                    tables.append(table)
        finally:
            workbook.close()
        return tables
    errors.append(f"不支持的文件类型“{suffix or path.name}”（请使用 .csv 或 .xlsx）")
    return []


# --- Planning: every check, no writes ----------------------------------------------------------


def _clean(row: Row, errors: list[str], name: str, cleaner: Callable[[str], Any]) -> Any:
    try:
        return cleaner(row.values.get(name, ""))
    except ValidationError as exc:
        errors.extend(f"{row.where}：{message}" for message in exc.messages)
        return None


def _parse_flag(value: str) -> bool:
    text = value.strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValidationError(f"是否领导应填“是”或“否”，而不是：{value}")


@dataclass
class UnitLine:
    row: Row
    code: str
    values: dict[str, Any]  # cleaned fields present in the table; division/parent as codes


@dataclass
class PositionLine:
    row: Row
    unit_code: str
    title: str
    department: str | None
    is_leader: bool | None


@dataclass
class PersonPlan:
    row: Row
    external_id: str
    name: str
    phone: str | None
    positions: list[PositionLine]
    existing: Person | None = None


@dataclass
class Plan:
    units: list[UnitLine] = field(default_factory=list)
    people: list[PersonPlan] = field(default_factory=list)
    has_units: bool = False
    has_people: bool = False


def _plan_units(tables: list[Table], errors: list[str]) -> tuple[list[UnitLine], dict[str, dict[str, Any]]]:
    existing = {
        row["code"]: row
        for row in Unit.objects.values(
            "id", "code", "name", "short_name", "kind", "division_id", "parent__code", "uscc"
        )
    }
    lines: dict[str, UnitLine] = {}
    division_codes: set[str] = set()
    for table in tables:
        for row in table.rows:
            code = _clean(row, errors, "code", services.clean_code)
            values: dict[str, Any] = {
                "name": _clean(row, errors, "name", services.clean_unit_name),
                "division": row.values["division"].strip(),
            }
            if "short_name" in table.columns:
                values["short_name"] = _clean(row, errors, "short_name", services.clean_short_name)
            if "kind" in table.columns and (row.values["kind"] or code not in existing):
                values["kind"] = _clean(row, errors, "kind", services.clean_kind)
            if "uscc" in table.columns:
                values["uscc"] = _clean(row, errors, "uscc", services.clean_uscc)
            if "parent" in table.columns:
                values["parent"] = row.values["parent"].strip() or None
            if not values["division"]:
                errors.append(f"{row.where}：区划代码不能为空")
            division_codes.add(values["division"])
            if code and code in lines:
                errors.append(f"{row.where}：单位编码 {code} 与{lines[code].row.where}重复")
            elif code:
                lines[code] = UnitLine(row=row, code=code, values=values)

    divisions = Division.objects.in_bulk(division_codes - {""})
    for line in lines.values():
        division = line.values["division"]
        if division and division not in divisions:
            errors.append(f"{line.row.where}：未知的行政区划代码 {division}")
        parent = line.values.get("parent")
        if parent == line.code:
            errors.append(f"{line.row.where}：上级单位不能是本单位 {parent}")
        elif parent is not None and parent not in existing and parent not in lines:
            errors.append(f"{line.row.where}：未知的上级单位编码 {parent}")

    # The state after the import, to check uniqueness and the parent tree as a whole.
    final: dict[str, dict[str, Any]] = {
        code: {
            "name": row["name"],
            "division": row["division_id"],
            "uscc": row["uscc"],
            "parent": row["parent__code"],
        }
        for code, row in existing.items()
    }
    for code, line in lines.items():
        state = final.setdefault(code, {"name": None, "division": None, "uscc": None, "parent": None})
        state.update(
            {key: line.values[key] for key in ("name", "division", "uscc", "parent") if key in line.values}
        )

    def where(code: str) -> str:
        return lines[code].row.where if code in lines else f"已有单位 {code}"

    for key, label in ((("division", "name"), "同一区划内单位名称"), (("uscc",), "统一社会信用代码")):
        groups: dict[tuple[Any, ...], list[str]] = defaultdict(list)
        for code, state in final.items():
            value = tuple(state[part] for part in key)
            if all(value):
                groups[value].append(code)
        for value, codes in groups.items():
            if len(codes) < 2:
                continue
            for code in codes:
                if code in lines:
                    others = "、".join(f"{other}（{where(other)}）" for other in codes if other != code)
                    errors.append(f"{lines[code].row.where}：{label}重复：{value[-1]} 也用于 {others}")

    for code, line in lines.items():
        seen = [code]
        ancestor = final[code]["parent"]
        while ancestor is not None and ancestor in final and ancestor not in seen:
            seen.append(ancestor)
            ancestor = final[ancestor]["parent"]
        if ancestor == code and len(seen) > 1:
            errors.append(f"{line.row.where}：上级单位形成循环：{' → '.join([*seen, code])}")
    return list(lines.values()), final


def _topological(lines: list[UnitLine], final: dict[str, dict[str, Any]]) -> list[UnitLine]:
    """Parents before children, so every parent exists (and is final) when its child is written."""
    by_code = {line.code: line for line in lines}
    ordered: list[UnitLine] = []
    done: set[str] = set()

    def visit(code: str) -> None:
        if code in done:
            return
        done.add(code)
        parent = final[code]["parent"]
        if parent in by_code:
            visit(parent)
        ordered.append(by_code[code])

    for line in lines:
        visit(line.code)
    return ordered


def _plan_people(tables: list[Table], unit_codes: set[str], errors: list[str]) -> list[PersonPlan]:
    plans: dict[str, PersonPlan] = {}
    for table in tables:
        has_positions = "unit" in table.columns or "title" in table.columns
        for row in table.rows:
            before = len(errors)
            external_id = _clean(row, errors, "external_id", lambda v: services.clean_code(v, "人员编号"))
            name = _clean(row, errors, "name", services.clean_person_name)
            phone = _clean(row, errors, "phone", services.clean_phone) if "phone" in table.columns else None
            position = None
            if has_positions:
                unit_code = row.values.get("unit", "").strip()
                title_text = row.values.get("title", "").strip()
                if unit_code or title_text:
                    title = _clean(row, errors, "title", services.clean_title)
                    if not unit_code:
                        errors.append(f"{row.where}：填写了职务时单位编码不能为空")
                    elif unit_code not in unit_codes:
                        errors.append(f"{row.where}：未知的单位编码 {unit_code}")
                    department = (
                        _clean(row, errors, "department", services.clean_department)
                        if "department" in table.columns
                        else None
                    )
                    is_leader = (
                        _clean(row, errors, "is_leader", _parse_flag)
                        if "is_leader" in table.columns
                        else None
                    )
                    position = PositionLine(row, unit_code, title or "", department, is_leader)
            if len(errors) > before or not external_id:
                continue
            plan = plans.get(external_id)
            if plan is None:
                plans[external_id] = PersonPlan(row, external_id, name, phone, [position] if position else [])
                continue
            # Several lines for one person list its concurrent positions; the rest must agree.
            conflicts = []
            if name != plan.name:
                conflicts.append(
                    f"人员编号 {external_id} 的姓名与{plan.row.where}不一致（{name} / {plan.name}）"
                )
            if phone is not None and phone != plan.phone:
                conflicts.append(f"人员编号 {external_id} 的手机号码与{plan.row.where}不一致")
            if position is not None:
                for other in plan.positions:
                    if (other.unit_code, other.title) == (position.unit_code, position.title):
                        conflicts.append(
                            f"人员编号 {external_id} 在单位 {position.unit_code} 的职务 {position.title}"
                            f" 与{other.row.where}重复"
                        )
                        break
                else:
                    plan.positions.append(position)
            elif not conflicts:
                conflicts.append(f"人员编号 {external_id} 与{plan.row.where}重复")
            errors.extend(f"{row.where}：{conflict}" for conflict in conflicts)

    current = Prefetch(
        "positions",
        queryset=Position.objects.filter(ended_on__isnull=True).select_related("unit"),
        to_attr="current",
    )
    for person in Person.objects.filter(external_id__in=list(plans)).prefetch_related(current):
        if person.external_id is not None:  # always true (the filter matched on it); narrows the type
            plans[person.external_id].existing = person
    return list(plans.values())


def plan_import(tables: list[Table], errors: list[str]) -> Plan:
    unit_tables = [table for table in tables if table.kind == UNITS]
    people_tables = [table for table in tables if table.kind == PEOPLE]
    plan = Plan(has_units=bool(unit_tables), has_people=bool(people_tables))
    lines, final = _plan_units(unit_tables, errors)
    plan.units = _topological(lines, final) if not errors else lines
    if people_tables:
        plan.people = _plan_people(people_tables, set(final), errors)
    return plan


# --- Applying ----------------------------------------------------------------------------------


def _unit_changes(unit: Unit, values: dict[str, Any]) -> bool:
    for key, value in values.items():
        if key == "division":
            current: Any = unit.division_id
        elif key == "parent":
            current = unit.parent.code if unit.parent is not None else None
        else:
            current = getattr(unit, key)
        if current != value:
            return True
    return False


def _current_positions(person: Person) -> list[Position]:
    """The current positions `_plan_people` prefetched onto `person` (or `_apply_person` set)."""
    positions: list[Position] = person.current  # type: ignore[attr-defined]  # set by Prefetch(to_attr=)
    return positions


def _person_changes(plan: PersonPlan) -> tuple[bool, list[PositionLine], list[Position]]:
    """(person fields change?, position lines to create or update, current positions to end)."""
    person = plan.existing
    assert person is not None  # noqa: S101 (only called for existing people)
    fields_change = person.name != plan.name or (plan.phone is not None and person.phone != plan.phone)
    current = {(position.unit.code, position.title): position for position in _current_positions(person)}
    to_write = []
    for line in plan.positions:
        position = current.get((line.unit_code, line.title))
        if (
            position is None
            or (line.department is not None and position.department != line.department)
            or (line.is_leader is not None and position.is_leader != line.is_leader)
        ):
            to_write.append(line)
    wanted = {(line.unit_code, line.title) for line in plan.positions}
    to_end = [position for key, position in current.items() if plan.positions and key not in wanted]
    return fields_change, to_write, to_end


def _count(plan: Plan, existing_units: dict[str, Unit]) -> dict[str, Counts]:
    counts: dict[str, Counts] = {}
    if plan.has_units:
        units = counts[UNITS] = Counts()
        for line in plan.units:
            unit = existing_units.get(line.code)
            if unit is None:
                units.created += 1
            elif _unit_changes(unit, line.values):
                units.updated += 1
            else:
                units.unchanged += 1
    if plan.has_people:
        people = counts[PEOPLE] = Counts()
        for person_plan in plan.people:
            if person_plan.existing is None:
                people.created += 1
                continue
            fields_change, to_write, to_end = _person_changes(person_plan)
            if fields_change or to_write or to_end:
                people.updated += 1
            else:
                people.unchanged += 1
    return counts


def _apply(plan: Plan, existing_units: dict[str, Unit], *, by: User | None) -> None:
    """Write the plan through the services (one audit row per change). Runs inside the caller's atomic."""
    units = dict(existing_units)
    divisions = Division.objects.in_bulk({line.values["division"] for line in plan.units})
    for line in plan.units:
        values = dict(line.values)
        division = divisions[values.pop("division")]
        parent_code = values.pop("parent", services.UNSET)
        parent = (
            services.UNSET if parent_code is services.UNSET else (units[parent_code] if parent_code else None)
        )
        try:
            unit = units.get(line.code)
            if unit is None:
                units[line.code] = services.create_unit(
                    code=line.code,
                    division=division,
                    parent=None if parent is services.UNSET else parent,
                    kind=values.pop("kind", UnitKind.GOVERNMENT),
                    by=by,
                    **values,
                )
            else:
                services.update_unit(unit, division=division, parent=parent, by=by, **values)
        except ValidationError as exc:
            raise _LineError(line.row, exc) from exc

    people_units = {line.unit_code for plan_ in plan.people for line in plan_.positions} - set(units)
    units.update(Unit.objects.in_bulk(people_units, field_name="code"))
    for person_plan in plan.people:
        try:
            _apply_person(person_plan, units, by=by)
        except ValidationError as exc:
            raise _LineError(person_plan.row, exc) from exc


def _apply_person(plan: PersonPlan, units: dict[str, Unit], *, by: User | None) -> None:
    if plan.existing is None:
        person = services.create_person(
            name=plan.name, external_id=plan.external_id, phone=plan.phone or "", by=by
        )
        person.current = []  # type: ignore[attr-defined]  # the attribute `Prefetch(to_attr=)` sets
        to_write, to_end = plan.positions, list[Position]()
    else:
        person = plan.existing
        _fields_change, to_write, to_end = _person_changes(plan)
        services.update_person(person, name=plan.name, phone=plan.phone, by=by)
    current = {(position.unit.code, position.title): position for position in _current_positions(person)}
    for ending in to_end:
        services.end_position(ending, by=by)
    for line in to_write:
        position = current.get((line.unit_code, line.title))
        if position is None:
            services.assign_position(
                person,
                unit=units[line.unit_code],
                title=line.title,
                department=line.department or "",
                is_leader=bool(line.is_leader),
                by=by,
            )
        else:
            services.update_position(position, department=line.department, is_leader=line.is_leader, by=by)


class _LineError(Exception):
    def __init__(self, row: Row, error: ValidationError) -> None:
        self.messages = [f"{row.where}：{message}" for message in error.messages]
        super().__init__("; ".join(self.messages))


_WHERE_RE = re.compile(r"^(.*?)第 (\d+) 行：")


def _in_line_order(errors: list[str], tables: list[Table]) -> list[str]:
    """Errors are found check by check; people fix files top to bottom, so list them by line."""
    sheets = {table.label: index for index, table in enumerate(tables)}

    def key(message: str) -> tuple[int, int]:
        match = _WHERE_RE.match(message)
        if match is None:
            return (-1, 0)
        return (sheets.get(match.group(1), len(sheets)), int(match.group(2)))

    return sorted(errors, key=key)


def import_file(path: Path, *, dry_run: bool = False, by: User | None = None) -> ImportResult:
    """Check every line of `path`; unless there is an error or `dry_run`, write it all in one transaction.

    Side effects (not on error or dry run): the services' audit rows for each created or changed
    unit, person and position, then one `org.imported` row with the counts.
    """
    result = ImportResult(dry_run=dry_run)
    tables = read_tables(path, result.errors)
    if not tables and not result.errors:
        result.errors.append(f"文件 {path.name} 中没有数据")
    if result.errors:
        return result
    plan = plan_import(tables, result.errors)
    if result.errors:
        result.errors = _in_line_order(result.errors, tables)
        return result
    existing_units = {unit.code: unit for unit in Unit.objects.select_related("parent")}
    result.counts = _count(plan, existing_units)
    if dry_run:
        return result
    try:
        with transaction.atomic():
            _apply(plan, existing_units, by=by)
            audit.record(
                "org.imported",
                by=by,
                data={
                    "file": path.name,
                    **{kind: counts.as_dict() for kind, counts in result.counts.items()},
                },
            )
    except _LineError as exc:
        # Only a change made by someone else between the check and the write gets here.
        result.errors.extend(exc.messages)
        result.counts = {}
    return result
