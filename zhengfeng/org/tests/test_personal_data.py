import pytest
from django.core.exceptions import PermissionDenied
from django.template import Context, Template

from zhengfeng.core.models import AuditLog
from zhengfeng.org.personal_data import reveal
from zhengfeng.org.services import set_person_phone
from zhengfeng.testing.factories import PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(db):
    person = PersonFactory.create(name="王小明")
    set_person_phone(person, "138 1234 5678")
    person.save()
    return person


def test_phone_is_encrypted_at_rest_and_blind_indexed(person):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, phone_index FROM org_person WHERE id = %s", [person.pk])
        stored_phone, stored_index = cursor.fetchone()

    assert stored_phone.startswith("sm4gcm:v1:")
    assert "13812345678" not in stored_phone
    assert type(person).objects.get(pk=person.pk).phone == "13812345678"
    assert type(person).objects.filter(phone_index=stored_index).get() == person


def test_inspector_sees_full_phone_and_the_view_is_audited(person, inspector):
    values = reveal(person, ["phone"], by=inspector, purpose="核查投诉线索")

    assert values == {"phone": "13812345678"}
    row = AuditLog.objects.get(action="personal_data.viewed")
    assert (row.actor, row.target_type, row.target_id, row.data) == (
        inspector,
        "org.person",
        str(person.pk),
        {"fields": ["phone"], "purpose": "核查投诉线索"},
    )


def test_other_roles_are_refused_and_nothing_is_audited(person, liaison_a, city_office):
    for user in (liaison_a, city_office):
        with pytest.raises(PermissionDenied):
            reveal(person, ["phone"], by=user, purpose="好奇")
    assert AuditLog.objects.filter(action="personal_data.viewed").count() == 0


def test_purpose_is_required(person, inspector):
    with pytest.raises(PermissionDenied, match="注明用途"):
        reveal(person, ["phone"], by=inspector, purpose="  ")


def test_mask_filters_in_templates(person):
    rendered = Template("{% load masking %}{{ p.phone|mask_phone }} {{ p.name|mask_name }}").render(
        Context({"p": person})
    )
    assert rendered == "138****5678 王**"


def test_a_domain_rule_may_grant_the_view_but_it_is_still_audited_and_needs_a_purpose(person, liaison_a):
    values = reveal(person, ["phone"], by=liaison_a, purpose="回访诉求人", granted_by_domain_rule=True)

    assert values == {"phone": "13812345678"}
    assert AuditLog.objects.filter(action="personal_data.viewed", actor=liaison_a).count() == 1
    with pytest.raises(PermissionDenied, match="注明用途"):
        reveal(person, ["phone"], by=liaison_a, purpose="", granted_by_domain_rule=True)
