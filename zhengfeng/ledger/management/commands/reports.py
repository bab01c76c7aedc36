"""`zhengfeng reports due YEAR [--format text|json]` and `zhengfeng reports schedule YEAR`.

`due` prints each quarter's due date: the N-th working day after the quarter's end under the
division's reporting rule for the year (N = 5 without one), from the deadlines engine. `schedule`
creates the year's rule when missing (the seed's terms) and every reporting unit's four reports
with their clocks; running it again creates nothing.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhengfeng.ledger.management.commands.plan import _division, _year
from zhengfeng.ledger.models import ReportingRule
from zhengfeng.ledger.reports.dates import DEFAULT_DUE_WORKDAYS, due_dates
from zhengfeng.ledger.reports.services import ensure_reporting_rule, schedule_reports


class Command(BaseCommand):
    help = "季度报送：due 显示各季度报送截止日期，schedule 生成某年度的报送任务和时限"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        due = sub.add_parser("due", help="显示某年度各季度的报送截止日期")
        due.add_argument("year")
        due.add_argument("--division", help="受理区划代码，默认为唯一的市级区划")
        due.add_argument("--format", choices=("text", "json"), default="text")
        schedule = sub.add_parser("schedule", help="生成某年度各报送单位的季度报送和时限（可重复运行）")
        schedule.add_argument("year")
        schedule.add_argument("--division", help="受理区划代码，默认为唯一的市级区划")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        year = _year(options["year"])
        if action == "due":
            self.due(year, options["division"], options["format"])
        else:
            self.schedule(year, options["division"])

    def due(self, year: int, division_code: str | None, fmt: str) -> None:
        try:
            division = _division(division_code)
        except CommandError:
            if division_code:
                raise
            division = None
        rule = ReportingRule.objects.filter(division=division, year=year).first() if division else None
        n = rule.due_workdays if rule else DEFAULT_DUE_WORKDAYS
        dates = due_dates(year, due_workdays=n)
        if fmt == "json":
            self.stdout.write(
                json.dumps(
                    [{"period": str(d.period), "due": d.due.isoformat()} for d in dates], ensure_ascii=False
                )
            )
            for d in dates:
                if d.provisional:
                    sys.stderr.write(f"注意：{d.period} 的截止日期超出已公布的节假日安排，为暂定日期\n")
            return
        source = f"{rule.title}，" if rule else ""
        self.stdout.write(f"{year} 年季度报送截止日期（{source}季度结束后第 {n} 个工作日）")
        for d in dates:
            note = "  暂定" if d.provisional else ""
            self.stdout.write(f"{d.period}  {d.due.isoformat()}{note}")

    def schedule(self, year: int, division_code: str | None) -> None:
        division = _division(division_code)
        try:
            rule, created = ensure_reporting_rule(division=division, year=year)
            count = schedule_reports(rule)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        if created:
            self.stdout.write(f"已建立报送规则：{rule.title}")
        self.stdout.write(f"{rule.title}：新建报送 {count} 份")
