"""`zhengfeng calendar import FILE [--year Y]`, `calendar show YEAR`, `calendar status`.

Import format (CSV or JSON, one row per exception to the Monday–Friday rule): docs/calendar.md.
A file with any bad line changes nothing; the error names every bad line.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhengfeng.deadlines.importing import CalendarFileError, parse_file
from zhengfeng.deadlines.models import DEFAULT_CALENDAR_CODE, WorkCalendar
from zhengfeng.deadlines.queries import exceptions_of_year
from zhengfeng.deadlines.services import CalendarImportError, import_calendar


class Command(BaseCommand):
    help = "工作日历：import 导入国务院办公厅节假日安排（CSV/JSON）；show 列出某年的调整；status 显示覆盖范围与版本"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--calendar", default=DEFAULT_CALENDAR_CODE, help="工作日历编码（默认 CN）")
        sub = parser.add_subparsers(dest="action", required=True, parser_class=type(parser))
        cmd = parser.called_from_command_line
        imp = sub.add_parser(
            "import", help="导入文件，替换其中各年份的全部调整", called_from_command_line=cmd
        )
        imp.add_argument("file")
        imp.add_argument("--year", type=int, help="按通知年份替换（文件还可含上一年 12 月的日期）")
        show = sub.add_parser("show", help="列出某年的节假日调整", called_from_command_line=cmd)
        show.add_argument("year", type=int)
        sub.add_parser("status", help="覆盖范围与版本", called_from_command_line=cmd)

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["calendar"]
        calendar = WorkCalendar.objects.filter(code=code).first()
        if calendar is None:
            raise CommandError(f"工作日历 {code} 不存在；请先运行数据库迁移")
        action = options["action"]
        if action == "import":
            self.import_file(options["file"], options.get("year"), code)
        elif action == "show":
            self.show(options["year"], code)
        else:
            self.stdout.write(
                f"{calendar.code} {calendar.name}：覆盖 {calendar.coverage_start} 至 {calendar.coverage_end}，"
                f"版本 {calendar.version}，调整 {calendar.exceptions.count()} 天"
            )

    def import_file(self, path: str, year: int | None, code: str) -> None:
        try:
            rows = parse_file(path)
            result = import_calendar(rows=rows, year=year, calendar_code=code, source=str(path))
        except CalendarFileError as exc:
            raise CommandError(f"导入失败，未做任何修改：\n{exc}") from exc
        except CalendarImportError as exc:
            raise CommandError(f"导入失败，未做任何修改：{exc}") from exc
        changed = result.first_changed.isoformat() if result.first_changed else "无"
        self.stdout.write(
            f"已导入 {'、'.join(str(y) for y in result.years)} 年：{result.added} 条（替换原有 {result.removed} 条）；"
            f"日历版本 {result.version}，覆盖 {result.coverage_start} 至 {result.coverage_end}；"
            f"最早变化日 {changed}，重算时限 {result.recomputed} 个"
        )

    def show(self, year: int, code: str) -> None:
        rows = list(exceptions_of_year(year, code=code))
        if not rows:
            self.stdout.write(f"{year} 年没有节假日调整记录")
            return
        for row in rows:
            kind = "off " if row.is_off_day else "work"
            notes = " ".join(part for part in (row.notice_no, "暂定" if row.provisional else "") if part)
            self.stdout.write(f"{row.date:%Y-%m-%d} {kind} {row.name} {notes}".rstrip())
