"""`zhengfeng plan import FILE --year YEAR` and `zhengfeng plan show YEAR [--format json]`.

Import exits 1 and writes nothing when the file does not follow the plan layout, has gaps (a task or
group number missing, text cut off mid-paragraph; unless --allow-gaps) or names units the alias table
cannot find (unless --allow-unmatched); see docs/ledger.md. It always prints what it found.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhengfeng.ledger.models import ResponsibilityRole
from zhengfeng.ledger.plans.importing import GapsError, prepare_import
from zhengfeng.ledger.plans.planfile import PlanFileError, found_summary
from zhengfeng.ledger.plans.queries import find_plan, plan_document
from zhengfeng.ledger.plans.services import UnmatchedNamesError, clean_year, import_plan
from zhengfeng.org.models import Division, DivisionLevel

ROLE_LABELS = dict(ResponsibilityRole.choices)


def _division(code: str | None) -> Division:
    if code:
        division = Division.objects.filter(code=code).first()
        if division is None:
            raise CommandError(f"未知的区划代码：{code}")
        return division
    cities = list(Division.objects.filter(level=DivisionLevel.CITY)[:2])
    if len(cities) != 1:
        raise CommandError("请用 --division 指定发文区划代码（如 441800）")
    return cities[0]


def _year(value: str) -> int:
    try:
        return clean_year(value)
    except ValidationError as exc:
        raise CommandError("；".join(exc.messages)) from exc


class Command(BaseCommand):
    help = "实施方案：import 导入方案文本，show 显示方案（文本或 JSON）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        importer = sub.add_parser("import", help="导入方案文本（按年度更新，不重复）")
        importer.add_argument("file", help="方案文本文件（UTF-8）")
        importer.add_argument("--year", required=True, help="年度，如 2015")
        importer.add_argument("--division", help="发文区划代码，默认为唯一的市级区划")
        importer.add_argument("--title", default="", help="方案标题（文件首行不是标题时使用）")
        importer.add_argument(
            "--allow-gaps",
            action="store_true",
            help="任务序号或分组序号不连续、文本不完整时仍导入（确认原文如此）",
        )
        importer.add_argument(
            "--allow-unmatched", action="store_true", help="有未匹配的单位名称时仍导入（跳过这些名称）"
        )
        show = sub.add_parser("show", help="显示某年度的方案")
        show.add_argument("year")
        show.add_argument("--division", help="发文区划代码，默认为唯一的市级区划")
        show.add_argument("--format", choices=("text", "json"), default="text")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "import":
            self._import(**options)
        else:
            self._show(**options)

    def _import(
        self,
        *,
        file: str,
        year: str,
        division: str | None,
        title: str,
        allow_gaps: bool,
        allow_unmatched: bool,
        **_: Any,
    ) -> None:
        path = Path(file)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"无法读取文件 {file}：{exc}") from exc
        issuing = _division(division)
        try:
            prepared = prepare_import(text, division=issuing, year=_year(year), allow_gaps=allow_gaps)
        except GapsError as exc:
            self.stderr.write(found_summary(exc.plan))
            self.stderr.write(f"{path.name} 不完整或序号不连续，未导入：")
            for error in exc.errors:
                self.stderr.write(f"  {error}")
            self.stderr.write("如确认原文如此，请使用 --allow-gaps 导入。")
            sys.exit(1)
        except PlanFileError as exc:
            self.stderr.write(f"{path.name} 不符合实施方案格式，未导入：")
            for error in exc.errors:
                self.stderr.write(f"  {error}")
            sys.exit(1)
        if prepared.unmatched:
            stream = self.stdout if allow_unmatched else self.stderr
            stream.write(f"未匹配的单位名称 {len(prepared.unmatched)} 个：")
            for row in prepared.unmatched:
                stream.write(f"  {row.describe()}")
        try:
            summary = import_plan(prepared, title=title, allow_unmatched=allow_unmatched)
        except UnmatchedNamesError:
            self.stderr.write("未导入任何内容。请在单位别名中补充这些名称，或使用 --allow-unmatched 跳过。")
            sys.exit(1)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        for line in summary.lines():
            self.stdout.write(line)
        self.stdout.write(found_summary(prepared.plan))
        if prepared.gaps:
            self.stdout.write(f"不连续或不完整之处 {len(prepared.gaps)} 处（--allow-gaps，已照原文导入）：")
            for gap in prepared.gaps:
                self.stdout.write(f"  {gap}")

    def _show(self, *, year: str, division: str | None, format: str, **_: Any) -> None:
        issuing = _division(division)
        plan = find_plan(year=_year(year), division_code=issuing.code)
        if plan is None:
            raise CommandError(f"{issuing.name}没有 {year} 年度的实施方案")
        if format == "json":
            self.stdout.write(json.dumps(plan_document(plan), ensure_ascii=False, indent=2))
            return
        document = plan_document(plan, full=True)
        self.stdout.write(
            f"{document['title']}（{plan.division.name}，{plan.year} 年度，版本 {plan.version}）"
        )
        for section in document["sections"]:
            self.stdout.write(f"（{section['number']}）{section['title']}")
            for task in section["tasks"]:
                self.stdout.write(f"  {task['number']}. {task['title']}")
                for role, label in ROLE_LABELS.items():
                    names = [row["unit_name"] for row in task["responsibilities"] if row["role"] == role]
                    if names:
                        self.stdout.write(f"      {label}：{'、'.join(names)}")
                if task["open_parties"]:
                    self.stdout.write(f"      其他：{'、'.join(task['open_parties'].splitlines())}")
