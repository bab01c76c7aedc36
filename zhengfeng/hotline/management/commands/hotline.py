"""`zhengfeng hotline categories FILE`: import the 3-level category taxonomy from CSV."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhengfeng.hotline.category_import import import_categories, read_category_csv


class Command(BaseCommand):
    help = "12345 热线：导入诉求分类（categories FILE）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        categories = sub.add_parser(
            "categories", help="从 CSV 导入三级诉求分类（一级分类,二级分类,三级分类）"
        )
        categories.add_argument("file")
        orders = sub.add_parser("import", help="从 12345 平台导出的 CSV/XLSX 导入工单（按外部编号幂等）")
        orders.add_argument("file")
        orders.add_argument("--dry-run", action="store_true", help="只校验，不写入")
        orders.add_argument("--by", default="", help="记为派单/办结操作人的热线坐席或管理员账号")
        orders.add_argument(
            "--batch-size", type=int, default=0, help="每批提交的新工单数（默认 1000；每批一条审计记录）"
        )

    def handle(self, *args: str, subcommand: str, **options: Any) -> None:
        if subcommand == "import":
            self._import_orders(options)
            return
        if subcommand == "categories":
            try:
                rows = read_category_csv(options["file"])
                result = import_categories(rows, source=options["file"])
            except ValidationError as exc:
                raise CommandError("；".join(exc.messages)) from exc
            self.stdout.write(
                f"分类导入完成：{result.rows} 行，新建 {result.created} 个分类，已存在 {result.existing} 个"
            )

    def _import_orders(self, options: dict[str, Any]) -> None:
        # Imported here so the import sub-command stays an addition to this command (and loads only when used).
        from pathlib import Path

        from zhengfeng.hotline.order_import import BATCH_SIZE, OrderImportError, import_file
        from zhengfeng.org.models import User

        by = None
        if options["by"]:
            by = User.objects.filter(username=options["by"], is_active=True).first()
            if by is None:
                raise CommandError(f"未知的账号：{options['by']}")
        if options["batch_size"] < 0:
            raise CommandError("--batch-size 应为正整数")
        try:
            result = import_file(
                Path(options["file"]),
                dry_run=options["dry_run"],
                by=by,
                progress=self.stderr,
                batch_size=options["batch_size"] or BATCH_SIZE,
            )
        except ValidationError as exc:
            for message in exc.messages:
                self.stderr.write(message)
            if isinstance(exc, OrderImportError) and exc.written:
                raise CommandError(
                    f"导入中断：已写入 {exc.written} 条工单；排除问题后重新导入同一文件，已导入的工单按外部编号跳过"
                ) from exc
            raise CommandError(f"导入失败：{len(exc.messages)} 处错误，未写入任何数据") from exc
        for line in result.summary_lines():
            self.stdout.write(line)
