"""`zhengfeng restore FILE [--force]`: restore a `zhengfeng backup` archive into an empty database."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from zhengfeng.core import backup


class Command(BaseCommand):
    help = "恢复：把 zhengfeng backup 的归档恢复到空数据库和空附件目录（--force 覆盖已有数据）"
    # The target is empty (or about to be replaced): the field-key check has nothing to compare yet.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="zhengfeng backup 写出的归档文件")
        parser.add_argument("--force", action="store_true", help="目标数据库或附件目录非空时仍然覆盖")

    def handle(self, *args: Any, file: Path, force: bool, **options: Any) -> None:
        try:
            restored = backup.restore_backup(file, force=force)
        except backup.BackupError as exc:
            self.stderr.write(f"恢复失败：{exc}")
            sys.exit(1)
        self.stdout.write(
            f"恢复完成：{backup.describe(restored.manifest)}，已写入附件 {restored.media_files} 个。"
        )
        if restored.audit_problem is not None:
            self.stderr.write(
                f"审计日志异常：第 {restored.audit_problem.seq} 条记录 — {restored.audit_problem.reason}"
                f"（此前 {restored.audit_rows} 条完好）"
            )
            sys.exit(1)
        self.stdout.write(f"审计日志完整：共校验 {restored.audit_rows} 条记录。")
