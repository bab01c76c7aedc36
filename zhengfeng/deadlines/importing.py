"""Read calendar exception files (CSV or JSON; format in docs/calendar.md). Pure: no database.

Every problem is reported with its line (CSV) or record number (JSON), and a file with any problem
yields no rows at all, so an import either takes the whole file or nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from zhengfeng.deadlines.engine import CalendarIndex, DayException, Schedule

COLUMNS = ("date", "kind", "name", "notice_no", "notice_url", "provisional")
KINDS = {"off": True, "work": False}
_TRUE = {"1", "true", "yes", "是", "y"}
_FALSE = {"", "0", "false", "no", "否", "n"}
_WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")

SEED_FILE = Path(__file__).resolve().parent / "data" / "cn_2004_2026.csv"
SEED_COVERAGE = (dt.date(2004, 1, 1), dt.date(2026, 12, 31))


class CalendarFileError(ValueError):
    """The file cannot be imported; the message lists every bad line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _row(where: str, raw: dict[str, Any], problems: list[str]) -> DayException | None:
    text = str(raw.get("date") or "").strip()
    try:
        day = dt.date.fromisoformat(text)
        if len(text) != 10:
            raise ValueError(text)
    except ValueError:
        problems.append(f"{where}：日期 {text!r} 无效，应为 YYYY-MM-DD")
        return None
    kind = str(raw.get("kind") or "").strip().lower()
    if kind not in KINDS:
        problems.append(f"{where}：类型 {kind!r} 无效，应为 off（放假）或 work（补班）")
        return None
    is_off = KINDS[kind]
    if is_off and day.weekday() >= 5:
        problems.append(f"{where}：{day} 是{_WEEKDAYS[day.weekday()]}，本来就休息，不应登记为 off")
        return None
    if not is_off and day.weekday() < 5:
        problems.append(f"{where}：{day} 是{_WEEKDAYS[day.weekday()]}，本来就上班，不应登记为 work")
        return None
    flag = raw.get("provisional")
    flag_text = str(flag if flag is not None else "").strip().lower()
    if isinstance(flag, bool):
        provisional = flag
    elif flag_text in _TRUE:
        provisional = True
    elif flag_text in _FALSE:
        provisional = False
    else:
        problems.append(f"{where}：暂定标记 {flag!r} 无效，应为 0/1、true/false 或留空")
        return None
    url = str(raw.get("notice_url") or "").strip()
    if url and not url.startswith(("http://", "https://")):
        problems.append(f"{where}：通知网址 {url!r} 应以 http:// 或 https:// 开头")
        return None
    return DayException(
        date=day,
        is_off_day=is_off,
        name=str(raw.get("name") or "").strip()[:60],
        notice_no=str(raw.get("notice_no") or "").strip()[:60],
        notice_url=url[:300],
        provisional=provisional,
    )


def _collect(items: list[tuple[str, dict[str, Any]]]) -> list[DayException]:
    problems: list[str] = []
    rows: list[DayException] = []
    seen: dict[dt.date, str] = {}
    for where, raw in items:
        row = _row(where, raw, problems)
        if row is None:
            continue
        if row.date in seen:
            problems.append(f"{where}：日期 {row.date} 重复（已见于{seen[row.date]}）")
            continue
        seen[row.date] = where
        rows.append(row)
    if problems:
        raise CalendarFileError(problems)
    if not rows:
        raise CalendarFileError(["文件中没有任何节假日调整记录"])
    return sorted(rows, key=lambda r: r.date)


def parse_csv(text: str) -> list[DayException]:
    """Header row with at least `date` and `kind`; lines starting with # are comments."""
    lines = text.lstrip("\ufeff").splitlines()
    numbered = [
        (n, line)
        for n, line in enumerate(lines, start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not numbered:
        raise CalendarFileError(["文件为空"])
    header_no, header = numbered[0]
    columns = [c.strip().lower() for c in next(csv.reader([header]))]
    missing = [c for c in ("date", "kind") if c not in columns]
    unknown = [c for c in columns if c not in COLUMNS]
    if missing or unknown:
        raise CalendarFileError(
            [
                f"第 {header_no} 行：表头应含 {', '.join(COLUMNS)}（date、kind 必填）；缺少 {missing}，无法识别 {unknown}"
            ]
        )
    items: list[tuple[str, dict[str, Any]]] = []
    problems: list[str] = []
    for n, line in numbered[1:]:
        values = next(csv.reader(io.StringIO(line)))
        if len(values) > len(columns):
            problems.append(f"第 {n} 行：有 {len(values)} 列，多于表头的 {len(columns)} 列")
            continue
        items.append((f"第 {n} 行", dict(zip(columns, values, strict=False))))
    if problems:
        raise CalendarFileError(problems)
    return _collect(items)


def parse_json(text: str) -> list[DayException]:
    """A JSON array of objects with the CSV's keys."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CalendarFileError([f"第 {exc.lineno} 行：JSON 格式错误（{exc.msg}）"]) from exc
    if not isinstance(data, list):
        raise CalendarFileError(['JSON 文件应为对象数组：[{"date": …, "kind": …}, …]'])
    items: list[tuple[str, dict[str, Any]]] = []
    problems: list[str] = []
    for n, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            problems.append(f"第 {n} 条记录：应为对象，而不是 {item!r}")
            continue
        unknown = sorted(set(item) - set(COLUMNS))
        if unknown:
            problems.append(f"第 {n} 条记录：无法识别的字段 {unknown}")
            continue
        items.append((f"第 {n} 条记录", item))
    if problems:
        raise CalendarFileError(problems)
    return _collect(items)


def parse_file(path: str | Path) -> list[DayException]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CalendarFileError([f"找不到文件 {path}"]) from exc
    except UnicodeDecodeError as exc:
        raise CalendarFileError([f"文件 {path} 不是 UTF-8 编码"]) from exc
    if path.suffix.lower() == ".json":
        return parse_json(text)
    if path.suffix.lower() == ".csv":
        return parse_csv(text)
    raise CalendarFileError([f"不支持的文件类型 {path.suffix!r}：应为 .csv 或 .json"])


def seed_index(*, schedules: Sequence[Schedule] = ()) -> CalendarIndex:
    """An index over the committed 2004–2026 seed file alone (benchmarks and DB-free tests)."""
    return CalendarIndex(
        coverage_start=SEED_COVERAGE[0],
        coverage_end=SEED_COVERAGE[1],
        exceptions=parse_file(SEED_FILE),
        code="CN",
        schedules=schedules,
    )
