"""Audit-chain anchors: the chain head, signed, published daily to a table and an append-only file.

The hash chain (core.audit) proves that no row was edited or removed from the middle, and the head row
that no tail was cut, but someone with write access to the database can delete the tail and move the head
back, or rewrite every row from some point on and recompute the hashes. An anchor is a statement made
earlier, outside the chain: "at T the chain ended with row N whose hash was H", signed with HMAC-SM3 under
a key the database does not hold. `verify_anchors` checks every anchor against the chain: a missing row N
(a cut tail) or a different hash (a rewrite) is named with the anchor that reveals it (ADR 0001).
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from zhengfeng.core import audit
from zhengfeng.core.crypto import secret_mac
from zhengfeng.core.models import AuditAnchor, AuditChainHead, AuditLog

_PURPOSE = b"audit-anchor-hmac-sm3"


def _stamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def sign(*, seq: int, head_hash: str, created_at: dt.datetime) -> str:
    key = settings.AUDIT_ANCHOR_KEY or settings.SECRET_KEY
    message = f"zhengfeng-audit-anchor|v1|{seq}|{head_hash}|{_stamp(created_at)}".encode()
    return secret_mac(key, _PURPOSE, message)


def _line(anchor: AuditAnchor) -> str:
    record = {
        "seq": anchor.seq,
        "head_hash": anchor.head_hash,
        "created_at": _stamp(anchor.created_at),
        "signature": anchor.signature,
    }
    return json.dumps(record, sort_keys=True) + "\n"


def _append(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_APPEND: each line lands at the end even with two writers; fsync, as a lost anchor proves nothing.
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(descriptor, line.encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def anchor(*, now: dt.datetime | None = None) -> AuditAnchor:
    """Sign the current chain head; store it in `AuditAnchor` and append it to AUDIT_ANCHOR_FILE.

    The head is locked while it is read, so the anchored row is committed and no append slips in between;
    the audit row `audit.anchored` then follows the anchored one. The file is written inside the
    transaction: if the commit fails, the file holds an anchor of committed rows, which still verifies.
    """
    now = now or timezone.now()
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(
            id=1, defaults={"last_seq": 0, "last_hash": audit.GENESIS_HASH}
        )
        row = AuditAnchor.objects.create(
            seq=head.last_seq,
            head_hash=head.last_hash,
            created_at=now,
            signature=sign(seq=head.last_seq, head_hash=head.last_hash, created_at=now),
        )
        _append(settings.AUDIT_ANCHOR_FILE, _line(row))
        audit.record("audit.anchored", target=row, data={"seq": row.seq, "head_hash": row.head_hash})
    return row


@dataclass(frozen=True)
class AnchorProblem:
    anchor_id: int | None
    seq: int
    reason: str


def _name(anchor: AuditAnchor) -> str:
    at = timezone.localtime(anchor.created_at).strftime("%Y-%m-%d %H:%M")
    label = f"锚点 #{anchor.pk}" if anchor.pk else "锚点文件中的锚点"
    return f"{label}（{at}，第 {anchor.seq} 条）"


def check(anchor: AuditAnchor) -> AnchorProblem | None:
    """Whether one anchor is genuine and the chain still ends, at its row, with its hash."""
    expected = sign(seq=anchor.seq, head_hash=anchor.head_hash, created_at=anchor.created_at)
    if not hmac.compare_digest(expected, anchor.signature):
        return AnchorProblem(anchor.pk, anchor.seq, f"{_name(anchor)}签名无效（锚点被伪造或篡改）")
    if anchor.seq == 0:
        return None
    entry_hash = AuditLog.objects.filter(seq=anchor.seq).values_list("entry_hash", flat=True).first()
    if entry_hash is None:
        return AnchorProblem(
            anchor.pk, anchor.seq, f"{_name(anchor)}所记的第 {anchor.seq} 条记录已不存在（末尾记录被删除）"
        )
    if entry_hash != anchor.head_hash:
        return AnchorProblem(
            anchor.pk,
            anchor.seq,
            f"第 {anchor.seq} 条记录的哈希与{_name(anchor)}不一致（该条及此前的记录被改写）",
        )
    return None


def _file_anchors(path: Path) -> list[AuditAnchor]:
    if not path.exists():
        return []
    anchors = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        anchors.append(
            AuditAnchor(
                seq=record["seq"],
                head_hash=record["head_hash"],
                created_at=dt.datetime.fromisoformat(record["created_at"]),
                signature=record["signature"],
            )
        )
    return anchors


def verify_anchors() -> tuple[AuditAnchor | None, AnchorProblem | None]:
    """Check every anchor of the table and of the file; return (the last anchor, the first problem).

    The file and the table must agree: an anchor in the file missing from the table was deleted there.
    """
    stored = list(AuditAnchor.objects.order_by("id"))
    try:
        in_file = _file_anchors(settings.AUDIT_ANCHOR_FILE)
    except (ValueError, KeyError) as exc:
        return (stored[-1] if stored else None), AnchorProblem(
            None, 0, f"锚点文件 {settings.AUDIT_ANCHOR_FILE} 无法读取：{exc}"
        )
    for anchor_row in stored:
        problem = check(anchor_row)
        if problem is not None:
            return stored[-1], problem
    known = {(a.seq, a.head_hash, _stamp(a.created_at), a.signature) for a in stored}
    for anchor_row in in_file:
        if (
            anchor_row.seq,
            anchor_row.head_hash,
            _stamp(anchor_row.created_at),
            anchor_row.signature,
        ) not in known:
            problem = check(anchor_row) or AnchorProblem(
                None, anchor_row.seq, f"{_name(anchor_row)}在数据库的锚点表中缺失（锚点被删除）"
            )
            return (stored[-1] if stored else None), problem
    return (stored[-1] if stored else None), None


@dataclass(frozen=True)
class AnchorStatus:
    anchor: AuditAnchor
    problem: AnchorProblem | None


def recent_anchors(limit: int = 10) -> list[AnchorStatus]:
    """The latest anchors, each checked, for the audit-log page."""
    return [AnchorStatus(row, check(row)) for row in AuditAnchor.objects.order_by("-id")[:limit]]
