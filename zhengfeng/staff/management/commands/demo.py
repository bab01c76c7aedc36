"""`zhengfeng demo [--load-only]`: migrate, load the demo data, run gunicorn and the worker.

Each app may provide `demo.py` with `load_demo(*, stdout) -> dict`; loaders run in the order of
INSTALLED_APPS (which is the dependency order) and must be idempotent: a second run keeps what is there.
The command lives in the staff shell because it orchestrates every app (and prints org's demo logins).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser, OutputWrapper

from zhengfeng.core.management.commands.serve import gunicorn_argv
from zhengfeng.org.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, demo_totp_code
from zhengfeng.org.models import Role

DEMO_URL = "http://127.0.0.1:8000"


def load_all_demo_data(stdout: OutputWrapper) -> dict[str, str]:
    """Run every app's demo loader; return the demo logins {role: username}."""
    logins: dict[str, str] = {}
    for app_config in apps.get_app_configs():
        if not app_config.name.startswith("zhengfeng."):
            continue
        try:
            module = importlib.import_module(f"{app_config.name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app_config.name}.demo":
                raise
            continue
        result = module.load_demo(stdout=stdout) or {}
        logins.update(result.get("logins", {}) if isinstance(result, dict) else {})
    return logins


class Command(BaseCommand):
    help = "演示环境：迁移数据库、载入演示数据、启动 Web 服务和后台任务进程（Ctrl-C 停止）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--load-only", action="store_true", help="只载入（或补充）演示数据，然后退出")
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument(
            "--otp", action="store_true", help="打印演示账号当前的两步验证码（无身份验证器时使用），然后退出"
        )

    def handle(self, *args: Any, load_only: bool, bind: str, otp: bool = False, **options: Any) -> None:
        if otp:
            self.stdout.write(f"演示账号当前两步验证码：{demo_totp_code()}（30 秒内有效）")
            return
        self.stdout.write("== 迁移数据库")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("== 载入演示数据")
        logins = load_all_demo_data(self.stdout)
        if load_only:
            self.stdout.write("演示数据已就绪。")
            return
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write("== 启动 Web 服务（gunicorn）和后台任务进程")
        env = dict(os.environ)
        web = subprocess.Popen(gunicorn_argv(bind=bind, workers=2), env=env)  # noqa: S603 (our own argv)
        worker = subprocess.Popen([sys.executable, "-m", "zhengfeng.cli", "worker"], env=env)
        self._print_banner(bind, logins)
        try:
            while web.poll() is None and worker.poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for process in (web, worker):
                if process.poll() is None:
                    process.terminate()
            for process in (web, worker):
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
            self.stdout.write("演示环境已停止。")

    def _print_banner(self, bind: str, logins: dict[str, str]) -> None:
        self.stdout.write("")
        self.stdout.write(f"正风演示环境已启动：http://{bind}/")
        self.stdout.write(f"演示账号（密码均为 {DEMO_PASSWORD}，仅供演示）：")
        labels = {**dict(Role.choices), "county_office": "区县正风办"}
        for role, username in logins.items():
            self.stdout.write(f"  {labels.get(role, role):<8} {username}")
        if settings.OTP_REQUIRED_ROLES:
            roles = "、".join(labels.get(role, role) for role in settings.OTP_REQUIRED_ROLES)
            self.stdout.write(
                f"两步验证（{roles}）：身份验证器密钥 {DEMO_TOTP_SECRET}（仅供演示），"
                "或运行 zhengfeng demo --otp 查看当前验证码。"
            )
        self.stdout.write("按 Ctrl-C 停止。")
