"""`zhengfeng worker [--once]`: drain the outbox and run the periodic jobs.

Several workers may run at once: each job run and each outbox row is claimed with a conditional
update, so nothing is done twice. The loop runs under a heartbeat (zhengfeng.core.worker.Heartbeat):
a worker killed mid-job has its claims taken over WORKER_LEASE_SECONDS after its last beat, while a
live one keeps them however long a job takes. SIGTERM/SIGINT finish the current pass and exit.
"""

from __future__ import annotations

import signal
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from zhengfeng.core.worker import Heartbeat, registered_jobs, run_due_jobs


class Command(BaseCommand):
    help = "后台任务进程：发送消息队列、执行定时任务（预警扫描等）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="执行一轮到期任务后退出（用于 cron 和测试）")
        parser.add_argument("--job", help="只执行指定任务（不论是否到期）")
        parser.add_argument("--list", dest="list_jobs", action="store_true", help="列出已注册的任务")

    def handle(self, *args: Any, once: bool, job: str | None, list_jobs: bool, **options: Any) -> None:
        jobs = registered_jobs()
        if list_jobs:
            for name, spec in sorted(jobs.items()):
                self.stdout.write(f"{name}\t每 {int(spec.every.total_seconds())} 秒")
            return
        if job is not None and job not in jobs:
            self.stderr.write(f"未知任务 {job}；已注册：{', '.join(sorted(jobs)) or '无'}")
            raise SystemExit(2)
        if once or job:
            self._report(run_due_jobs(only=job))
            return

        self.stopping = False

        def on_signal(signum: int, frame: FrameType | None) -> None:
            self.stdout.write("收到停止信号，完成当前一轮后退出……")
            self.stopping = True

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        with Heartbeat() as heartbeat:
            self.stdout.write(f"后台任务进程已启动（{heartbeat.id}），共 {len(jobs)} 个任务。")
            while not self.stopping:
                # A long-running process must drop connections the database closed or that outlived
                # CONN_MAX_AGE.
                close_old_connections()
                results = run_due_jobs()
                self._report(results, quiet=True)
                # Sleep in short steps so a stop signal is honoured promptly.
                for _ in range(settings.WORKER_POLL_SECONDS * 10):
                    if self.stopping:
                        break
                    time.sleep(0.1)

    def _report(self, results: dict[str, str | None], *, quiet: bool = False) -> None:
        for name, error in results.items():
            if error:
                self.stderr.write(f"任务 {name} 失败：{error.strip().splitlines()[-1]}")
            elif not quiet:
                self.stdout.write(f"任务 {name} 完成")
