"""`zhengfeng evaluation import-actions FILE`: enforcement actions from CSV or XLSX (layout: docs/evaluation.md).

Every line is checked before anything is written; on any error nothing is written. Lines are keyed
by 外部编号: a line already imported is skipped, so importing the same file twice sends no second SMS.
The checked lines are written in batches of WRITE_BATCH, each its own transaction; a write that fails
half-way (the database refuses a row, an action registered meanwhile through the API) keeps the batches
before it, and importing the same file again skips those and writes the rest.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from zhengfeng.core import audit
from zhengfeng.core.crypto import blind_index
from zhengfeng.core.input_guard import nul_in_file
from zhengfeng.evaluation import services
from zhengfeng.evaluation.models import ActionSource, DisclosedStaff, EnforcementAction
from zhengfeng.org.models import Unit, User

COLUMNS = {
    "external_id": ("外部编号", "编号", "external_id"),
    "unit_code": ("单位编码", "unit_code"),
    "staff_names": ("执法人员", "staff_name", "staff_names"),
    "action_type": ("执法类型", "action_type"),
    "acted_at": ("执法时间", "acted_at"),
    "subject_name": ("执法对象", "对象名称", "subject_name"),
    "subject_phone": ("对象手机号码", "对象手机", "手机号码", "subject_phone"),
}
logger = logging.getLogger(__name__)

# Actions per transaction: each writes an action, its staff, an SMS, an evaluation and an audit row, so a
# batch commits in well under a second and the audit chain's head is never locked for longer.
WRITE_BATCH = 200
STAFF_SEPARATORS = re.compile(r"[、,，;；/]+")
TIME_FORMATS = (
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
)


@dataclass
class ImportResult:
    errors: list[str] = field(default_factory=list)
    created: int = 0
    skipped: int = 0
    dry_run: bool = False
    # Actions committed before a write failed: importing the same file again skips them (by external id).
    written_before_failure: int = 0

    def summary(self) -> str:
        return f"执法监督记录：新增 {self.created}，已导入过（跳过） {self.skipped}"


def _key(text: str) -> str:
    return re.sub(r"\s+", "", text).rstrip("*＊").lower()


def _cell(value: Any) -> str | dt.datetime:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_rows(path: Path, errors: list[str]) -> list[tuple[int, list[Any]]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("gb18030", errors="replace")
        nul = nul_in_file(text, name=path.name)
        if nul is not None:
            errors.append(nul)
            return []
        reader = csv.reader(io.StringIO(text, newline=""))
        return [(reader.line_num, row) for row in reader]
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError):
            errors.append(f"无法读取 Excel 文件 {path.name}：文件损坏或不是 .xlsx 格式")
            return []
        try:
            sheet = workbook.worksheets[0]
            return [
                (number, list(cells)) for number, cells in enumerate(sheet.iter_rows(values_only=True), 1)
            ]
        finally:
            workbook.close()
    errors.append(f"不支持的文件类型“{suffix or path.name}”（请使用 .csv 或 .xlsx）")
    return []


def _parse_time(value: str | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        for fmt in TIME_FORMATS:
            try:
                parsed = dt.datetime.strptime(value, fmt)  # noqa: DTZ007 (made aware below)
                break
            except ValueError:
                continue
        else:
            try:
                parsed = dt.datetime.fromisoformat(value)
            except ValueError as exc:
                raise ValidationError(f"执法时间“{value}”无法识别（格式如 2015-11-20 10:30）") from exc
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def import_file(path: Path, *, dry_run: bool = False, by: User | None = None) -> ImportResult:
    """Check every line of `path`; unless there is an error or `dry_run`, record the new actions.

    Side effects (not on error or dry run): `record_action`'s rows, SMS and audit rows for each new
    line, in batches of WRITE_BATCH per transaction, then one `evaluation.actions_imported` audit row with
    the counts. A write failing half-way ends the import with an error and `written_before_failure`
    set: the batches before it stay, and importing the same file again skips them.
    """
    result = ImportResult(dry_run=dry_run)
    rows = _read_rows(path, result.errors)
    rows = [(n, cells) for n, cells in rows if any(_cell(c) for c in cells)]
    if not rows and not result.errors:
        result.errors.append(f"文件 {path.name} 中没有数据")
    if result.errors:
        return result
    header_number, header = rows[0]
    lookup = {_key(alias): name for name, aliases in COLUMNS.items() for alias in aliases}
    positions: dict[str, int] = {}
    for index, text in enumerate(header):
        key = _key(str(_cell(text)))
        if not key:
            continue
        name = lookup.get(key)
        if name is None:
            result.errors.append(
                f"第 {header_number} 行（表头）：未知的列“{text}”（可用：{'、'.join(a[0] for a in COLUMNS.values())}）"
            )
        elif name in positions:
            result.errors.append(f"第 {header_number} 行（表头）：列“{text}”重复")
        else:
            positions[name] = index
    missing = [COLUMNS[name][0] for name in COLUMNS if name not in positions]
    if missing:
        result.errors.append(f"第 {header_number} 行（表头）：缺少必需的列 {'、'.join(missing)}")
    if result.errors:
        return result

    units = {unit.code: unit for unit in Unit.objects.select_related("division")}
    staff_by_unit: dict[int, list[DisclosedStaff]] = {}
    for member in DisclosedStaff.objects.filter(is_active=True):
        staff_by_unit.setdefault(member.unit_id, []).append(member)
    existing = {
        row["external_id"]: row
        for row in EnforcementAction.objects.filter(source=ActionSource.IMPORT)
        .exclude(external_id="")
        .values("external_id", "unit__code", "acted_at", "subject_phone_index")
    }
    seen: dict[str, int] = {}
    planned: list[services.ActionInput] = []
    now = timezone.now()
    for number, cells in rows[1:]:
        values = {
            name: _cell(cells[index]) if index < len(cells) else "" for name, index in positions.items()
        }
        where = f"第 {number} 行"
        line_errors: list[str] = []
        external = str(values["external_id"])
        if not external:
            line_errors.append("外部编号不能为空")
        elif external in seen:
            line_errors.append(f"外部编号 {external} 与第 {seen[external]} 行重复")
        seen.setdefault(external, number)
        unit = units.get(str(values["unit_code"]))
        if unit is None:
            line_errors.append(f"未知的单位编码：{values['unit_code'] or '（空）'}")
        acted_at = None
        try:
            acted_at = _parse_time(values["acted_at"]) if values["acted_at"] else None
            if acted_at is None:
                line_errors.append("执法时间不能为空")
        except ValidationError as exc:
            line_errors.extend(exc.messages)
        if external in existing and unit is not None and acted_at is not None:
            stored = existing[external]
            try:
                phone_index = blind_index(services.clean_subject_phone(values["subject_phone"]))
            except ValidationError:
                phone_index = ""
            if (stored["unit__code"], stored["acted_at"], stored["subject_phone_index"]) != (
                unit.code,
                acted_at,
                phone_index,
            ):
                line_errors.append(
                    f"外部编号 {external} 已导入，但单位、执法时间或手机号码与已导入的记录不同"
                )
            else:
                result.skipped += 1
            result.errors.extend(f"{where}：{e}" for e in line_errors)
            continue
        staff: list[DisclosedStaff] = []
        if unit is not None:
            for name in [n for n in STAFF_SEPARATORS.split(str(values["staff_names"])) if n.strip()]:
                matches = [m for m in staff_by_unit.get(unit.pk, []) if m.name == name.strip()]
                if len(matches) == 1:
                    staff.append(matches[0])
                else:
                    try:
                        services.find_staff(unit, name)
                    except ValidationError as exc:
                        line_errors.extend(exc.messages)
        if unit is not None and acted_at is not None and not line_errors:
            try:
                checked = services.check_action(
                    unit=unit,
                    staff=staff,
                    action_type=str(values["action_type"]),
                    acted_at=acted_at,
                    subject_name=str(values["subject_name"]),
                    subject_phone=str(values["subject_phone"]),
                    external_id=external,
                    now=now,
                )
                planned.append(checked)
            except ValidationError as exc:
                line_errors.extend(exc.messages)
        result.errors.extend(f"{where}：{e}" for e in line_errors)
    if result.errors:
        result.skipped = 0
        return result
    result.created = len(planned)
    if dry_run or not planned:
        return result
    written = 0
    try:
        for start in range(0, len(planned), WRITE_BATCH):
            batch = planned[start : start + WRITE_BATCH]
            # One short transaction per batch: each action's audit row locks the chain head until commit,
            # and one transaction for the file would keep every other audited write (a login) waiting.
            with transaction.atomic():
                for checked in batch:
                    services.write_checked_action(checked, source=ActionSource.IMPORT, by=by)
            written += len(batch)
    except (ValidationError, DatabaseError) as exc:
        result.created, result.written_before_failure = written, written
        reason = "；".join(exc.messages) if isinstance(exc, ValidationError) else "数据库拒绝写入"
        logger.warning(
            "evaluation import of %s interrupted after %d actions", path.name, written, exc_info=True
        )
        result.errors.append(f"第 {written + 1} 条起未能写入：{reason}")
    audit.record(
        "evaluation.actions_imported",
        by=by,
        data={
            "file": path.name,
            "created": written,
            "skipped": result.skipped,
            "interrupted": bool(result.errors),
        },
    )
    return result
