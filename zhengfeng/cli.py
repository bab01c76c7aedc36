"""The `zhengfeng` console script: the project's manage.py."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path


def _demo_secret(name: str, var_dir: Path) -> None:
    """Give `zhengfeng demo` a stable generated secret under var/ unless one is configured."""
    if os.environ.get(name):
        return
    path = var_dir / f"demo_{name.lower()}"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    os.environ[name] = path.read_text(encoding="utf-8").strip()


def _uses_demo_database() -> bool:
    """The default SQLite file under var/ is the demo's database (and the developer's)."""
    return os.environ.get("DB_ENGINE", "sqlite") in ("", "sqlite") and not os.environ.get("DB_NAME")


def _reuse_demo_secret(name: str, var_dir: Path) -> None:
    """After `zhengfeng demo`, every other command on the demo database reads the demo's secrets, so
    `demo --load-only` then `serve` (or `worker`, `audit verify`) in another shell share one
    FIELD_ENCRYPTION_KEY. Never generates one; a configured variable always wins."""
    path = var_dir / f"demo_{name.lower()}"
    if not os.environ.get(name) and not os.environ.get(f"{name}_FILE") and path.exists():
        os.environ[name] = path.read_text(encoding="utf-8").strip()


# Developer commands that read only the code (openapi renders the API docs): they never sign, encrypt or serve anything, so they run
# without the production secrets (a placeholder is set for them and for nothing else).
OFFLINE_COMMANDS = frozenset({"makemigrations", "openapi", "help", "version"})


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    command = argv[1] if len(argv) > 1 else "help"
    var_dir = Path(__file__).resolve().parent.parent / "var"
    if command != "demo" and _uses_demo_database():
        for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "SMS_WEBHOOK_SECRET"):
            _reuse_demo_secret(name, var_dir)
    if command in OFFLINE_COMMANDS:
        # The field-key check (core.E001) reads the database: these commands must not need one.
        os.environ["ZHENGFENG_OFFLINE_COMMAND"] = "1"
        for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY"):
            os.environ.setdefault(name, "offline-command-placeholder-" + name.lower())
    if command == "demo":
        # The demo is the one place allowed to run with DEBUG off and no configured secrets.
        os.environ["ZHENGFENG_DEMO"] = "1"
        for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "SMS_WEBHOOK_SECRET"):
            _demo_secret(name, var_dir)
        os.environ.setdefault("HTTPS", "False")
        os.environ.setdefault("SMS_BACKEND", "file")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        # Load the settings first: Django's command line would swallow the error and fail later with
        # an unrelated "Models aren't loaded yet".
        settings.INSTALLED_APPS  # noqa: B018
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"配置错误 {exc}\n")
        sys.exit(1)
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
