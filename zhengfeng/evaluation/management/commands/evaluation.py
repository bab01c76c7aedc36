"""`zhengfeng evaluation import-actions FILE [--dry-run] [--by USERNAME]` (layout in docs/evaluation.md),
`zhengfeng evaluation flag YEAR` (the anti-rigging rules on demand)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhengfeng.evaluation.importing import import_file
from zhengfeng.evaluation.models import EvaluationYear
from zhengfeng.evaluation.rules import RULES, run_rules
from zhengfeng.org.models import User


class Command(BaseCommand):
    help = "公述民评：import-actions 导入执法监督记录；flag YEAR 运行防刷票规则"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        importer = sub.add_parser(
            "import-actions", help="导入执法监督记录并发送评议短信（按外部编号去重，可重复导入）"
        )
        importer.add_argument("file", help="CSV 或 XLSX 文件")
        importer.add_argument("--dry-run", action="store_true", help="只校验并显示汇总，不写入")
        importer.add_argument("--by", metavar="USERNAME", help="记入审计日志的操作人（默认：系统）")
        flagger = sub.add_parser("flag", help="对某年度的短信评议和网上评议运行防刷票规则（可重复运行）")
        flagger.add_argument("year", help="年度，例如 2015")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "flag":
            self.flag(options["year"])
            return
        self.import_actions(options["file"], options["dry_run"], options["by"])

    def flag(self, year: str) -> None:
        if not year.isdigit():
            raise CommandError(f"年度应为数字，例如 2015，而不是 {year!r}")
        years = list(EvaluationYear.objects.filter(year=int(year)).select_related("division"))
        if not years:
            raise CommandError(f"没有 {year} 年的公述民评")
        for evaluation_year in years:
            counts = run_rules(evaluation_year)
            detail = "，".join(f"{name} {counts[name]}" for name in RULES)
            self.stdout.write(f"{evaluation_year.title}：新标记 {sum(counts.values())} 条（{detail}）")

    def import_actions(self, file: str, dry_run: bool, by: str | None) -> None:
        actor = None
        if by:
            actor = User.objects.filter(username=by).first()
            if actor is None:
                raise CommandError(f"未知的用户名：{by}")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"文件不存在：{file}")
        result = import_file(path, dry_run=dry_run, by=actor)
        if result.errors:
            for error in result.errors:
                self.stderr.write(error)
            if result.written_before_failure:
                raise CommandError(
                    f"导入中断：已写入 {result.written_before_failure} 条；排除问题后重新导入同一文件，"
                    "已导入的记录按外部编号跳过。"
                )
            raise CommandError(f"导入失败：共 {len(result.errors)} 处错误，未写入任何数据。")
        self.stdout.write(result.summary())
        self.stdout.write("试运行：校验通过，未写入任何数据。" if dry_run else "导入完成。")
