"""No 5xx on any input (issue #10 §2), through the real endpoints with DEBUG off: NUL and lone surrogates
anywhere, numbers out of range, deep JSON, bodies Django cannot parse, control characters in Open311.

Each refusal is a 400 with an exact Chinese message in the format the caller reads (zhengfeng.core.
input_guard and its INPUT_REFUSAL_FORMATS), and nothing is written. The client re-raises any exception a
view lets through, so a 500 fails these tests instead of passing as a status code.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

import pytest
import time_machine
import xmltodict  # type: ignore[import-untyped]  # no stubs; it only parses the XML answers here
from django.core.files.uploadedfile import SimpleUploadedFile

from zhengfeng.core.models import AuditLog
from zhengfeng.hotline import services
from zhengfeng.hotline.models import Category, Channel, Open311Submission, WorkOrder, WorkOrderEvent
from zhengfeng.org.services import create_api_key

NOW = dt.datetime(2026, 11, 16, 2, 0, tzinfo=dt.UTC)
NUL = "含有空字符（NUL，\\u0000），请删除后重试"
SURROGATE = "含有无效的 Unicode 字符（孤立的代理项 U+D800），请检查文本编码"


@pytest.fixture(autouse=True)
def _debug_off(settings):
    # What production runs; pytest-django sets it too, said here because the tests are about it.
    settings.DEBUG = False


@pytest.fixture
def hotline_key(db):
    return create_api_key(name="12345 平台", scopes=["hotline"])[1]


@pytest.fixture
def open311_key(db):
    return create_api_key(name="微信小程序", scopes=["open311"])[1]


@pytest.fixture
def operator_session(api_client, operator):
    """The operator signed in on `api_client`; a POST passes `**operator_session` for its CSRF header."""
    api_client.force_login(operator)
    return {"headers": api_client.csrf_headers()}


@pytest.fixture
def order(db, qingcheng):
    root = Category.objects.create(code="01", name="城乡建设", level=1, path="城乡建设")
    roads = Category.objects.create(code="0101", name="道路", level=2, path="城乡建设/道路", parent=root)
    Category.objects.create(code="010101", name="路灯", level=3, path="城乡建设/道路/路灯", parent=roads)
    return services.receive_work_order(
        by=None,
        channel=Channel.PHONE,
        request_type="complaint",
        title="路灯不亮",
        content="人民路路灯连续三晚不亮",
        division="441802",
        category="010101",
        at=NOW - dt.timedelta(hours=1),
    ).order


def _counts():
    return (
        WorkOrder.objects.count(),
        WorkOrderEvent.objects.count(),
        Open311Submission.objects.count(),
        AuditLog.objects.count(),
    )


def _bearer(key):
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def _open311_post(client, fmt="json", **fields):
    return client.post(
        f"/open311/v2/requests.{fmt}", urlencode(fields), content_type="application/x-www-form-urlencoded"
    )


def _good_open311(key, **overrides):
    fields = {
        "api_key": key,
        "service_code": "010101",
        "lat": "23.68",
        "long": "113.05",
        "description": "北江路路灯不亮",
        "attribute[request_type]": "complaint",
    }
    fields.update(overrides)
    return fields


def _open311_errors(response):
    return [error["description"] for error in response.json()]


# ----------------------------------------------------------------------------------- NUL and surrogates


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/api/v1/hotline/orders?unit=%00", f"查询参数 unit {NUL}"),
        ("/api/v1/hotline/orders?status=a%00b", f"查询参数 status {NUL}"),
        ("/api/v1/hotline/orders?%00=1", f"查询参数名{NUL}"),
        ("/api/v1/evaluation/staff?unit_code=%00", f"查询参数 unit_code {NUL}"),
        ("/api/v1/hotline/orders/QY%00/requester?purpose=a%00b", f"请求路径{NUL}"),
        ("/api/v1/hotline/orders/QY1/requester?purpose=a%00b", f"查询参数 purpose {NUL}"),
    ],
)
def test_api_query_and_path_with_nul_is_a_400(api_client, hotline_key, url, message):
    response = api_client.get(url, **_bearer(hotline_key))
    assert response.status_code == 400
    assert response.json() == {"detail": message}


@pytest.mark.parametrize(
    ("path", "what"),
    [
        ("/open311/v2/requests/%00.json", "请求路径"),
        ("/open311/v2/services/%00.json", "请求路径"),
        ("/open311/v2/tokens/%00.json", "请求路径"),
        ("/open311/v2/requests.json?service_code=%00", "查询参数 service_code "),
    ],
)
def test_open311_get_with_nul_is_a_400_in_the_spec_format(client, path, what):
    response = client.get(path)
    assert response.status_code == 400
    assert response.json() == [{"code": 400, "description": f"{what}{NUL}"}]


def test_open311_refusal_in_xml(client):
    response = client.get("/open311/v2/requests/%00.xml")
    assert response.status_code == 400
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert xmltodict.parse(response.content) == {
        "errors": {"error": {"code": "400", "description": f"请求路径{NUL}"}}
    }


@pytest.mark.parametrize(
    "field", ["description", "service_code", "attribute[title]", "address_string", "address_id"]
)
def test_open311_post_field_with_nul_is_a_400_and_stores_nothing(client, order, open311_key, field):
    before = _counts()
    response = _open311_post(client, **_good_open311(open311_key, **{field: "北江路\x00路灯"}))
    assert response.status_code == 400
    assert _open311_errors(response) == [f"表单字段 {field} {NUL}"]
    assert _counts() == before


@time_machine.travel(NOW, tick=False)
def test_a_lone_surrogate_cannot_arrive_in_a_form(client, order, open311_key):
    # Its UTF-8 form (ED A0 80) is not UTF-8: Django reads it as U+FFFD, which is plain text.
    body = urlencode(_good_open311(open311_key)) + "&description=%ED%A0%80%E8%B7%AF%E7%81%AF"
    response = client.post(
        "/open311/v2/requests.json", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert Open311Submission.objects.get().content == "\ufffd\ufffd\ufffd路灯"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"text": "\\u0000"}', f"JSON 字段 text {NUL}"),
        ('{"text": "路灯\\ud800"}', f"JSON 字段 text {SURROGATE}"),
        ('{"te\\u0000xt": "路灯"}', f"JSON 字段名{NUL}"),
    ],
)
@time_machine.travel(NOW, tick=False)
def test_json_body_with_nul_or_surrogate_is_a_400(api_client, order, operator_session, body, message):
    before = _counts()
    response = api_client.post(
        f"/api/v1/hotline/orders/{order.code}/note", body, content_type="application/json", **operator_session
    )
    assert response.status_code == 400
    assert response.json() == {"detail": message}
    assert _counts() == before


def test_merge_into_with_nul_is_a_400(api_client, order, operator_session):
    response = api_client.post(
        f"/api/v1/hotline/orders/{order.code}/merge",
        '{"into": "QY\\u0000"}',
        content_type="application/json",
        **operator_session,
    )
    assert response.status_code == 400
    assert response.json() == {"detail": f"JSON 字段 into {NUL}"}


def test_staff_html_form_with_nul_is_a_400_page(client, operator):
    client.force_login(operator)
    before = _counts()
    response = client.post("/hotline/new/", {"title": "路灯\x00不亮", "content": "x"})
    assert response.status_code == 400
    assert response["Content-Type"] == "text/html; charset=utf-8"
    page = response.content.decode()
    assert "<h1>请求无法处理</h1>" in page
    assert f"表单字段 title {NUL}" in page
    assert _counts() == before


def test_portal_form_with_nul_is_a_400_page(client, db):
    response = client.post("/portal/hotline/track/", {"code": "QY\x00", "password": "123456"})
    assert response.status_code == 400
    assert f"表单字段 code {NUL}" in response.content.decode()


# ----------------------------------------------------------------------------------- bodies and numbers


@pytest.mark.parametrize(
    ("depth", "message"),
    [(33, "JSON 嵌套超过 32 层"), (100_000, "JSON 嵌套超过 32 层")],
)
def test_deeply_nested_json_is_a_400(api_client, order, operator_session, depth, message):
    body = '{"text": ' + "[" * depth + "]" * depth + "}"
    response = api_client.post(
        f"/api/v1/hotline/orders/{order.code}/note", body, content_type="application/json", **operator_session
    )
    assert response.status_code == 400
    assert response.json() == {"detail": message}


def test_json_at_the_depth_limit_reaches_the_view(api_client, order, operator_session):
    body = '{"text": ' + "[" * 31 + "]" * 31 + "}"
    response = api_client.post(
        f"/api/v1/hotline/orders/{order.code}/note", body, content_type="application/json", **operator_session
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("字段 text 的值 [[[")


def test_multipart_without_boundary_is_a_400(api_client, order, operator_session):
    response = api_client.post(
        f"/api/v1/hotline/orders/{order.code}/return",
        b"reason=x",
        content_type="multipart/form-data",
        **operator_session,
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "multipart 请求体无法解析（须带有效的 boundary）：Invalid boundary in multipart: None"
    }


def test_oversized_bodies_are_a_400_in_each_format(api_client, client, order, open311_key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 20
    before = _counts()
    response = api_client.post(
        "/api/v1/hotline/orders", json.dumps({"title": "x" * 2000}), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "请求体过大：超过 1000 字节（上传文件请用 multipart）"}
    response = _open311_post(client, **_good_open311(open311_key, description="路" * 1000))
    assert response.status_code == 400
    assert _open311_errors(response) == ["请求体过大：超过 1000 字节（上传文件请用 multipart）"]
    many = {f"attribute[x{number}]": "1" for number in range(30)}
    response = _open311_post(client, **_good_open311(open311_key, **many))
    assert _open311_errors(response) == ["参数过多：最多 20 个"]
    assert _counts() == before


def test_huge_page_is_a_400(api_client, client, hotline_key, order):
    response = api_client.get("/api/v1/hotline/orders?page=1000000000000000000", **_bearer(hotline_key))
    assert response.status_code == 400
    assert response.json() == {
        "detail": "page 应在 1–1000000 之间，page_size 应在 1–100 之间：1000000000000000000、20"
    }
    response = client.get("/open311/v2/requests.json?page=1000000000000000000")
    assert response.status_code == 400
    assert _open311_errors(response) == ["page 不能超过 1000000：1000000000000000000"]
    response = client.get("/open311/v2/requests.json?page=²")
    assert _open311_errors(response) == ["page 应为正整数：²"]


@pytest.mark.parametrize(
    ("lat", "status", "answer"),
    [
        ("1E-1000000", 200, None),
        ("1E+1000000", 400, "lat 超出范围（-90 至 90）：1E+1000000"),
        ("inf", 400, "lat 超出范围（-90 至 90）：inf"),
        ("-Infinity", 400, "lat 超出范围（-90 至 90）：-Infinity"),
        ("nan", 400, "lat 超出范围（-90 至 90）：nan"),
        ("sNaN", 400, "lat 超出范围（-90 至 90）：sNaN"),
    ],
)
@time_machine.travel(NOW, tick=False)
def test_open311_latitude_out_of_range(client, order, open311_key, lat, status, answer):
    response = _open311_post(client, **_good_open311(open311_key, lat=lat))
    assert response.status_code == status
    if answer is None:
        assert Open311Submission.objects.get().latitude == 0
    else:
        assert _open311_errors(response) == [answer]
        assert Open311Submission.objects.count() == 0


@pytest.mark.parametrize("latitude", ["Infinity", "NaN", "1e400"])
@time_machine.travel(NOW, tick=False)
def test_api_latitude_not_finite_is_a_400(api_client, order, hotline_key, latitude):
    body = (
        '{"channel": "phone", "request_type": "complaint", "title": "路灯", "content": "路灯不亮",'
        f' "division": "441802", "latitude": {latitude}, "longitude": 113.05}}'
    )
    response = api_client.post(
        "/api/v1/hotline/orders", body, content_type="application/json", **_bearer(hotline_key)
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("纬度 ")
    assert WorkOrder.objects.count() == 1


# ----------------------------------------------------------------------------------- control characters


@time_machine.travel(NOW, tick=False)
def test_open311_description_with_a_control_character_is_refused(client, order, open311_key):
    response = _open311_post(client, **_good_open311(open311_key, description="北江路\x07路灯不亮"))
    assert response.status_code == 400
    assert _open311_errors(response) == ["description 含有控制字符 U+0007，请删除后重试"]
    assert Open311Submission.objects.count() == 0
    # Tab, line feed and carriage return are text.
    response = _open311_post(client, **_good_open311(open311_key, description="北江路\t路灯\r\n不亮"))
    assert response.status_code == 200


def test_every_intake_channel_refuses_control_characters(order):
    with pytest.raises(Exception, match="标题含有控制字符 U\\+001B，请删除后重试"):
        services.receive_work_order(
            by=None,
            channel=Channel.PHONE,
            request_type="complaint",
            title="路灯\x1b[31m",
            content="路灯不亮",
            division="441802",
            at=NOW,
        )


@time_machine.travel(NOW, tick=False)
def test_a_stored_control_character_never_breaks_requests_xml(client, order):
    # Written directly, as rows stored before intake refused them were.
    WorkOrder.objects.filter(pk=order.pk).update(title="路灯\x07\x0b不亮\ufffe")
    response = client.get("/open311/v2/requests.xml")
    assert response.status_code == 200
    # expat refuses the document if a single character XML 1.0 forbids is left in it.
    assert xmltodict.parse(response.content)["service_requests"]["request"]["description"] == "路灯不亮"
    assert client.get("/open311/v2/requests.json").json()[0]["description"] == "路灯\x07\x0b不亮\ufffe"


def test_a_parameter_of_the_wrong_type_is_a_400_in_chinese(api_client, hotline_key):
    # Ninja's own answer was a 422 with an English list; every other refusal of the API is a 400.
    response = api_client.get("/api/v1/hotline/orders?page=abc&page_size=2.5", **_bearer(hotline_key))
    assert response.status_code == 400
    assert response.json() == {"detail": "字段 page 无效，应为整数；字段 page_size 无效，应为整数"}


def test_a_form_sent_to_a_json_endpoint_is_a_400(api_client, order, operator_session, settings):
    url = f"/api/v1/hotline/orders/{order.code}/note"
    response = api_client.post(url, {"text": "办理记录"}, **operator_session)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("请求体不是有效的 JSON：")
    # Larger than fits in memory: the upload is streamed to disk, and the body cannot be read after.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    upload = SimpleUploadedFile("依据.txt", b"x" * 1000, content_type="text/plain")
    response = api_client.post(url, {"text": "办理记录", "evidence": upload}, **operator_session)
    assert response.status_code == 400
    assert response.json() == {"detail": "此接口不接受 multipart/form-data 请求体"}
