import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from zhengfeng.evaluation.models import EnforcementAction
from zhengfeng.evaluation.tests.conftest import NOW, OTHER_PHONE, PHONE, invite, process, record, reply
from zhengfeng.org.models import Role
from zhengfeng.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_unit_sees_its_own_actions_masked(client, year, unit_a, unit_b, zhang, wang, liaison_a):
    mine = record(unit_a, zhang, name="某某餐饮店")
    record(unit_b, wang, phone=OTHER_PHONE)
    client.force_login(liaison_a)

    response = client.get(reverse("evaluation:action_list"))

    assert [a.pk for a in response.context["page"]] == [mine.pk]
    html = response.content.decode()
    assert "138****5678" in html
    assert PHONE not in html
    assert "某某餐饮店" not in html
    assert "某****" in html


def test_county_office_sees_its_county_only(client, year, unit_a, zhang, county_office):
    record(unit_a, zhang)
    client.force_login(county_office)

    assert list(client.get(reverse("evaluation:action_list")).context["page"]) == []


def test_filters_and_htmx_partial(client, year, unit_a, zhang, city_office):
    answered = invite(unit_a, zhang, phone=OTHER_PHONE)
    record(unit_a, zhang, kind="supervision")
    reply("1", at=NOW + dt.timedelta(minutes=31), phone=OTHER_PHONE)
    process(NOW + dt.timedelta(minutes=32))
    client.force_login(city_office)

    response = client.get(
        reverse("evaluation:action_list"), {"answered": "yes"}, headers={"HX-Request": "true"}
    )

    assert [a.pk for a in response.context["page"]] == [answered.action_id]
    assert response.content.decode().lstrip().startswith('<div id="action-table">')
    by_type = client.get(reverse("evaluation:action_list"), {"type": "supervision"}).context["page"]
    assert [a.action_type for a in by_type] == ["supervision"]


@pytest.mark.parametrize("count", [1, 3])
def test_action_list_query_count(client, year, unit_a, zhang, city_office, django_assert_num_queries, count):
    for n in range(count):
        record(unit_a, zhang, phone=f"1390000000{n}")
    client.force_login(city_office)

    # session, user, its two-factor device (django-otp), (unit + division for scope), count, page, staff prefetch
    with django_assert_num_queries(8):
        response = client.get(reverse("evaluation:action_list"))

    assert len(response.context["page"]) == count


def test_unit_enters_an_action(client, year, unit_a, zhang, li, liaison_a):
    client.force_login(liaison_a)
    assert client.get(reverse("evaluation:action_create")).status_code == 200

    with time_machine.travel(NOW, tick=False):
        response = client.post(
            reverse("evaluation:action_create"),
            {
                "staff": [zhang.pk, li.pk],
                "action_type": "inspection",
                "acted_at": "2015-11-20T09:00",
                "subject_name": "某某餐饮店",
                "subject_phone": "138 1234 5678",
            },
        )

    assert response.status_code == 302
    action = EnforcementAction.objects.get()
    assert (action.source, action.created_by, action.subject_phone) == ("manual", liaison_a, PHONE)
    assert list(action.staff.order_by("pk")) == [zhang, li]


def test_form_errors_are_shown_and_nothing_is_saved(client, year, unit_a, zhang, liaison_a):
    client.force_login(liaison_a)

    with time_machine.travel(NOW, tick=False):
        response = client.post(
            reverse("evaluation:action_create"),
            {
                "staff": [zhang.pk],
                "action_type": "inspection",
                "acted_at": "2015-11-20T09:00",
                "subject_name": "某某餐饮店",
                "subject_phone": "12345",
            },
        )

    assert response.status_code == 200
    assert "执法对象的手机号码应为 11 位，当前为 5 位：12345" in response.content.decode()
    assert EnforcementAction.objects.count() == 0


def test_only_unit_roles_enter_actions_and_only_offices_see_scores(client, year, city_office, liaison_a):
    client.force_login(city_office)
    assert client.get(reverse("evaluation:action_create")).status_code == 403
    assert client.get(reverse("evaluation:scores")).status_code == 200
    client.force_login(liaison_a)
    assert client.get(reverse("evaluation:scores")).status_code == 403
    operator = UserFactory(role=Role.OPERATOR)
    client.force_login(operator)
    assert client.get(reverse("evaluation:action_create")).status_code == 403


def test_score_table(client, year, unit_a, zhang, city_office):
    invite(unit_a, zhang)
    reply("2", at=NOW + dt.timedelta(minutes=31))
    process(NOW + dt.timedelta(minutes=32))
    client.force_login(city_office)

    response = client.get(reverse("evaluation:scores"), {"year": "2015", "by": "unit"})

    assert [(r.unit_code, r.score) for r in response.context["rows"]] == [
        ("441800-A", 60),
        ("441800-B", None),
    ]


# --- Public portal -------------------------------------------------------------------------------


def test_public_pages_show_disclosed_staff_and_no_personal_data(client, year, unit_a, zhang, li):
    invite(unit_a, zhang, name="某某餐饮店")
    with time_machine.travel(NOW, tick=False):
        index = client.get(reverse("portal:evaluation_index"))
    page = client.get(reverse("portal:evaluation_unit", args=["441800-A"]))

    assert [u.code for u in index.context["units"]] == ["441800-A", "441800-B"]
    assert page.status_code == 200
    assert [m.name for m in page.context["staff"]] == ["张三"]
    html = page.content.decode() + index.content.decode()
    assert "张三" in html
    assert "李四" not in html
    for secret in (PHONE, "138****5678", "某某餐饮店"):
        assert secret not in html


def test_public_unit_page_404_for_units_not_evaluated(client, year, county_unit):
    assert client.get(reverse("portal:evaluation_unit", args=[county_unit.code])).status_code == 404
    assert client.get(reverse("portal:evaluation_unit", args=["nope"])).status_code == 404
