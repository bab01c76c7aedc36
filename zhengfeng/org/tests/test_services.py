import pytest
from django.core.exceptions import ValidationError

from zhengfeng.core.models import AuditLog
from zhengfeng.org import services
from zhengfeng.org.models import Division, DivisionLevel, Person, Position, Role, Unit, UnitKind, User
from zhengfeng.testing.factories import PersonFactory, UnitFactory

pytestmark = pytest.mark.django_db


def actions():
    return list(AuditLog.objects.order_by("seq").values_list("action", flat=True))


def test_create_unit_is_audited(city, admin_user):
    unit = services.create_unit(
        code="441800-SFJ",
        name="市司法局",
        short_name="司法局",
        kind="政府工作部门",
        division=city,
        uscc="11441800dm0000001y",
        by=admin_user,
    )

    assert (unit.code, unit.kind, unit.uscc) == ("441800-SFJ", UnitKind.GOVERNMENT, "11441800DM0000001Y")
    row = AuditLog.objects.get(action="unit.created")
    assert (row.actor, row.division_code, row.target_id) == (admin_user, "441800", str(unit.pk))
    assert row.data == {
        "code": "441800-SFJ",
        "name": "市司法局",
        "short_name": "司法局",
        "kind": "government",
        "division": "441800",
        "parent": None,
        "uscc": "11441800DM0000001Y",
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"code": "441800-A"}, "单位编码 441800-A 已存在"),
        ({"name": "市甲局"}, "清远市已有名为 市甲局 的单位（编码 441800-A）"),
        ({"uscc": "91350100M000100Y44"}, "统一社会信用代码校验位错误：应为 3，实为 4：91350100M000100Y44"),
        ({"code": "441800 X"}, "单位编码只能由字母、数字和 - _ . 组成：441800 X"),
        ({"name": "  "}, "单位名称不能为空"),
        (
            {"kind": "部门"},
            "未知的单位类别：部门（可用：党委及其工作部门、政府工作部门、纪委监委、正风办、行政（政务）服务中心、事业单位、新闻媒体、乡镇（街道）、其他）",
        ),
    ],
)
def test_create_unit_refuses_bad_input_and_saves_nothing(city, unit_a, changes, message):
    arguments = {"code": "441800-NEW", "name": "市新局", "division": city} | changes
    before = Unit.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.create_unit(**arguments)
    assert exc.value.messages == [message]
    assert Unit.objects.count() == before
    assert "unit.created" not in actions()


def test_duplicate_uscc_names_the_holder(city):
    services.create_unit(code="X1", name="甲", division=city, uscc="91350100M000100Y43")
    with pytest.raises(ValidationError) as exc:
        services.create_unit(code="X2", name="乙", division=city, uscc="91350100m000100y43")
    assert exc.value.messages == ["统一社会信用代码 91350100M000100Y43 已被 甲（编码 X1）使用"]


def test_update_unit_records_old_and_new_values(unit_a, unit_b):
    changed = services.update_unit(unit_a, name="市甲局（新）", parent=unit_b, short_name="")

    assert changed == ["name", "parent"]
    unit_a.refresh_from_db()
    assert (unit_a.name, unit_a.parent) == ("市甲局（新）", unit_b)
    row = AuditLog.objects.get(action="unit.updated")
    assert row.data == {
        "code": "441800-A",
        "changes": {"name": ["市甲局", "市甲局（新）"], "parent": [None, "441800-B"]},
    }


def test_update_unit_without_changes_writes_nothing(unit_a):
    assert services.update_unit(unit_a, name="市甲局", uscc=None) == []
    assert actions() == []


def test_a_unit_cannot_be_its_own_ancestor(unit_a, unit_b):
    services.update_unit(unit_b, parent=unit_a)
    with pytest.raises(ValidationError) as exc:
        services.update_unit(unit_a, parent=unit_b)
    assert exc.value.messages == ["上级单位 441800-B 不能是 441800-A 本身或其下级单位"]
    unit_a.refresh_from_db()
    assert unit_a.parent is None


def test_create_person_encrypts_the_phone_and_keeps_it_out_of_the_log():
    person = services.create_person(name="王小明", external_id="P001", phone="+86 139 0263 0001")

    stored = Person.objects.get(pk=person.pk)
    assert stored.phone == "13902630001"
    assert Person.objects.filter(phone_index=services.blind_index("13902630001")).get() == person
    row = AuditLog.objects.get(action="person.created")
    assert row.data == {"external_id": "P001", "name": "王小明", "phone": True}
    assert "13902630001" not in str(AuditLog.objects.values_list("data", flat=True)[0])


def test_create_person_with_bad_phone_saves_nothing():
    with pytest.raises(ValidationError) as exc:
        services.create_person(name="王小明", external_id="P001", phone="1390263000")
    assert exc.value.messages == ["手机号码应为 11 位，当前为 10 位：1390263000"]
    assert Person.objects.count() == 0
    assert actions() == []


def test_update_person_names_changed_fields_without_the_number():
    person = services.create_person(name="王小明", external_id="P001", phone="13902630001")
    assert services.update_person(person, phone="13902630009") == ["phone"]
    assert services.update_person(person, phone="13902630009", name="王小明") == []
    assert AuditLog.objects.get(action="person.updated").data == {"external_id": "P001", "fields": ["phone"]}


def test_assign_update_and_end_position(unit_a):
    person = PersonFactory.create()
    position = services.assign_position(person, unit=unit_a, title="局长", is_leader=True)
    with pytest.raises(ValidationError) as exc:
        services.assign_position(person, unit=unit_a, title="局长")
    assert exc.value.messages == [f"{person.name} 已在 市甲局 担任 局长"]

    assert services.update_position(position, department="办公室") == ["department"]
    services.end_position(position)
    position.refresh_from_db()
    assert position.ended_on is not None
    assert actions() == ["position.assigned", "position.updated", "position.ended"]
    # Once ended, the same post can be given again.
    services.assign_position(person, unit=unit_a, title="局长")
    assert Position.objects.filter(person=person).count() == 2


def test_create_user_with_role_and_unit(unit_a, admin_user):
    user = services.create_user(
        username="zhangsan", role="liaison", unit=unit_a, password="a-long-enough-password", by=admin_user
    )

    assert (user.role, user.unit, user.check_password("a-long-enough-password")) == (
        Role.LIAISON,
        unit_a,
        True,
    )
    assert AuditLog.objects.get(action="user.created").data == {
        "username": "zhangsan",
        "role": "liaison",
        "unit": "441800-A",
        "is_staff": False,
        "is_superuser": False,
    }


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"role": "liaison", "unit": None}, "角色 联络员 的用户必须属于一个单位"),
        (
            {"role": "boss"},
            "未知的角色：boss（可用：admin、office、inspector、operator、liaison、handler、head、monitor）",
        ),
        ({"username": "LIAISON_A"}, "用户名 LIAISON_A 已存在"),
        ({"password": "password123"}, "这个密码太常见了。"),
    ],
)
def test_create_user_refuses_bad_input(unit_a, liaison_a, arguments, message):
    before = User.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.create_user(**({"username": "new", "role": "handler", "unit": unit_a} | arguments))
    assert exc.value.messages == [message]
    assert User.objects.count() == before


def test_createsuperuser_gets_the_admin_role():
    user = User.objects.create_superuser("root", "root@example.org", "a-long-enough-password")
    assert (user.role, user.unit) == (Role.ADMIN, None)


def test_create_division_checks_the_hierarchy(city):
    town = services.create_division(code="441802001", name="洲心街道", level=DivisionLevel.TOWN, parent=None)
    assert town.prefix == "441802001"
    with pytest.raises(ValidationError) as exc:
        services.create_division(code="441902", name="莞城", level=DivisionLevel.COUNTY, parent=city)
    assert exc.value.messages == ["区划代码 441902 不在上级区划 清远市（441800） 之下（应以 4418 开头）"]
    with pytest.raises(ValidationError) as exc:
        services.create_division(code="441803001", name="太和镇", level=DivisionLevel.COUNTY)
    assert exc.value.messages == ["9 位的区划代码 441803001 应为乡镇级，而不是县级"]
    assert Division.objects.filter(code__in=["441902", "441803001"]).count() == 0


def test_revoking_twice_is_refused():
    key, _token = services.create_api_key(name="12345 平台", scopes=["hotline"])
    services.revoke_api_key(key)
    with pytest.raises(ValidationError) as exc:
        services.revoke_api_key(key)
    assert exc.value.messages == ["接口密钥 12345 平台 已被吊销"]
    assert actions() == ["apikey.created", "apikey.revoked"]


def test_unlock_user(liaison_a):
    from django.utils import timezone

    liaison_a.locked_until = timezone.now()
    liaison_a.save()
    services.unlock_user(liaison_a)
    liaison_a.refresh_from_db()
    assert (liaison_a.locked_until, liaison_a.failed_logins) == (None, 0)
    assert actions() == ["auth.unlocked"]


def test_unit_factory_still_builds_plain_units(city):
    # Factories bypass services on purpose (fixtures); make sure the model accepts their rows.
    assert UnitFactory.create(division=city).uscc is None
