"""`zhengfeng serve [--bind HOST:PORT]`: the production web server (gunicorn) with static files."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "以 gunicorn 启动 Web 服务（静态文件由 whitenoise 提供）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000", help="监听地址，默认 127.0.0.1:8000")
        parser.add_argument("--workers", type=int, default=int(os.getenv("WEB_CONCURRENCY", "3")))
        parser.add_argument("--no-collectstatic", action="store_true")

    def handle(self, *args: Any, bind: str, workers: int, no_collectstatic: bool, **options: Any) -> None:
        if not no_collectstatic:
            call_command("collectstatic", interactive=False, verbosity=0)
        argv = gunicorn_argv(bind=bind, workers=workers)
        self.stdout.write(f"Web 服务启动：http://{bind}/")
        sys.stdout.flush()
        os.execv(sys.executable, argv)  # noqa: S606 (our own interpreter running gunicorn)


def gunicorn_argv(*, bind: str, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        "--timeout",
        "120",
    ]
