"""GET /api/v1/org/units with a session (scoped) or an API key (the whole directory)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from zhengfeng.org.services import create_api_key
from zhengfeng.testing.factories import UnitFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/org/units"


@pytest.fixture
def all_units(unit_a, unit_b, county_unit, other_county_unit):
    return unit_a, unit_b, county_unit, other_county_unit


def codes(response):
    assert response.status_code == 200, response.content
    return [unit["code"] for unit in response.json()]


def test_anonymous_gets_401(api_client, all_units):
    assert api_client.get(URL).status_code == 401


def test_liaison_sees_its_unit_only(api_client, liaison_a, all_units):
    api_client.force_login(liaison_a)
    response = api_client.get(URL)
    assert response.json() == [
        {
            "code": "441800-A",
            "name": "市甲局",
            "division_code": "441800",
            "kind": "government",
            "parent_code": None,
        }
    ]


def test_county_office_sees_its_county(api_client, county_office, all_units):
    api_client.force_login(county_office)
    assert codes(api_client.get(URL)) == ["441802-A", county_office.unit.code]


def test_inspector_filters_by_name_and_division(api_client, inspector, all_units):
    api_client.force_login(inspector)
    assert codes(api_client.get(URL, {"name": "甲局"})) == ["441800-A", "441802-A", "441803-A"]
    assert codes(api_client.get(URL, {"division": "441803"})) == ["441803-A"]
    assert codes(api_client.get(URL, {"division": "441802", "name": "乙"})) == []


def test_unknown_division_is_a_400_naming_it(api_client, inspector, all_units):
    api_client.force_login(inspector)
    response = api_client.get(URL, {"division": "449999"})
    assert (response.status_code, response.json()) == (400, {"detail": "未知的行政区划代码：449999"})


def test_api_key_reads_the_whole_directory(api_client, all_units, city_office):
    _key, token = create_api_key(name="12345 平台", scopes=["hotline"])
    response = api_client.get(URL, headers={"Authorization": f"Bearer {token}"})
    assert len(codes(response)) == 5


def test_query_count_does_not_grow_with_units(api_client, admin_user, city):
    api_client.force_login(admin_user)
    UnitFactory(division=city)
    with CaptureQueriesContext(connection) as one:
        codes(api_client.get(URL))
    UnitFactory(division=city, parent=UnitFactory(division=city))
    with CaptureQueriesContext(connection) as three:
        assert len(codes(api_client.get(URL))) == 3
    assert len(three) == len(one)


def test_unit_list_page_is_scoped_and_has_constant_queries(api_client, county_office, all_units):
    api_client.force_login(county_office)
    with CaptureQueriesContext(connection) as before:
        response = api_client.get("/org/units/")
    assert response.status_code == 200
    assert "清城区甲局" in response.content.decode()
    assert "清新区甲局" not in response.content.decode()
    UnitFactory(division=county_office.unit.division)
    with CaptureQueriesContext(connection) as after:
        api_client.get("/org/units/")
    assert len(after) == len(before)
