"""`zhengfeng ledger import FILE --unit CODE [--year YEAR] [--dry-run]` and
`zhengfeng ledger export (--unit CODE | --division CODE) -o FILE [--year YEAR]`.

Import checks every row first; on any error it lists them by row, writes nothing and exits 1.
The plan is the unit's latest one unless --year names another (docs/ledger.md §台帐 Excel).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhengfeng.ledger.ledgers.excel import LedgerImportError, export_title, export_workbook, import_ledgers
from zhengfeng.ledger.ledgers.queries import export_ledgers, plans_for_unit
from zhengfeng.ledger.models import Ledger, Plan
from zhengfeng.org.models import Division, Unit
from zhengfeng.org.queries import unit_by_code


def _unit(code: str) -> Unit:
    unit = unit_by_code(code)
    if unit is None:
        raise CommandError(f"未知的单位编码：{code}")
    return unit


def _plan_for_unit(unit: Unit, year: int | None) -> Plan:
    plans = plans_for_unit(unit.pk)
    if year is not None:
        plans = plans.filter(year=year)
    plan = plans.first()
    if plan is None:
        when = f" {year} 年度" if year else ""
        raise CommandError(f"{unit.name}（{unit.code}）在{when}实施方案中没有承担任务")
    return plan


class Command(BaseCommand):
    help = "工作台帐：import 从 Excel 导入（先检查全部行），export 导出为 Excel"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        importer = sub.add_parser("import", help="导入一个单位的台帐 Excel")
        importer.add_argument("file", help="台帐 Excel 文件（.xlsx）")
        importer.add_argument("--unit", required=True, help="单位编码，如 441800-SFJ")
        importer.add_argument("--year", type=int, help="方案年度，默认为该单位最新的方案")
        importer.add_argument("--dry-run", action="store_true", help="只检查并显示将要做的修改，不写入")
        exporter = sub.add_parser("export", help="导出台帐 Excel")
        who = exporter.add_mutually_exclusive_group(required=True)
        who.add_argument("--unit", help="单位编码：导出该单位的台帐")
        who.add_argument("--division", help="区划代码：导出该区划（含下级）全部单位的台帐")
        exporter.add_argument("--year", type=int, help="方案年度，默认为最新的方案")
        exporter.add_argument("-o", "--output", required=True, help="输出文件（.xlsx）")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "import":
            self._import(**options)
        else:
            self._export(**options)

    def _import(self, *, file: str, unit: str, year: int | None, dry_run: bool, **_: Any) -> None:
        path = Path(file)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"无法读取文件 {file}：{exc}") from exc
        target = _unit(unit)
        plan = _plan_for_unit(target, year)
        try:
            result = import_ledgers(content, unit=target, plan=plan, dry_run=dry_run, file_name=path.name)
        except LedgerImportError as exc:
            self.stderr.write(f"{path.name} 有 {len(exc.errors)} 处错误，未导入任何内容：")
            for error in exc.errors:
                self.stderr.write(f"  {error}")
            sys.exit(1)
        self.stdout.write(result.line())

    def _export(
        self, *, unit: str | None, division: str | None, year: int | None, output: str, **_: Any
    ) -> None:
        if unit:
            target = _unit(unit)
            plan = _plan_for_unit(target, year)
            ledgers = Ledger.objects.filter(unit=target, task__plan=plan)
            title = export_title(unit=target, plan=plan)
        else:
            area = Division.objects.filter(code=division).first()
            if area is None:
                raise CommandError(f"未知的区划代码：{division}")
            ledgers = Ledger.objects.filter(division_code__startswith=area.prefix)
            plans = Plan.objects.filter(pk__in=ledgers.values("task__plan_id")).order_by("-year")
            if year is not None:
                plans = plans.filter(year=year)
            latest = plans.first()
            if latest is None:
                raise CommandError(f"{area.name}没有{f' {year} 年度的' if year else ''}工作台帐")
            ledgers = ledgers.filter(task__plan=latest)
            title = export_title(unit=None, plan=latest, scope_label=area.name)
        rows = export_ledgers(ledgers)
        Path(output).write_bytes(export_workbook(rows, title=title))
        steps = sum(max(len(ledger.steps.all()), 1) for ledger in rows)
        self.stdout.write(f"已导出台帐 {len(rows)} 个、{steps} 行到 {output}")
