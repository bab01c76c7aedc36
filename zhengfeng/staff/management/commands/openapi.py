"""`zhengfeng openapi [--dir DIR] [--check]`: write, or check, docs/openapi.json and docs/api.md.

Both files are generated from the code (config/api.py, config/api_access.py; rendering in
config/api_docs.py) and committed. `--check` writes nothing and exits 1 when a committed copy differs
from what the code produces (`.ci/run` runs it). The command lives in the staff shell because it imports
config.api, which imports every domain's API: only an app at the top of the layers may.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


def artifacts() -> dict[str, str]:
    """File name → the text the code produces."""
    from config.api_docs import api_markdown, openapi_text

    return {"openapi.json": openapi_text(), "api.md": api_markdown()}


class Command(BaseCommand):
    help = "生成（或用 --check 核对）docs/openapi.json 与 docs/api.md"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dir",
            dest="directory",
            default=str(Path(settings.BASE_DIR) / "docs"),
            help="目标目录（默认：仓库的 docs/）",
        )
        parser.add_argument("--check", action="store_true", help="只核对，不写入；与代码不一致时退出码为 1")

    def handle(self, *, directory: str, check: bool, **options: Any) -> None:
        target = Path(directory)
        stale = []
        for name, text in artifacts().items():
            path = target / name
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current == text:
                continue
            stale.append(name)
            if not check:
                target.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
                self.stdout.write(f"已写入 {path}")
        if check and stale:
            names = ", ".join(str(target / name) for name in stale)
            raise CommandError(
                f"{names} 与代码不一致：请运行 `zhengfeng openapi` 重新生成并提交", returncode=1
            )
        if not stale:
            self.stdout.write("docs/openapi.json 与 docs/api.md 已是最新")
