"""Hotline staff pages: intake, lists (scoping, filters, htmx partials, query counts), masking and the
audited full view of the requester, and who may open which page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from zhengfeng.core.models import AuditLog
from zhengfeng.hotline.models import WorkOrder
from zhengfeng.hotline.services import check_query_password
from zhengfeng.org import twofactor
from zhengfeng.org.models import Role
from zhengfeng.testing.factories import UserFactory

from .conftest import EVE, PHONE, dispatched, handling, receive

FULL_PHONE = PHONE  # 13800138000
MASKED_PHONE = "138****8000"
ID_NUMBER = "11010519491231002X"


@pytest.fixture(autouse=True)
def at_eve():
    with time_machine.travel(EVE, tick=False):
        yield


def login(client, user):
    client.force_login(user)
    return client


def intake_data(client, **overrides):
    token = client.get(reverse("hotline:intake")).context["form"].initial["token"]
    data = {
        "token": token,
        "channel": "web",
        "request_type": "complaint",
        "urgency": "urgent",
        "title": "施工噪音扰民",
        "content": "夜间 23 点后仍在施工。",
        "division": "441802",
        "requester_name": "李四",
        "requester_phone": "13912345678",
    }
    data.update(overrides)
    return data


# ------------------------------------------------------------------------------------ access


@pytest.mark.parametrize(
    "name", ["hotline:order_list", "hotline:workbench", "hotline:inbox", "hotline:intake"]
)
def test_anonymous_is_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert (response.status_code, response.url.startswith(reverse("login"))) == (302, True)


def test_workbench_and_intake_are_for_operators(client, liaison_a, city_office):
    for user in (liaison_a, city_office):
        assert login(client, user).get(reverse("hotline:workbench")).status_code == 403
        assert client.get(reverse("hotline:intake")).status_code == 403


def test_inbox_sends_non_unit_users_to_the_order_list(client, city_office):
    response = login(client, city_office).get(reverse("hotline:inbox"))
    assert response.url == reverse("hotline:order_list")


def test_liaison_of_unit_b_cannot_see_unit_a_orders(client, operator, liaison_a, liaison_b):
    order = dispatched(operator, liaison_a.unit)
    login(client, liaison_b)

    assert client.get(reverse("hotline:detail", args=[order.pk])).status_code == 404
    assert client.get(reverse("hotline:timeline", args=[order.pk])).status_code == 404
    assert client.post(reverse("hotline:requester", args=[order.pk]), {"purpose": "x"}).status_code == 404
    assert client.get(reverse("hotline:order_list")).context["rows"] == []
    assert client.get(reverse("hotline:inbox"), {"queue": "all"}).context["rows"] == []


def test_county_operator_sees_only_its_county(client, operator, county_operator):
    city_order = receive(operator, title="市本级")
    county_order = receive(operator, title="清城区", division="441802")
    login(client, county_operator)

    rows = client.get(reverse("hotline:order_list")).context["rows"]

    assert [row.order for row in rows] == [county_order]
    assert client.get(reverse("hotline:detail", args=[city_order.pk])).status_code == 404


# ------------------------------------------------------------------------------------ intake


def test_intake_shows_code_and_password_once(client, operator, qingcheng):
    login(client, operator)
    response = client.post(reverse("hotline:intake"), intake_data(client))

    order = WorkOrder.objects.get()
    assert (order.channel, order.request_type, order.urgency, order.division_code, order.title) == (
        "web",
        "complaint",
        "urgent",
        "441802",
        "施工噪音扰民",
    )
    page = client.get(response.url).content.decode()
    assert order.code in page
    shown = re.search(r'id="query-password">(\d{6})<', page)
    assert shown is not None
    password = shown.group(1)
    assert check_query_password(order, password) is True
    again = client.get(response.url).content.decode()
    assert (order.code in again, password in again, "已不能再次查看" in again) == (True, False, True)


def test_intake_form_submitted_twice_registers_once(client, operator, qingcheng):
    login(client, operator)
    data = intake_data(client)
    client.post(reverse("hotline:intake"), data)

    response = client.post(reverse("hotline:intake"), data)

    order = WorkOrder.objects.get()
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        f"该登记表已提交，受理编号 {order.code}，请勿重复提交"
    ]


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("requester_phone", "1381234", "手机号码应为 11 位，当前为 7 位：1381234"),
        (
            "requester_id_number",
            "110105194912310021",
            "身份证号码校验位错误：应为 X，实为 1：110105194912310021",
        ),
        ("title", "", "这个字段是必填项。"),
        ("channel", "fax", "选择一个有效的选项。 fax 不在可用的选项中。"),
    ],
)
def test_intake_bad_input_names_the_value_and_saves_nothing(client, operator, qingcheng, field, value, error):
    login(client, operator)

    response = client.post(reverse("hotline:intake"), intake_data(client, **{field: value}))

    assert response.status_code == 400
    assert response.context["form"].errors[field] == [error]
    assert WorkOrder.objects.count() == 0


def test_intake_category_levels_must_be_consistent(client, operator, category, other_category):
    login(client, operator)
    data = intake_data(
        client,
        division="441800",
        category_1=category.parent.parent.code,
        category_2=other_category.parent.code,
    )

    response = client.post(reverse("hotline:intake"), data)

    assert response.context["form"].errors["category_2"] == ["二级分类“教育”不属于所选一级分类"]
    assert WorkOrder.objects.count() == 0


def test_intake_anonymous_with_an_id_number_keeps_it_encrypted(client, operator, qingcheng):
    login(client, operator)
    data = intake_data(
        client,
        requester_name="",
        requester_phone="",
        requester_id_number=ID_NUMBER.lower(),
        is_anonymous="on",
    )

    client.post(reverse("hotline:intake"), data)

    order = WorkOrder.objects.get()
    assert (order.is_anonymous, order.requester_id_number, order.callback_expected) == (
        True,
        ID_NUMBER,
        False,
    )


def test_intake_anonymous_with_a_name_and_phone_stores_neither(client, operator, qingcheng):
    # The form presents the rule; the service applies it (the name and phone are dropped).
    login(client, operator)

    client.post(reverse("hotline:intake"), intake_data(client, is_anonymous="on"))

    order = WorkOrder.objects.get()
    assert (order.is_anonymous, order.requester_name, order.requester_phone, order.phone_index) == (
        True,
        "",
        "",
        "",
    )


def test_intake_division_must_be_in_scope(client, county_operator, qingxin):
    login(client, county_operator)

    response = client.post(reverse("hotline:intake"), intake_data(client, division="441803"))

    assert response.context["form"].errors["division"] == ["选择一个有效的选项： 该选择不在可用的选项中。"]


def test_category_picker_options(client, operator, category, other_category):
    login(client, operator)
    level_1 = category.parent.parent

    response = client.get(reverse("hotline:category_options", args=[2]), {"category_1": level_1.code})

    body = response.content.decode()
    assert f'<option value="{category.parent.code}">市政设施</option>' in body
    assert "教育" not in body
    assert 'id="id_category_3" hx-swap-oob="innerHTML"' in body
    leaves = client.get(reverse("hotline:category_options", args=[3]), {"category_2": category.parent.code})
    assert f'<option value="{category.code}">路灯故障</option>' in leaves.content.decode()


# ------------------------------------------------------------------------------------ lists


def test_order_list_filters_and_htmx_partial(client, operator, city_office, liaison_a, category):
    phone_order = receive(operator, title="路灯不亮")
    web_order = receive(operator, title="咨询社保", channel="web", request_type="inquiry")
    signed = handling(operator, liaison_a, title="井盖缺失")
    login(client, city_office)
    url = reverse("hotline:order_list")

    def codes(**params):
        return [row.order.code for row in client.get(url, params).context["rows"]]

    assert codes() == [signed.code, web_order.code, phone_order.code]
    assert codes(channel="web") == [web_order.code]
    assert codes(request_type="help", status="received") == [phone_order.code]
    assert codes(status="handling", unit=liaison_a.unit_id) == [signed.code]
    assert codes(q=phone_order.code.lower()) == [phone_order.code]
    assert codes(q="井盖") == [signed.code]
    assert codes(received_from="2026-09-30", received_to="2026-09-30") == [
        signed.code,
        web_order.code,
        phone_order.code,
    ]
    assert codes(received_from="2026-10-01") == []
    response = client.get(url, {"channel": "web"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="order-table">')
    assert (web_order.code in body, phone_order.code in body, "<form" in body) == (True, False, False)


def test_order_list_bad_dates_are_reported(client, city_office, operator):
    receive(operator)
    login(client, city_office)

    response = client.get(
        reverse("hotline:order_list"), {"received_from": "2026-10-02", "received_to": "2026-10-01"}
    )

    assert response.context["form"].errors == {"received_to": ["结束日期 2026-10-01 早于开始日期 2026-10-02"]}
    assert "结束日期 2026-10-01 早于开始日期 2026-10-02" in response.content.decode()


def test_overdue_lists(client, operator, city_office, liaison_a):
    late_sign = dispatched(operator, liaison_a.unit, title="未签收")
    late_reply = handling(operator, liaison_a, title="未办结")
    with time_machine.travel(EVE + dt.timedelta(days=40), tick=False):
        login(client, city_office)
        sign = client.get(reverse("hotline:overdue", args=["sign"]))
        reply = client.get(reverse("hotline:overdue", args=["reply"]))
        filtered = client.get(reverse("hotline:order_list"), {"overdue": "reply"})
    assert [(row.order, row.sign_overdue) for row in sign.context["rows"]] == [(late_sign, True)]
    assert [(row.order, row.reply_overdue) for row in reply.context["rows"]] == [(late_reply, True)]
    assert [row.order for row in filtered.context["rows"]] == [late_reply]
    assert "签收超期" in sign.content.decode()
    assert client.get(reverse("hotline:overdue", args=["late"])).status_code == 404


def test_operator_workbench_queues(client, operator, liaison_a, handler_a, head_a):
    new = receive(operator)
    waiting = dispatched(operator, liaison_a.unit)
    login(client, operator)

    response = client.get(reverse("hotline:workbench"))

    assert [row.order for row in response.context["rows"]] == [new]
    tabs = {key: count for key, _label, count in response.context["tabs"]}
    assert tabs == {
        "received": 1,
        "return_requested": 0,
        "extension": 0,
        "replied": 0,
        "awaiting_callback": 0,
        "sign_overdue": 0,
        "reply_overdue": 0,
    }
    assert waiting not in [row.order for row in response.context["rows"]]


def test_unit_inbox_tabs(client, operator, liaison_a, handler_a, head_a):
    to_sign = dispatched(operator, liaison_a.unit, title="待签收")
    in_hand = handling(operator, liaison_a, title="办理中")
    login(client, handler_a)
    client.post(reverse("hotline:act", args=[in_hand.pk, "draft_reply"]), {"text": "已处理"})
    login(client, head_a)

    response = client.get(reverse("hotline:inbox"))
    approve = client.get(reverse("hotline:inbox"), {"queue": "approve"})

    assert [row.order for row in response.context["rows"]] == [to_sign]
    assert {key: count for key, _label, count in response.context["tabs"]} == {
        "sign": 1,
        "handling": 1,
        "approve": 1,
        "returning": 0,
        "all": 2,
    }
    assert [row.order for row in approve.context["rows"]] == [in_hand]


# ------------------------------------------------------------------------------------ query counts


@pytest.mark.parametrize("count", [1, 3])
@pytest.mark.parametrize(
    ("persona", "name", "params"),
    [
        ("city_office", "hotline:order_list", {}),
        ("city_office", "hotline:order_list", {"status": "dispatched", "overdue": "sign"}),
        ("operator", "hotline:workbench", {"queue": "sign_overdue"}),
        ("liaison_a", "hotline:inbox", {"queue": "sign"}),
        ("inspector", "hotline:overdue", {}),
    ],
)
def test_list_query_count_does_not_grow(
    client, request, operator, liaison_a, django_assert_num_queries, count, persona, name, params
):
    for i in range(count):
        dispatched(operator, liaison_a.unit, title=f"工单{i}")
    user = request.getfixturevalue(persona)
    url = reverse(name, args=["sign"]) if name == "hotline:overdue" else reverse(name)
    # session, user, unit, division (the scope of division-scoped roles; a unit user's scope needs
    # none), count, one page of orders (category and main unit joined), plus one for the page's own
    # extras (the unit filter's options, or the tab counts).
    # The office and inspector users also read their two-factor device (django-otp, once per request).
    expected = {"hotline:order_list": 7, "hotline:workbench": 7, "hotline:inbox": 6, "hotline:overdue": 6}[
        name
    ] + (1 if twofactor.is_required(user) else 0)
    with time_machine.travel(EVE + dt.timedelta(days=40), tick=False):
        login(client, user)
        with django_assert_num_queries(expected):
            response = client.get(url, params)
    assert (response.status_code, len(response.context["rows"])) == (200, count)


# ------------------------------------------------------------------------------------ masking


def test_lists_never_show_a_full_phone(client, operator, city_office, inspector, liaison_a):
    handling(operator, liaison_a, allow_unit_contact=True)
    pages = []
    for user, name in (
        (operator, "hotline:order_list"),
        (operator, "hotline:workbench"),
        (city_office, "hotline:order_list"),
        (inspector, "hotline:order_list"),
        (liaison_a, "hotline:inbox"),
    ):
        body = login(client, user).get(reverse(name), {"queue": "all"}).content.decode()
        pages.append((FULL_PHONE in body, "王小明" in body))
    assert pages == [(False, False)] * 5
    body = login(client, operator).get(reverse("hotline:order_list")).content.decode()
    assert (MASKED_PHONE in body, "王**" in body) == (True, True)


def test_detail_shows_the_requester_masked(client, operator):
    order = receive(operator, requester_id_number=ID_NUMBER)
    body = login(client, operator).get(reverse("hotline:detail", args=[order.pk])).content.decode()

    assert (FULL_PHONE in body, ID_NUMBER in body, MASKED_PHONE in body, "王**" in body) == (
        False,
        False,
        True,
        True,
    )


def test_operator_reveals_the_contact_with_an_audit_row(client, operator):
    order = receive(operator)
    login(client, operator)

    response = client.post(
        reverse("hotline:requester", args=[order.pk]), {"purpose": "回访"}, headers={"HX-Request": "true"}
    )

    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card" id="requester">')
    assert (FULL_PHONE in body, "王小明" in body) == (True, True)
    row = AuditLog.objects.get(action="personal_data.viewed")
    assert (row.actor, row.data) == (
        operator,
        {"fields": ["requester_name", "requester_phone"], "purpose": "回访"},
    )


def test_inspector_reveals_the_id_number_too(client, operator, inspector):
    order = receive(operator, requester_id_number=ID_NUMBER)

    response = login(client, inspector).post(
        reverse("hotline:requester", args=[order.pk]), {"purpose": "核查"}
    )

    assert response.status_code == 200
    assert response.context["revealed"] == {
        "requester_name": "王小明",
        "requester_phone": FULL_PHONE,
        "requester_id_number": ID_NUMBER,
    }


def test_unit_is_refused_without_the_requesters_consent(client, operator, liaison_a):
    order = handling(operator, liaison_a)
    login(client, liaison_a)

    detail = client.get(reverse("hotline:detail", args=[order.pk])).content.decode()
    response = client.post(reverse("hotline:requester", args=[order.pk]), {"purpose": "联系"})

    assert ("未公开（未同意向承办单位公开）" in detail, FULL_PHONE in detail) == (True, False)
    assert response.status_code == 403
    assert response.context["reveal_error"] == "无权查看该诉求人的联系方式"
    assert FULL_PHONE not in response.content.decode()
    assert AuditLog.objects.filter(action="personal_data.viewed").count() == 0


def test_unit_sees_the_contact_when_allowed_but_never_a_confidential_one(client, operator, liaison_a, unit_a):
    allowed = handling(operator, liaison_a, allow_unit_contact=True)
    confidential = handling(operator, liaison_a, is_confidential=True, allow_unit_contact=True)
    handler = UserFactory(role=Role.HANDLER, unit=unit_a)
    login(client, handler)

    shown = client.post(reverse("hotline:requester", args=[allowed.pk]), {"purpose": "上门核实"})
    refused = client.post(
        reverse("hotline:requester", args=[confidential.pk]),
        {"purpose": "上门核实"},
        headers={"HX-Request": "true"},
    )

    assert shown.context["revealed"] == {"requester_name": "王小明", "requester_phone": FULL_PHONE}
    body = refused.content.decode()
    assert (refused.status_code, "匿名或要求保密的诉求人信息不向承办单位和坐席公开" in body) == (200, True)
    assert FULL_PHONE not in body


def test_reveal_needs_a_purpose(client, operator):
    order = receive(operator)

    response = login(client, operator).post(reverse("hotline:requester", args=[order.pk]), {"purpose": " "})

    assert (response.status_code, response.context["reveal_error"]) == (403, "查看完整个人信息须注明用途")
    assert AuditLog.objects.filter(action="personal_data.viewed").count() == 0


def test_order_page_ids_are_unique_across_action_forms(client, operator, category, discipline):
    order = receive(operator, category=category)

    body = login(client, operator).get(reverse("hotline:detail", args=[order.pk])).content.decode()

    ids = re.findall(r' id="([^"]+)"', body)
    assert len(ids) == len(set(ids))
    assert ('id="id_answer_text"' in body, 'id="id_void_reason"' in body) == (True, True)
