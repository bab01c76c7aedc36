"""`zhengfeng workdays add DATE N | count A B | is DATE [--provisional]`: working-day arithmetic.

Outputs are exact and machine-readable: `add` prints the date, `count` the number, `is` a line
starting with `workday` or `off`; with --provisional, a result outside the published calendar
ends with ` provisional`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhengfeng.deadlines.engine import CalendarCoverageError
from zhengfeng.deadlines.models import DEFAULT_CALENDAR_CODE
from zhengfeng.deadlines.queries import CalendarMissingError, calendar_index


def parse_date(text: str) -> dt.date:
    try:
        if len(text) != 10:
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"日期格式错误：{text!r}，应为 YYYY-MM-DD（如 2026-09-30）") from None


def parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise CommandError(f"工作日数错误：{text!r}，应为整数（可为负数）") from None


class Command(BaseCommand):
    help = (
        "工作日计算：add 日期 N（第 N 个工作日，不含当日）、count 起 止（起日之后至止日的工作日数）、is 日期"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--calendar", default=DEFAULT_CALENDAR_CODE, help="工作日历编码（默认 CN）")
        parser.add_argument(
            "--provisional",
            action="store_true",
            help="超出已公布范围时按周一至周五暂定计算，并在结果后标注 provisional",
        )
        sub = parser.add_subparsers(dest="action", required=True, parser_class=type(parser))
        add = sub.add_parser(
            "add",
            help="DATE 之后第 N 个工作日（N 为负数时向前）",
            called_from_command_line=parser.called_from_command_line,
        )
        add.add_argument("date")
        add.add_argument("n")
        count = sub.add_parser(
            "count",
            help="A 之后至 B（含）之间的工作日数",
            called_from_command_line=parser.called_from_command_line,
        )
        count.add_argument("start")
        count.add_argument("end")
        is_ = sub.add_parser(
            "is", help="DATE 是否工作日", called_from_command_line=parser.called_from_command_line
        )
        is_.add_argument("date")
        for subparser in (add, count, is_):
            subparser.add_argument("--provisional", action="store_true", dest="provisional_sub")

    def handle(self, *args: Any, **options: Any) -> None:
        provisional = options["provisional"] or options.get("provisional_sub", False)
        try:
            index = calendar_index(options["calendar"])
        except CalendarMissingError as exc:
            raise CommandError(str(exc)) from exc
        try:
            if options["action"] == "add":
                start = parse_date(options["date"])
                result = index.add_workdays(start, parse_int(options["n"]), provisional=provisional)
                line, settled = result.isoformat(), index.is_settled(start, result)
            elif options["action"] == "count":
                a, b = parse_date(options["start"]), parse_date(options["end"])
                line = str(index.count_workdays(a, b, provisional=provisional))
                settled = index.is_settled(a, b)
            else:
                info = index.day_info(parse_date(options["date"]), provisional=provisional)
                word = "workday" if info.is_workday else "off"
                line, settled = f"{word} {info.date.isoformat()} {info.label}", not info.provisional
        except CalendarCoverageError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(line if settled else f"{line} provisional")
