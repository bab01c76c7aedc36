"""The hotline JSON API: scoped reads with masking, intake by staff and by the 12345 platform's key,
the lifecycle actions through services.transition with their permissions, and the 4xx answers."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from zhengfeng.core.models import AuditLog
from zhengfeng.hotline import services
from zhengfeng.hotline.models import Category, Channel, Status, WorkOrder
from zhengfeng.org.auth import CSRF_FAILED
from zhengfeng.org.models import Role, UnitKind
from zhengfeng.org.services import create_api_key
from zhengfeng.testing.factories import UnitFactory, UserFactory

NOW = dt.datetime(2026, 11, 16, 2, 0, tzinfo=dt.UTC)  # Monday 10:00 in 清远


@pytest.fixture
def category(db):
    return Category.objects.create(code="01", name="城乡建设", level=1, path="城乡建设")


@pytest.fixture
def operator(city):
    center = UnitFactory(
        code="441800-XZFWZX", name="市行政服务中心", division=city, kind=UnitKind.SERVICE_CENTER
    )
    return UserFactory(username="operator", role=Role.OPERATOR, unit=center)


@pytest.fixture
def handler_a(unit_a):
    return UserFactory(username="handler_a", role=Role.HANDLER, unit=unit_a)


@pytest.fixture
def head_a(unit_a):
    return UserFactory(username="head_a", role=Role.HEAD, unit=unit_a)


@pytest.fixture
def hotline_key(db):
    return create_api_key(name="12345 平台", scopes=["hotline"])[1]


@pytest.fixture
def order(category, qingcheng):
    return services.receive_work_order(
        by=None,
        channel=Channel.PHONE,
        request_type="complaint",
        title="噪音扰民",
        content="工地夜间施工",
        division="441802",
        category="01",
        requester_name="李四",
        requester_phone="13800138000",
        at=NOW - dt.timedelta(hours=1),
    ).order


def call(api_client, method, path, user=None, key=None, body=None, csrf=True, **extra):
    """`user`: signed in first, and a POST sends the CSRF token as a browser does (unless `csrf=False`)."""
    if user is not None:
        api_client.force_login(user)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    if user is not None and method == "post" and csrf:
        headers["HTTP_X_CSRFTOKEN"] = api_client.csrf_headers()["X-CSRFToken"]
    url = f"/api/v1/hotline{path}"
    if method == "get":
        return api_client.get(url, extra, **headers)
    payload = body if isinstance(body, str) else json.dumps(body or {})
    return api_client.post(url, payload, content_type="application/json", **headers)


# ----------------------------------------------------------------------------------- reads


@time_machine.travel(NOW, tick=False)
def test_list_is_scoped_to_the_user(api_client, order, operator, unit_a, liaison_a, liaison_b):
    services.transition(order, "dispatch", by=operator, main_unit=unit_a)

    as_operator = call(api_client, "get", "/orders", user=operator).json()
    as_unit_a = call(api_client, "get", "/orders", user=liaison_a).json()
    as_unit_b = call(api_client, "get", "/orders", user=liaison_b).json()

    assert [item["code"] for item in as_operator["items"]] == [order.code]
    assert [item["code"] for item in as_unit_a["items"]] == [order.code]
    assert as_unit_b == {"count": 0, "page": 1, "page_size": 20, "items": []}


@time_machine.travel(NOW, tick=False)
def test_list_filters_and_pagination(api_client, order, operator, unit_a, category):
    services.transition(order, "dispatch", by=operator, main_unit=unit_a)
    other = services.receive_work_order(
        by=None,
        channel="web",
        request_type="inquiry",
        title="咨询",
        content="问",
        division="441800",
        at=NOW - dt.timedelta(days=3),
    ).order

    def codes(**params):
        response = call(api_client, "get", "/orders", user=operator, **params)
        assert response.status_code == 200, response.content
        return [item["code"] for item in response.json()["items"]]

    assert codes() == [order.code, other.code]
    assert codes(status="dispatched") == [order.code]
    assert codes(status="received,dispatched") == [order.code, other.code]
    assert codes(unit="441800-A") == [order.code]
    assert codes(received_from="2026-11-15") == [order.code]
    assert codes(received_to="2026-11-13") == [other.code]
    assert codes(page_size="1", page="2") == [other.code]
    assert codes(overdue="sign") == []
    with time_machine.travel(NOW + dt.timedelta(days=3), tick=False):
        assert codes(overdue="sign") == [order.code]
        assert codes(overdue="any") == [order.code]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "done"}, "未知的状态：done"),
        ({"unit": "NOPE"}, "未知的单位编码：NOPE"),
        ({"overdue": "yes"}, "overdue 应为 sign、reply 或 any，而不是 'yes'"),
        ({"received_from": "11/01"}, "received_from 应为日期（YYYY-MM-DD），而不是 '11/01'"),
        ({"page_size": "500"}, "page 应在 1–1000000 之间，page_size 应在 1–100 之间：1、500"),
    ],
)
def test_list_bad_filters_are_400(api_client, operator, params, message):
    response = call(api_client, "get", "/orders", user=operator, **params)

    assert response.status_code == 400
    assert response.json()["detail"].startswith(message)


@time_machine.travel(NOW, tick=False)
def test_list_query_count_does_not_grow(
    api_client, category, qingcheng, operator, django_assert_max_num_queries
):
    for n in range(3):
        services.receive_work_order(
            by=None,
            channel="web",
            request_type="inquiry",
            title=f"咨询{n}",
            content="问",
            division="441802",
            category="01",
        )
    api_client.force_login(operator)
    with django_assert_max_num_queries(6):
        response = api_client.get("/api/v1/hotline/orders")

    assert response.json()["count"] == 3


@time_machine.travel(NOW, tick=False)
def test_detail_masks_the_requester_for_the_hotline(api_client, order, operator):
    detail = call(api_client, "get", f"/orders/{order.code}", user=operator).json()

    assert detail["requester"] == {
        "name": "李*",
        "phone": "138****8000",
        "id_number": "",
        "is_anonymous": False,
        "is_confidential": False,
        "hidden_reason": "",
    }
    assert detail["allowed_actions"] == ["answer", "dispatch", "note", "merge", "void", "refer"]
    assert "13800138000" not in json.dumps(detail)


@time_machine.travel(NOW, tick=False)
def test_detail_hides_the_requester_from_a_unit_without_consent(
    api_client, order, operator, unit_a, liaison_a
):
    services.transition(order, "dispatch", by=operator, main_unit=unit_a)

    detail = call(api_client, "get", f"/orders/{order.code}", user=liaison_a).json()

    assert detail["requester"]["hidden_reason"] == "未同意向承办单位公开"
    assert (detail["requester"]["name"], detail["requester"]["phone"]) == ("未公开", "")
    assert detail["allowed_actions"] == ["sign", "request_return", "note"]


@time_machine.travel(NOW, tick=False)
def test_other_units_get_404(api_client, order, operator, unit_a, liaison_b):
    services.transition(order, "dispatch", by=operator, main_unit=unit_a)

    response = call(api_client, "get", f"/orders/{order.code}", user=liaison_b)

    assert response.status_code == 404
    assert response.json() == {"detail": f"工单 {order.code} 不存在或不在您的权限范围内"}


@time_machine.travel(NOW, tick=False)
def test_inspector_reveals_the_requester_with_an_audit_row(api_client, order, inspector, liaison_a):
    response = call(api_client, "get", f"/orders/{order.code}/requester", user=inspector, purpose="核查线索")

    assert response.status_code == 200
    assert response.json() == {
        "requester_name": "李四",
        "requester_phone": "13800138000",
        "requester_id_number": "",
    }
    assert AuditLog.objects.filter(action="personal_data.viewed").count() == 1
    assert call(api_client, "get", f"/orders/{order.code}/requester", user=inspector).status_code == 403


@time_machine.travel(NOW, tick=False)
def test_key_reads_status_without_the_requester(api_client, order, hotline_key):
    detail = call(api_client, "get", f"/orders/{order.code}", key=hotline_key).json()

    assert (detail["status"], detail["requester"], detail["allowed_actions"]) == ("received", None, [])


def test_key_without_the_hotline_scope_is_403(api_client, order):
    key = create_api_key(name="短信", scopes=["sms"])[1]

    response = call(api_client, "get", "/orders", key=key)

    assert response.status_code == 403
    assert response.json() == {"detail": "接口密钥没有 hotline 权限"}


def test_anonymous_caller_is_401(api_client, db):
    assert api_client.get("/api/v1/hotline/orders").status_code == 401


# ----------------------------------------------------------------------------------- intake


INTAKE = {
    "request_type": "help",
    "title": "路面塌陷",
    "content": "人民路有坑",
    "division": "441802",
    "category": "01",
    "requester_phone": "13900000001",
}


@time_machine.travel(NOW, tick=False)
def test_operator_registers_an_order(api_client, category, qingcheng, operator):
    response = call(api_client, "post", "/orders", user=operator, body=INTAKE)

    assert response.status_code == 201
    body = response.json()
    order = WorkOrder.objects.get()
    assert (body["created"], body["order"]["code"], body["order"]["channel"]) == (True, order.code, "phone")
    assert len(body["query_password"]) == 6
    assert order.created_by == operator


@time_machine.travel(NOW, tick=False)
def test_platform_registers_once_per_external_id(api_client, category, qingcheng, hotline_key):
    body = {**INTAKE, "external_id": "12345-2026-0001", "received_at": "2026-11-16T09:30:00+08:00"}

    first = call(api_client, "post", "/orders", key=hotline_key, body=body)
    again = call(api_client, "post", "/orders", key=hotline_key, body=body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["created"] is False
    assert again.json()["query_password"] is None
    assert again.json()["order"]["code"] == first.json()["order"]["code"]
    order = WorkOrder.objects.get()
    assert (order.channel, order.external_id, order.created_by) == ("import", "12345-2026-0001", None)
    assert order.received_at == dt.datetime(2026, 11, 16, 1, 30, tzinfo=dt.UTC)


@time_machine.travel(NOW, tick=False)
def test_platform_anonymous_request_keeps_no_name_or_phone(api_client, category, qingcheng, hotline_key):
    body = {
        **INTAKE,
        "external_id": "12345-2026-0002",
        "requester_name": "王五",
        "is_anonymous": True,
        "allow_unit_contact": True,
    }

    response = call(api_client, "post", "/orders", key=hotline_key, body=body)

    assert response.status_code == 201
    order = WorkOrder.objects.get()
    assert (
        order.is_anonymous,
        order.requester_name,
        order.requester_phone,
        order.phone_index,
        order.allow_unit_contact,
    ) == (True, "", "", "", False)
    assert response.json()["order"]["code"] == order.code


# ------------------------------------------------------------- CSRF and keys (issue #10 §1)

ORDERS = "/api/v1/hotline/orders"


@time_machine.travel(NOW, tick=False)
def test_platform_key_only_post_with_csrf_enforced_registers_once(
    api_client, category, qingcheng, hotline_key
):
    # What the 12345 platform sends: no cookie, no CSRF token, only its key. 403 before issue #10.
    body = json.dumps({**INTAKE, "external_id": "12345-2026-0009"})
    bearer = {"Authorization": f"Bearer {hotline_key}"}

    first = api_client.post(ORDERS, body, content_type="application/json", headers=bearer)
    again = api_client.post(ORDERS, body, content_type="application/json", headers=bearer)

    assert api_client.handler.enforce_csrf_checks is True
    assert (first.status_code, again.status_code) == (201, 200)
    assert (first.json()["created"], again.json()["created"]) == (True, False)
    order = WorkOrder.objects.get()
    assert (order.code, order.external_id, order.channel) == (
        first.json()["order"]["code"],
        "12345-2026-0009",
        "import",
    )


@time_machine.travel(NOW, tick=False)
def test_session_post_without_the_csrf_token_is_403_and_saves_nothing(
    api_client, category, qingcheng, operator
):
    response = call(api_client, "post", "/orders", user=operator, body=INTAKE, csrf=False)

    assert (response.status_code, response.json()) == (403, {"detail": CSRF_FAILED})
    assert WorkOrder.objects.count() == 0


@time_machine.travel(NOW, tick=False)
def test_session_post_with_the_csrf_token_is_accepted(api_client, category, qingcheng, operator):
    api_client.force_login(operator)
    token = api_client.csrf_headers()

    response = api_client.post(ORDERS, json.dumps(INTAKE), content_type="application/json", headers=token)

    assert (response.status_code, response.json()["created"]) == (201, True)
    assert WorkOrder.objects.get().created_by == operator


@time_machine.travel(NOW, tick=False)
def test_key_without_the_hotline_scope_cannot_post(api_client, category, qingcheng):
    token = create_api_key(name="短信平台", scopes=["sms"])[1]

    response = api_client.post(
        ORDERS,
        json.dumps(INTAKE),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert (response.status_code, response.json()) == (403, {"detail": "接口密钥没有 hotline 权限"})
    assert WorkOrder.objects.count() == 0


@time_machine.travel(NOW, tick=False)
def test_a_bearer_header_beside_a_session_is_judged_by_the_key(
    api_client, category, qingcheng, operator, hotline_key
):
    # Decided for issue #10: a Bearer header means "judge me by this key". The session beside it is
    # ignored, so a bad key is 401 even for a signed-in operator (never a silent fall-back to the
    # session, which would then skip CSRF), a key without the scope is 403, and a good key writes
    # as the key (no CSRF token needed, no created_by).
    api_client.force_login(operator)
    other = create_api_key(name="短信平台", scopes=["sms"])[1]

    def post(token, external_id):
        body = json.dumps({**INTAKE, "external_id": external_id})
        headers = {"Authorization": f"Bearer {token}"}
        return api_client.post(ORDERS, body, content_type="application/json", headers=headers)

    bad = post("zf_nope_nope", "12345-2026-0010")
    unscoped = post(other, "12345-2026-0011")
    good = post(hotline_key, "12345-2026-0012")

    assert (bad.status_code, bad.json()) == (
        401,
        {"detail": "未登录，或接口密钥无效、已吊销（请登录，或在 Authorization 头中提供 Bearer 接口密钥）"},
    )
    assert (unscoped.status_code, unscoped.json()) == (403, {"detail": "接口密钥没有 hotline 权限"})
    assert good.status_code == 201
    order = WorkOrder.objects.get()
    assert (order.external_id, order.created_by, order.channel) == ("12345-2026-0012", None, "import")


def test_unit_staff_cannot_register(api_client, category, qingcheng, liaison_a):
    response = call(api_client, "post", "/orders", user=liaison_a, body=INTAKE)

    assert response.status_code == 403
    assert WorkOrder.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "请求体不是有效的 JSON"),
        ("[1, 2]", "请求体应为 JSON 对象"),
        ({**INTAKE, "requester_phone": "12"}, "手机号码应为 11 位，当前为 2 位：12"),
        ({**INTAKE, "category": "99"}, "未知的诉求分类 '99'"),
        ({**INTAKE, "content": "长" * 4001}, "诉求内容过长：共 4001 字，最多 4000 字"),
        ({**INTAKE, "latitude": "north"}, "字段 latitude 的值 'north' 无效，应为数字"),
        (
            {**INTAKE, "is_anonymous": "maybe"},
            "字段 is_anonymous 的值 'maybe' 无效，应为布尔值（true/false）",
        ),
        ({**INTAKE, "colour": "red"}, "未知字段 colour"),
        ({k: v for k, v in INTAKE.items() if k != "title"}, "缺少字段 title"),
    ],
)
def test_bad_intake_is_400_and_saves_nothing(api_client, category, qingcheng, operator, body, message):
    response = call(api_client, "post", "/orders", user=operator, body=body)

    assert response.status_code == 400
    assert response.json()["detail"].startswith(message)
    assert WorkOrder.objects.count() == 0


# ----------------------------------------------------------------------------------- lifecycle


@time_machine.travel(NOW, tick=False)
def test_full_lifecycle_through_the_api(api_client, order, operator, unit_a, liaison_a, handler_a, head_a):
    def act(user, path, body=None):
        response = call(api_client, "post", f"/orders/{order.code}/{path}", user=user, body=body)
        assert response.status_code == 200, response.content
        return response.json()["status"]

    assert act(operator, "dispatch", {"main_unit": "441800-A"}) == "dispatched"
    assert act(liaison_a, "sign") == "handling"
    assert act(handler_a, "extension", {"days": 3, "reason": "需现场勘验"}) == "handling"
    assert act(head_a, "extension-decision", {"approve": True}) == "handling"
    assert act(operator, "extension-decision", {"approve": True, "note": "同意"}) == "handling"
    assert act(handler_a, "reply", {"text": "已责令工地夜间停工"}) == "reply_drafted"
    assert act(head_a, "reply-approval", {"approve": True}) == "replied"
    assert act(operator, "reply-review", {"approve": True}) == "awaiting_callback"
    body = {"satisfaction": "dissatisfied", "resolved": False, "reopen": True, "note": "仍在施工"}
    assert act(operator, "callback", body) == "handling"
    order.refresh_from_db()
    assert (order.reopen_count, order.extension_count) == (1, 1)


@time_machine.travel(NOW, tick=False)
def test_wrong_role_or_state_is_403_or_400(api_client, order, operator, unit_a, liaison_a, hotline_key):
    signed_too_early = call(api_client, "post", f"/orders/{order.code}/sign", user=liaison_a)
    services.transition(order, "dispatch", by=operator, main_unit=unit_a)
    dispatched_twice = call(api_client, "post", f"/orders/{order.code}/dispatch", user=operator, body={})
    api_client.logout()
    by_key = call(api_client, "post", f"/orders/{order.code}/sign", key=hotline_key)

    assert signed_too_early.status_code == 404  # not yet in unit A's scope
    assert dispatched_twice.status_code == 400
    assert dispatched_twice.json()["detail"] == f"工单 {order.code} 当前状态为“待签收”，不能派单"
    assert by_key.status_code == 403
    assert by_key.json()["detail"].startswith("接口密钥只能登记工单和查询工单状态")


@time_machine.travel(NOW, tick=False)
def test_bad_action_body_is_400(api_client, order, operator):
    response = call(
        api_client, "post", f"/orders/{order.code}/dispatch", user=operator, body={"main_unit": 5}
    )

    assert response.status_code == 400
    assert response.json()["detail"] == "字段 main_unit 的值 5 无效，应为字符串"


@time_machine.travel(NOW, tick=False)
def test_return_with_evidence_then_reassign(
    api_client, order, operator, unit_a, unit_b, liaison_a, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    services.transition(order, "dispatch", by=operator, main_unit=unit_a)
    api_client.force_login(liaison_a)

    returned = api_client.post(
        f"/api/v1/hotline/orders/{order.code}/return",
        {"reason": "不属本单位职责", "evidence": SimpleUploadedFile("三定.pdf", b"%PDF-1.4")},
        headers=api_client.csrf_headers(),
    )
    reviewed = call(
        api_client,
        "post",
        f"/orders/{order.code}/review-return",
        user=operator,
        body={"decision": "reassign", "main_unit": "441800-B", "note": "改派乙局"},
    )

    assert returned.status_code == 200, returned.content
    assert returned.json()["status"] == "return_requested"
    assert reviewed.status_code == 200, reviewed.content
    assert (reviewed.json()["status"], reviewed.json()["main_unit_code"]) == ("dispatched", "441800-B")


@time_machine.travel(NOW, tick=False)
def test_merge_through_the_api(api_client, order, operator, category, qingcheng):
    duplicate = services.receive_work_order(
        by=None,
        channel="phone",
        request_type="complaint",
        title="噪音扰民（重复）",
        content="同上",
        division="441802",
        category="01",
    ).order

    response = call(
        api_client, "post", f"/orders/{duplicate.code}/merge", user=operator, body={"into": order.code}
    )
    missing = call(api_client, "post", f"/orders/{duplicate.code}/merge", user=operator, body={"into": "QY0"})

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["merged_into"]) == (Status.MERGED, order.code)
    assert missing.status_code == 404


def test_openapi_lists_the_hotline_operations(api_client, db):
    schema = api_client.get("/api/v1/openapi.json").json()

    paths = {path for path in schema["paths"] if path.startswith("/api/v1/hotline/")}
    assert "/api/v1/hotline/orders/{code}/callback" in paths
    assert "/api/v1/hotline/orders/{code}/return" in paths
    assert len(paths) == 18
    dispatch = schema["paths"]["/api/v1/hotline/orders/{code}/dispatch"]["post"]
    assert dispatch["requestBody"]["content"]["application/json"]["schema"]["properties"]["main_unit"]
