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
