import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection

from zhengfeng.core.models import AuditLog
from zhengfeng.evaluation import services
from zhengfeng.evaluation.models import ActionSource, EnforcementAction, Evaluation, EvaluationStatus
from zhengfeng.evaluation.tests.conftest import NOW, PHONE, invite, local, record, send_due
from zhengfeng.messaging import services as messaging
from zhengfeng.messaging.models import OutboxMessage, OutboxStatus

pytestmark = pytest.mark.django_db


def test_an_action_queues_one_invitation_after_the_delay(year, unit_a, zhang, fake_carrier):
    action = record(unit_a, zhang)

    message = action.evaluation.message
    assert message.next_attempt_at == NOW + dt.timedelta(minutes=30)
    assert message.text == (
        "【清远正风】您好！清远市甲局张三同志于11月20日对贵单位开展了执法检查，"
        "请回复数字评价：1满意 2基本满意 3不满意。"
    )
    assert message.phone == PHONE
    assert (message.source_type, message.source_id) == ("evaluation.enforcementaction", str(action.pk))
    assert OutboxMessage.objects.count() == 1
    assert send_due(NOW + dt.timedelta(minutes=29)) == 0
    assert send_due(NOW + dt.timedelta(minutes=30)) == 1
    assert [sms["to"] for sms in fake_carrier] == [PHONE]


def test_the_delay_is_a_setting(settings, year, unit_a, zhang):
    settings.EVALUATION_SMS_DELAY_MINUTES = 5

    action = record(unit_a, zhang)

    assert action.evaluation.message.next_attempt_at == NOW + dt.timedelta(minutes=5)


def test_quiet_hours_hold_the_invitation_until_morning(year, unit_a, zhang):
    # Entered at 20:45: due at 21:15, inside 21:00-08:00, so messaging moves it to 08:00.
    action = record(unit_a, zhang, at=local(11, 20, 20, 45))

    assert action.evaluation.message.next_attempt_at == local(11, 21, 8, 0)
    assert send_due(local(11, 20, 23, 0)) == 0
    assert send_due(local(11, 21, 8, 0)) == 1


def test_several_staff_and_the_year_template(year, unit_a, zhang, li):
    services.update_year(year, sms_template="{unit}{staff}于{date}{action}，请评价：1满意 2基本满意 3不满意")

    action = record(unit_a, [zhang, li], kind="supervision")

    assert (
        action.evaluation.message.text
        == "【清远正风】清远市甲局张三、李四于11月20日监督检查，请评价：1满意 2基本满意 3不满意"
    )
    assert list(action.staff.order_by("action_links__id")) == [zhang, li]


def test_personal_data_is_encrypted_and_masked_in_the_audit_log(year, unit_a, zhang):
    action = record(unit_a, zhang, name="某某餐饮店")

    with connection.cursor() as cursor:
        table = EnforcementAction._meta.db_table
        cursor.execute(f"SELECT subject_name, subject_phone FROM {table} WHERE id = %s", [action.pk])  # noqa: S608
        stored = cursor.fetchone()
    assert [value[:10] for value in stored] == ["sm4gcm:v1:", "sm4gcm:v1:"]
    row = AuditLog.objects.get(action="evaluation.action_recorded")
    assert row.data["to"] == "138****5678"
    assert PHONE not in str(row.data)
    assert "某某餐饮店" not in str(row.data)


def test_an_opted_out_number_gets_no_invitation(year, unit_a, zhang):
    messaging.opt_out(phone=PHONE)

    action = record(unit_a, zhang)

    assert action.evaluation.message.status == OutboxStatus.CANCELLED
    assert action.evaluation.status == EvaluationStatus.NOT_SENT


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"subject_phone": "12345"}, "执法对象的手机号码应为 11 位，当前为 5 位：12345"),
        ({"subject_name": " "}, "执法对象名称不能为空"),
        ({"action_type": "抽查"}, "未知的执法类型“抽查”"),
        ({"acted_at": NOW + dt.timedelta(hours=1)}, "执法时间 2015-11-20 11:00 晚于当前时间"),
        (
            {"acted_at": dt.datetime(2014, 5, 1, 10, tzinfo=NOW.tzinfo)},
            "市甲局不是 2014 年公述民评的评议单位",
        ),
        ({"staff": []}, "至少选择一名执法人员"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_saved(year, unit_a, zhang, changes, message):
    arguments = {
        "unit": unit_a,
        "staff": [zhang],
        "action_type": "inspection",
        "acted_at": NOW,
        "subject_name": "某某餐饮店",
        "subject_phone": PHONE,
        "source": ActionSource.MANUAL,
        **changes,
    }
    with time_machine.travel(NOW, tick=False), pytest.raises(ValidationError) as error:
        services.record_action(**arguments)

    assert any(text.startswith(message) for text in error.value.messages), error.value.messages
    assert (EnforcementAction.objects.count(), Evaluation.objects.count(), OutboxMessage.objects.count()) == (
        0,
        0,
        0,
    )


def test_staff_of_another_unit_is_refused(year, unit_a, zhang, wang):
    with pytest.raises(ValidationError) as error:
        record(unit_a, [zhang, wang])

    assert error.value.messages == ["王五不是市甲局的执法监督人员"]


def test_a_unit_in_no_year_is_refused(year, zhang, county_unit):
    member = services.create_staff(unit=county_unit, name="赵六", title="科员")

    with pytest.raises(ValidationError) as error:
        record(county_unit, member)

    assert error.value.messages == ["清城区甲局不是 2015 年公述民评的评议单位"]


def test_a_unit_is_key_in_one_year_only(year, qingcheng, unit_a):
    with pytest.raises(ValidationError) as error:
        services.create_year(division=qingcheng, year=2015, key_units=[unit_a])

    assert error.value.messages == [
        "一个单位每年只能列入一个公述民评年度：市甲局（已列入2015年清远市“公述民评”）"
    ]


def test_templates_with_unknown_placeholders_are_refused(year):
    with pytest.raises(ValidationError) as error:
        services.update_year(year, sms_template="{unit}{name}请回复")

    assert error.value.messages == ["短信模板含有未知占位符 {name}；可用：{unit}、{staff}、{date}、{action}"]


def test_find_staff_by_name(unit_a, zhang, li):
    assert services.find_staff(unit_a, " 张三 ") == zhang
    with pytest.raises(ValidationError) as unknown:
        services.find_staff(unit_a, "张四")
    assert unknown.value.messages == ["市甲局没有名为“张四”的在岗执法监督人员"]
    services.create_staff(unit=unit_a, name="张三", title="科员")
    with pytest.raises(ValidationError) as ambiguous:
        services.find_staff(unit_a, "张三")
    assert ambiguous.value.messages == [
        "市甲局有 2 名名为“张三”的在岗执法监督人员，无法确定是哪一位（请在单位页面录入并选择人员）"
    ]


def test_invitation_is_sent_by_the_worker(year, unit_a, zhang):
    evaluation = invite(unit_a, zhang)

    assert evaluation.message.sent_at == NOW + dt.timedelta(minutes=30)
    assert evaluation.status == EvaluationStatus.SENT
