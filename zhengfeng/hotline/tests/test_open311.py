"""Open311 GeoReport v2: conformance of every GET in JSON and XML against the reference schemas,
discovery, the error cases, POST (exactly one order, double POST, bad input) and the privacy rule."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import time_machine
import xmltodict  # type: ignore[import-untyped]  # no stubs; it only parses the XML answers here
from django.utils import timezone

from zhengfeng.core.models import AuditLog
from zhengfeng.hotline import services
from zhengfeng.hotline.models import (
    Category,
    Channel,
    EventKind,
    Open311Submission,
    Status,
    WorkOrder,
    WorkOrderEvent,
)
from zhengfeng.hotline.services import submissions
from zhengfeng.org.models import Role, UnitKind
from zhengfeng.org.services import create_api_key
from zhengfeng.testing.factories import UnitFactory, UserFactory

SCHEMA_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "open311"
SCHEMA_FILES = ("request.json", "requests.json", "service.json", "services.json", "service-definition.json")
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
LIST_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "service_request_updates": "request_update",
    "attributes": "attribute",
    "values": "value",
    "notes": "note",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}
BOOLEANS = {"metadata", "variable", "required"}
NUMBERS = {"lat": float, "long": float, "order": int}


# ----------------------------------------------------------------------------------- helpers


def spark(tag: str, value):
    """xmltodict output → the JSON the Spark convention gives (containers to arrays, typed values)."""
    if tag in LIST_ITEMS:
        if value is None:
            return []
        items = value[LIST_ITEMS[tag]]
        return [spark(LIST_ITEMS[tag], item) for item in (items if isinstance(items, list) else [items])]
    if isinstance(value, dict):
        return {key: spark(key, item) for key, item in value.items()}
    if value is None:
        return None
    if tag in BOOLEANS:
        assert value in ("true", "false"), f"{tag}={value!r}"
        return value == "true"
    if tag in NUMBERS:
        return NUMBERS[tag](value)
    if tag == "code" and value.isdigit():
        # An error code; attribute codes are strings.
        return int(value)
    return value


def xml_as_json(response, root: str):
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    parsed = xmltodict.parse(response.content)
    assert list(parsed) == [root]
    return spark(root, parsed[root])


def json_body(response):
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content)


def nulls_as_empty(value):
    """JSON `""` and XML empty elements are the same thing: compare with both as None."""
    if isinstance(value, dict):
        return {key: nulls_as_empty(item) for key, item in value.items()}
    if isinstance(value, list):
        return [nulls_as_empty(item) for item in value]
    return None if value == "" else value


@pytest.fixture(scope="module")
def validators():
    if not SCHEMA_DIR.is_dir():
        pytest.skip(f"Open311 reference schemas not found in {SCHEMA_DIR.name} (shared folder absent)")
    from jsonschema import (  # type: ignore[import-untyped]  # no stubs installed; used in this test only
        Draft7Validator,
        FormatChecker,
    )
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    resources = [
        (
            name,
            Resource.from_contents(json.loads((SCHEMA_DIR / name).read_text()), default_specification=DRAFT7),
        )
        for name in SCHEMA_FILES
    ]
    registry = Registry().with_resources(resources)
    checker = FormatChecker(formats=())

    @checker.checks("date-time", raises=ValueError)
    def is_datetime(value) -> bool:
        # RFC 3339: the zone is mandatory.
        return not isinstance(value, str) or dt.datetime.fromisoformat(value).tzinfo is not None

    @checker.checks("uri")
    def is_uri(value) -> bool:
        return not isinstance(value, str) or value.startswith(("http://", "https://"))

    def build(name):
        schema = json.loads((SCHEMA_DIR / name).read_text())
        return Draft7Validator(schema, registry=registry, format_checker=checker)

    return {name: build(name) for name in SCHEMA_FILES}


def assert_valid(validator, body) -> None:
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    assert [f"{list(e.path)}: {e.message}" for e in errors] == []


def both(client, path: str, root: str, **params):
    """GET in JSON and XML; returns the JSON body and checks XML says the same."""
    query = f"?{urlencode(params)}" if params else ""
    as_json = client.get(f"/open311/v2/{path}.json{query}")
    as_xml = client.get(f"/open311/v2/{path}.xml{query}")
    assert (as_json.status_code, as_xml.status_code) == (200, 200)
    body = json_body(as_json)
    assert nulls_as_empty(xml_as_json(as_xml, root)) == nulls_as_empty(body)
    return body


@pytest.fixture
def categories(db):
    city = Category.objects.create(code="01", name="城乡建设", level=1, path="城乡建设")
    roads = Category.objects.create(
        code="0101", name="道路交通", level=2, path="城乡建设/道路交通", parent=city
    )
    lights = Category.objects.create(
        code="010101", name="路灯", level=3, path="城乡建设/道路交通/路灯", parent=roads
    )
    Category.objects.create(code="02", name="停用分类", level=1, path="停用分类", is_active=False)
    return {"city": city, "roads": roads, "lights": lights}


@pytest.fixture
def operator(city):
    center = UnitFactory(
        code="441800-XZFWZX", name="市行政服务中心", division=city, kind=UnitKind.SERVICE_CENTER
    )
    return UserFactory(username="operator", role=Role.OPERATOR, unit=center)


@pytest.fixture
def key(db):
    return create_api_key(name="微信小程序", scopes=["open311"])[1]


def receive(**overrides):
    values: dict[str, Any] = {
        "by": None,
        "channel": Channel.PHONE,
        "request_type": "complaint",
        "title": "路灯不亮",
        "content": "人民路路灯连续三晚不亮，我是张三，电话 13800138000",
        "division": "441802",
        "category": "010101",
        "address": "清城区人民路 1 号",
        "latitude": "23.682",
        "longitude": "113.056",
        "requester_name": "张三",
        "requester_phone": "13800138000",
        "requester_id_number": "441802198001010012",
        "at": NOW - dt.timedelta(days=2),
    }
    values.update(overrides)
    return services.receive_work_order(**values).order


@pytest.fixture
def orders(categories, qingcheng, unit_a, operator):
    public = receive()
    services.transition(public, "dispatch", by=operator, main_unit=unit_a, at=NOW - dt.timedelta(days=2))
    closed = receive(title="咨询公交线路", request_type="inquiry", at=NOW - dt.timedelta(days=3))
    services.transition(
        closed, "answer", by=operator, text="已告知 12 路公交时刻", at=NOW - dt.timedelta(days=3)
    )
    anonymous = receive(title="匿名投诉", is_anonymous=True)
    confidential = receive(title="保密投诉", is_confidential=True)
    conduct = receive(title="反映某干部吃拿卡要", concerns_conduct=True)
    unclassified = receive(title="未分类", category=None)
    old = receive(title="一百天前", at=NOW - dt.timedelta(days=100))
    return {
        "public": public,
        "closed": closed,
        "anonymous": anonymous,
        "confidential": confidential,
        "conduct": conduct,
        "unclassified": unclassified,
        "old": old,
    }


def post(client, fmt="json", **data):
    return client.post(
        f"/open311/v2/requests.{fmt}", urlencode(data), content_type="application/x-www-form-urlencoded"
    )


def good_post(key, **overrides):
    data = {
        "api_key": key,
        "service_code": "010101",
        "lat": "23.68",
        "long": "113.05",
        "description": "北江路路灯不亮",
        "attribute[request_type]": "complaint",
        "phone": "+86 139-0263-0001",
        "first_name": "小明",
        "last_name": "王",
        "device_id": "device-1",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# ----------------------------------------------------------------------------------- discovery


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_discovery_lists_v2_with_xml_and_json(client, db, fmt):
    response = client.get(f"/open311/discovery.{fmt}")

    assert response.status_code == 200
    body = json_body(response) if fmt == "json" else xml_as_json(response, "discovery")
    assert body["contact"] == "清远市12345政务服务便民热线 12345"
    assert body["key_service"] != ""
    assert dt.datetime.fromisoformat(body["changeset"]) < timezone.now()
    assert body["endpoints"] == [
        {
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": "http://testserver/open311/v2",
            "changeset": body["changeset"],
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }
    ]


# ----------------------------------------------------------------------------------- services


def test_services_validate_in_json_and_xml(client, categories, validators):
    body = both(client, "services", "services")

    assert_valid(validators["services.json"], body)
    assert [service["service_code"] for service in body] == ["01", "0101", "010101"]
    assert body[2] == {
        "service_code": "010101",
        "service_name": "城乡建设/道路交通/路灯",
        "description": "三级诉求分类：城乡建设/道路交通/路灯",
        "metadata": True,
        "type": "realtime",
        "keywords": "城乡建设,道路交通,路灯",
        "group": "城乡建设",
    }


def test_service_definition_validates_in_json_and_xml(client, categories, validators):
    body = both(client, "services/010101", "service_definition")

    assert_valid(validators["service-definition.json"], body)
    assert body["service_code"] == "010101"
    assert [a["code"] for a in body["attributes"]] == ["request_type", "title"]
    assert [v["name"] for v in body["attributes"][0]["values"]] == [
        "咨询",
        "求助",
        "投诉",
        "举报",
        "建议",
        "表扬",
    ]


@pytest.mark.parametrize(
    ("path", "fmt"), [("services/99", "json"), ("services/02", "xml"), ("services/99", "xml")]
)
def test_unknown_or_inactive_service_is_404_in_spec_format(client, categories, path, fmt):
    response = client.get(f"/open311/v2/{path}.{fmt}")

    assert response.status_code == 404
    body = json_body(response) if fmt == "json" else xml_as_json(response, "errors")
    code = path.split("/")[1]
    assert body == [{"code": 404, "description": f"未知的 service_code：{code}"}]


def test_unknown_jurisdiction_is_404(client, categories):
    response = client.get("/open311/v2/services.json?jurisdiction_id=example.org")

    assert response.status_code == 404
    assert json_body(response)[0]["code"] == 404


def test_own_or_empty_jurisdiction_is_accepted(client, categories):
    assert client.get("/open311/v2/services.json?jurisdiction_id=qingyuan.gov.cn").status_code == 200
    assert client.get("/open311/v2/services.json?jurisdiction_id=").status_code == 200


def test_unknown_path_is_404_in_spec_format(client, db):
    response = client.get("/open311/v2/nothing.xml")

    assert response.status_code == 404
    assert xml_as_json(response, "errors") == [{"code": 404, "description": "未知的资源：nothing"}]


# ----------------------------------------------------------------------------------- GET requests


@time_machine.travel(NOW, tick=False)
def test_requests_validate_and_leave_out_private_orders(client, orders, validators):
    body = both(client, "requests", "service_requests")

    assert_valid(validators["requests.json"], body)
    # Anonymous, confidential, conduct, unclassified and older-than-90-days orders are not there.
    assert [r["service_request_id"] for r in body] == [orders["public"].code, orders["closed"].code]


@time_machine.travel(NOW, tick=False)
def test_request_record_fields(client, orders, unit_a):
    order = orders["public"]
    order.refresh_from_db()

    (record,) = both(client, f"requests/{order.code}", "service_requests")

    assert record == {
        "service_request_id": order.code,
        "status": "open",
        "status_notes": "待签收（主办：市甲局）",
        "service_name": "城乡建设/道路交通/路灯",
        "service_code": "010101",
        "description": "路灯不亮",
        "agency_responsible": "市甲局",
        "service_notice": None,
        "requested_datetime": "2026-11-18T18:00:00+08:00",
        "updated_datetime": timezone.localtime(order.updated_at).isoformat(timespec="seconds"),
        "expected_datetime": timezone.localtime(order.reply_due_at).isoformat(timespec="seconds")
        if order.reply_due_at
        else None,
        "address": "清城区人民路 1 号",
        "address_id": "441802",
        "zipcode": None,
        "lat": 23.682,
        "long": 113.056,
        "media_url": None,
    }


@time_machine.travel(NOW, tick=False)
def test_closed_request_shows_close_time(client, orders, validators):
    (record,) = both(client, f"requests/{orders['closed'].code}", "service_requests")

    assert_valid(validators["requests.json"], [record])
    assert (record["status"], record["status_notes"]) == ("closed", "已办结")
    assert record["updated_datetime"] == "2026-11-17T18:00:00+08:00"
    assert record["expected_datetime"] is None


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("which", ["anonymous", "confidential", "conduct", "unclassified"])
def test_private_orders_are_404_by_id(client, orders, which):
    response = client.get(f"/open311/v2/requests/{orders[which].code}.json")

    assert response.status_code == 404
    assert json_body(response) == [
        {"code": 404, "description": f"未知的 service_request_id：{orders[which].code}"}
    ]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_no_personal_data_anywhere_in_output(client, orders, fmt):
    outputs = [
        client.get(f"/open311/v2/requests.{fmt}?extensions=true").content,
        client.get(f"/open311/v2/requests/{orders['public'].code}.{fmt}?extensions=true").content,
        client.get(f"/open311/v2/servicerequestupdates.{fmt}").content,
    ]

    for content in outputs:
        text = content.decode()
        for secret in ("张三", "13800138000", "441802198001010012", "0138000", "我是"):
            assert secret not in text


@time_machine.travel(NOW, tick=False)
def test_free_text_phone_numbers_are_masked(client, orders):
    order = receive(title="请回电 13912345678 或 0763-3388123", address="身份证 44180219800101001X 的住址")

    (record,) = both(client, f"requests/{order.code}", "service_requests")

    assert record["description"] == "请回电 139****5678 或 076****8123"
    assert record["address"] == "身份证 4418**********001X 的住址"


@time_machine.travel(NOW, tick=False)
def test_requests_filters(client, orders):
    public, closed = orders["public"].code, orders["closed"].code

    def ids(**params):
        return [r["service_request_id"] for r in both(client, "requests", "service_requests", **params)]

    assert ids(status="open") == [public]
    assert ids(status="closed") == [closed]
    assert ids(status="open,closed") == [public, closed]
    assert ids(service_code="0101") == []
    assert ids(service_code="010101,0101") == [public, closed]
    assert ids(start_date="2026-11-18T00:00:00+08:00") == [public]
    assert ids(start_date="2026-11-01", end_date="2026-11-17") == [closed]
    assert ids(end_date="2026-11-17T23:00:00+08:00") == [closed]
    # service_request_id overrides the other filters and reaches an order older than 90 days.
    assert ids(service_request_id=f"{orders['old'].code},{closed}", status="open") == [
        closed,
        orders["old"].code,
    ]
    # Empty parameters behave as absent ones.
    assert ids(status="", service_code="", start_date="", end_date="") == [public, closed]
    assert ids(page_size="1", page="2") == [closed]
    unencoded_plus = client.get("/open311/v2/requests.json?start_date=2026-11-18T00:00:00+08:00")
    assert [r["service_request_id"] for r in json_body(unencoded_plus)] == [public]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("params", "status", "description"),
    [
        ({"status": "pending"}, 400, "status 应为 open 或 closed，而不是 pending"),
        ({"service_code": "99"}, 404, "未知的 service_code：99"),
        (
            {"start_date": "yesterday"},
            400,
            "start_date 不是有效的 W3C 日期时间（如 2026-11-01T08:00:00+08:00）：yesterday",
        ),
        (
            {"start_date": "2026-01-01", "end_date": "2026-06-01"},
            400,
            "start_date 至 end_date 的跨度不能超过 90 天：2026-01-01 至 2026-06-01",
        ),
        (
            {"start_date": "2026-11-10", "end_date": "2026-11-01"},
            400,
            "end_date（2026-11-01）早于 start_date（2026-11-10）",
        ),
        (
            {"start_date": "0001-01-01"},
            400,
            "start_date 0001-01-01 不在合理范围内（2000-01-01 至 2026-11-21）",
        ),
        ({"end_date": "9999-12-31"}, 400, "end_date 9999-12-31 不在合理范围内（2000-01-01 至 2026-11-21）"),
        (
            {"start_date": "9999-12-31T23:59:59+00:00"},
            400,
            "start_date 9999-12-31 23:59:59 不在合理范围内（2000-01-01 至 2026-11-21 18:00）",
        ),
        ({"page_size": "5000"}, 400, "page_size 不能超过 1000：5000"),
        ({"page": "0"}, 400, "page 应为正整数：0"),
    ],
)
def test_malformed_parameters_answer_in_spec_format(client, orders, params, status, description):
    as_json = client.get(f"/open311/v2/requests.json?{urlencode(params)}")
    as_xml = client.get(f"/open311/v2/requests.xml?{urlencode(params)}")

    assert (as_json.status_code, as_xml.status_code) == (status, status)
    assert json_body(as_json) == [{"code": status, "description": description}]
    assert xml_as_json(as_xml, "errors") == [{"code": status, "description": description}]


@time_machine.travel(NOW, tick=False)
def test_no_match_is_an_empty_list(client, orders, validators):
    empty_json = client.get("/open311/v2/requests.json?service_code=0101")
    empty_xml = client.get("/open311/v2/requests.xml?service_code=0101")

    assert json_body(empty_json) == []
    assert empty_xml.content == b'<?xml version="1.0" encoding="utf-8"?><service_requests></service_requests>'
    assert_valid(validators["requests.json"], [])


@time_machine.travel(NOW, tick=False)
def test_merged_order_keeps_its_id_and_follows_its_main_order(client, orders, operator):
    duplicate = receive(title="路灯又不亮")
    services.transition(duplicate, "merge", by=operator, into=orders["public"])

    listed = [r["service_request_id"] for r in both(client, "requests", "service_requests")]
    (record,) = both(client, f"requests/{duplicate.code}", "service_requests")

    assert duplicate.code not in listed
    assert record["status"] == "open"
    assert (
        record["status_notes"] == f"重复诉求，已并入工单 {orders['public'].code} 办理；待签收（主办：市甲局）"
    )
    assert record["agency_responsible"] == "市甲局"


@time_machine.travel(NOW, tick=False)
def test_extensions_add_channel_and_public_notes(client, orders, validators):
    (record,) = both(client, f"requests/{orders['public'].code}", "service_requests", extensions="true")

    assert_valid(validators["requests.json"], [record])
    assert record["extended_attributes"] == {"channel": "电话", "request_type": "投诉", "merged_into": None}
    assert [(n["type"], n["description"]) for n in record["notes"]] == [
        ("received", "受理"),
        ("dispatched", "派单：市甲局"),
    ]


@time_machine.travel(NOW, tick=False)
def test_token_is_the_tracking_code(client, orders):
    code = orders["public"].code

    assert both(client, f"tokens/{code}", "service_requests") == [{"service_request_id": code, "token": code}]
    assert client.get("/open311/v2/tokens/nope.json").status_code == 404


def test_requests_list_query_count(client, orders, django_assert_max_num_queries):
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(3):
        client.get("/open311/v2/requests.json?extensions=true")


# ----------------------------------------------------------------------------------- POST requests


def register() -> dict[str, int]:
    """What the worker's `hotline.register_open311` job does within seconds of a POST."""
    return submissions.register_open311_submissions()


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_creates_exactly_one_order(client, categories, qingcheng, key, fmt, validators):
    response = post(client, fmt, **good_post(key))

    assert response.status_code == 200
    body = json_body(response) if fmt == "json" else xml_as_json(response, "service_requests")
    code = body[0]["service_request_id"]
    assert code == "QY20261120-000001"
    assert body == [
        {"service_request_id": code, "service_notice": body[0]["service_notice"], "account_id": None}
    ]
    notice = re.fullmatch(
        r"已受理，受理编号 (\S+)，查询密码 (\d{6})（只显示这一次.*", body[0]["service_notice"]
    )
    assert notice is not None
    assert notice.group(1) == code
    # Accepted and answered; the worker registers the work order.
    assert (WorkOrder.objects.count(), Open311Submission.objects.get().state) == (0, "pending")
    (pending,) = both(client, f"requests/{code}", "service_requests")
    assert_valid(validators["request.json"], pending)
    assert (pending["status"], pending["status_notes"], pending["service_code"]) == (
        "open",
        "已受理，正在登记",
        "010101",
    )

    assert register() == {"registered": 1, "failed": 0}

    order = WorkOrder.objects.get()
    assert order.code == code
    assert services.check_query_password(order, notice.group(2)) is True
    assert order.received_at == NOW
    assert order.category is not None
    assert order.external_id is not None
    assert (order.channel, order.request_type, order.category.code, order.division_code) == (
        "web",
        "complaint",
        "010101",
        "441800",
    )
    assert (order.title, order.content, order.requester_name, order.requester_phone) == (
        "北江路路灯不亮",
        "北江路路灯不亮",
        "王小明",
        "13902630001",
    )
    assert order.external_id.startswith("open311:")
    assert AuditLog.objects.filter(action="hotline.received").count() == 1
    (record,) = both(client, f"requests/{order.code}", "service_requests")
    assert_valid(validators["request.json"], record)
    assert record["status_notes"] == "已受理"
    assert Open311Submission.objects.get().order == order


@time_machine.travel(NOW, tick=False)
def test_post_with_address_id_sets_the_division(client, categories, qingcheng, key):
    response = post(
        client, **good_post(key, lat=None, long=None, address_id="441802", address_string="人民路")
    )

    assert response.status_code == 200
    register()
    assert WorkOrder.objects.get().division_code == "441802"


def test_double_post_creates_one_order(client, categories, qingcheng, key):
    with time_machine.travel(NOW, tick=False):
        first = json_body(post(client, **good_post(key)))
    with time_machine.travel(NOW + dt.timedelta(minutes=9), tick=False):
        second = json_body(post(client, **good_post(key)))
    with time_machine.travel(NOW + dt.timedelta(minutes=9), tick=False):
        other_device = json_body(post(client, **good_post(key, device_id="device-2")))

    assert second[0]["service_request_id"] == first[0]["service_request_id"] == "QY20261120-000001"
    assert (
        second[0]["service_notice"]
        == "重复提交：该诉求已于 2026-11-20 18:00 受理，受理编号 QY20261120-000001。"
    )
    # The repeat used no number: the other device's request is the next one.
    assert other_device[0]["service_request_id"] == "QY20261120-000002"
    assert register() == {"registered": 2, "failed": 0}
    assert WorkOrder.objects.count() == 2


def test_repeat_after_registration_is_still_the_same_request(client, categories, qingcheng, key):
    with time_machine.travel(NOW, tick=False):
        first = json_body(post(client, **good_post(key)))
        register()
        second = json_body(post(client, **good_post(key)))

    assert second[0]["service_request_id"] == first[0]["service_request_id"]
    assert register() == {"registered": 0, "failed": 0}
    assert WorkOrder.objects.count() == 1


def test_same_post_after_the_window_is_a_new_request(client, categories, qingcheng, key):
    with time_machine.travel(NOW, tick=False):
        post(client, **good_post(key))
    with time_machine.travel(NOW + dt.timedelta(minutes=11), tick=False):
        post(client, **good_post(key))

    assert register() == {"registered": 2, "failed": 0}
    assert WorkOrder.objects.count() == 2


@pytest.mark.parametrize(
    ("data", "status", "descriptions"),
    [
        ({"service_code": None}, 400, ["缺少必填参数 service_code"]),
        ({"service_code": "99"}, 404, ["未知的 service_code：99"]),
        (
            {"lat": None, "long": None},
            400,
            ["缺少位置：须提供 lat 和 long，或 address_string，或 address_id"],
        ),
        (
            {"long": None},
            400,
            ["lat 和 long 须同时提供", "缺少位置：须提供 lat 和 long，或 address_string，或 address_id"],
        ),
        ({"lat": "north"}, 400, ["lat 不是有效的数字：north"]),
        ({"lat": "95"}, 400, ["lat 超出范围（-90 至 90）：95"]),
        ({"address_string": "路" * 201}, 400, ["address_string 过长：共 201 字，最多 200 字"]),
        ({"attribute[title]": "标" * 201}, 400, ["attribute[title] 过长：共 201 字，最多 200 字"]),
        ({"address_id": "999999"}, 400, ["未知的 address_id（应为 GB/T 2260 行政区划代码）：999999"]),
        ({"description": "x" * 4001}, 400, ["description 过长：共 4001 字，最多 4000 字"]),
        ({"description": "灯坏了<script>alert(1)</script>"}, 400, ["description 不能包含 HTML：<script>"]),
        ({"description": None}, 400, ["缺少 description（诉求内容）"]),
        ({"phone": "12345"}, 400, ["phone 无效：手机号码应为 11 位，当前为 5 位：12345"]),
        ({"email": "not-an-email"}, 400, ["email 不是有效的电子邮件地址：not-an-email"]),
        ({"attribute[request_type]": None}, 400, ["缺少必填属性 attribute[request_type]（诉求类型）"]),
        (
            {"attribute[request_type]": "rant"},
            400,
            [
                "attribute[request_type] 的取值 'rant' 无效，应为：inquiry、help、complaint、report、suggestion、praise"
            ],
        ),
        ({"attribute[color]": "red"}, 400, ["未知的属性 attribute[color]，可用：request_type、title"]),
    ],
)
def test_bad_post_is_rejected_and_saves_nothing(
    client, categories, qingcheng, key, data, status, descriptions
):
    response = post(client, **good_post(key, **data))

    assert response.status_code == status
    assert json_body(response) == [{"code": status, "description": text} for text in descriptions]
    assert Open311Submission.objects.count() == 0
    assert register() == {"registered": 0, "failed": 0}
    assert WorkOrder.objects.count() == 0
    assert AuditLog.objects.filter(action="hotline.received").count() == 0


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_without_or_with_wrong_key_is_403(client, categories, fmt):
    wrong_scope = create_api_key(name="短信网关", scopes=["sms"])[1]
    cases = [
        (None, "缺少 api_key"),
        ("zf_nope_nope", "api_key 无效或已吊销"),
        (wrong_scope, "该 api_key 没有 open311 权限"),
    ]
    for api_key, message in cases:
        response = post(client, fmt, **good_post(api_key))

        assert response.status_code == 403
        body = json_body(response) if fmt == "json" else xml_as_json(response, "errors")
        assert body == [{"code": 403, "description": message}]
    assert Open311Submission.objects.count() == 0


def test_post_with_a_json_body_is_400(client, categories, key):
    response = client.post(
        "/open311/v2/requests.json", json.dumps(good_post(key)), content_type="application/json"
    )

    assert response.status_code == 400
    assert json_body(response) == [
        {
            "code": 400,
            "description": "请求体应为 application/x-www-form-urlencoded（UTF-8），而不是 application/json",
        }
    ]


def test_put_is_400(client, categories):
    response = client.put("/open311/v2/requests.xml")

    assert response.status_code == 400
    assert xml_as_json(response, "errors") == [
        {"code": 400, "description": "不支持的请求方法 PUT，应为 GET 或 HEAD 或 POST"}
    ]


# ----------------------------------------------------------------------------------- servicerequestupdates


@time_machine.travel(NOW, tick=False)
def test_updates_feed_lists_public_events_of_public_orders(client, orders):
    body = both(client, "servicerequestupdates", "service_request_updates")

    public, closed = orders["public"].code, orders["closed"].code
    assert [(u["service_request_id"], u["external_status_code"], u["status"]) for u in body] == [
        (closed, "received", "CLOSED"),
        (closed, "answered", "CLOSED"),
        (public, "received", "OPEN"),
        (public, "dispatched", "OPEN"),
    ]
    assert body[3]["description"] == "派单：市甲局"


@time_machine.travel(NOW, tick=False)
def test_posted_update_becomes_a_private_note_once(client, orders, key):
    data = {
        "api_key": key,
        "service_request_id": orders["public"].code,
        "update_id": "u-1",
        "status": "open",
        "updated_datetime": "2026-11-20T17:00:00+08:00",
        "description": "路灯今晚还是不亮",
        "email": "a@example.org",
    }

    first = client.post(
        "/open311/v2/servicerequestupdates.json",
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
    )
    again = client.post(
        "/open311/v2/servicerequestupdates.xml",
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
    )

    event = WorkOrderEvent.objects.get(order=orders["public"], kind=EventKind.NOTE)
    assert json_body(first) == [{"update_id": str(event.pk), "account_id": None}]
    assert xml_as_json(again, "service_request_updates") == [{"update_id": str(event.pk), "account_id": None}]
    assert event.is_public is False
    assert event.text == "诉求人经 微信小程序 补充（报告状态 OPEN，2026-11-20 17:00）：路灯今晚还是不亮"
    assert AuditLog.objects.filter(action="hotline.open311_update").count() == 1
    orders["public"].refresh_from_db()
    assert orders["public"].status == Status.DISPATCHED


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("data", "status", "description"),
    [
        ({"update_id": ""}, 400, "缺少必填参数 update_id"),
        ({"status": "DONE"}, 400, "status 无效：DONE"),
        ({"service_request_id": "QY1"}, 404, "未知的 service_request_id：QY1"),
        ({"api_key": "zf_x_y"}, 403, "api_key 无效或已吊销"),
    ],
)
def test_bad_update_post(client, orders, key, data, status, description):
    values = {
        "api_key": key,
        "service_request_id": orders["public"].code,
        "update_id": "u-1",
        "status": "OPEN",
        "updated_datetime": "2026-11-20T17:00:00+08:00",
        "description": "补充",
        **data,
    }

    response = client.post(
        "/open311/v2/servicerequestupdates.json",
        urlencode(values),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == status
    assert json_body(response)[0]["description"].startswith(description)
    assert WorkOrderEvent.objects.filter(kind=EventKind.NOTE).count() == 0
