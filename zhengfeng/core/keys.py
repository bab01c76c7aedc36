"""The field-encryption key of a database: its stored check value, and rotation to a new key.

Check value. `core.FieldKeyCheck` holds `crypto.key_check_value(FIELD_ENCRYPTION_KEY)`, written when
the database is first migrated (post_migrate) or first checked. `key_problem()` compares it with the
configured key; the system check `core.E001` (every management command: serve, worker, migrate, demo,
runserver …) and config/wsgi.py (gunicorn however started) stop start-up with its Chinese message, so
a wrong key is never a 500 on the first page that reads personal data.

Rotation. `rotate(...)` runs with the new key in FIELD_ENCRYPTION_KEY and the old one in
FIELD_ENCRYPTION_KEY_PREVIOUS: every EncryptedTextField is decrypted (under either key) and written
under the new one, and every blind index declared in a model's BLIND_INDEXES is recomputed from its
plaintext. Rows go in pk order, one transaction per batch that also records the progress
(`core.KeyRotation`), so a killed rotation continues where it stopped. The check value changes at the
very end, in the transaction of the closing audit row.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils import timezone

from zhengfeng.core import audit, crypto
from zhengfeng.core.fields import EncryptedTextField
from zhengfeng.core.models import FieldKeyCheck, KeyRotation, RetainedPepper

KEY_VARIABLE = "FIELD_ENCRYPTION_KEY"
PREVIOUS_VARIABLE = "FIELD_ENCRYPTION_KEY_PREVIOUS"
DONE = "done"


class KeyOperationError(Exception):
    """A refused key operation, with the Chinese message to show."""


def _table_exists(alias: str = DEFAULT_DB_ALIAS) -> bool:
    connection = connections[alias]
    name = str(connection.settings_dict["NAME"])
    if (
        connection.vendor == "sqlite"
        and not name.startswith(("file:", ":memory:"))
        and not Path(name).exists()
    ):
        return False  # connecting would create an empty file (`check --deploy` on a build machine)
    with connection.cursor() as cursor:
        return FieldKeyCheck._meta.db_table in connection.introspection.table_names(cursor)


# --- Encrypted columns ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyedModel:
    """A model holding data under the field key: its encrypted fields and blind indexes."""

    model: type[models.Model]
    encrypted: tuple[str, ...]
    # index column -> path of the plaintext it is computed from ("phone", or "action.subject_phone").
    indexes: dict[str, str]

    @property
    def label(self) -> str:
        return self.model._meta.label

    def related(self) -> list[str]:
        return sorted(
            {path.rsplit(".", 1)[0].replace(".", "__") for path in self.indexes.values() if "." in path}
        )


def keyed_models() -> list[KeyedModel]:
    """Every model with an EncryptedTextField or a BLIND_INDEXES declaration, in label order."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue  # its rows are another model's, rotated there
        encrypted = tuple(
            field.name for field in model._meta.concrete_fields if isinstance(field, EncryptedTextField)
        )
        indexes: dict[str, str] = dict(getattr(model, "BLIND_INDEXES", {}))
        if encrypted or indexes:
            found.append(KeyedModel(model=model, encrypted=encrypted, indexes=indexes))
    return sorted(found, key=lambda keyed: keyed.label)


def _sample_ciphertext() -> str | None:
    """One stored encrypted value (raw), to tell an old database's key before it has a check value."""
    connection = connections[DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
    for keyed in keyed_models():
        table = keyed.model._meta.db_table
        if table not in tables:
            continue
        for field in keyed.model._meta.concrete_fields:
            if not isinstance(field, EncryptedTextField):
                continue
            column = quote(field.column)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {column} FROM {quote(table)} WHERE {column} <> '' LIMIT 1"  # noqa: S608 (our names)
                )
                row = cursor.fetchone()
            if row is not None:
                return str(row[0])
    return None


# --- Check value ------------------------------------------------------------------------------------


def _mismatch_message() -> str:
    if getattr(settings, "FIELD_ENCRYPTION_KEY_PREVIOUS", ""):
        return (
            f"{KEY_VARIABLE} 和 {PREVIOUS_VARIABLE} 都不是本数据库的个人信息加密密钥（密钥校验值不符）："
            f"请设置加密本数据库时使用的 {KEY_VARIABLE}，否则无法读取任何个人信息"
        )
    return (
        f"{KEY_VARIABLE} 不是本数据库的个人信息加密密钥（密钥校验值不符）：请设置加密本数据库时使用的 "
        f"{KEY_VARIABLE}（更换密钥请用 zhengfeng keys rotate），否则无法读取任何个人信息"
    )


def key_problem(*, record_first: bool = True) -> str | None:
    """None when the configured key is the database's (or the database has no tables yet), else why not.

    A database without a check value (created before it existed) gets one now if its stored personal
    data decrypts under the current key, or if it holds none (`record_first`).
    """
    if not _table_exists():
        return None  # not migrated yet: `migrate` records the check value
    stored = FieldKeyCheck.objects.filter(pk=1).values_list("check_value", flat=True).first()
    if stored is None:
        sample = _sample_ciphertext()
        if sample is not None:
            try:
                crypto.decrypt_text(sample, keys=[settings.FIELD_ENCRYPTION_KEY])
            except crypto.DecryptionError:
                return _mismatch_message()
        if record_first:
            record_check_value()
        return None
    if hmac.compare_digest(stored, crypto.key_check_value(settings.FIELD_ENCRYPTION_KEY)):
        return None
    previous = getattr(settings, "FIELD_ENCRYPTION_KEY_PREVIOUS", "")
    if previous and hmac.compare_digest(stored, crypto.key_check_value(previous)):
        return None  # a rotation is due or running: reads fall back to the previous key
    return _mismatch_message()


def record_check_value() -> None:
    """Store the current key's check value if the database has none yet."""
    FieldKeyCheck.objects.get_or_create(
        pk=1,
        defaults={
            "check_value": crypto.key_check_value(settings.FIELD_ENCRYPTION_KEY),
            "updated_at": timezone.now(),
        },
    )


# --- Keyed MACs over inputs never stored --------------------------------------------------------------


def keyed_mac_candidates(purpose: bytes, data: bytes) -> list[str]:
    """`crypto.keyed_mac(purpose, data)` under the current key, the previous one (during a rotation) and
    every retained pepper of `purpose`: a value made before a rotation still verifies after it."""
    peppers = [crypto.mac_pepper(purpose, secret) for secret in crypto.reading_keys()]
    peppers += [
        bytes.fromhex(pepper)
        for pepper in RetainedPepper.objects.filter(purpose=purpose.decode()).values_list("pepper", flat=True)
    ]
    return [crypto.mac_with_pepper(pepper, data) for pepper in peppers]


def _retain_peppers(previous: str) -> int:
    """Keep the old key's pepper of every registered purpose (encrypted under the new key)."""
    kept = 0
    for purpose in sorted(crypto.RETAINED_MAC_PURPOSES):
        pepper = crypto.mac_pepper(purpose, previous)
        _, created = RetainedPepper.objects.get_or_create(
            fingerprint=crypto.sm3_hex(pepper),
            defaults={"purpose": purpose.decode(), "pepper": pepper.hex(), "created_at": timezone.now()},
        )
        kept += created
    return kept


# --- Rotation ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RotationStatus:
    rotation: KeyRotation | None
    state: str  # "current" (nothing to do), "due" (previous key is the database's), "running"


def rotation_status() -> RotationStatus:
    """Where the database stands between FIELD_ENCRYPTION_KEY_PREVIOUS and FIELD_ENCRYPTION_KEY."""
    stored = FieldKeyCheck.objects.filter(pk=1).values_list("check_value", flat=True).first()
    current = crypto.key_check_value(settings.FIELD_ENCRYPTION_KEY)
    previous_key = getattr(settings, "FIELD_ENCRYPTION_KEY_PREVIOUS", "")
    running = KeyRotation.objects.filter(finished_at__isnull=True).first()
    if stored == current and running is None:
        return RotationStatus(rotation=None, state="current")
    if not previous_key:
        raise KeyOperationError(f"轮换密钥需要设置 {PREVIOUS_VARIABLE}（旧密钥）和 {KEY_VARIABLE}（新密钥）")
    if previous_key == settings.FIELD_ENCRYPTION_KEY:
        raise KeyOperationError(f"{PREVIOUS_VARIABLE} 与 {KEY_VARIABLE} 相同：新密钥必须不同于旧密钥")
    previous = crypto.key_check_value(previous_key)
    if stored is None or not hmac.compare_digest(stored, previous):
        raise KeyOperationError(
            f"{PREVIOUS_VARIABLE} 不是本数据库当前的加密密钥（密钥校验值不符），拒绝轮换：请设置正确的旧密钥"
        )
    if running is not None and running.to_check_value != current:
        raise KeyOperationError(
            f"上一次未完成的轮换使用的是另一个新密钥：请把 {KEY_VARIABLE} 设为那一次的新密钥后再运行，完成它"
        )
    return RotationStatus(rotation=running, state="running" if running else "due")


def _plaintext(obj: models.Model, path: str) -> str:
    value: Any = obj
    for part in path.split("."):
        value = getattr(value, part)
        if value is None:
            return ""
    return str(value)


def _batches(keyed: KeyedModel, after: Any, batch_size: int) -> Iterator[list[Any]]:
    """Primary keys in order, `batch_size` at a time, after `after` (the recorded progress)."""
    manager = keyed.model._base_manager
    while True:
        queryset = manager.order_by("pk")
        if after is not None:
            queryset = queryset.filter(pk__gt=after)
        batch = list(queryset.values_list("pk", flat=True)[:batch_size])
        if not batch:
            return
        yield batch
        after = batch[-1]


def _load(keyed: KeyedModel, pks: list[Any]) -> list[models.Model]:
    """The rows, decrypted (under either key); a row that decrypts under neither is named."""
    queryset = keyed.model._base_manager.select_related(*keyed.related()).order_by("pk")
    try:
        return list(queryset.filter(pk__in=pks))
    except crypto.DecryptionError:
        for pk in pks:
            try:
                queryset.get(pk=pk)
            except crypto.DecryptionError as exc:
                raise RotationError(
                    f"{keyed.label} #{pk} 无法解密（{exc}）：此前的批次已保存，修复该行后重新运行即可继续"
                ) from exc
        raise


class RotationError(KeyOperationError):
    """A row that cannot be re-encrypted: the batch rolled back, the progress before it is kept."""


def _rotate_batch(keyed: KeyedModel, rows: list[models.Model]) -> None:
    # Loading the rows decrypted every field under the current or the previous key; written back
    # through the field (one UPDATE for the batch), each value is encrypted under the current key.
    for obj in rows:
        for index, path in keyed.indexes.items():
            plaintext = _plaintext(obj, path)
            setattr(obj, index, crypto.blind_index(plaintext) if plaintext else "")
    keyed.model._base_manager.bulk_update(rows, [*keyed.encrypted, *keyed.indexes], batch_size=50)


def rotate(
    *, batch_size: int = 500, by: Any = None, report: Callable[[str], None] = lambda line: None
) -> KeyRotation:
    """Re-encrypt every encrypted field and recompute every blind index under FIELD_ENCRYPTION_KEY.

    Raises KeyOperationError (nothing done) for a missing, equal or wrong previous key; RotationError for a row
    that cannot be decrypted (the batches before it are kept: run again to continue).
    Side effects: audit rows `keys.rotation_started` (once per rotation, not per run) and
    `keys.rotation_finished`; core.RetainedPepper rows for the old key; the check value replaced.
    """
    status = rotation_status()
    if status.state == "current":
        raise KeyOperationError(
            f"数据库已使用当前的 {KEY_VARIABLE}，无需轮换（可以删除 {PREVIOUS_VARIABLE}）"
        )
    previous_key = settings.FIELD_ENCRYPTION_KEY_PREVIOUS
    rotation = status.rotation
    if rotation is None:
        with transaction.atomic():
            rotation = KeyRotation.objects.create(
                from_check_value=crypto.key_check_value(previous_key),
                to_check_value=crypto.key_check_value(settings.FIELD_ENCRYPTION_KEY),
                started_at=timezone.now(),
            )
            kept = _retain_peppers(previous_key)
            audit.record(
                "keys.rotation_started",
                by=by,
                target=rotation,
                data={"models": [keyed.label for keyed in keyed_models()], "retained_peppers": kept},
            )
        report(f"开始轮换（#{rotation.pk}）。")
    else:
        report(f"继续未完成的轮换（#{rotation.pk}，已处理 {rotation.rows} 行）。")

    for keyed in keyed_models():
        after = rotation.progress.get(keyed.label)
        if after == DONE:
            continue
        total = keyed.model._base_manager.count()
        for pks in _batches(keyed, after, batch_size):
            with transaction.atomic():
                _rotate_batch(keyed, _load(keyed, pks))
                rotation.progress[keyed.label] = pks[-1]
                rotation.rows += len(pks)
                rotation.save(update_fields=["progress", "rows"])
            done = keyed.model._base_manager.filter(pk__lte=pks[-1]).count()
            report(f"{keyed.label}：{done}/{total}")
        rotation.progress[keyed.label] = DONE
        rotation.save(update_fields=["progress"])

    with transaction.atomic():
        FieldKeyCheck.objects.update_or_create(
            pk=1, defaults={"check_value": rotation.to_check_value, "updated_at": timezone.now()}
        )
        rotation.finished_at = timezone.now()
        rotation.save(update_fields=["finished_at"])
        audit.record(
            "keys.rotation_finished",
            by=by,
            target=rotation,
            data={
                "rows": rotation.rows,
                "seconds": round((rotation.finished_at - rotation.started_at).total_seconds(), 1),
            },
        )
    report(f"轮换完成：共 {rotation.rows} 行。现在可以删除 {PREVIOUS_VARIABLE} 并重启服务。")
    return rotation
