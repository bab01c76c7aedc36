"""Import work orders exported by an existing 12345 platform (CSV or XLSX) — `zhengfeng hotline import`.

The columns are documented in docs/hotline.md ("Open311, API, import, public filing"). The whole file
is checked before anything is written; any bad line rejects the file and every error names its line.
Then the orders are written in batches, each its own short transaction: new orders (已受理) through
`services.receive_work_orders` (set-based inserts, one audit row per batch), orders arriving 待签收 or
已办结 one by one through `services.receive_work_order` and `services.transition`. No transaction
spans the file, so the audit chain's head (locked by every audit row until commit) is never held for
more than one batch's commit and a login or any other write goes on meanwhile (issue #10: one
transaction for 100,000 rows held it for minutes). Orders are matched by their external id: a line
whose id is already registered is skipped, so importing the same file twice changes nothing the
second time, and a file whose import stopped half-way (a database failure) is finished by importing
it again.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import logging
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import OutputWrapper
from django.db import DatabaseError, transaction
from django.db.models import Choices
from django.utils import timezone

from zhengfeng.core import audit
from zhengfeng.core.input_guard import nul_in_file
from zhengfeng.core.moments import plausible_moment
from zhengfeng.hotline import services
from zhengfeng.hotline.models import (
    ADDRESS_MAX_LENGTH,
    CONTENT_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Category,
    Channel,
    RequestType,
    Urgency,
    WorkOrder,
)
from zhengfeng.org import validators
from zhengfeng.org.models import Division, Unit, UnitKind, User
from zhengfeng.org.queries import scope_of

logger = logging.getLogger(__name__)

# field → accepted headers (compared without spaces, case-insensitively, ignoring a trailing *).
COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": ("外部编号", "工单编号", "原工单编号", "external_id"),
    "received_at": ("受理时间", "来电时间", "received_at"),
    "channel": ("来源渠道", "渠道", "channel"),
    "request_type": ("诉求类型", "类型", "type", "request_type"),
    "urgency": ("紧急程度", "urgency"),
    "category": ("诉求分类", "分类", "分类编码", "category"),
    "title": ("标题", "title"),
    "content": ("诉求内容", "内容", "content"),
    "division": ("区划代码", "行政区划代码", "division", "division_code"),
    "address": ("地址", "发生地址", "address"),
    "requester_name": ("诉求人", "诉求人姓名", "requester_name", "name"),
    "requester_phone": ("联系电话", "诉求人电话", "phone", "requester_phone"),
    "is_anonymous": ("匿名", "是否匿名", "anonymous", "is_anonymous"),
    "is_confidential": ("保密", "是否保密", "confidential", "is_confidential"),
    "status": ("状态", "办理状态", "status"),
    "unit": ("承办单位编码", "主办单位编码", "unit", "unit_code"),
    "reply": ("答复内容", "reply"),
    "replied_at": ("答复时间", "replied_at"),
}
REQUIRED = ("external_id", "received_at", "request_type", "title", "content", "division")
# The states an imported order can take; an order still being handled elsewhere arrives 待签收 (the
# unit signs for it here, its clocks start at the import), a finished one arrives 已办结 with its reply.
RECEIVED, DISPATCHED, CLOSED = "received", "dispatched", "closed"
STATUS_WORDS = {
    RECEIVED: ("已受理", "受理", "待派单", "received"),
    DISPATCHED: ("待签收", "已派单", "派单", "办理中", "已签收", "dispatched", "handling"),
    CLOSED: ("已办结", "办结", "已答复", "已回访", "closed"),
}
STATUS_LABELS = {RECEIVED: "已受理", DISPATCHED: "待签收", CLOSED: "已办结"}
TRUE_WORDS = ("是", "y", "yes", "1", "true", "匿名", "保密")
FALSE_WORDS = ("", "否", "n", "no", "0", "false")
PROGRESS_EVERY = 100
# Rows per transaction of new orders: large enough for set-based inserts to pay, small enough that
# the day's serial row (numbering) is held for well under a second.
BATCH_SIZE = 1000
BAR_WIDTH = 30


@dataclass
class OrderLine:
    where: str
    values: dict[str, Any]
    status: str
    division: Division | None = None
    unit: Unit | None = None


@dataclass
class ImportResult:
    created: dict[str, int] = field(default_factory=lambda: {RECEIVED: 0, DISPATCHED: 0, CLOSED: 0})
    existing: int = 0
    dry_run: bool = False

    def summary_lines(self) -> list[str]:
        detail = "，".join(f"{STATUS_LABELS[s]} {n}" for s, n in self.created.items())
        lines = [f"工单：新增 {sum(self.created.values())}（{detail}），已存在跳过 {self.existing}"]
        if self.dry_run:
            lines.append("试运行：校验通过，未写入任何数据。")
        return lines


class OrderImportError(ValidationError):
    """Raised with every line's problem; `written` orders were committed before it (0: nothing was
    written; otherwise importing the same file again skips them and writes the rest)."""

    def __init__(self, message: Any, *, written: int = 0) -> None:
        super().__init__(message)
        self.written = written


# ------------------------------------------------------------------------------------ reading


def _header_key(text: str) -> str:
    return re.sub(r"\s+", "", text).rstrip("*＊").lower()


HEADER_FIELDS = {_header_key(header): name for name, headers in COLUMNS.items() for header in headers}


def _cell(value: Any) -> str | dt.datetime:
    """Spreadsheet cells come typed: numbers (phones, codes), booleans, datetimes."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time.min)
    return str(value).strip()


def _decode(raw: bytes) -> str:
    # Excel's "CSV UTF-8" adds a BOM; plain "CSV" from a Chinese Excel is GB18030 (GBK).
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def read_rows(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(where, values by field) for every non-empty data line; file problems raise ValidationError."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            text = _decode(path.read_bytes())
        except OSError as exc:
            raise ValidationError(f"无法读取文件 {path.name}：{exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise ValidationError(
                f"无法识别文件 {path.name} 的编码（请保存为 UTF-8 或 GBK 编码的 CSV）"
            ) from exc
        nul = nul_in_file(text, name=path.name)
        if nul is not None:
            raise ValidationError(nul)
        reader = csv.reader(io.StringIO(text, newline=""))
        return _table("", ((reader.line_num, cells) for cells in reader))
    if suffix in (".xlsx", ".xlsm"):
        # Imported here: only the importer needs openpyxl, and it is slow to import.
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except OSError as exc:
            raise ValidationError(f"无法读取文件 {path.name}：{exc.strerror}") from exc
        except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError) as exc:
            raise ValidationError(f"无法读取 Excel 文件 {path.name}：文件损坏或不是 .xlsx 格式") from exc
        try:
            sheet = workbook.worksheets[0]
            rows = ((n, list(cells)) for n, cells in enumerate(sheet.iter_rows(values_only=True), 1))
            return _table(f"工作表“{sheet.title}”", rows)
        finally:
            workbook.close()
    raise ValidationError(f"不支持的文件类型“{suffix or path.name}”（请使用 .csv 或 .xlsx）")


def _table(prefix: str, rows: Iterable[tuple[int, list[Any]]]) -> list[tuple[str, dict[str, Any]]]:
    positions: dict[int, str] | None = None
    result = []
    for number, raw in rows:
        cells = [_cell(value) for value in raw]
        if not any(cells):
            continue
        if positions is None:
            positions = {}
            unknown = []
            for index, header in enumerate(cells):
                if not header:
                    continue
                name = HEADER_FIELDS.get(_header_key(str(header)))
                if name is None:
                    unknown.append(str(header))
                else:
                    positions[index] = name
            if unknown:
                raise ValidationError(f"{prefix}第 {number} 行：未知的列“{'”“'.join(unknown)}”")
            missing = [COLUMNS[name][0] for name in REQUIRED if name not in positions.values()]
            if missing:
                raise ValidationError(f"{prefix}第 {number} 行：缺少必需的列“{'”“'.join(missing)}”")
            continue
        values = {name: cells[index] if index < len(cells) else "" for index, name in positions.items()}
        result.append((f"{prefix}第 {number} 行", values))
    if positions is None:
        raise ValidationError("文件是空的：没有表头")
    return result


# ------------------------------------------------------------------------------------ checking


def _datetime(value: Any, label: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        text = str(value).strip().replace("/", "-")
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValidationError(f"{label}“{value}”不是有效的日期时间（如 2026-11-01 09:30）") from exc
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


@functools.cache
def _choice_keys(choices: type[Choices]) -> dict[str, str]:
    """Each value and each label → the value (`Choices.choices` is rebuilt on every access)."""
    keys = {str(name): str(key) for key, name in choices.choices}
    keys.update({str(key): str(key) for key, _name in choices.choices})
    return keys


def _choice(value: str, choices: type[Choices], label: str, default: str | None = None) -> str:
    text = str(value).strip()
    if not text and default is not None:
        return default
    key = _choice_keys(choices).get(text)
    if key is not None:
        return key
    allowed = "、".join(name for _key, name in choices.choices)
    raise ValidationError(f"未知的{label}“{text}”，应为：{allowed}")


def _flag(value: str, label: str) -> bool:
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValidationError(f"{label}“{value}”应为 是 或 否")


def _status(value: str) -> str:
    text = str(value).strip() or RECEIVED
    for status, words in STATUS_WORDS.items():
        if text.lower() in words:
            return status
    allowed = "、".join(words[0] for words in STATUS_WORDS.values())
    raise ValidationError(f"未知的状态“{text}”，应为：{allowed}（办理中的工单导入后为待签收）")


class _Lookups:
    """Categories, divisions and units of the whole file, read once."""

    def __init__(self) -> None:
        self.divisions = {division.code: division for division in Division.objects.all()}
        categories = list(Category.objects.filter(is_active=True))
        self.categories: dict[str, Category] = {c.code: c for c in categories}
        self.categories.update({c.path: c for c in categories})
        names: dict[str, list[Category]] = {}
        for category in categories:
            names.setdefault(category.name, []).append(category)
        self.ambiguous = {name for name, found in names.items() if len(found) > 1}
        self.categories.update({name: found[0] for name, found in names.items() if len(found) == 1})
        self.units = {unit.code: unit for unit in Unit.objects.filter(is_active=True)}

    def category(self, text: str) -> Category | None:
        if not text:
            return None
        if text in self.ambiguous:
            raise ValidationError(f"诉求分类名称“{text}”不唯一，请填写分类编码或完整路径")
        category = self.categories.get(text)
        if category is None:
            raise ValidationError(f"未知的诉求分类“{text}”（填写分类编码、完整路径或名称）")
        return category


def _text(values: dict[str, Any], name: str, label: str, max_length: int) -> str:
    text = str(values.get(name, "")).strip()
    if len(text) > max_length:
        raise ValidationError(f"{label}过长：共 {len(text)} 字，最多 {max_length} 字")
    return text


def _check_line(where: str, values: dict[str, Any], lookups: _Lookups, actor: User | None) -> OrderLine:
    """Every check of one line, collected; raise ValidationError listing them."""
    problems: list[str] = []
    checked: dict[str, Any] = {}

    def check(name: str, func: Callable[[], Any]) -> None:
        try:
            checked[name] = func()
        except ValidationError as exc:
            problems.extend(exc.messages)

    problems.extend(f"缺少{COLUMNS[name][0]}" for name in REQUIRED if not str(values.get(name, "")).strip())
    external_id = str(values.get("external_id", "")).strip()
    if len(external_id) > 64:
        problems.append(f"外部编号过长（最多 64 个字符）：{external_id[:70]}")
    checked["external_id"] = external_id
    if values.get("received_at"):
        check(
            "received_at",
            lambda: plausible_moment(_datetime(values["received_at"], "受理时间"), field="受理时间"),
        )
    check("channel", lambda: _choice(values.get("channel", ""), Channel, "来源渠道", default=Channel.IMPORT))
    if values.get("request_type"):
        check("request_type", lambda: _choice(values["request_type"], RequestType, "诉求类型"))
    check("urgency", lambda: _choice(values.get("urgency", ""), Urgency, "紧急程度", default=Urgency.NORMAL))
    check("category", lambda: lookups.category(str(values.get("category", "")).strip()))
    check("title", lambda: _text(values, "title", "标题", TITLE_MAX_LENGTH))
    check("content", lambda: _text(values, "content", "诉求内容", CONTENT_MAX_LENGTH))
    check("address", lambda: _text(values, "address", "地址", ADDRESS_MAX_LENGTH))
    check("requester_name", lambda: _text(values, "requester_name", "诉求人姓名", 40))
    phone = str(values.get("requester_phone", "")).strip()
    if phone:
        check("requester_phone", lambda: validators.normalise_phone(phone))
    check("is_anonymous", lambda: _flag(values.get("is_anonymous", ""), "匿名"))
    check("is_confidential", lambda: _flag(values.get("is_confidential", ""), "保密"))
    division = str(values.get("division", "")).strip()
    if division and division not in lookups.divisions:
        problems.append(f"未知的行政区划代码“{division}”")
    check("status", lambda: _status(values.get("status", "")))
    # "" when the status was refused (the problem is listed, the line not returned).
    status: str = checked.get("status", "")
    unit = None
    if status == DISPATCHED:
        code = str(values.get("unit", "")).strip()
        unit = lookups.units.get(code)
        if not code:
            problems.append("状态为待签收（办理中）的工单须填写承办单位编码")
        elif unit is None:
            problems.append(f"未知或已停用的承办单位编码“{code}”")
        elif unit.kind in (UnitKind.DISCIPLINE, UnitKind.CAMPAIGN_OFFICE):
            problems.append(f"“{unit.name}”是监督机关，不能作为承办单位")
    if status == CLOSED:
        check("reply", lambda: _text(values, "reply", "答复内容", TEXT_MAX_LENGTH))
        if not checked.get("reply"):
            problems.append("状态为已办结的工单须填写答复内容")
        if values.get("replied_at"):
            check(
                "replied_at",
                lambda: plausible_moment(_datetime(values["replied_at"], "答复时间"), field="答复时间"),
            )
        received, replied = checked.get("received_at"), checked.get("replied_at")
        if received and replied and replied < received:
            problems.append("答复时间早于受理时间")
        if replied and replied > timezone.now():
            problems.append("答复时间晚于当前时间")
    if status in (DISPATCHED, CLOSED):
        if actor is None:
            problems.append("导入待签收或已办结的工单须用 --by 指定热线坐席或系统管理员账号")
        elif division and not _actor_covers(actor, division):
            problems.append(f"--by 指定的账号 {actor.username} 无权办理区划 {division} 的工单")
    if problems:
        raise ValidationError([f"{where}：{problem}" for problem in problems])
    checked["division"] = division
    return OrderLine(
        where=where, values=checked, status=status, division=lookups.divisions[division], unit=unit
    )


def _actor_covers(actor: User, division: str) -> bool:
    scope = scope_of(actor)
    return scope.everything or (
        scope.division_prefix is not None and division.startswith(scope.division_prefix)
    )


def plan(rows: list[tuple[str, dict[str, Any]]], *, actor: User | None) -> tuple[list[OrderLine], int]:
    """Check every line; returns the lines to create and the count of already-registered ids."""
    lookups = _Lookups()
    errors: list[str] = []
    lines: list[OrderLine] = []
    seen: dict[str, str] = {}
    for where, values in rows:
        try:
            line = _check_line(where, values, lookups, actor)
        except ValidationError as exc:
            errors.extend(exc.messages)
            continue
        external_id = line.values["external_id"]
        if external_id in seen:
            errors.append(f"{where}：外部编号 {external_id} 与{seen[external_id]}重复")
            continue
        seen[external_id] = where
        lines.append(line)
    if errors:
        raise OrderImportError(errors)
    if not rows:
        raise OrderImportError("文件没有数据行")
    existing = set(
        WorkOrder.objects.filter(external_id__in=[line.values["external_id"] for line in lines]).values_list(
            "external_id", flat=True
        )
    )
    return [line for line in lines if line.values["external_id"] not in existing], len(existing)


# ------------------------------------------------------------------------------------ writing


class Progress:
    """A text bar on stderr, redrawn after at least PROGRESS_EVERY more rows and at the end."""

    def __init__(self, total: int, stream: TextIO | OutputWrapper | None) -> None:
        self.total, self.stream = total, stream
        self.drawn = 0

    def update(self, done: int) -> None:
        if self.stream is None or not (done - self.drawn >= PROGRESS_EVERY or done == self.total):
            return
        self.drawn = done
        filled = BAR_WIDTH * done // max(self.total, 1)
        text = f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{self.total}"
        text += "\n" if done == self.total else ""
        if isinstance(self.stream, OutputWrapper):
            # A management command's OutputWrapper would end every redraw with a newline.
            self.stream.write(text, ending="")
        else:
            self.stream.write(text)
        self.stream.flush()


def _intake(line: OrderLine) -> dict[str, Any]:
    """The line as `receive_work_order`'s keyword arguments."""
    values = line.values
    return {
        "channel": values["channel"],
        "request_type": values["request_type"],
        "title": values["title"],
        "content": values["content"],
        "division": line.division or values["division"],
        "at": values["received_at"],
        "urgency": values["urgency"],
        "category": values["category"],
        "address": values["address"],
        "requester_name": values["requester_name"],
        "requester_phone": values.get("requester_phone", ""),
        "is_anonymous": values["is_anonymous"],
        "is_confidential": values["is_confidential"],
        "external_id": values["external_id"],
    }


def _create(line: OrderLine, *, actor: User | None) -> None:
    """One order arriving 待签收 or 已办结: intake and its transition in one transaction."""
    if actor is None:
        # Never taken: plan() refuses such a line without --by.
        raise ValidationError("导入待签收或已办结的工单须用 --by 指定热线坐席或系统管理员账号")
    values = line.values
    with transaction.atomic():
        order = services.receive_work_order(by=None, **_intake(line)).order
        if line.status == DISPATCHED:
            services.transition(order, "dispatch", by=actor, main_unit=line.unit)
        elif line.status == CLOSED:
            at = values.get("replied_at") or values["received_at"]
            services.transition(order, "answer", by=actor, text=values["reply"], at=at)


def import_file(
    path: Path,
    *,
    dry_run: bool = False,
    by: User | None = None,
    progress: TextIO | OutputWrapper | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportResult:
    """Check the whole file, then (unless `dry_run`) create its new orders batch by batch.

    `by` is the operator or administrator recorded as dispatching or closing the imported orders.
    Side effects: the orders with their events; one audit row `hotline.received_batch` per batch of
    new orders and the services' audit rows of each order imported 待签收 or 已办结; at the end one
    audit row `hotline.orders_imported` with the file name and counts. Raises OrderImportError naming
    every bad line, and nothing is written then; a failure while writing (a database error, an order
    registered meanwhile by another channel) raises OrderImportError with `written`, the orders
    committed before it: importing the file again skips them by external id and writes the rest.
    """
    lines, existing = plan(read_rows(path), actor=by)
    result = ImportResult(existing=existing, dry_run=dry_run)
    for line in lines:
        result.created[line.status] += 1
    if dry_run:
        return result
    bar = Progress(len(lines), progress)
    new = [line for line in lines if line.status == RECEIVED]
    handled = [line for line in lines if line.status != RECEIVED]
    written = 0
    # The bar is drawn between transactions, never inside one: nothing waits on a terminal while
    # holding a lock.
    for start in range(0, len(new), batch_size):
        batch = new[start : start + batch_size]
        where = f"{batch[0].where}至{batch[-1].where}"
        with _writing(where=where, written=written):
            services.receive_work_orders([_intake(line) for line in batch], source=path.name)
        written += len(batch)
        bar.update(written)
    for line in handled:
        with _writing(where=line.where, written=written):
            _create(line, actor=by)
        written += 1
        bar.update(written)
    if lines:
        audit.record(
            "hotline.orders_imported",
            by=by,
            data={"file": path.name, "created": result.created, "existing": existing},
        )
    return result


@contextmanager
def _writing(*, where: str, written: int) -> Iterator[None]:
    """A refused or failed write as OrderImportError naming the lines and what was already written."""
    try:
        yield
    except (ValidationError, PermissionDenied, DatabaseError) as exc:
        if isinstance(exc, ValidationError):
            messages = exc.messages
        elif isinstance(exc, PermissionDenied):
            messages = [str(exc)]
        else:
            # The driver's text is for the log, not the operator.
            logger.exception("hotline import failed at %s", where)
            messages = ["数据库写入失败"]
        raise OrderImportError([f"{where}：{message}" for message in messages], written=written) from exc
