import io

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from zhengfeng.core.models import AuditLog
from zhengfeng.org.demo import DEMO_PASSWORD, demo_totp_code, load_demo
from zhengfeng.org.models import Division, Person, Position, Role, Unit, UnitKind, User
from zhengfeng.org.validators import validate_uscc

pytestmark = pytest.mark.django_db

LOGINS = {
    "admin": "admin",
    "office": "office",
    "inspector": "inspector",
    "operator": "operator",
    "liaison": "liaison",
    "handler": "handler",
    "head": "head",
    "monitor": "monitor",
    "county_office": "qingcheng_office",
}


def test_demo_loads_the_city_and_is_idempotent():
    out = io.StringIO()
    first = load_demo(stdout=out)

    assert first == {
        "logins": LOGINS,
        "created": {"divisions": 10, "units": 24 + 8 * 11, "people": 8, "positions": 8, "users": 9},
    }
    assert out.getvalue() == "组织机构：新建区划 10、单位 112、人员 8、职务 8、账号 9\n"
    audit_rows = AuditLog.objects.count()

    second = load_demo()
    assert second == {
        "logins": LOGINS,
        "created": {"divisions": 0, "units": 0, "people": 0, "positions": 0, "users": 0},
    }
    assert (Division.objects.count(), Unit.objects.count(), Person.objects.count(), User.objects.count()) == (
        10,
        112,
        8,
        9,
    )
    assert AuditLog.objects.count() == audit_rows


def test_demo_divisions_units_and_users():
    load_demo()

    assert list(Division.objects.filter(parent_id="441800").values_list("code", "name")) == [
        ("441802", "清城区"),
        ("441803", "清新区"),
        ("441821", "佛冈县"),
        ("441823", "阳山县"),
        ("441825", "连山壮族瑶族自治县"),
        ("441826", "连南瑶族自治县"),
        ("441881", "英德市"),
        ("441882", "连州市"),
    ]
    office_parent = Unit.objects.get(code="441800-ZFB").parent
    assert office_parent is not None
    assert office_parent.name == "市纪委监委"
    assert Unit.objects.get(code="441802-DWB").name == "清城区委办公室"
    assert Unit.objects.get(code="441825-JWJW").kind == UnitKind.DISCIPLINE
    for county in ("441802", "441882"):
        assert Unit.objects.filter(division_id=county).count() == 11
    for uscc in Unit.objects.values_list("uscc", flat=True):
        assert uscc is not None
        validate_uscc(uscc)
        assert uscc[8:10] == "DM"

    users = {user.username: user for user in User.objects.select_related("unit")}
    assert (users["admin"].role, users["admin"].unit, users["admin"].is_superuser) == (Role.ADMIN, None, True)
    assert {name: (user.role, user.unit.name) for name, user in users.items() if user.unit} == {
        "office": (Role.OFFICE, "市正风办"),
        "inspector": (Role.INSPECTOR, "市纪委监委"),
        "operator": (Role.OPERATOR, "市行政服务中心"),
        "liaison": (Role.LIAISON, "市司法局"),
        "handler": (Role.HANDLER, "市司法局"),
        "head": (Role.HEAD, "市司法局"),
        "monitor": (Role.MONITOR, "市纪委监委"),
        "qingcheng_office": (Role.OFFICE, "清城区正风办"),
    }
    head = users["head"].person
    assert head is not None
    assert head.positions.get().title == "局长"
    assert Position.objects.get(person__external_id="DEMO-0004").title == "效能监督员"


def test_demo_user_can_sign_in(client):
    load_demo()
    response = client.post("/login/", {"username": "liaison", "password": DEMO_PASSWORD})
    assert response.status_code == 302


def test_demo_accounts_of_two_factor_roles_verify_with_the_published_secret(client):
    load_demo()
    enrolled = set(TOTPDevice.objects.filter(confirmed=True).values_list("user__username", flat=True))
    assert enrolled == {"admin", "office", "inspector", "qingcheng_office"}

    response = client.post("/login/", {"username": "office", "password": DEMO_PASSWORD})
    assert client.get(response.url).url == "/2fa/?next=%2Fworkbench%2F"
    response = client.post("/2fa/", {"code": demo_totp_code(), "next": "/workbench/"})
    assert (response.status_code, response.url) == (302, "/workbench/")
    assert client.get("/workbench/").status_code == 200
    # Running the loader again keeps the devices.
    load_demo()
    assert TOTPDevice.objects.count() == 4
