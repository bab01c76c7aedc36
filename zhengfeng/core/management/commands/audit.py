"""`zhengfeng audit verify`: check the chain and every anchor; `zhengfeng audit anchor`: sign the head now."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from zhengfeng.core.anchors import anchor, verify_anchors
from zhengfeng.core.audit import verify_chain


class Command(BaseCommand):
    help = "审计日志：verify 校验哈希链与锚点；anchor 立即签发链头锚点（后台任务每日自动签发）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="校验审计日志哈希链，并核对每个已签发的锚点")
        sub.add_parser("anchor", help="签发当前链头的锚点，写入锚点表和锚点文件")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "anchor":
            row = anchor()
            at = timezone.localtime(row.created_at).strftime("%Y-%m-%d %H:%M:%S")
            self.stdout.write(f"已签发锚点 #{row.pk}：第 {row.seq} 条，哈希 {row.head_hash}，{at}")
            return
        checked, problem = verify_chain()
        if problem is not None:
            self.stderr.write(
                f"审计日志异常：第 {problem.seq} 条记录 — {problem.reason}（此前 {checked} 条完好）"
            )
            sys.exit(1)
        last, anchor_problem = verify_anchors()
        if anchor_problem is not None:
            self.stderr.write(f"审计日志异常：{anchor_problem.reason}")
            sys.exit(1)
        if last is None:
            self.stdout.write(f"审计日志完整：共校验 {checked} 条记录（尚无锚点）。")
            return
        self.stdout.write(
            f"审计日志完整：共校验 {checked} 条记录；最近锚点 #{last.pk}（第 {last.seq} 条）与链一致。"
        )
