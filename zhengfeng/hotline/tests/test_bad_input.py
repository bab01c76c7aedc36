"""Bad input gets a clear Chinese error naming the value, and nothing is half-saved."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command

from zhengfeng.core.models import AuditLog
from zhengfeng.deadlines.models import Clock
from zhengfeng.hotline import services
from zhengfeng.hotline.models import WorkOrder, WorkOrderEvent
from zhengfeng.org import validators

from .conftest import EVE, dispatched, receive


def _counts():
    return (
        WorkOrder.objects.count(),
        WorkOrderEvent.objects.count(),
        AuditLog.objects.count(),
        Clock.objects.count(),
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"requester_phone": "1380013800"}, "手机号码应为 11 位，当前为 10 位：1380013800"),
        ({"requester_phone": "12345678901"}, "不是有效的中国大陆手机号码"),
        ({"requester_phone": "138abc"}, "手机号码只能包含数字：138abc"),
        ({"title": "路" * 201}, "标题过长：共 201 字，最多 200 字"),
        ({"content": "字" * 4001}, "诉求内容过长：共 4001 字，最多 4000 字"),
        ({"content": "   "}, "诉求内容不能为空"),
        ({"category": "999999"}, "未知的诉求分类 '999999'"),
        ({"division": "449999"}, "未知的行政区划代码 '449999'"),
        ({"channel": "fax"}, "未知的来源渠道 'fax'"),
        ({"request_type": "thanks"}, "未知的诉求类型 'thanks'"),
        ({"requester_id_number": "441802199001010018"}, "身份证号码校验位错误：应为 7，实为 8"),
        ({"latitude": "95", "longitude": "113"}, "纬度 95 超出范围"),
        ({"latitude": "23.7"}, "经纬度须同时填写或同时留空"),
    ],
)
def test_intake_rejects_bad_values(operator, overrides, message):
    before = _counts()
    with pytest.raises(ValidationError) as error:
        receive(operator, **overrides)
    assert message in error.value.messages[0]
    assert _counts() == before


def test_landline_is_accepted_but_gets_no_sms(operator):
    order = receive(operator, requester_phone="0763-3381234")
    assert order.requester_phone == "07633381234"
    assert validators.is_mobile(order.requester_phone) is False


def test_duplicate_external_id_is_refused(operator):
    first = receive(operator, external_id="GD12345-0001")
    with pytest.raises(ValidationError, match=f"外部编号 GD12345-0001 已登记为工单 {first.code}"):
        receive(operator, external_id="GD12345-0001")
    assert WorkOrder.objects.count() == 1


def test_wrong_state_is_refused(operator, liaison_a):
    order = receive(operator)
    with pytest.raises(PermissionDenied, match=r"无权对工单 .* 执行“签收”"):
        services.transition(order, "sign", by=liaison_a, at=EVE)
    with pytest.raises(ValidationError, match="当前状态为“已受理”，不能答复审核"):
        services.transition(order, "review_reply", by=operator, at=EVE, approve=True)


def test_double_submit_is_refused_cleanly(operator, liaison_a):
    order = dispatched(operator, liaison_a.unit)
    services.transition(order, "sign", by=liaison_a, at=EVE)
    before = _counts()
    with pytest.raises(ValidationError, match="当前状态为“办理中”，不能签收"):
        services.transition(order, "sign", by=liaison_a, at=EVE)
    stale = WorkOrder.objects.get(pk=order.pk)
    stale.status = "dispatched"  # a second browser tab still showing the old state
    with pytest.raises(ValidationError, match="不能签收"):
        services.transition(stale, "sign", by=liaison_a, at=EVE)
    assert _counts() == before


def test_double_dispatch_is_refused(operator, unit_a, unit_b):
    order = dispatched(operator, unit_a)
    with pytest.raises(ValidationError, match="当前状态为“待签收”，不能派单"):
        services.transition(order, "dispatch", by=operator, at=EVE, main_unit=unit_b)
    assert order.assignments.count() == 1


def test_dispatch_without_rule_needs_a_unit(operator, other_category):
    order = receive(operator, category=other_category)
    with pytest.raises(ValidationError, match="派单目录中没有“教育文体/教育/招生”"):
        services.transition(order, "dispatch", by=operator, at=EVE)
    order.refresh_from_db()
    assert (order.status, order.assignments.count()) == ("received", 0)


def test_dispatch_rejects_same_unit_as_main_and_co(operator, unit_a):
    order = receive(operator)
    with pytest.raises(ValidationError, match="主办单位和协办单位不能相同"):
        services.transition(order, "dispatch", by=operator, at=EVE, main_unit=unit_a, co_units=[unit_a])
    assert Clock.objects.count() == 0


def test_oversized_reply_is_refused(operator, liaison_a, handler_a):
    from .conftest import handling

    order = handling(operator, liaison_a)
    with pytest.raises(ValidationError, match="答复内容过长：共 4001 字"):
        services.transition(order, "draft_reply", by=handler_a, at=EVE, text="答" * 4001)
    order.refresh_from_db()
    assert order.status == "handling"


def test_unknown_action_and_naive_time(operator):
    order = receive(operator)
    with pytest.raises(ValidationError, match="未知的工单操作 'close'"):
        services.transition(order, "close", by=operator)
    import datetime as dt

    with pytest.raises(ValidationError, match="带时区"):
        services.transition(order, "void", by=operator, at=dt.datetime(2026, 10, 1, 9, 0), reason="x")  # noqa: DTZ001


def test_action_before_intake_is_refused(operator, unit_a):
    order = receive(operator)
    with pytest.raises(ValidationError, match="不能早于受理时间"):
        services.transition(order, "dispatch", by=operator, at=EVE.replace(hour=9), main_unit=unit_a)


def test_void_needs_a_reason(operator):
    order = receive(operator)
    with pytest.raises(ValidationError, match="作废理由不能为空"):
        services.transition(order, "void", by=operator, at=EVE)
    services.transition(order, "void", by=operator, at=EVE, reason="重复来电，已合并")
    order.refresh_from_db()
    assert order.status == "voided"


def test_referral_only_to_a_discipline_unit(operator, unit_a):
    order = receive(operator)
    with pytest.raises(ValidationError, match="不是纪检监察机关"):
        services.transition(order, "refer", by=operator, at=EVE, to_unit=unit_a, reason="x")


def test_categories_command_reports_bad_lines(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("一级分类,二级分类,三级分类\n城乡建设,,事故处理\n,安全,x\n", encoding="utf-8")
    with pytest.raises(
        CommandError, match="第 2 行：有三级分类“事故处理”但缺少二级分类；第 3 行：缺少一级分类"
    ):
        call_command("hotline", "categories", str(path))


def test_anonymous_intake_drops_the_name_and_phone(operator):
    # The service, not a form, applies the rule: even an unchecked phone is dropped, not refused.
    order = receive(
        operator,
        requester_name="王小明",
        requester_phone="12",
        requester_id_number="441802199001010017",
        is_anonymous=True,
        allow_unit_contact=True,
    )

    order.refresh_from_db()
    assert (
        order.is_anonymous,
        order.requester_name,
        order.requester_phone,
        order.phone_index,
        order.requester_id_number,
        order.allow_unit_contact,
        order.callback_expected,
    ) == (True, "", "", "", "441802199001010017", False, False)


def test_intake_check_reports_every_bad_field_with_its_code():
    # One check for every channel: each interface words the codes its own way (Open311 does).
    with pytest.raises(ValidationError) as error:
        services.check_intake(title="路" * 201, content=" ", address="", latitude="north", longitude="")

    assert {
        field: [(e.code, e.params, e.messages[0]) for e in errors]
        for field, errors in error.value.error_dict.items()
    } == {
        "title": [
            ("too_long", {"label": "标题", "length": 201, "limit": 200}, "标题过长：共 201 字，最多 200 字")
        ],
        "content": [("required", {"label": "诉求内容"}, "诉求内容不能为空")],
        "latitude": [
            (
                "invalid",
                {"label": "纬度", "value": "north", "shown": "'north'"},
                "纬度 'north' 不是有效的数字",
            )
        ],
        "longitude": [("unpaired", {}, "经纬度须同时填写或同时留空")],
    }


def test_intake_check_returns_the_stripped_text_and_parsed_coordinates():
    checked = services.check_intake(
        title=" 路灯不亮 ", content="坏了一周", address=" 人民路 1 号 ", latitude="23.7", longitude=113
    )

    assert checked == services.CheckedIntake(
        title="路灯不亮",
        content="坏了一周",
        address="人民路 1 号",
        latitude=Decimal("23.700000"),
        longitude=Decimal("113.000000"),
    )
