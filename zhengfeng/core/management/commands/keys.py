"""`zhengfeng keys check` / `keys rotate [--batch-size N]`: the personal-data key of the database.

`rotate` runs with the new key in FIELD_ENCRYPTION_KEY and the old one in FIELD_ENCRYPTION_KEY_PREVIOUS;
a killed run continues where it stopped when run again (docs/security.md, "Field keys").
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from zhengfeng.core import keys


class Command(BaseCommand):
    help = "个人信息加密密钥：check 校验密钥是否与数据库相符，rotate 轮换为新密钥"
    # The command reports a wrong key itself (rotate needs the old key as the database's).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("check", help="校验 FIELD_ENCRYPTION_KEY 是否为本数据库的密钥")
        rotate = sub.add_parser("rotate", help="用新密钥重新加密全部个人信息并重算盲索引（可中断后续跑）")
        rotate.add_argument("--batch-size", type=int, default=500, help="每批行数（每批一个事务），默认 500")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "check":
            problem = keys.key_problem()
            if problem is not None:
                self.stderr.write(problem)
                sys.exit(1)
            self.stdout.write("FIELD_ENCRYPTION_KEY 与本数据库的密钥校验值相符。")
            return
        if options["batch_size"] < 1:
            self.stderr.write("--batch-size 必须大于 0")
            sys.exit(2)
        try:
            keys.rotate(batch_size=options["batch_size"], report=self.stdout.write)
        except keys.KeyOperationError as exc:
            self.stderr.write(str(exc))
            sys.exit(1)
