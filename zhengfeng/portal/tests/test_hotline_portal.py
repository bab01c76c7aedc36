"""Public hotline pages: filing (CSRF, one submission per form, phone check, anonymity, rate limits)
and tracking by code and password (generic error, rate limits, no personal data)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from zhengfeng.hotline import services
from zhengfeng.hotline.models import Category, Channel, WorkOrder
from zhengfeng.org.models import Role, UnitKind
from zhengfeng.testing.factories import UnitFactory, UserFactory

NOW = dt.datetime(2026, 11, 16, 2, 0, tzinfo=dt.UTC)
FILE_URL = "/portal/hotline/file/"
TRACK_URL = "/portal/hotline/track/"


@pytest.fixture(autouse=True)
def _empty_cache(db):
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def setup(city, qingcheng):
    Category.objects.create(code="01", name="城乡建设", level=1, path="城乡建设")


@pytest.fixture
def operator(city):
    center = UnitFactory(
        code="441800-XZFWZX", name="市行政服务中心", division=city, kind=UnitKind.SERVICE_CENTER
    )
    return UserFactory(username="operator", role=Role.OPERATOR, unit=center)


def first_group(pattern: str, text: str) -> str:
    """The first group of the first match of `pattern` in the page (the page must have it)."""
    match = re.search(pattern, text)
    assert match is not None, text
    return match.group(1)


def form_data(client, **overrides):
    page = client.get(FILE_URL)
    nonce = first_group(r'name="nonce" value="([^"]+)"', page.content.decode())
    data = {
        "request_type": "complaint",
        "category": "01",
        "division": "441802",
        "address": "人民路 1 号",
        "title": "夜间施工噪音",
        "content": "工地每晚施工到凌晨",
        "requester_name": "赵六",
        "requester_phone": "138 0013 8000",
        "nonce": nonce,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def filed_code_and_password(response) -> tuple[str, str]:
    text = response.content.decode()
    code = first_group(r'class="tracking-code">([^<]+)<', text)
    password = first_group(r'class="query-password">([^<]+)<', text)
    return code, password


# ----------------------------------------------------------------------------------- filing


@time_machine.travel(NOW, tick=False)
def test_filing_registers_an_order_and_shows_code_and_password_once(client, setup):
    response = client.post(FILE_URL, form_data(client))

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    code, password = filed_code_and_password(response)
    order = WorkOrder.objects.get()
    assert (order.code, order.channel, order.division_code, order.requester_phone) == (
        code,
        Channel.WEB,
        "441802",
        "13800138000",
    )
    assert services.check_query_password(order, password)
    assert client.get(FILE_URL).content.decode().count(password) == 0


def test_filing_needs_the_csrf_token(setup):
    strict = Client(enforce_csrf_checks=True)

    response = strict.post(FILE_URL, form_data(strict))

    assert response.status_code == 403
    assert WorkOrder.objects.count() == 0


@time_machine.travel(NOW, tick=False)
def test_the_same_form_submitted_twice_registers_once(client, setup):
    data = form_data(client)

    first = client.post(FILE_URL, data)
    again = client.post(FILE_URL, data)

    assert (first.status_code, again.status_code) == (200, 400)
    assert "该表单已经提交过或已失效，请勿重复提交" in again.content.decode()
    assert WorkOrder.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"requester_phone": "12345"}, "手机号码应为 11 位，当前为 5 位：12345"),
        ({"requester_phone": ""}, "请填写手机号码，以便告知办理结果和回访"),
        ({"title": ""}, "这个字段是必填项。"),
        ({"content": "长" * 4001}, "诉求内容过长：共 4001 字，最多 4000 字"),
        ({"division": "999999"}, "选择一个有效的选项。 999999 不在可用的选项中。"),
    ],
)
def test_bad_filing_is_rejected_with_a_message(client, setup, overrides, message):
    response = client.post(FILE_URL, form_data(client, **overrides))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert WorkOrder.objects.count() == 0


@time_machine.travel(NOW, tick=False)
def test_anonymous_filing_keeps_no_contact_data(client, setup):
    response = client.post(FILE_URL, form_data(client, is_anonymous="on", allow_unit_contact="on"))

    assert response.status_code == 200
    order = WorkOrder.objects.get()
    assert (order.is_anonymous, order.requester_name, order.requester_phone, order.allow_unit_contact) == (
        True,
        "",
        "",
        False,
    )


@time_machine.travel(NOW, tick=False)
def test_filing_is_limited_per_ip(setup):
    for n in range(5):
        browser = Client(REMOTE_ADDR="10.0.0.1")
        assert browser.post(FILE_URL, form_data(browser, title=f"第{n}件")).status_code == 200
    browser = Client(REMOTE_ADDR="10.0.0.1")

    response = browser.post(FILE_URL, form_data(browser))

    assert response.status_code == 429
    assert "每小时最多提交 5 件诉求" in response.content.decode()
    assert WorkOrder.objects.count() == 5
    with time_machine.travel(NOW + dt.timedelta(hours=1, minutes=1), tick=False):
        browser = Client(REMOTE_ADDR="10.0.0.1")
        assert browser.post(FILE_URL, form_data(browser)).status_code == 200


@time_machine.travel(NOW, tick=False)
def test_filing_is_limited_per_session(client, setup):
    for n in range(5):
        client.defaults["REMOTE_ADDR"] = f"10.0.1.{n}"
        assert client.post(FILE_URL, form_data(client, title=f"第{n}件")).status_code == 200
    client.defaults["REMOTE_ADDR"] = "10.0.1.99"

    assert client.post(FILE_URL, form_data(client)).status_code == 429


# ----------------------------------------------------------------------------------- tracking


@pytest.fixture
def filed(setup, operator, unit_a):
    with time_machine.travel(NOW, tick=False):
        intake = services.receive_work_order(
            by=None,
            channel=Channel.WEB,
            request_type="complaint",
            title="夜间施工噪音",
            content="我是赵六 13800138000",
            division="441802",
            category="01",
            requester_name="赵六",
            requester_phone="13800138000",
        )
        services.transition(intake.order, "dispatch", by=operator, main_unit=unit_a)
    return intake


@time_machine.travel(NOW, tick=False)
def test_tracking_shows_status_unit_and_timeline_without_personal_data(client, filed):
    response = client.post(TRACK_URL, {"code": filed.order.code.lower(), "password": filed.password})

    assert response.status_code == 200
    text = response.content.decode()
    assert first_group(r'class="status">([^<]+)<', text) == "待签收"
    assert "承办单位：市甲局" in text
    assert re.findall(r"<td>(受理|派单)</td>", text) == ["受理", "派单"]
    for secret in ("赵六", "13800138000", "我是"):
        assert secret not in text


@time_machine.travel(NOW, tick=False)
def test_tracking_shows_the_reply_of_the_main_order_of_a_merged_one(client, filed, operator):
    duplicate = services.receive_work_order(
        by=None,
        channel=Channel.WEB,
        request_type="complaint",
        title="噪音",
        content="同上",
        division="441802",
        category="01",
    )
    services.transition(duplicate.order, "merge", by=operator, into=filed.order)
    main = filed.order

    response = client.post(TRACK_URL, {"code": duplicate.order.code, "password": duplicate.password})

    text = response.content.decode()
    assert "已并入该工单一并办理" in text
    assert f"与工单 {main.code} 为重复诉求" in text
    assert first_group(r'class="status">([^<]+)<', text) == "待签收"


@pytest.mark.parametrize("which", ["wrong password", "unknown code", "empty"])
def test_wrong_credentials_get_one_generic_error(client, filed, which):
    data = {
        "wrong password": {
            "code": filed.order.code,
            "password": "000000" if filed.password != "000000" else "111111",
        },
        "unknown code": {"code": "QY20260101-999999", "password": filed.password},
        "empty": {"code": "", "password": ""},
    }[which]

    response = client.post(TRACK_URL, data)

    assert response.status_code == 400
    assert "受理编号或查询密码不正确。" in response.content.decode()


def test_tracking_a_code_is_locked_after_ten_failures(filed):
    for n in range(10):
        browser = Client(REMOTE_ADDR=f"10.0.2.{n}")
        assert browser.post(TRACK_URL, {"code": filed.order.code, "password": "wrong1"}).status_code == 400

    response = Client(REMOTE_ADDR="10.0.2.99").post(
        TRACK_URL, {"code": filed.order.code, "password": filed.password}
    )

    assert response.status_code == 429
    assert "查询过于频繁" in response.content.decode()


def test_tracking_is_limited_per_ip(client, filed):
    for n in range(20):
        client.post(TRACK_URL, {"code": f"QY20260101-{n:06d}", "password": "wrong1"})

    response = client.post(TRACK_URL, {"code": filed.order.code, "password": filed.password})

    assert response.status_code == 429
