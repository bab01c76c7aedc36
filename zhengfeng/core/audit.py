"""Append to and verify the hash-chained audit log.

Services call `record(...)` inside their own `transaction.atomic()` block; the row commits or rolls
back with the change it describes. The chain head row is locked for the rest of the transaction,
which serialises appends (see docs/adr/0001-audit-chain.md for the scale trade-off and the anchors of core.anchors).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models, transaction
from django.utils import timezone

from zhengfeng.core.crypto import sm3_hex
from zhengfeng.core.models import AuditChainHead, AuditLog

GENESIS_HASH = "0" * 64


def _canonical(
    *,
    seq: int,
    created_at: dt.datetime,
    actor_id: int | None,
    actor_label: str,
    action: str,
    target_type: str,
    target_id: str,
    division_code: str,
    data: Any,
) -> bytes:
    payload = {
        "seq": seq,
        "created_at": created_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor_label": actor_label,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "division_code": division_code,
        "data": data,
    }
    return json.dumps(
        payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
    ).encode()


def _entry_hash(prev_hash: str, canonical: bytes) -> str:
    return sm3_hex(prev_hash.encode() + canonical)


def _target_parts(target: models.Model | tuple[str, str] | None) -> tuple[str, str]:
    if target is None:
        return "", ""
    if isinstance(target, tuple):
        return target
    return target._meta.label_lower, str(target.pk)


@dataclass(frozen=True)
class Entry:
    """One row for `record_many`; the arguments of `record`."""

    action: str
    by: AbstractBaseUser | None = None
    target: models.Model | tuple[str, str] | None = None
    division_code: str = ""
    data: dict[str, Any] | None = None


def record(
    action: str,
    *,
    by: AbstractBaseUser | None = None,
    target: models.Model | tuple[str, str] | None = None,
    division_code: str = "",
    data: dict[str, Any] | None = None,
) -> AuditLog:
    """Append one audit row in the caller's transaction.

    `by` is a user, or None for the system (worker, import); it is typed as Django's base user, not
    `org.User`, because the kernel imports no domain (docs/architecture.md). `target` is a model
    instance or a (type, id) pair. `data` must be JSON-serialisable; it is stored as normalised JSON
    so that the hash can be recomputed from the stored row.
    """
    (row,) = record_many([Entry(action, by=by, target=target, division_code=division_code, data=data)])
    return row


def record_many(entries: list[Entry]) -> list[AuditLog]:
    """Append several audit rows, in order, in the caller's transaction: one lock of the chain head,
    one bulk insert, one head update (a batch of writes costs three statements, not three per row).
    Each row is exactly what `record` would have written."""
    if not entries:
        return []
    rows = []
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(
            id=1, defaults={"last_seq": 0, "last_hash": GENESIS_HASH}
        )
        seq, prev_hash = head.last_seq, head.last_hash
        for entry in entries:
            # Round-trip through JSON so the stored value hashes the same when read back.
            normalised = json.loads(json.dumps(entry.data or {}, ensure_ascii=False, default=str))
            target_type, target_id = _target_parts(entry.target)
            actor_id = entry.by.pk if entry.by is not None else None
            actor_label = ("系统" if entry.by is None else (entry.by.get_username() or str(entry.by)))[:150]
            # Microseconds survive both SQLite and PostgreSQL, so the hash input is stable.
            created_at = timezone.now()
            seq += 1
            fields: dict[str, Any] = {
                "seq": seq,
                "created_at": created_at,
                "actor_id": actor_id,
                "actor_label": actor_label,
                "action": entry.action,
                "target_type": target_type,
                "target_id": target_id,
                "division_code": entry.division_code,
                "data": normalised,
            }
            entry_hash = _entry_hash(prev_hash, _canonical(**fields))
            rows.append(AuditLog(**fields, prev_hash=prev_hash, entry_hash=entry_hash))
            prev_hash = entry_hash
        AuditLog.objects.bulk_create(rows)
        AuditChainHead.objects.filter(id=1).update(last_seq=seq, last_hash=prev_hash)
    return rows


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    reason: str


def verify_chain(*, batch_size: int = 5000) -> tuple[int, ChainProblem | None]:
    """Walk the chain in order; return (rows checked, first problem or None)."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    last_seq = 0
    while True:
        rows = list(
            AuditLog.objects.filter(seq__gt=last_seq)
            .order_by("seq")
            .values(
                "seq",
                "created_at",
                "actor_id",
                "actor_label",
                "action",
                "target_type",
                "target_id",
                "division_code",
                "data",
                "prev_hash",
                "entry_hash",
            )[:batch_size]
        )
        if not rows:
            break
        for row in rows:
            if row["seq"] != expected_seq:
                return checked, ChainProblem(expected_seq, f"缺少第 {expected_seq} 条记录（可能被删除）")
            if row["prev_hash"] != expected_prev:
                return checked, ChainProblem(row["seq"], "前序哈希不一致（前一条记录被修改或删除）")
            canonical = _canonical(
                seq=row["seq"],
                created_at=row["created_at"],
                actor_id=row["actor_id"],
                actor_label=row["actor_label"],
                action=row["action"],
                target_type=row["target_type"],
                target_id=row["target_id"],
                division_code=row["division_code"],
                data=row["data"],
            )
            if _entry_hash(row["prev_hash"], canonical) != row["entry_hash"]:
                return checked, ChainProblem(row["seq"], "记录内容与哈希不一致（记录被修改）")
            expected_prev = row["entry_hash"]
            expected_seq += 1
            checked += 1
            last_seq = row["seq"]
    head = AuditChainHead.objects.filter(id=1).first()
    if head is not None and head.last_seq != last_seq:
        return checked, ChainProblem(
            last_seq + 1, f"链头记录到第 {head.last_seq} 条，但只找到 {last_seq} 条（末尾记录被删除）"
        )
    return checked, None
