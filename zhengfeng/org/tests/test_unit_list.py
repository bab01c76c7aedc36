"""The unit list: scoped to the user, an htmx partial, a fixed number of queries."""

import pytest
from django.urls import reverse

from zhengfeng.testing.factories import UnitFactory

pytestmark = pytest.mark.django_db


def test_unit_list_is_scoped(client, liaison_a, unit_a, unit_b):
    client.force_login(liaison_a)

    response = client.get(reverse("org:unit_list"))

    assert [unit.code for unit in response.context["page"]] == ["441800-A"]


def test_unit_list_htmx_returns_only_the_table(client, city_office, unit_a, unit_b):
    client.force_login(city_office)

    response = client.get(reverse("org:unit_list"), {"q": "乙"}, headers={"HX-Request": "true"})

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="unit-table">')
    assert "市乙局" in body
    assert "市甲局" not in body


@pytest.mark.parametrize("item_count", [1, 3])
def test_unit_list_query_count_does_not_grow(
    client, city_office, city, item_count, django_assert_num_queries
):
    for index in range(item_count):
        UnitFactory(division=city, name=f"批量单位{index}")
    client.force_login(city_office)

    # session, user, its two-factor device (django-otp), user's unit, its division (scope), count, one page
    # of units with division and parent
    with django_assert_num_queries(7):
        client.get(reverse("org:unit_list"))
