"""Personas shared by all tests (after healthchecks' alice/bob/charlie).

- `city`, `qingcheng`, `qingxin`: the city and two of its counties.
- `unit_a`, `unit_b`: two city units; `county_unit`: a unit in 清城区, `other_county_unit` in 清新区.
- `liaison_a` (unit A), `liaison_b` (unit B), `city_office`, `county_office` (清城区 正风办),
  `inspector` (city 纪委监委), `admin_user`.
"""

from __future__ import annotations

import pytest
from django.test import Client

from zhengfeng.core import memo
from zhengfeng.org import twofactor
from zhengfeng.org.models import DivisionLevel, Role, User
from zhengfeng.testing.factories import DivisionFactory, UnitFactory, UserFactory
from zhengfeng.testing.twofactor import mark_verified


@pytest.fixture(autouse=True)
def _fresh_memos():
    """Each test reads its own database, never rows another test left in a per-process memo."""
    memo.clear_all()
    yield
    memo.clear_all()


@pytest.fixture(autouse=True)
def _anchor_file(settings, tmp_path, monkeypatch):
    """Each test appends its audit anchors to its own file, never to var/ or another test's; the commands
    and servers a test starts as child processes inherit the same file through the environment."""
    settings.AUDIT_ANCHOR_FILE = tmp_path / "audit-anchors.jsonl"
    monkeypatch.setenv("AUDIT_ANCHOR_FILE", str(settings.AUDIT_ANCHOR_FILE))


@pytest.fixture(autouse=True)
def _force_login_passes_two_factor(monkeypatch):
    """`client.force_login(user)` signs in past the second factor too, as a user who typed the code would
    be: the tests of every page then need no change for OTP_REQUIRED_ROLES. The two-factor flow itself is
    tested through `/login/` and `/2fa/` (zhengfeng/staff/tests/test_two_factor.py), which this skips."""
    sign_in = Client.force_login

    def force_login(self, user, backend=None):
        sign_in(self, user, backend)
        if isinstance(user, User) and twofactor.is_required(user):
            mark_verified(self, user)

    monkeypatch.setattr(Client, "force_login", force_login)


class ApiClient(Client):
    """A test client that enforces CSRF as the server does (Django's default client skips it, which
    hid the key-only POSTs refused by issue #10). A session's unsafe request must send the token the
    way a browser does: `headers=api_client.csrf_headers()`."""

    def __init__(self) -> None:
        super().__init__(enforce_csrf_checks=True)

    def csrf_headers(self) -> dict[str, str]:
        """Load a staff page (its template sets the `csrftoken` cookie, as for htmx) and return the
        header carrying the cookie's value. Call it after `force_login`: a login rotates the token."""
        response = self.get("/workbench/")
        if response.status_code != 200:
            pytest.fail(f"/workbench/ answered {response.status_code}: sign in before asking for the token")
        return {"X-CSRFToken": self.cookies["csrftoken"].value}


@pytest.fixture
def api_client(db: None) -> ApiClient:
    """The client for every JSON API test: CSRF enforced."""
    return ApiClient()


@pytest.fixture
def city(db):
    return DivisionFactory(code="441800", name="清远市", level=DivisionLevel.CITY)


@pytest.fixture
def qingcheng(city):
    return DivisionFactory(code="441802", name="清城区", level=DivisionLevel.COUNTY, parent=city)


@pytest.fixture
def qingxin(city):
    return DivisionFactory(code="441803", name="清新区", level=DivisionLevel.COUNTY, parent=city)


@pytest.fixture
def unit_a(city):
    return UnitFactory(code="441800-A", name="市甲局", division=city)


@pytest.fixture
def unit_b(city):
    return UnitFactory(code="441800-B", name="市乙局", division=city)


@pytest.fixture
def county_unit(qingcheng):
    return UnitFactory(code="441802-A", name="清城区甲局", division=qingcheng)


@pytest.fixture
def other_county_unit(qingxin):
    return UnitFactory(code="441803-A", name="清新区甲局", division=qingxin)


@pytest.fixture
def liaison_a(unit_a):
    return UserFactory(username="liaison_a", role=Role.LIAISON, unit=unit_a)


@pytest.fixture
def liaison_b(unit_b):
    return UserFactory(username="liaison_b", role=Role.LIAISON, unit=unit_b)


@pytest.fixture
def city_office(city):
    return UserFactory(
        username="city_office", role=Role.OFFICE, unit=UnitFactory(name="市正风办", division=city)
    )


@pytest.fixture
def county_office(qingcheng):
    return UserFactory(
        username="county_office", role=Role.OFFICE, unit=UnitFactory(name="清城区正风办", division=qingcheng)
    )


@pytest.fixture
def inspector(city):
    return UserFactory(
        username="inspector", role=Role.INSPECTOR, unit=UnitFactory(name="市纪委监委", division=city)
    )


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", role=Role.ADMIN, unit=None, is_staff=True, is_superuser=True)
