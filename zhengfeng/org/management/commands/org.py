"""`zhengfeng org import FILE [--dry-run]`: units and people from CSV or XLSX (layout in docs/org.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhengfeng.org.importing import import_file
from zhengfeng.org.models import User


class Command(BaseCommand):
    help = "组织机构：import 从 CSV 或 XLSX 导入单位和人员（先校验全部行，有错误则不写入）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        importer = sub.add_parser("import", help="导入单位和人员（按单位编码、人员编号更新，可重复导入）")
        importer.add_argument("file", help="CSV 或 XLSX 文件")
        importer.add_argument("--dry-run", action="store_true", help="只校验并显示汇总，不写入")
        importer.add_argument("--by", metavar="USERNAME", help="记入审计日志的操作人（默认：系统）")

    def handle(
        self, *args: Any, action: str, file: str, dry_run: bool, by: str | None, **options: Any
    ) -> None:
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
            raise CommandError(f"导入失败：共 {len(result.errors)} 处错误，未写入任何数据。")
        for line in result.summary_lines():
            self.stdout.write(line)
        self.stdout.write("试运行：校验通过，未写入任何数据。" if dry_run else "导入完成。")
