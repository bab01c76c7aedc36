"""`zhengfeng hotline import` writes in batches: one audit row per batch, the audit chain free between
batches, and a file whose import stopped half-way is finished by importing it again (issue #10 §3)."""

from __future__ import annotations

import datetime as dt
import io
import threading

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection

from zhengfeng.core import audit
from zhengfeng.core.models import AuditLog
from zhengfeng.hotline import services
from zhengfeng.hotline.models import EventKind, WorkOrder, WorkOrderEvent, WorkOrderSerial
from zhengfeng.hotline.order_import import OrderImportError, import_file

NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)
HEADER = "外部编号,受理时间,诉求类型,标题,诉求内容,区划代码,诉求人,联系电话"


def write(tmp_path, rows, name="orders.csv"):
    """rows: (external id, local received time)."""
    path = tmp_path / name
    lines = [f"{ext},{at},投诉,路灯不亮,{ext} 路灯不亮,441802,张三,13800138000" for ext, at in rows]
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


@time_machine.travel(NOW, tick=False)
def test_new_orders_are_written_in_batches_with_one_audit_row_each(qingcheng, tmp_path):
    rows = [(f"E-{n}", "2026-11-18 09:30") for n in range(1, 6)]
    progress = io.StringIO()

    result = import_file(write(tmp_path, rows), batch_size=2, progress=progress)

    assert result.created == {"received": 5, "dispatched": 0, "closed": 0}
    orders = list(WorkOrder.objects.order_by("code").values_list("code", "external_id"))
    assert orders == [(f"QY20261118-{n:06d}", f"E-{n}") for n in range(1, 6)]
    batches = list(AuditLog.objects.filter(action="hotline.received_batch").order_by("seq"))
    assert [row.data["orders"] for row in batches] == [
        [["QY20261118-000001", "E-1"], ["QY20261118-000002", "E-2"]],
        [["QY20261118-000003", "E-3"], ["QY20261118-000004", "E-4"]],
        [["QY20261118-000005", "E-5"]],
    ]
    assert [row.data["source"] for row in batches] == ["orders.csv"] * 3
    assert AuditLog.objects.filter(action="hotline.orders_imported").count() == 1
    assert AuditLog.objects.filter(action="hotline.received").count() == 0
    assert WorkOrderEvent.objects.filter(kind=EventKind.RECEIVED, is_public=True).count() == 5
    assert WorkOrder.objects.get(external_id="E-4").requester_phone == "13800138000"
    assert audit.verify_chain() == (4, None)
    assert progress.getvalue().endswith("] 5/5\n")


@time_machine.travel(NOW, tick=False)
def test_an_import_stopped_half_way_is_finished_by_importing_the_file_again(qingcheng, tmp_path):
    # The 19th's numbering is broken on purpose: its serial is set back below an order already
    # registered, so the batch of the 19th fails on the unique code after the 18th's batch committed.
    services.receive_work_order(
        by=None,
        channel="phone",
        request_type="complaint",
        title="先登记的工单",
        content="内容",
        division=qingcheng,
        at=dt.datetime(2026, 11, 19, 1, 0, tzinfo=dt.UTC),
    )
    WorkOrderSerial.objects.filter(day=dt.date(2026, 11, 19)).update(last_number=0)
    path = write(
        tmp_path,
        [
            ("R-1", "2026-11-18 09:30"),
            ("R-2", "2026-11-18 10:30"),
            ("R-3", "2026-11-19 09:30"),
            ("R-4", "2026-11-19 10:30"),
        ],
    )
    err = io.StringIO()

    with pytest.raises(CommandError) as failed:
        call_command("hotline", "import", str(path), "--batch-size", "2", stdout=io.StringIO(), stderr=err)

    assert str(failed.value) == (
        "导入中断：已写入 2 条工单；排除问题后重新导入同一文件，已导入的工单按外部编号跳过"
    )
    assert err.getvalue().endswith(
        "第 4 行至第 5 行：工单 R-3 未能写入：受理编号 QY20261119-000001 或外部编号与已登记的工单冲突\n"
    )
    assert list(
        WorkOrder.objects.exclude(external_id=None)
        .order_by("external_id")
        .values_list("external_id", flat=True)
    ) == ["R-1", "R-2"]

    WorkOrderSerial.objects.filter(day=dt.date(2026, 11, 19)).update(last_number=1)
    out = io.StringIO()
    call_command("hotline", "import", str(path), "--batch-size", "2", stdout=out, stderr=io.StringIO())

    assert out.getvalue() == "工单：新增 2（已受理 2，待签收 0，已办结 0），已存在跳过 2\n"
    assert list(
        WorkOrder.objects.exclude(external_id=None).order_by("external_id").values_list("external_id", "code")
    ) == [
        ("R-1", "QY20261118-000001"),
        ("R-2", "QY20261118-000002"),
        ("R-3", "QY20261119-000002"),
        ("R-4", "QY20261119-000003"),
    ]


@time_machine.travel(NOW, tick=False)
def test_a_bad_line_anywhere_writes_nothing_even_across_batches(qingcheng, tmp_path):
    rows = [(f"B-{n}", "2026-11-18 09:30") for n in range(1, 6)] + [("B-6", "明天")]

    with pytest.raises(OrderImportError) as refused:
        import_file(write(tmp_path, rows), batch_size=2)

    assert refused.value.messages == ["第 7 行：受理时间“明天”不是有效的日期时间（如 2026-11-01 09:30）"]
    assert refused.value.written == 0
    assert WorkOrder.objects.count() == 0
    assert AuditLog.objects.count() == 0


def test_a_batch_refuses_an_external_id_registered_meanwhile(qingcheng):
    request = {
        "channel": "import",
        "request_type": "complaint",
        "title": "标题",
        "content": "内容",
        "division": qingcheng,
        "external_id": "M-1",
    }
    services.receive_work_orders([request], source="a.csv")
    code = WorkOrder.objects.get(external_id="M-1").code

    with pytest.raises(ValidationError) as refused:
        services.receive_work_orders([{**request, "external_id": "M-2"}, request], source="b.csv")

    assert refused.value.messages == [f"外部编号 M-1 已登记为工单 {code}，不能重复登记"]
    assert WorkOrder.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a second connection (PostgreSQL)")
def test_an_audit_write_elsewhere_is_not_blocked_while_a_file_is_imported(qingcheng, tmp_path):
    """Another connection appends to the audit chain after each batch; with one transaction for the
    file it would wait for the whole import (and time out here)."""
    rows = [(f"C-{n}", "2026-11-18 09:30") for n in range(1, 301)]
    waits: list[bool] = []

    class AuditEachRedraw(io.StringIO):
        # The progress bar is drawn between batches: the moment another user's write must go through.
        def write(self, text: str) -> int:
            done = threading.Event()

            def login() -> None:
                try:
                    audit.record("org.login", data={"user": "someone"})
                    done.set()
                finally:
                    connection.close()

            thread = threading.Thread(target=login)
            thread.start()
            waits.append(done.wait(timeout=10))
            thread.join(timeout=60)
            return super().write(text)

    with time_machine.travel(NOW, tick=False):
        import_file(write(tmp_path, rows), batch_size=100, progress=AuditEachRedraw())

    assert waits == [True, True, True]
    assert AuditLog.objects.filter(action="org.login").count() == 3
    assert WorkOrder.objects.count() == 300
    assert audit.verify_chain() == (7, None)
