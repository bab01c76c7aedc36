"""The backlog panel on the workbench of the administrator and 正风办, with exact figures."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from zhengfeng.core.models import PeriodicJob, WorkerProcess
from zhengfeng.hotline.models import Open311Submission
from zhengfeng.hotline.services import submissions
from zhengfeng.hotline.tests.test_open311_submissions import accept
from zhengfeng.messaging import services as messaging
from zhengfeng.messaging.models import OutboxMessage
from zhengfeng.org.services import create_api_key

NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)  # 10:00 in Qingyuan, outside quiet hours


@pytest.fixture
def backlog(categories, qingcheng):
    key = create_api_key(name="政务微信", scopes=["open311"])[0]
    with time_machine.travel(NOW - dt.timedelta(seconds=300), tick=False):
        parked = accept(key, "路灯不亮", at=NOW - dt.timedelta(seconds=300))
    Open311Submission.objects.filter(code=parked.code).update(query_password_hash="garbage")
    submissions.register_open311_submissions()
    for seconds, text in ((120, "井盖缺失"), (30, "路面塌陷")):
        accept(key, text, at=NOW - dt.timedelta(seconds=seconds))
    with time_machine.travel(NOW - dt.timedelta(seconds=90), tick=False):
        for n in range(3):
            messaging.queue_sms(to="13902630001", text=f"第{n}条", respect_quiet_hours=False)
    first_sms = OutboxMessage.objects.order_by("id").values_list("pk", flat=True)[0]
    OutboxMessage.objects.filter(pk=first_sms).update(status="failed")
    PeriodicJob.objects.create(
        name="hotline.register_open311", next_run_at=NOW, last_started_at=NOW, last_error="RuntimeError: boom"
    )
    for worker_id, seen in (
        ("w-live", NOW - dt.timedelta(seconds=5)),
        ("w-dead", NOW - dt.timedelta(minutes=5)),
    ):
        WorkerProcess.objects.create(id=worker_id, host="app1", pid=4321, started_at=NOW, last_seen=seen)


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("persona", ["admin_user", "city_office"])
def test_the_backlog_panel_counts_what_waits(client, backlog, persona, request):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(reverse("workbench"))

    panel = response.context["backlog"]
    assert panel["open311"] == {"waiting": 2, "parked": 1, "oldest_wait": dt.timedelta(seconds=120)}
    assert panel["outbox"] == {
        "pending": 2,
        "sending": 0,
        "failed": 1,
        "oldest_wait": dt.timedelta(seconds=90),
    }
    assert [(job.name, job.last_error) for job in panel["jobs"]] == [
        ("hotline.register_open311", "RuntimeError: boom")
    ]
    assert [worker.id for worker in panel["live"]] == ["w-live"]
    page = response.content.decode()
    assert "后台积压" in page
    assert "120 秒" in page
    assert "app1（进程 4321" in page


@time_machine.travel(NOW, tick=False)
def test_the_backlog_panel_is_not_shown_to_a_unit(client, backlog, liaison_a):
    client.force_login(liaison_a)

    response = client.get(reverse("workbench"))

    assert "backlog" not in response.context
    assert "后台积压" not in response.content.decode()
