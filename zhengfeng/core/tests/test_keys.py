"""The stored key check value, the start-up check and reading under the previous key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.utils import timezone

from zhengfeng.core import crypto, keys
from zhengfeng.core.checks import check_field_key
from zhengfeng.core.models import FieldKeyCheck, RetainedPepper

OLD = "test-only-field-encryption-key"
OTHER = "some-other-field-encryption-key"
WRONG_KEY = (
    "FIELD_ENCRYPTION_KEY 不是本数据库的个人信息加密密钥（密钥校验值不符）：请设置加密本数据库时使用的 "
    "FIELD_ENCRYPTION_KEY（更换密钥请用 zhengfeng keys rotate），否则无法读取任何个人信息"
)


def test_the_check_value_depends_on_the_key_and_is_not_the_key():
    value = crypto.key_check_value(OLD)

    assert len(value) == 64
    assert value == crypto.key_check_value(OLD)
    assert value != crypto.key_check_value(OTHER)
    assert OLD not in value
    # Not the blind index of anything: another derived key, another purpose.
    assert value != crypto.blind_index("zhengfeng field-encryption key check v1")


@pytest.mark.django_db
def test_a_migrated_database_holds_its_key_check_value():
    assert FieldKeyCheck.objects.get().check_value == crypto.key_check_value(OLD)
    assert keys.key_problem() is None
    assert check_field_key() == []


@pytest.mark.django_db
def test_a_wrong_key_is_an_error_naming_the_variable(settings):
    settings.FIELD_ENCRYPTION_KEY = OTHER

    assert keys.key_problem() == WRONG_KEY
    [error] = check_field_key()
    assert (error.id, error.msg) == ("core.E001", WRONG_KEY)
    with pytest.raises(SystemCheckError, match=r"core\.E001"):
        call_command("check")


@pytest.mark.django_db
def test_during_a_rotation_the_previous_key_is_accepted(settings):
    settings.FIELD_ENCRYPTION_KEY = OTHER
    settings.FIELD_ENCRYPTION_KEY_PREVIOUS = OLD

    assert keys.key_problem() is None


def test_values_under_the_previous_key_stay_readable(settings):
    token = crypto.encrypt_text("13812345678")
    settings.FIELD_ENCRYPTION_KEY = OTHER

    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_text(token)
    settings.FIELD_ENCRYPTION_KEY_PREVIOUS = OLD
    assert crypto.decrypt_text(token) == "13812345678"
    assert crypto.decrypt_text(crypto.encrypt_text("张三"), keys=[OTHER]) == "张三"


@pytest.mark.parametrize("token", ["sm4gcm:v1:%%%", "sm4gcm:v1:QUJD"])
def test_a_malformed_ciphertext_is_a_decryption_error(token):
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_text(token)


@pytest.mark.django_db
def test_an_old_database_gets_its_check_value_only_if_its_data_is_under_the_key(settings):
    FieldKeyCheck.objects.all().delete()
    RetainedPepper.objects.create(purpose="p", fingerprint="f", pepper="00", created_at=timezone.now())
    settings.FIELD_ENCRYPTION_KEY = OTHER

    assert keys.key_problem() == WRONG_KEY
    assert FieldKeyCheck.objects.count() == 0

    settings.FIELD_ENCRYPTION_KEY = OLD
    assert keys.key_problem() is None
    assert FieldKeyCheck.objects.get().check_value == crypto.key_check_value(OLD)


def _zhengfeng(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own interpreter and console script)
        [sys.executable, "-m", "zhengfeng.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_start_up_with_another_key_stops_with_the_message(tmp_path):
    """migrate under one key, then start with another (the demo's two shells before issue #10)."""
    env = {
        **os.environ,
        "DB_ENGINE": "sqlite",
        "DB_NAME": str(tmp_path / "db.sqlite3"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "FIELD_ENCRYPTION_KEY": OLD,
    }
    root = Path(__file__).resolve().parents[3]
    assert _zhengfeng("migrate", env=env, cwd=root).returncode == 0

    env["FIELD_ENCRYPTION_KEY"] = OTHER
    worker = _zhengfeng("worker", "--once", env=env, cwd=root)
    assert worker.returncode == 1
    assert WRONG_KEY in worker.stderr
    assert "core.E001" in worker.stderr
    # gunicorn runs no system checks: loading the WSGI application refuses the key itself.
    wsgi = subprocess.run(
        [sys.executable, "-c", "import config.wsgi"],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert wsgi.returncode == 1
    assert f"django.core.exceptions.ImproperlyConfigured: {WRONG_KEY}" in wsgi.stderr

    env["FIELD_ENCRYPTION_KEY"] = OLD
    assert (
        _zhengfeng("keys", "check", env=env, cwd=root).stdout
        == "FIELD_ENCRYPTION_KEY 与本数据库的密钥校验值相符。\n"
    )
