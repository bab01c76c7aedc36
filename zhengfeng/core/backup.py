"""`zhengfeng backup` / `zhengfeng restore`: the database and the media files in one archive.

The archive is a gzipped tar: `manifest.json` first, then `database.sqlite3` (SQLite's online backup
API: a consistent copy while the server writes) or `database.pgdump` (pg_dump's custom format), then
`media/…` (MEDIA_ROOT: attachments, return evidence). The manifest records the time, the engine, the
applied migrations, the key check value of the field key (never the key) and the SHA-256 of every
other member; restore checks each before writing anything.

The database is copied before the media, so every file a copied row refers to is in the archive.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from zhengfeng.core import crypto
from zhengfeng.core.audit import ChainProblem, verify_chain
from zhengfeng.core.models import AuditChainHead, FieldKeyCheck

FORMAT = "zhengfeng-backup/1"
MANIFEST = "manifest.json"
MEDIA = "media"
_CHUNK = 1 << 20


class BackupError(Exception):
    """A refused backup or restore, with the Chinese message to show; nothing was overwritten."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _engine() -> str:
    return str(connections[DEFAULT_DB_ALIAS].vendor)  # "sqlite" or "postgresql"


def _pg_command(program: str) -> list[str]:
    found = shutil.which(program)
    if found is None:
        raise BackupError(
            f"找不到 {program}：PostgreSQL 的备份与恢复需要 PostgreSQL 客户端（Debian：apt-get install postgresql-client）"
        )
    params = connections[DEFAULT_DB_ALIAS].settings_dict
    return [
        found,
        "--host",
        str(params["HOST"] or "127.0.0.1"),
        "--port",
        str(params["PORT"] or 5432),
        "--username",
        str(params["USER"]),
        "--dbname",
        str(params["NAME"]),
    ]


def _pg_env() -> dict[str, str]:
    env = dict(os.environ)
    password = connections[DEFAULT_DB_ALIAS].settings_dict.get("PASSWORD")
    if password:
        env["PGPASSWORD"] = str(password)
    return env


def _run(argv: list[str]) -> None:
    result = subprocess.run(argv, env=_pg_env(), capture_output=True, text=True, check=False)  # noqa: S603 (pg client, our arguments)
    if result.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} 失败（退出码 {result.returncode}）：{result.stderr.strip()}")


def _dump_database(target: Path) -> None:
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        destination = sqlite3.connect(target)
        try:
            connection.connection.backup(destination)
        finally:
            destination.close()
    elif connection.vendor == "postgresql":
        _run([*_pg_command("pg_dump"), "--format", "custom", "--file", str(target)])
    else:
        raise BackupError(f"不支持的数据库：{connection.vendor}")


def _migrations() -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app, name in sorted(MigrationRecorder(connections[DEFAULT_DB_ALIAS]).applied_migrations()):
        applied.setdefault(app, []).append(name)
    return applied


def _media_files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(path for path in root.rglob("*") if path.is_file() and not path.is_symlink())


def create_backup(archive: Path) -> dict[str, Any]:
    """Write the database and MEDIA_ROOT to `archive` (replaced only once complete); return the manifest."""
    database_member = "database.sqlite3" if _engine() == "sqlite" else "database.pgdump"
    media_root = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory(prefix="zhengfeng-backup-") as work:
        dump = Path(work) / database_member
        _dump_database(dump)
        media = _media_files(media_root)
        head = AuditChainHead.objects.filter(pk=1).first()
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "created_at": timezone.now().isoformat(timespec="seconds"),
            "engine": _engine(),
            "database": Path(str(connections[DEFAULT_DB_ALIAS].settings_dict["NAME"])).name,
            "migrations": _migrations(),
            "key_check_value": FieldKeyCheck.objects.filter(pk=1)
            .values_list("check_value", flat=True)
            .first(),
            "audit_head": {"seq": head.last_seq, "hash": head.last_hash} if head else None,
            "files": {database_member: _sha256(dump)}
            | {f"{MEDIA}/{path.relative_to(media_root).as_posix()}": _sha256(path) for path in media},
        }
        manifest_path = Path(work) / MANIFEST
        manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        archive.parent.mkdir(parents=True, exist_ok=True)
        partial = archive.with_name(archive.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(manifest_path, arcname=MANIFEST)
            tar.add(dump, arcname=database_member)
            for path in media:
                tar.add(path, arcname=f"{MEDIA}/{path.relative_to(media_root).as_posix()}")
        partial.replace(archive)
    return manifest


def read_manifest(archive: Path) -> dict[str, Any]:
    try:
        with tarfile.open(archive, "r:*") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            manifest: dict[str, Any] = json.loads(member.read().decode("utf-8"))
    except (OSError, tarfile.TarError, KeyError, ValueError) as exc:
        raise BackupError(f"{archive} 不是正风的备份文件（无法读取 {MANIFEST}：{exc}）") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive} 的格式 {manifest.get('format')!r} 不受支持（应为 {FORMAT}）")
    return manifest


def database_is_empty() -> bool:
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        return not connection.introspection.table_names(cursor)


@dataclass(frozen=True)
class Restored:
    manifest: dict[str, Any]
    media_files: int
    audit_rows: int
    audit_problem: ChainProblem | None


def _check_target(manifest: dict[str, Any], *, force: bool) -> None:
    if manifest["engine"] != _engine():
        raise BackupError(
            f"备份来自 {manifest['engine']} 数据库，当前配置的是 {_engine()}：请配置同类数据库后再恢复"
        )
    stored = manifest.get("key_check_value")
    if stored and stored not in {crypto.key_check_value(key) for key in crypto.reading_keys()}:
        raise BackupError(
            "备份中的个人信息是用另一个 FIELD_ENCRYPTION_KEY 加密的（密钥校验值不符）：请设置备份时使用的 "
            "FIELD_ENCRYPTION_KEY 后再恢复，否则恢复后无法读取任何个人信息"
        )
    if force:
        return
    if not database_is_empty():
        raise BackupError(
            "目标数据库不是空的：恢复会覆盖其中的数据。请恢复到新建的空数据库，或确认后加 --force"
        )
    if _media_files(Path(settings.MEDIA_ROOT)):
        raise BackupError(f"MEDIA_ROOT（{settings.MEDIA_ROOT}）中已有文件：请使用空目录，或确认后加 --force")


def _extract(archive: Path, manifest: dict[str, Any], work: Path) -> None:
    """Extract every member the manifest lists into `work` and check its checksum."""
    with tarfile.open(archive, "r:*") as tar:
        tar.extractall(work, filter="data")
    for name, expected in manifest["files"].items():
        path = work / name
        if not path.is_file():
            raise BackupError(f"备份文件不完整：缺少 {name}")
        if _sha256(path) != expected:
            raise BackupError(f"备份文件已损坏：{name} 的校验和不符")


def _load_database(dump: Path, *, force: bool) -> None:
    connection = connections[DEFAULT_DB_ALIAS]
    connection.close()
    if connection.vendor == "sqlite":
        target = str(connection.settings_dict["NAME"])
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(dump)
        destination = sqlite3.connect(target)
        try:
            # The backup API replaces the whole destination, pages and schema, in one step.
            source.backup(destination)
        finally:
            source.close()
            destination.close()
    else:
        clean = ["--clean", "--if-exists"] if force else []
        _run(
            [
                *_pg_command("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                *clean,
                str(dump),
            ]
        )


def restore_backup(archive: Path, *, force: bool = False) -> Restored:
    """Restore `archive` into the configured database and MEDIA_ROOT, then verify the audit chain.

    Refuses (BackupError, nothing written) another engine, another field key, a damaged archive, or a
    database or MEDIA_ROOT that is not empty unless `force`.
    """
    manifest = read_manifest(archive)
    _check_target(manifest, force=force)
    media_root = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory(prefix="zhengfeng-restore-") as name:
        work = Path(name)
        _extract(archive, manifest, work)
        database_member = next(member for member in manifest["files"] if member.startswith("database."))
        _load_database(work / database_member, force=force)
        copied = 0
        for member in manifest["files"]:
            if member.startswith(f"{MEDIA}/"):
                target = media_root / member.removeprefix(f"{MEDIA}/")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(work / member, target)
                copied += 1
    if _migrations() != manifest["migrations"]:
        raise BackupError("恢复后的迁移状态与备份清单不符：备份文件与清单不一致")
    checked, problem = verify_chain()
    return Restored(manifest=manifest, media_files=copied, audit_rows=checked, audit_problem=problem)


def describe(manifest: dict[str, Any]) -> str:
    created = dt.datetime.fromisoformat(manifest["created_at"])
    migrations = sum(len(names) for names in manifest["migrations"].values())
    media = sum(1 for member in manifest["files"] if member.startswith(f"{MEDIA}/"))
    return (
        f"备份时间 {timezone.localtime(created):%Y-%m-%d %H:%M:%S}，数据库 {manifest['engine']}，"
        f"迁移 {migrations} 个，附件 {media} 个"
    )
