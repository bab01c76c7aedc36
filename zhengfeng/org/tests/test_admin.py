"""The admin: every list renders, phones are masked, units and keys are written through the services."""

import pytest
from django.contrib.messages import get_messages

from zhengfeng.core.models import AuditLog
from zhengfeng.org.models import ApiKey, Person, Unit, User
from zhengfeng.org.services import create_person, hash_api_secret
from zhengfeng.testing.factories import PositionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("model", ["division", "unit", "person", "position", "user", "apikey"])
def test_lists_and_add_forms_render(admin_client, model, unit_a, liaison_a):
    assert admin_client.get(f"/admin/org/{model}/").status_code == 200
    assert admin_client.get(f"/admin/org/{model}/add/").status_code == 200


def test_person_list_and_form_never_show_the_phone(admin_client, unit_a):
    person = create_person(name="王小明", external_id="P001", phone="13902630001")
    PositionFactory(person=person, unit=unit_a)

    listing = admin_client.get("/admin/org/person/").content.decode()
    form = admin_client.get(f"/admin/org/person/{person.pk}/change/").content.decode()
    assert "139****0001" in listing
    assert "13902630001" not in listing
    assert "13902630001" not in form
    # The number can still be found, through its blind index.
    assert "王小明" in admin_client.get("/admin/org/person/", {"q": "139 0263 0001"}).content.decode()


def test_changing_a_phone_in_the_admin(admin_client):
    person = create_person(name="王小明", external_id="P001", phone="13902630001")
    response = admin_client.post(
        f"/admin/org/person/{person.pk}/change/",
        {
            "name": "王小明",
            "new_phone": "13902630002",
            "positions-TOTAL_FORMS": "0",
            "positions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    assert Person.objects.get(pk=person.pk).phone == "13902630002"
    assert AuditLog.objects.filter(action="person.updated").count() == 1


def test_adding_a_unit_goes_through_the_service(admin_client, city):
    response = admin_client.post(
        "/admin/org/unit/add/",
        {
            "code": "441800-SFJ",
            "name": "市司法局",
            "kind": "government",
            "division": "441800",
            "uscc": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    unit = Unit.objects.get(code="441800-SFJ")
    assert unit.uscc is None
    assert AuditLog.objects.get(action="unit.created").target_id == str(unit.pk)


def test_a_bad_uscc_is_a_form_error(admin_client, city):
    response = admin_client.post(
        "/admin/org/unit/add/",
        {
            "code": "441800-SFJ",
            "name": "市司法局",
            "kind": "government",
            "division": "441800",
            "uscc": "91350100M000100Y44",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["uscc"] == [
        "统一社会信用代码校验位错误：应为 3，实为 4：91350100M000100Y44"
    ]
    assert Unit.objects.count() == 0


def test_creating_a_key_in_the_admin_shows_it_once(admin_client):
    response = admin_client.post(
        "/admin/org/apikey/add/", {"name": "12345 平台", "scope_choices": ["hotline"]}
    )
    assert response.status_code == 302
    key = ApiKey.objects.get()
    shown = [
        str(message) for message in get_messages(response.wsgi_request) if "只显示这一次" in str(message)
    ]
    assert len(shown) == 1
    token = shown[0].rsplit("：", 1)[1]
    assert key.key_hash == hash_api_secret(token.split("_", 2)[2])
    # Shown on the page after the redirect, then never again.
    assert token in admin_client.get("/admin/org/apikey/").content.decode()
    assert token not in admin_client.get("/admin/org/apikey/").content.decode()
    assert token not in admin_client.get(f"/admin/org/apikey/{key.pk}/change/").content.decode()


def test_user_admin_requires_a_unit_except_for_administrators(admin_client, unit_a):
    data = {
        "username": "newbie",
        "role": "liaison",
        "password1": "a-long-enough-pw",
        "password2": "a-long-enough-pw",
    }
    response = admin_client.post("/admin/org/user/add/", data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["unit"] == [
        "角色为联络员的用户必须选择所在单位（只有系统管理员可以不属于单位）"
    ]
    response = admin_client.post("/admin/org/user/add/", data | {"unit": str(unit_a.pk)})
    assert response.status_code == 302
    assert User.objects.get(username="newbie").unit == unit_a
    assert AuditLog.objects.get(action="user.added_in_admin").data["role"] == "liaison"
