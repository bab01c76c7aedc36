"""Start-up refuses bad configuration with a message naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _load_settings(**env: str) -> subprocess.CompletedProcess:
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DEBUG"}
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )


GOOD = {"SECRET_KEY": "x" * 50, "FIELD_ENCRYPTION_KEY": "y" * 32}


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "SECRET_KEY"),
        ({"SECRET_KEY": "x" * 50}, "FIELD_ENCRYPTION_KEY"),
        ({**GOOD, "DEBUG": "maybe"}, "DEBUG"),
        ({**GOOD, "DB_ENGINE": "mysql"}, "DB_ENGINE"),
        ({**GOOD, "DB_ENGINE": "postgres", "DB_PORT": "abc"}, "DB_PORT"),
        ({**GOOD, "DB_ENGINE": "postgres", "DB_CONN_HEALTH_CHECKS": "sometimes"}, "DB_CONN_HEALTH_CHECKS"),
        ({**GOOD, "TIME_ZONE": "Mars/Olympus"}, "TIME_ZONE"),
        ({**GOOD, "SMS_QUIET_HOURS": "21-8"}, "SMS_QUIET_HOURS"),
        ({**GOOD, "SMS_BACKEND": "http"}, "SMS_HTTP_URL"),
        ({**GOOD, "FIELD_ENCRYPTION_KEY": "short"}, "FIELD_ENCRYPTION_KEY"),
    ],
)
def test_bad_configuration_names_the_variable(env, variable):
    result = _load_settings(**env)

    assert result.returncode == 1
    assert f"ImproperlyConfigured: {variable}" in result.stderr


def test_good_production_configuration_loads():
    assert _load_settings(**GOOD).returncode == 0


@pytest.mark.parametrize(("value", "expected"), [(None, "False"), ("True", "True"), ("false", "False")])
def test_connection_health_checks_are_off_unless_asked_for(value, expected):
    env = {**GOOD, "DB_ENGINE": "postgres"}
    if value is not None:
        env["DB_CONN_HEALTH_CHECKS"] = value
    else:
        env["DB_CONN_HEALTH_CHECKS"] = ""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import config.settings as s; print(s.DATABASES['default']['CONN_HEALTH_CHECKS'])",
        ],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if k != "DEBUG"}, **env},
        capture_output=True,
        text=True,
        check=False,
    )

    assert (result.returncode, result.stdout.strip()) == (0, expected)


def _cli(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DEBUG"}
    }
    if clean.get("DB_ENGINE", "sqlite") == "sqlite":
        # Never touch the developer's own database file.
        clean["DB_NAME"] = str(tmp_path / "cli.sqlite3")
    clean.update(env)
    return subprocess.run(  # noqa: S603 (our own interpreter and console script, fixed test arguments)
        [sys.executable, "-m", "zhengfeng.cli", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_command_without_secrets_stops_with_the_variable_named(tmp_path):
    result = _cli("migrate", tmp_path=tmp_path)

    assert result.returncode == 1
    assert result.stderr.startswith("配置错误 SECRET_KEY:")
    assert "Traceback" not in result.stderr


def test_makemigrations_check_needs_no_secrets(tmp_path):
    result = _cli("makemigrations", "--check", "--dry-run", tmp_path=tmp_path)

    assert (result.returncode, result.stdout.strip()) == (0, "No changes detected"), result.stderr
