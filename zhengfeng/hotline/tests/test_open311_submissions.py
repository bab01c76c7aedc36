"""Open311 intake: a POST is stored and answered at once, the worker registers it as a work order.

Registration failing halfway (one bad submission among good ones), a category withdrawn in between,
a key revoked while the request path still remembers it, requeueing from the admin, the worker job.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from zhengfeng.core.models import AuditLog
from zhengfeng.core.worker import run_due_jobs
from zhengfeng.hotline.models import Category, Open311Submission, WorkOrder
from zhengfeng.hotline.services import submissions
from zhengfeng.hotline.tests.test_open311 import both, good_post, json_body, post
from zhengfeng.org.models import ApiKey
from zhengfeng.org.services import create_api_key, revoke_api_key

NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)  # 10:00 in Qingyuan


def accept(api_key: ApiKey, text: str, **overrides) -> submissions.Accepted:
    values: dict[str, Any] = {
        "key": api_key,
        "external_ids": (f"open311:test:{text}:1", f"open311:test:{text}:0"),
        "repeat_window": dt.timedelta(minutes=10),
        "category_code": "010101",
        "request_type": "complaint",
        "title": text,
        "content": f"{text}，请尽快处理",
        "division_code": "441802",
        "address": "清城区人民路 1 号",
        "latitude": Decimal("23.682000"),
        "longitude": Decimal("113.056000"),
        "requester_name": "王小明",
        "requester_phone": "13902630001",
        "at": NOW,
    }
    values.update(overrides)
    return submissions.accept_open311_submission(**values)


@pytest.fixture(autouse=True)
def _service_codes(categories):
    """The shared taxonomy numbers 路灯故障 010101, the service code these requests use."""
    assert categories[0].code == "010101"


@pytest.fixture
def api_key(db):
    key_row, _token = create_api_key(name="政务微信", scopes=["open311"])
    return key_row


@time_machine.travel(NOW, tick=False)
def test_a_bad_submission_is_parked_and_the_others_are_registered(categories, qingcheng, api_key, client):
    first, second, third = (accept(api_key, text) for text in ("路灯不亮", "井盖缺失", "路面塌陷"))
    # Damage the second one as a disk or a hand in the database could: its password hash.
    Open311Submission.objects.filter(code=second.code).update(query_password_hash="garbage")

    assert submissions.register_open311_submissions() == {"registered": 2, "failed": 1}

    assert sorted(WorkOrder.objects.values_list("code", flat=True)) == [first.code, third.code]
    parked = Open311Submission.objects.get(code=second.code)
    assert (parked.state, parked.attempts, parked.last_error, parked.order) == (
        "failed",
        1,
        "查询密码的摘要格式不正确",
        None,
    )
    failure = AuditLog.objects.get(action="hotline.open311_failed")
    assert failure.data == {"code": second.code, "attempts": 1, "error": "查询密码的摘要格式不正确"}
    # Nothing half-saved: one received audit row per registered order, none for the parked one.
    assert AuditLog.objects.filter(action="hotline.received").count() == 2
    (record,) = both(client, f"requests/{second.code}", "service_requests")
    assert (record["status"], record["status_notes"]) == ("open", "已受理，待人工登记")
    # A second pass leaves the parked one alone.
    assert submissions.register_open311_submissions() == {"registered": 0, "failed": 0}


@time_machine.travel(NOW, tick=False)
def test_requeued_submission_is_registered_with_its_code_and_password(
    categories, qingcheng, api_key, admin_user
):
    accepted = accept(api_key, "路灯不亮")
    good_hash = Open311Submission.objects.get().query_password_hash
    Open311Submission.objects.update(query_password_hash="garbage")
    submissions.register_open311_submissions()
    Open311Submission.objects.update(query_password_hash=good_hash)

    submission = submissions.requeue_open311_submission(Open311Submission.objects.get(), by=admin_user)

    assert submission.state == "pending"
    assert AuditLog.objects.get(action="hotline.open311_requeued").data == {
        "code": accepted.code,
        "last_error": "查询密码的摘要格式不正确",
    }
    assert submissions.register_open311_submissions() == {"registered": 1, "failed": 0}
    order = WorkOrder.objects.get()
    assert (order.code, order.query_password_hash, order.requester_phone) == (
        accepted.code,
        good_hash,
        "13902630001",
    )
    registered = Open311Submission.objects.get()
    assert (registered.attempts, registered.requester_name, registered.requester_phone) == (2, "", "")


@time_machine.travel(NOW, tick=False)
def test_only_a_failed_submission_can_be_requeued(categories, qingcheng, api_key, admin_user):
    accept(api_key, "路灯不亮")

    with pytest.raises(ValidationError) as raised:
        submissions.requeue_open311_submission(Open311Submission.objects.get(), by=admin_user)

    assert raised.value.messages == ["受理记录 QY20261120-000001 当前为“待登记”，只有登记失败的可以重新登记"]


@time_machine.travel(NOW, tick=False)
def test_category_withdrawn_before_registration_leaves_the_order_unclassified(categories, qingcheng, api_key):
    accept(api_key, "路灯不亮")
    Category.objects.filter(code="010101").update(is_active=False)

    assert submissions.register_open311_submissions() == {"registered": 1, "failed": 0}
    assert WorkOrder.objects.get().category is None


@time_machine.travel(NOW, tick=False)
def test_revoked_key_is_refused_even_while_remembered(client, categories, qingcheng):
    key_row, token = create_api_key(name="第三方网站", scopes=["open311"])
    assert post(client, **good_post(token)).status_code == 200  # the request path now remembers the key

    revoke_api_key(key_row)
    response = post(client, **good_post(token, description="另一处路灯也不亮"))

    assert response.status_code == 403
    assert json_body(response) == [{"code": 403, "description": "api_key 无效或已吊销"}]
    assert Open311Submission.objects.count() == 1
    # The refused request used no number.
    other_token = create_api_key(name="政务微信", scopes=["open311"])[1]
    answered = json_body(post(client, **good_post(other_token, description="第三处路灯不亮")))
    assert answered[0]["service_request_id"] == "QY20261120-000002"


@time_machine.travel(NOW, tick=False)
def test_token_of_an_unregistered_request_is_its_code(client, categories, qingcheng, api_key):
    accepted = accept(api_key, "路灯不亮")

    assert both(client, f"tokens/{accepted.code}", "service_requests") == [
        {"service_request_id": accepted.code, "token": accepted.code}
    ]


@time_machine.travel(NOW, tick=False)
def test_the_worker_job_registers_pending_submissions(categories, qingcheng, api_key):
    for text in ("路灯不亮", "井盖缺失"):
        accept(api_key, text)

    assert run_due_jobs(only="hotline.register_open311") == {"hotline.register_open311": None}
    assert WorkOrder.objects.count() == 2
    assert set(Open311Submission.objects.values_list("state", flat=True)) == {"registered"}


@time_machine.travel(NOW, tick=False)
def test_admin_lists_submissions_and_requeues_failed_ones(client, categories, qingcheng, api_key, admin_user):
    accept(api_key, "路灯不亮")
    accept(api_key, "井盖缺失")
    Open311Submission.objects.filter(title="井盖缺失").update(query_password_hash="garbage")
    submissions.register_open311_submissions()
    client.force_login(admin_user)

    listing = client.get("/admin/hotline/open311submission/")
    ids = list(Open311Submission.objects.order_by("id").values_list("pk", flat=True))
    response = client.post(
        "/admin/hotline/open311submission/",
        {"action": "requeue", "_selected_action": [str(pk) for pk in ids]},
        follow=True,
    )

    assert listing.status_code == 200
    assert "QY20261120-000002" in listing.content.decode()
    assert "13902630001" not in listing.content.decode()
    messages = [str(message) for message in response.context["messages"]]
    assert messages == ["已重新排队 1 条，后台任务将在数秒内登记；1 条不是登记失败状态，未处理"]
    assert dict(Open311Submission.objects.values_list("title", "state")) == {
        "路灯不亮": "registered",
        "井盖缺失": "pending",
    }


@time_machine.travel(NOW, tick=False)
def test_pending_record_with_extensions_names_the_channel(client, categories, qingcheng, api_key):
    accepted = accept(api_key, "路灯不亮")

    (record,) = both(client, f"requests/{accepted.code}", "service_requests", extensions="true")

    assert record["extended_attributes"] == {
        "channel": "网络问政",
        "request_type": "投诉",
        "merged_into": None,
    }
    assert record.get("notes", []) == []
    assert (record["lat"], record["long"], record["address_id"]) == (23.682, 113.056, "441802")


@time_machine.travel(NOW, tick=False)
def test_staff_without_the_change_permission_cannot_requeue(
    client, categories, qingcheng, api_key, city_office
):
    accept(api_key, "路灯不亮")
    Open311Submission.objects.update(query_password_hash="garbage")
    submissions.register_open311_submissions()
    viewer = city_office
    viewer.is_staff = True
    viewer.save(update_fields=["is_staff"])
    viewer.user_permissions.add(Permission.objects.get(codename="view_open311submission"))
    client.force_login(viewer)

    listing = client.get("/admin/hotline/open311submission/")
    response = client.post(
        "/admin/hotline/open311submission/",
        {"action": "requeue", "_selected_action": [str(Open311Submission.objects.get().pk)]},
    )

    assert listing.status_code == 200
    assert "重新登记所选" not in listing.content.decode()
    assert response.status_code in (200, 302)
    assert Open311Submission.objects.get().state == "failed"
    assert not AuditLog.objects.filter(action="hotline.open311_requeued").exists()


# ------------------------------------------------------------------------------ batched registration


def registration_queries(api_key: ApiKey, count: int, prefix: str) -> int:
    for n in range(count):
        accept(api_key, f"{prefix}第{n}处路灯不亮")
    with CaptureQueriesContext(connection) as captured:
        assert submissions.register_open311_submissions() == {"registered": count, "failed": 0}
    return len(captured.captured_queries)


@time_machine.travel(NOW, tick=False)
def test_a_batch_costs_the_same_statements_for_3_or_20_submissions(categories, qingcheng, api_key):
    few = registration_queries(api_key, 3, "甲")
    # 20: SQLite splits a bulk insert at 999 parameters, i.e. from about 24 work orders on.
    many = registration_queries(api_key, 20, "乙")

    assert few == many
    assert WorkOrder.objects.count() == AuditLog.objects.filter(action="hotline.received").count() == 23
    assert set(Open311Submission.objects.values_list("state", "attempts", "requester_phone")) == {
        ("registered", 1, "")
    }
    # Each submission points at the order with its code, which keeps the requester.
    pairs = Open311Submission.objects.values_list("code", "order__code")
    assert [code for code, order_code in pairs if code != order_code] == []
    assert set(WorkOrder.objects.values_list("requester_phone", flat=True)) == {"13902630001"}
    assert audit_chain_ok()


def audit_chain_ok() -> bool:
    from zhengfeng.core.audit import verify_chain

    return verify_chain()[1] is None


@time_machine.travel(NOW, tick=False)
def test_a_taken_external_id_parks_that_submission_and_the_batch_registers(categories, qingcheng, api_key):
    first, second, third = (accept(api_key, text) for text in ("路灯不亮", "井盖缺失", "路面塌陷"))
    # The second one's request reached the hotline by another path and was registered there.
    taken = Open311Submission.objects.get(code=second.code).external_id
    other = submissions.services.receive_work_order(
        by=None,
        channel="phone",
        request_type="complaint",
        title="井盖缺失",
        content="井盖缺失，请处理",
        division="441802",
        external_id=taken,
    )

    assert submissions.register_open311_submissions() == {"registered": 2, "failed": 1}

    parked = Open311Submission.objects.get(code=second.code)
    assert (parked.state, parked.last_error) == (
        "failed",
        f"外部编号 {taken} 已登记为工单 {other.order.code}，不能重复登记",
    )
    assert sorted(WorkOrder.objects.values_list("code", flat=True)) == sorted(
        [first.code, third.code, other.order.code]
    )


REJECT_TRIGGER = {
    "sqlite": """CREATE TRIGGER reject_bad_title BEFORE INSERT ON hotline_workorder
        WHEN NEW.title = '数据库拒收' BEGIN SELECT RAISE(ABORT, 'rejected by trigger'); END""",
    "postgresql": """CREATE FUNCTION reject_bad_title() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.title = '数据库拒收' THEN RAISE EXCEPTION 'rejected by trigger'; END IF; RETURN NEW; END $$;
        CREATE TRIGGER reject_bad_title BEFORE INSERT ON hotline_workorder
        FOR EACH ROW EXECUTE FUNCTION reject_bad_title()""",
}


@time_machine.travel(NOW, tick=False)
def test_a_row_the_database_refuses_falls_back_to_one_by_one_and_is_parked(categories, qingcheng, api_key):
    # A database-side refusal no check foresaw (a trigger, a constraint added by hand): the bulk insert
    # fails, the batch is registered one by one, and only the refused submission is parked.
    with connection.cursor() as cursor:
        cursor.execute(REJECT_TRIGGER[connection.vendor])
    first, bad, third = (accept(api_key, text) for text in ("路灯不亮", "数据库拒收", "路面塌陷"))

    assert submissions.register_open311_submissions() == {"registered": 2, "failed": 1}

    assert sorted(WorkOrder.objects.values_list("code", flat=True)) == [first.code, third.code]
    parked = Open311Submission.objects.get(code=bad.code)
    assert parked.state == "failed"
    assert "rejected by trigger" in parked.last_error
    assert AuditLog.objects.filter(action="hotline.received").count() == 2
