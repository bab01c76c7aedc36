"""`zhengfeng backup FILE`: the database and MEDIA_ROOT in one archive with a manifest (core.backup)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from zhengfeng.core import backup


class Command(BaseCommand):
    help = "备份：数据库（SQLite 在线备份或 pg_dump）与附件目录写入一个带清单的归档文件"
    # Never blocked: the manifest records the database's own key check value, whatever key is set.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="归档文件路径，例如 zhengfeng-20261204.tar.gz")

    def handle(self, *args: Any, file: Path, **options: Any) -> None:
        try:
            manifest = backup.create_backup(file)
        except backup.BackupError as exc:
            self.stderr.write(str(exc))
            sys.exit(1)
        self.stdout.write(f"备份完成：{file}（{backup.describe(manifest)}）")
        self.stdout.write("请把 FIELD_ENCRYPTION_KEY 另行保存：备份中不含密钥，没有它无法读取个人信息。")
