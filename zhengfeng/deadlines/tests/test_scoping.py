"""Who sees what: a unit's users see their unit, offices and inspectors their division subtree."""

import pytest
from django.utils import timezone

from zhengfeng.deadlines.models import Clock
from zhengfeng.org.models import Role
from zhengfeng.org.queries import people_for, scope_filter, scope_of, units_for, users_for
from zhengfeng.testing.factories import DivisionFactory, PositionFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


def clock_for(unit, label, division_code=None):
    return Clock.objects.create(
        source_type="test",
        source_id=label,
        kind="reply",
        label=label,
        unit=unit,
        division_code=division_code or unit.division_id,
        budget_unit="workdays",
        budget=5,
        started_at=timezone.now(),
    )


@pytest.fixture
def clocks(unit_a, unit_b, county_unit, other_county_unit):
    return {
        "a": clock_for(unit_a, "a"),
        "b": clock_for(unit_b, "b"),
        "county": clock_for(county_unit, "county"),
        "other_county": clock_for(other_county_unit, "other_county"),
        "elsewhere": clock_for(None, "elsewhere", division_code="445200"),
    }


def labels(queryset):
    return sorted(queryset.values_list("label", flat=True))


def test_liaison_sees_only_its_own_unit(liaison_a, unit_a, unit_b, clocks):
    assert list(units_for(liaison_a)) == [unit_a]
    assert labels(scope_filter(Clock.objects.all(), liaison_a)) == ["a"]


def test_liaison_of_unit_b_sees_nothing_of_unit_a(liaison_b, unit_a, unit_b, clocks):
    assert unit_a not in units_for(liaison_b)
    assert labels(scope_filter(Clock.objects.all(), liaison_b)) == ["b"]


def test_county_office_sees_its_county_and_not_the_next(
    county_office, county_unit, other_county_unit, clocks
):
    assert set(units_for(county_office)) == {county_unit, county_office.unit}
    assert labels(scope_filter(Clock.objects.all(), county_office)) == ["county"]


def test_inspector_sees_the_city_subtree(inspector, clocks):
    assert labels(scope_filter(Clock.objects.all(), inspector)) == ["a", "b", "county", "other_county"]


def test_admin_sees_everything(admin_user, clocks):
    assert labels(scope_filter(Clock.objects.all(), admin_user)) == [
        "a",
        "b",
        "county",
        "elsewhere",
        "other_county",
    ]


def test_anonymous_and_inactive_users_see_nothing(liaison_a, clocks):
    from django.contrib.auth.models import AnonymousUser

    liaison_a.is_active = False
    assert scope_of(AnonymousUser()).empty
    assert scope_of(liaison_a).empty
    assert labels(scope_filter(Clock.objects.all(), liaison_a)) == []
    assert list(units_for(None)) == []


def test_scoping_through_the_unit_when_a_model_has_no_division_column(
    county_office, liaison_a, unit_a, county_unit, other_county_unit
):
    in_county = PositionFactory.create(unit=county_unit, title="科员")
    PositionFactory.create(unit=other_county_unit, title="科员")
    at_a = PositionFactory.create(unit=unit_a, title="科员")
    from zhengfeng.org.models import Position

    assert list(scope_filter(Position.objects.all(), county_office, division_field=None)) == [in_county]
    assert list(scope_filter(Position.objects.all(), liaison_a, division_field=None)) == [at_a]


def test_people_for_follows_current_positions(county_office, county_unit, other_county_unit, admin_user):
    mine = PositionFactory.create(unit=county_unit).person
    theirs = PositionFactory.create(unit=other_county_unit).person
    assert list(people_for(county_office)) == [mine]
    assert set(people_for(admin_user)) == {mine, theirs}


def test_users_for_an_office_is_its_division(city_office, county_office, liaison_a, other_county_unit):
    stranger = UserFactory.create(username="stranger", role=Role.HANDLER, unit=other_county_unit)
    assert set(users_for(county_office)) == {county_office}
    assert stranger in users_for(city_office)
    assert list(users_for(liaison_a)) == [liaison_a]


def test_a_city_prefix_does_not_reach_another_city(inspector):
    dongguan = DivisionFactory(code="441900", name="东莞市")
    UnitFactory(name="东莞市某局", division=dongguan)
    assert {unit.division_id[:4] for unit in units_for(inspector)} == {"4418"}
