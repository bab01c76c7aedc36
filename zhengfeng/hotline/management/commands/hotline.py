"""`zhengfeng hotline categories FILE`: import the 3-level category taxonomy from CSV."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from zhengfeng.hotline.importing import import_categories, read_category_csv


class Command(BaseCommand):
    help = "12345 热线：导入诉求分类（categories FILE）"

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        categories = sub.add_parser(
            "categories", help="从 CSV 导入三级诉求分类（一级分类,二级分类,三级分类）"
        )
        categories.add_argument("file")

    def handle(self, *args, subcommand: str, **options) -> None:
        if subcommand == "categories":
            try:
                rows = read_category_csv(options["file"])
                result = import_categories(rows, source=options["file"])
            except ValidationError as exc:
                raise CommandError("；".join(exc.messages)) from exc
            self.stdout.write(
                f"分类导入完成：{result.rows} 行，新建 {result.created} 个分类，已存在 {result.existing} 个"
            )
