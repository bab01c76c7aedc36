import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from zhengfeng.deadlines.models import Clock

pytestmark = pytest.mark.django_db


def make_clock(unit, *, due_in: dt.timedelta, warn_in: dt.timedelta, label: str) -> Clock:
    now = timezone.now()
    return Clock.objects.create(
        source_type="test.item",
        source_id=label,
        kind="reply",
        label=label,
        unit=unit,
        division_code=unit.division_id,
        budget_unit="workdays",
        budget=5,
        started_at=now - dt.timedelta(days=7),
        due_at=now + due_in,
        warn_at=now + warn_in,
    )


@pytest.fixture
def clocks(unit_a, unit_b, county_unit):
    make_clock(unit_a, due_in=-dt.timedelta(hours=1), warn_in=-dt.timedelta(days=1), label="甲局超期")
    make_clock(unit_a, due_in=dt.timedelta(hours=5), warn_in=-dt.timedelta(hours=1), label="甲局将到期")
    make_clock(unit_b, due_in=-dt.timedelta(hours=2), warn_in=-dt.timedelta(days=1), label="乙局超期")
    make_clock(county_unit, due_in=dt.timedelta(days=9), warn_in=dt.timedelta(days=8), label="清城区正常")


def test_liaison_workbench_counts_only_its_unit(client, liaison_a, clocks):
    client.force_login(liaison_a)

    deadlines = client.get(reverse("workbench")).context["deadlines"]

    assert (deadlines["overdue"], deadlines["due_soon"]) == (1, 1)
    assert [clock.label for clock in deadlines["soonest"]] == ["甲局超期", "甲局将到期"]


def test_city_office_workbench_covers_the_city_subtree(client, city_office, clocks):
    client.force_login(city_office)

    deadlines = client.get(reverse("workbench")).context["deadlines"]

    assert (deadlines["overdue"], deadlines["due_soon"]) == (2, 1)
    assert [clock.label for clock in deadlines["soonest"]] == [
        "乙局超期",
        "甲局超期",
        "甲局将到期",
        "清城区正常",
    ]


def test_county_office_sees_its_county_only(client, county_office, clocks):
    client.force_login(county_office)

    deadlines = client.get(reverse("workbench")).context["deadlines"]

    assert (deadlines["overdue"], deadlines["due_soon"]) == (0, 0)
    assert [clock.label for clock in deadlines["soonest"]] == ["清城区正常"]


def test_admin_workbench_shows_system_panel(client, admin_user):
    client.force_login(admin_user)

    response = client.get(reverse("workbench"))

    assert response.context["system"]["audit_rows"] >= 0
    assert "系统运行状态" in response.content.decode()
