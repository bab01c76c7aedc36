import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from zhengfeng.core.crypto import blind_index
from zhengfeng.core.models import AuditLog
from zhengfeng.messaging import queries, services
from zhengfeng.messaging.models import Channel, OptOut, OutboxMessage, OutboxStatus
from zhengfeng.messaging.tests.conftest import PHONE, local

pytestmark = pytest.mark.django_db


def test_queue_sms_normalises_encrypts_signs_and_audits(unit_a, city_office):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False):
        message = services.queue_sms(
            to="+86 138-1234-5678", text=" 请对本次办理进行评价。 ", source=unit_a, by=city_office
        )

    message.refresh_from_db()
    assert (message.channel, message.phone, message.phone_index, message.text) == (
        Channel.SMS,
        PHONE,
        blind_index(PHONE),
        "【清远正风】请对本次办理进行评价。",
    )
    assert (message.status, message.attempts, message.next_attempt_at) == (
        OutboxStatus.PENDING,
        0,
        local(2025, 3, 3, 10),
    )
    assert (message.source_type, message.source_id, message.division_code) == ("org.unit", str(unit_a.pk), "")
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM messaging_outboxmessage WHERE id = %s", [message.pk])
        (stored,) = cursor.fetchone()
    assert stored.startswith("sm4gcm:v1:")
    row = AuditLog.objects.get(action="messaging.queued")
    assert (row.actor, row.target_id, row.data) == (
        city_office,
        str(message.pk),
        {
            "channel": "sms",
            "to": "138****5678",
            "source": f"org.unit:{unit_a.pk}",
            "due": "2025-03-03T02:00:00+00:00",
        },
    )


def test_signature_is_not_doubled_and_not_before_sets_the_due_time():
    with time_machine.travel(local(2025, 3, 3, 10), tick=False):
        message = services.queue_sms(
            to=PHONE,
            text="【清远正风】已签名",
            source=("hotline.workorder", "42"),
            not_before=local(2025, 3, 3, 15),
        )

    assert (message.text, message.next_attempt_at) == ("【清远正风】已签名", local(2025, 3, 3, 15))
    assert (message.source_type, message.source_id) == ("hotline.workorder", "42")


@pytest.mark.parametrize(
    ("phone", "error"),
    [
        ("1381234567", "手机号码应为 11 位，当前为 10 位：1381234567"),
        ("1381234567a", "手机号码只能包含数字：1381234567a"),
        ("12345678901", "不是有效的中国大陆手机号码（应以 13–19 开头）：12345678901"),
        ("", "手机号码不能为空"),
    ],
)
def test_invalid_phone_is_rejected_with_the_reason_and_nothing_is_saved(phone, error):
    with pytest.raises(ValidationError) as excinfo:
        services.queue_sms(to=phone, text="测试")

    assert excinfo.value.messages == [error]
    assert OutboxMessage.objects.count() == 0
    assert AuditLog.objects.count() == 0


def test_empty_and_overlong_sms_text_are_rejected():
    with pytest.raises(ValidationError) as empty:
        services.queue_sms(to=PHONE, text="   ")
    with pytest.raises(ValidationError) as long:
        services.queue_sms(to=PHONE, text="字" * 495)

    assert empty.value.messages == ["短信内容不能为空"]
    assert long.value.messages == ["短信内容过长：共 501 字，最多 500 字"]
    assert OutboxMessage.objects.count() == 0


def test_naive_not_before_is_rejected():
    with pytest.raises(ValidationError, match="发送时间必须带时区：2025-03-03T10:00:00"):
        services.queue_sms(to=PHONE, text="测试", not_before=local(2025, 3, 3, 10).replace(tzinfo=None))
    assert OutboxMessage.objects.count() == 0


def test_sms_to_an_opted_out_number_is_recorded_cancelled_and_never_sent():
    services.opt_out(phone=PHONE)

    message = services.queue_sms(to="138 1234 5678", text="测试")

    assert (message.status, message.last_error) == (OutboxStatus.CANCELLED, "对方已回复退订，不再发送短信")
    assert AuditLog.objects.filter(action="messaging.cancelled", target_id=str(message.pk)).count() == 1
    assert services.is_opted_out(PHONE) is True
    assert services.is_opted_out("13900000000") is False


def test_opt_out_cancels_pending_sms_of_that_number_only():
    mine = services.queue_sms(to=PHONE, text="一")
    services.queue_sms(to="13900000000", text="二")

    record = services.opt_out(phone=PHONE)
    again = services.opt_out(phone=PHONE)

    assert record.pk == again.pk
    assert OptOut.objects.count() == 1
    assert list(OutboxMessage.objects.order_by("id").values_list("status", flat=True)) == [
        OutboxStatus.CANCELLED,
        OutboxStatus.PENDING,
    ]
    assert OutboxMessage.objects.get(pk=mine.pk).last_error == "对方已回复退订，不再发送短信"
    assert [row.data for row in AuditLog.objects.filter(action="messaging.opted_out").order_by("seq")] == [
        {"phone": "138****5678", "cancelled": 1, "new": True},
        {"phone": "138****5678", "cancelled": 0, "new": False},
    ]


def test_queue_email_validates_the_address():
    message = services.queue_email(to=" liaison@example.gov.cn ", subject="催办", text="请于三日内答复。")

    assert (message.channel, message.email, message.subject, message.status) == (
        Channel.EMAIL,
        "liaison@example.gov.cn",
        "催办",
        OutboxStatus.PENDING,
    )
    with pytest.raises(ValidationError) as excinfo:
        services.queue_email(to="not-an-address", subject="催办", text="正文")
    assert excinfo.value.messages == ["电子邮箱地址无效：not-an-address"]
    assert OutboxMessage.objects.count() == 1


def test_cancel_message_only_cancels_pending(city_office):
    message = services.queue_sms(to=PHONE, text="测试")

    assert services.cancel_message(message, reason="工单已撤回", by=city_office) is True
    assert services.cancel_message(message, reason="再次取消", by=city_office) is False
    assert (message.status, message.last_error) == (OutboxStatus.CANCELLED, "工单已撤回")
    assert AuditLog.objects.filter(action="messaging.cancelled").count() == 1


def test_inapp_inbox_read_and_unread(liaison_a, liaison_b, city_office, unit_a):
    with time_machine.travel(local(2025, 3, 3, 9), tick=False):
        first = services.queue_inapp(
            user=liaison_a, subject="催办通知", text="请及时签收工单。", by=city_office
        )
    with time_machine.travel(local(2025, 3, 3, 10), tick=False):
        second = services.queue_inapp(
            user=liaison_a, subject="季度报送", text="请报送一季度台帐。", source=unit_a
        )
    services.queue_inapp(user=liaison_b, subject="别人的", text="不在甲的收件箱")

    assert list(queries.inapp_for(liaison_a)) == [second, first]
    assert (first.status, first.sent_at, first.division_code) == (
        OutboxStatus.SENT,
        local(2025, 3, 3, 9),
        "441800",
    )
    assert queries.unread_count(liaison_a) == 2

    with pytest.raises(PermissionDenied):
        services.mark_read(first, by=liaison_b)
    with time_machine.travel(local(2025, 3, 3, 11), tick=False):
        services.mark_read(first, by=liaison_a)
        services.mark_read(first, by=liaison_a)

    assert first.read_at == local(2025, 3, 3, 11)
    assert queries.unread_count(liaison_a) == 1
    assert AuditLog.objects.filter(action="messaging.read").count() == 1
    assert services.mark_all_read(by=liaison_a) == 1
    assert queries.unread_count(liaison_a) == 0


def test_inapp_requires_a_user_and_a_subject(liaison_a):
    with pytest.raises(ValidationError, match="站内消息必须指定接收用户"):
        services.queue_inapp(user=None, subject="标题", text="内容")
    with pytest.raises(ValidationError, match="消息标题不能为空"):
        services.queue_inapp(user=liaison_a, subject=" ", text="内容")
    assert OutboxMessage.objects.count() == 0


def test_outbox_for_is_scoped_by_division(county_office, city_office, liaison_a):
    city_row = services.queue_sms(to=PHONE, text="市级", division_code="441800")
    county_row = services.queue_sms(to=PHONE, text="区级", division_code="441802")

    assert list(queries.outbox_for(city_office)) == [county_row, city_row]
    assert list(queries.outbox_for(county_office)) == [county_row]
    assert list(queries.outbox_for(liaison_a)) == []
