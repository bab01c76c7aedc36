"""`zhengfeng keys rotate` over real rows of every app (the staff shell may import them all).

Each test writes rows under the suite's key (OLD), then switches to NEW with OLD as the previous key,
as an operator does, and rotates.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection, models

from zhengfeng.core import crypto, keys
from zhengfeng.core.audit import verify_chain
from zhengfeng.core.models import AuditLog, FieldKeyCheck, KeyRotation
from zhengfeng.hotline import services as hotline
from zhengfeng.hotline.models import WorkOrder
from zhengfeng.messaging import services as messaging
from zhengfeng.messaging.models import OptOut, OutboxMessage
from zhengfeng.org.models import Person
from zhengfeng.org.services import set_person_phone
from zhengfeng.testing.factories import PersonFactory

pytestmark = pytest.mark.django_db

OLD = "test-only-field-encryption-key"
NEW = "the-new-field-encryption-key-2027"
PHONES = ["13800138001", "13800138002", "13800138003"]
ID_NUMBER = "441802199001011239"


@pytest.fixture
def rows(city, settings):
    assert settings.FIELD_ENCRYPTION_KEY == OLD
    people = []
    for number, phone in enumerate(PHONES):
        person = PersonFactory.create(name=f"人员{number}")
        set_person_phone(person, phone)
        person.save()
        people.append(person)
    order = hotline.receive_work_order(
        by=None,
        channel="phone",
        request_type="inquiry",
        title="咨询",
        content="内容",
        division="441800",
        requester_name="王小明",
        requester_phone=PHONES[0],
        requester_id_number=ID_NUMBER,
        query_password="123456",
    ).order
    messaging.queue_sms(to=PHONES[1], text="测试短信")
    messaging.opt_out(phone=PHONES[2])
    return people, order


def _switch_to_new_key(settings) -> None:
    settings.FIELD_ENCRYPTION_KEY = NEW
    settings.FIELD_ENCRYPTION_KEY_PREVIOUS = OLD


def _raw(model: type[models.Model], column: str, pk: int) -> str:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(column)} FROM {quote(model._meta.db_table)} WHERE id = %s",  # noqa: S608
            [pk],
        )
        return str(cursor.fetchone()[0])


def _write_raw(model: type[models.Model], column: str, pk: int, value: str) -> None:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(model._meta.db_table)} SET {quote(column)} = %s WHERE id = %s",  # noqa: S608
            [value, pk],
        )


def _encrypted_under(secret: str, plaintext: str, settings) -> str:
    current = settings.FIELD_ENCRYPTION_KEY
    settings.FIELD_ENCRYPTION_KEY = secret
    try:
        return crypto.encrypt_text(plaintext)
    finally:
        settings.FIELD_ENCRYPTION_KEY = current


def test_rows_under_the_old_key_are_readable_and_searchable_after_rotation(rows, settings):
    people, order = rows
    _switch_to_new_key(settings)
    # Before the rotation: readable through the previous key.
    assert Person.objects.get(pk=people[0].pk).phone == PHONES[0]

    call_command("keys", "rotate", "--batch-size", "2")

    settings.FIELD_ENCRYPTION_KEY_PREVIOUS = ""
    for person, phone in zip(people, PHONES, strict=True):
        stored = _raw(Person, "phone", person.pk)
        assert crypto.decrypt_text(stored, keys=[NEW]) == phone
        assert Person.objects.get(phone_index=crypto.blind_index(phone)).pk == person.pk
    found = WorkOrder.objects.get(phone_index=crypto.blind_index(PHONES[0]))
    assert (found.pk, found.requester_name, found.requester_phone, found.requester_id_number) == (
        order.pk,
        "王小明",
        PHONES[0],
        ID_NUMBER,
    )
    assert WorkOrder.objects.filter(id_number_index=crypto.blind_index(ID_NUMBER)).count() == 1
    # A query password is never stored: the old key's pepper was kept, so it still verifies.
    assert hotline.check_query_password(found, "123456") is True
    assert hotline.check_query_password(found, "123457") is False
    assert OutboxMessage.objects.get(phone_index=crypto.blind_index(PHONES[1])).phone == PHONES[1]
    assert messaging.is_opted_out(PHONES[2]) is True
    assert OptOut.objects.get().phone == PHONES[2]
    assert FieldKeyCheck.objects.get().check_value == crypto.key_check_value(NEW)
    assert keys.key_problem() is None
    rotation = KeyRotation.objects.get()
    assert rotation.finished_at is not None
    assert [row.action for row in AuditLog.objects.filter(action__startswith="keys.").order_by("seq")] == [
        "keys.rotation_started",
        "keys.rotation_finished",
    ]
    assert verify_chain()[1] is None
    # The old key alone no longer opens anything.
    settings.FIELD_ENCRYPTION_KEY = OLD
    assert keys.key_problem() is not None
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_text(_raw(Person, "phone", people[0].pk))


def test_an_interrupted_rotation_continues_where_it_stopped(rows, settings):
    people, order = rows
    # The second person's phone is under neither key: the rotation stops inside that batch.
    _write_raw(Person, "phone", people[1].pk, _encrypted_under("a-third-key-nobody-has", PHONES[1], settings))
    _switch_to_new_key(settings)

    with pytest.raises(keys.RotationError) as failure:
        keys.rotate(batch_size=1)

    assert str(failure.value) == (
        f"org.Person #{people[1].pk} 无法解密（密文校验失败：密钥不符或数据被篡改）："
        "此前的批次已保存，修复该行后重新运行即可继续"
    )
    rotation = KeyRotation.objects.get()
    assert rotation.finished_at is None
    assert rotation.progress["org.Person"] == people[0].pk
    assert rotation.progress["hotline.WorkOrder"] == keys.DONE
    # The batch before the failure is under the new key, the failed one and those after it are not.
    assert crypto.decrypt_text(_raw(Person, "phone", people[0].pk), keys=[NEW]) == PHONES[0]
    assert crypto.decrypt_text(_raw(Person, "phone", people[2].pk), keys=[OLD]) == PHONES[2]
    assert FieldKeyCheck.objects.get().check_value == crypto.key_check_value(OLD)

    _write_raw(Person, "phone", people[1].pk, _encrypted_under(OLD, PHONES[1], settings))
    keys.rotate(batch_size=1)

    settings.FIELD_ENCRYPTION_KEY_PREVIOUS = ""
    assert [Person.objects.get(pk=person.pk).phone for person in people] == PHONES
    assert Person.objects.get(phone_index=crypto.blind_index(PHONES[1])).pk == people[1].pk
    assert hotline.check_query_password(WorkOrder.objects.get(pk=order.pk), "123456") is True
    assert KeyRotation.objects.get().finished_at is not None
    assert AuditLog.objects.filter(action="keys.rotation_started").count() == 1
    assert AuditLog.objects.filter(action="keys.rotation_finished").count() == 1
    assert FieldKeyCheck.objects.get().check_value == crypto.key_check_value(NEW)


def test_a_wrong_previous_key_is_refused_and_nothing_changes(rows, settings):
    people, _ = rows
    before = _raw(Person, "phone", people[0].pk)
    settings.FIELD_ENCRYPTION_KEY = NEW
    settings.FIELD_ENCRYPTION_KEY_PREVIOUS = "not-the-key-of-this-database"

    with pytest.raises(keys.KeyOperationError) as refused:
        keys.rotate()

    assert str(refused.value) == (
        "FIELD_ENCRYPTION_KEY_PREVIOUS 不是本数据库当前的加密密钥（密钥校验值不符），拒绝轮换：请设置正确的旧密钥"
    )
    assert KeyRotation.objects.count() == 0
    assert _raw(Person, "phone", people[0].pk) == before
    assert AuditLog.objects.filter(action__startswith="keys.").count() == 0


@pytest.mark.parametrize(
    ("current", "previous", "message"),
    [
        (
            NEW,
            "",
            "轮换密钥需要设置 FIELD_ENCRYPTION_KEY_PREVIOUS（旧密钥）和 FIELD_ENCRYPTION_KEY（新密钥）",
        ),
        (NEW, NEW, "FIELD_ENCRYPTION_KEY_PREVIOUS 与 FIELD_ENCRYPTION_KEY 相同：新密钥必须不同于旧密钥"),
        (
            OLD,
            NEW,
            "数据库已使用当前的 FIELD_ENCRYPTION_KEY，无需轮换（可以删除 FIELD_ENCRYPTION_KEY_PREVIOUS）",
        ),
    ],
)
def test_rotation_needs_a_new_key_and_the_old_one(rows, settings, current, previous, message):
    settings.FIELD_ENCRYPTION_KEY = current
    settings.FIELD_ENCRYPTION_KEY_PREVIOUS = previous

    with pytest.raises(keys.KeyOperationError) as refused:
        keys.rotate()

    assert str(refused.value) == message
    assert KeyRotation.objects.count() == 0


def test_every_blind_index_column_is_declared_for_rotation():
    """A new `*_index` column left out of BLIND_INDEXES would keep the old key's values after a rotation."""
    undeclared = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if field.name.endswith("_index")
        and isinstance(field, models.CharField)
        and field.max_length == 64
        and field.name not in getattr(model, "BLIND_INDEXES", {})
    ]
    declared = {keyed.label: keyed.indexes for keyed in keys.keyed_models() if keyed.indexes}

    assert undeclared == []
    assert declared == {
        "evaluation.EnforcementAction": {
            "subject_name_index": "subject_name",
            "subject_phone_index": "subject_phone",
        },
        "evaluation.Evaluation": {"phone_index": "action.subject_phone"},
        "evaluation.OnlineVote": {"phone_index": "phone"},
        "evaluation.VoteVerification": {"phone_index": "phone"},
        "hotline.WorkOrder": {"phone_index": "requester_phone", "id_number_index": "requester_id_number"},
        "messaging.InboundSms": {"phone_index": "phone"},
        "messaging.OptOut": {"phone_index": "phone"},
        "messaging.OutboxMessage": {"phone_index": "phone"},
        "org.Person": {"phone_index": "phone", "id_number_index": "id_number"},
    }
