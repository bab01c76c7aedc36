"""`zhengfeng audit verify`: check the audit chain; exit 1 naming the first bad row."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from zhengfeng.core.audit import verify_chain


class Command(BaseCommand):
    help = "审计日志：verify 校验哈希链是否完整"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="校验审计日志哈希链")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        checked, problem = verify_chain()
        if problem is None:
            self.stdout.write(f"审计日志完整：共校验 {checked} 条记录。")
            return
        self.stderr.write(
            f"审计日志异常：第 {problem.seq} 条记录 — {problem.reason}（此前 {checked} 条完好）"
        )
        sys.exit(1)
