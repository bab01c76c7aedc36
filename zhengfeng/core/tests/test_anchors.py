"""Audit-chain anchors: a normal chain verifies; a tail cut after an anchor, a rewritten head, a forged or
deleted anchor are each detected and named (ADR 0001)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.core.management import call_command

from zhengfeng.core import anchors, audit
from zhengfeng.core.models import AuditAnchor, AuditChainHead, AuditLog
from zhengfeng.core.worker import run_due_jobs

pytestmark = pytest.mark.django_db
AT = dt.datetime(2026, 11, 16, 2, 0, tzinfo=dt.UTC)


def chain(rows: int) -> None:
    for index in range(rows):
        audit.record("test.row", data={"i": index})


def verify(capsys) -> tuple[int, str]:
    try:
        call_command("audit", "verify")
    except SystemExit as exc:
        code = int(exc.code or 0)
    else:
        code = 0
    captured = capsys.readouterr()
    return code, (captured.out + captured.err).strip()


def cut_tail_to(seq: int) -> None:
    """What an attacker with database access does: delete the last rows and move the head back."""
    AuditLog.objects.filter(seq__gt=seq).delete()
    kept = AuditLog.objects.get(seq=seq)
    AuditChainHead.objects.filter(id=1).update(last_seq=seq, last_hash=kept.entry_hash)


@time_machine.travel(AT, tick=False)
def test_an_anchor_signs_the_head_into_the_table_and_the_file(settings):
    chain(3)

    row = anchors.anchor()

    head_hash = AuditLog.objects.get(seq=3).entry_hash
    assert (row.seq, row.head_hash, row.created_at) == (3, head_hash, AT)
    assert row.signature == anchors.sign(seq=3, head_hash=head_hash, created_at=AT)
    assert len(row.signature) == 64
    lines = settings.AUDIT_ANCHOR_FILE.read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {
            "seq": 3,
            "head_hash": head_hash,
            "created_at": "2026-11-16T02:00:00.000000+00:00",
            "signature": row.signature,
        }
    ]
    last = AuditLog.objects.order_by("seq").last()
    assert last is not None
    assert (last.seq, last.action, last.data) == (4, "audit.anchored", {"seq": 3, "head_hash": head_hash})


def test_a_normal_chain_verifies_against_its_anchors(capsys):
    chain(3)
    anchors.anchor()
    chain(2)
    last = anchors.anchor()

    assert anchors.verify_anchors() == (last, None)
    assert verify(capsys) == (0, f"审计日志完整：共校验 7 条记录；最近锚点 #{last.pk}（第 6 条）与链一致。")


def test_a_chain_without_anchors_verifies(capsys):
    chain(2)

    assert verify(capsys) == (0, "审计日志完整：共校验 2 条记录（尚无锚点）。")


@time_machine.travel(AT, tick=False)
def test_a_tail_cut_after_an_anchor_is_detected_and_the_anchor_named(capsys):
    chain(5)
    row = anchors.anchor()
    # The chain alone looks intact after the cut: that is the gap the anchor closes.
    cut_tail_to(3)
    assert audit.verify_chain() == (3, None)

    assert verify(capsys) == (
        1,
        f"审计日志异常：锚点 #{row.pk}（2026-11-16 10:00，第 5 条）所记的第 5 条记录已不存在（末尾记录被删除）",
    )


@time_machine.travel(AT, tick=False)
def test_a_rewritten_head_is_detected(capsys):
    chain(3)
    row = anchors.anchor()
    # Rewrite rows 3 on with recomputed hashes: the chain itself is consistent again.
    cut_tail_to(2)
    audit.record("test.row", data={"i": "rewritten"})
    audit.record("test.row", data={"i": "padding"})
    assert audit.verify_chain() == (4, None)

    code, text = verify(capsys)

    assert (code, text) == (
        1,
        f"审计日志异常：第 3 条记录的哈希与锚点 #{row.pk}（2026-11-16 10:00，第 3 条）不一致（该条及此前的记录被改写）",
    )


@time_machine.travel(AT, tick=False)
def test_a_forged_anchor_signature_fails(capsys):
    chain(2)
    row = anchors.anchor()
    AuditAnchor.objects.filter(pk=row.pk).update(signature="0" * 64)

    assert verify(capsys) == (
        1,
        f"审计日志异常：锚点 #{row.pk}（2026-11-16 10:00，第 2 条）签名无效（锚点被伪造或篡改）",
    )


@time_machine.travel(AT, tick=False)
def test_an_anchor_signed_with_another_key_fails(capsys, settings):
    chain(2)
    settings.AUDIT_ANCHOR_KEY = "an-attacker-s-own-key-0123456789"
    row = anchors.anchor()
    settings.AUDIT_ANCHOR_KEY = ""

    problem = anchors.verify_anchors()[1]

    assert problem == anchors.AnchorProblem(
        row.pk, 2, f"锚点 #{row.pk}（2026-11-16 10:00，第 2 条）签名无效（锚点被伪造或篡改）"
    )


@time_machine.travel(AT, tick=False)
def test_an_anchor_deleted_from_the_table_is_found_in_the_file(capsys):
    chain(4)
    anchors.anchor()
    AuditAnchor.objects.all().delete()

    assert verify(capsys) == (
        1,
        "审计日志异常：锚点文件中的锚点（2026-11-16 10:00，第 4 条）在数据库的锚点表中缺失（锚点被删除）",
    )


def test_the_worker_anchors_daily(settings):
    chain(1)
    run_due_jobs(AT, only="core.anchor_audit_chain")
    run_due_jobs(AT + dt.timedelta(hours=23))
    assert AuditAnchor.objects.count() == 1

    run_due_jobs(AT + dt.timedelta(days=1))

    assert list(AuditAnchor.objects.order_by("id").values_list("seq", flat=True)) == [1, 2]
    assert len(settings.AUDIT_ANCHOR_FILE.read_text().splitlines()) == 2
