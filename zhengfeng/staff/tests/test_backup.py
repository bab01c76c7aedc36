"""`zhengfeng backup` then `zhengfeng restore` into a fresh database, on the suite's engine.

The backup runs in the test process (its database); each restore runs the real command in a child
process against a new, empty database and media folder, as an operator restoring onto a new server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from zhengfeng.core import backup, crypto
from zhengfeng.hotline import services as hotline
from zhengfeng.org.services import set_person_phone
from zhengfeng.testing.factories import PersonFactory

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[3]
PHONE = "13800138001"
ATTACHMENT = b"%PDF-1.4 return evidence\n"
# Prints what a restored database reads back: the audit chain is checked by the command itself.
READ_BACK = (
    "from zhengfeng.core.crypto import blind_index; from zhengfeng.org.models import Person; "
    "from zhengfeng.hotline.models import WorkOrder; "
    f"p = Person.objects.get(phone_index=blind_index('{PHONE}')); o = WorkOrder.objects.get(); "
    "print(p.name, p.phone, o.requester_name, o.requester_phone)"
)


@pytest.fixture
def fresh_database(tmp_path) -> Iterator[dict[str, str]]:
    """Environment of a child process using a new, empty database of the suite's engine."""
    env = {**os.environ, "MEDIA_ROOT": str(tmp_path / "restored-media")}
    if connection.vendor == "sqlite":
        yield env | {"DB_ENGINE": "sqlite", "DB_NAME": str(tmp_path / "restored.sqlite3")}
        return
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("PostgreSQL 客户端（pg_dump、pg_restore）未安装")
    name = f"zf_restore_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    params = connection.settings_dict
    try:
        yield env | {
            "DB_ENGINE": "postgres",
            "DB_NAME": name,
            "DB_HOST": str(params["HOST"]),
            "DB_PORT": str(params["PORT"]),
            "DB_USER": str(params["USER"]),
        }
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _zhengfeng(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own interpreter and console script)
        [sys.executable, "-m", "zhengfeng.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def archive(city, settings, tmp_path) -> Path:
    if connection.vendor == "postgresql" and shutil.which("pg_dump") is None:
        pytest.skip("PostgreSQL 客户端（pg_dump）未安装")
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media" / "hotline" / "evidence").mkdir(parents=True)
    (tmp_path / "media" / "hotline" / "evidence" / "a.pdf").write_bytes(ATTACHMENT)
    person = PersonFactory.create(name="王小明")
    set_person_phone(person, PHONE)
    person.save()
    hotline.receive_work_order(
        by=None,
        channel="phone",
        request_type="inquiry",
        title="咨询",
        content="内容",
        division="441800",
        requester_name="李四",
        requester_phone=PHONE,
    )
    path = tmp_path / "backup.tar.gz"
    call_command("backup", str(path))
    return path


def test_a_backup_restores_into_a_fresh_database_with_its_chain_and_personal_data(archive, fresh_database):
    manifest = backup.read_manifest(archive)
    database_member = "database.sqlite3" if connection.vendor == "sqlite" else "database.pgdump"
    assert (manifest["format"], manifest["engine"]) == ("zhengfeng-backup/1", connection.vendor)
    assert sorted(manifest["files"]) == [database_member, "media/hotline/evidence/a.pdf"]
    assert manifest["key_check_value"] == crypto.key_check_value("test-only-field-encryption-key")
    assert "0005_field_key_check_and_rotation" in manifest["migrations"]["core"]

    restored = _zhengfeng("restore", str(archive), env=fresh_database)

    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.splitlines()[-1].startswith("审计日志完整：共校验 ")
    verify = _zhengfeng("audit", "verify", env=fresh_database)
    assert verify.returncode == 0, verify.stderr
    read = _zhengfeng("shell", "--no-imports", "-c", READ_BACK, env=fresh_database)
    assert read.stdout == f"王小明 {PHONE} 李四 {PHONE}\n", read.stderr
    media = Path(fresh_database["MEDIA_ROOT"])
    assert (media / "hotline" / "evidence" / "a.pdf").read_bytes() == ATTACHMENT


def test_a_restore_over_a_database_that_is_not_empty_needs_force(archive, fresh_database):
    assert _zhengfeng("restore", str(archive), env=fresh_database).returncode == 0

    again = _zhengfeng("restore", str(archive), env=fresh_database)

    assert again.returncode == 1
    assert again.stderr.strip() == (
        "恢复失败：目标数据库不是空的：恢复会覆盖其中的数据。请恢复到新建的空数据库，或确认后加 --force"
    )
    forced = _zhengfeng("restore", str(archive), "--force", env=fresh_database)
    assert forced.returncode == 0, forced.stderr
    read = _zhengfeng("shell", "--no-imports", "-c", READ_BACK, env=fresh_database)
    assert read.stdout == f"王小明 {PHONE} 李四 {PHONE}\n", read.stderr


def test_a_restore_under_another_field_key_is_refused_before_writing(archive, fresh_database):
    env = fresh_database | {"FIELD_ENCRYPTION_KEY": "some-other-field-encryption-key"}

    refused = _zhengfeng("restore", str(archive), env=env)

    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "恢复失败：备份中的个人信息是用另一个 FIELD_ENCRYPTION_KEY 加密的（密钥校验值不符）：请设置备份时使用的 "
        "FIELD_ENCRYPTION_KEY 后再恢复，否则恢复后无法读取任何个人信息"
    )
    assert not Path(fresh_database["MEDIA_ROOT"]).exists()


def test_a_damaged_archive_is_refused(archive, fresh_database, tmp_path):
    # Same manifest, another attachment: the checksum no longer matches.
    work = tmp_path / "unpacked"
    shutil.unpack_archive(archive, work, filter="data")
    (work / "media" / "hotline" / "evidence" / "a.pdf").write_bytes(b"altered")
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(damaged, "w:gz") as tar:
        for member in ("manifest.json", "database.sqlite3", "database.pgdump", "media"):
            if (work / member).exists():
                tar.add(work / member, arcname=member)
    assert json.loads((work / "manifest.json").read_text(encoding="utf-8"))["format"] == "zhengfeng-backup/1"

    refused = _zhengfeng("restore", str(damaged), env=fresh_database)

    assert refused.returncode == 1
    assert refused.stderr.strip() == "恢复失败：备份文件已损坏：media/hotline/evidence/a.pdf 的校验和不符"
