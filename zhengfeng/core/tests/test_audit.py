import pytest
from django.core.management import call_command

from zhengfeng.core import audit
from zhengfeng.core.models import AuditLog

pytestmark = pytest.mark.django_db


def test_record_chains_rows_in_order(unit_a):
    first = audit.record("unit.updated", target=unit_a, data={"name": "市甲局"})
    second = audit.record("unit.updated", target=unit_a, data={"name": "市甲局（新）"})

    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == audit.GENESIS_HASH
    assert second.prev_hash == first.entry_hash
    assert audit.verify_chain() == (2, None)


def test_record_many_appends_a_batch_to_the_chain_in_order(unit_a, django_assert_num_queries):
    audit.record("unit.updated", target=unit_a, data={"name": "市甲局"})
    entries = [audit.Entry("unit.updated", target=unit_a, data={"n": n}) for n in range(3)]

    # The head's lock, the bulk insert and the head's update, however many rows (in a savepoint).
    with django_assert_num_queries(5):
        rows = audit.record_many(entries)

    assert [(row.seq, row.data) for row in rows] == [(2, {"n": 0}), (3, {"n": 1}), (4, {"n": 2})]
    assert [row.prev_hash for row in rows[1:]] == [row.entry_hash for row in rows[:-1]]
    assert audit.verify_chain() == (4, None)
    audit.record("unit.updated", target=unit_a, data={"name": "市甲局（新）"})
    assert audit.verify_chain() == (5, None)


def test_verify_detects_an_edited_row(unit_a):
    audit.record("a", target=unit_a, data={"x": 1})
    edited = audit.record("b", target=unit_a, data={"x": 2})
    audit.record("c", target=unit_a, data={"x": 3})
    AuditLog.objects.filter(pk=edited.pk).update(data={"x": 999})

    checked, problem = audit.verify_chain()

    assert checked == 1
    assert problem == audit.ChainProblem(2, "记录内容与哈希不一致（记录被修改）")


def test_verify_detects_a_deleted_row(unit_a):
    for index in range(3):
        audit.record("a", target=unit_a, data={"i": index})
    AuditLog.objects.filter(seq=2).delete()

    assert audit.verify_chain() == (1, audit.ChainProblem(2, "缺少第 2 条记录（可能被删除）"))


def test_verify_detects_a_deleted_last_row(unit_a):
    for index in range(3):
        audit.record("a", target=unit_a, data={"i": index})
    AuditLog.objects.filter(seq=3).delete()

    checked, problem = audit.verify_chain()

    assert problem is not None
    assert (checked, problem.seq) == (2, 3)


def test_audit_verify_command_exit_codes(unit_a, capsys):
    audit.record("a", target=unit_a)
    call_command("audit", "verify")
    assert "完整" in capsys.readouterr().out

    AuditLog.objects.update(action="tampered")
    with pytest.raises(SystemExit) as exc:
        call_command("audit", "verify")
    assert exc.value.code == 1
    assert "第 1 条" in capsys.readouterr().err
