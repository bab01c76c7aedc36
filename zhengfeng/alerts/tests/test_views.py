import datetime as dt
import io

import docx
import pytest
from django.test import Client
from django.urls import reverse

from zhengfeng.alerts import services
from zhengfeng.alerts.models import Alert, AlertLevel
from zhengfeng.alerts.tests.conftest import MINUTE, NOW, make_clock
from zhengfeng.core.models import AuditLog
from zhengfeng.org.models import Role
from zhengfeng.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def issue(unit, level=AlertLevel.NOTICE, *, at=NOW, count=1):
    """Issue real alerts through the sweep: `count` clocks of `unit` that reached `level`."""
    due = {
        AlertLevel.REMINDER: at + dt.timedelta(hours=1),
        AlertLevel.YELLOW: at - MINUTE,
        AlertLevel.NOTICE: services.overdue_cutoff(at, 3) - MINUTE,
        AlertLevel.RED: services.overdue_cutoff(at, 8) - MINUTE,
    }[level]
    clocks = [
        make_clock(unit, due_at=due, warn_at=at - MINUTE, level=max(level - 1, 0)) for _ in range(count)
    ]
    services.sweep(at)
    return [Alert.objects.get(clock=clock, level=level) for clock in clocks]


def test_a_unit_sees_only_its_own_alerts(client, unit_a, unit_b, liaison_a):
    (mine,) = issue(unit_a)
    (theirs,) = issue(unit_b)
    client.force_login(liaison_a)

    response = client.get(reverse("alerts:inbox"))

    assert [a.pk for a in response.context["page"]] == [mine.pk]
    assert client.get(reverse("alerts:detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("alerts:detail", args=[mine.pk])).status_code == 200


def test_a_county_office_sees_only_its_county(client, unit_a, county_unit, other_county_unit, county_office):
    issue(unit_a)
    (county,) = issue(county_unit)
    issue(other_county_unit)
    client.force_login(county_office)

    response = client.get(reverse("alerts:inbox"))

    assert [a.pk for a in response.context["page"]] == [county.pk]


def test_level_filter_and_htmx_partial(client, unit_a, city_office):
    (yellow,) = issue(unit_a, AlertLevel.YELLOW)
    issue(unit_a, AlertLevel.REMINDER)
    client.force_login(city_office)

    response = client.get(reverse("alerts:inbox"), {"level": "2"}, headers={"HX-Request": "true"})

    assert [a.pk for a in response.context["page"]] == [yellow.pk]
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="alert-table">')
    assert "<html" not in html


def test_pending_filter(client, unit_a, liaison_a):
    first, second = issue(unit_a, count=2)
    services.acknowledge_alert(first, by=liaison_a)
    client.force_login(liaison_a)

    pending = client.get(reverse("alerts:inbox"), {"state": "pending"}).context["page"]
    signed = client.get(reverse("alerts:inbox"), {"state": "acknowledged"}).context["page"]

    assert [a.pk for a in pending] == [second.pk]
    assert [a.pk for a in signed] == [first.pk]


@pytest.mark.parametrize("count", [1, 3])
def test_inbox_query_count_does_not_grow_with_alerts(
    client, unit_a, liaison_a, django_assert_num_queries, count
):
    issue(unit_a, count=count)
    client.force_login(liaison_a)

    # session, user (+ unit for the header), count, page
    with django_assert_num_queries(5):
        response = client.get(reverse("alerts:inbox"))

    assert len(response.context["page"]) == count


def test_liaison_acknowledges_once(client, unit_a, liaison_a):
    (alert,) = issue(unit_a)
    client.force_login(liaison_a)

    response = client.post(reverse("alerts:acknowledge", args=[alert.pk]), follow=True)

    assert response.redirect_chain == [(reverse("alerts:detail", args=[alert.pk]), 302)]
    assert [str(m) for m in response.context["messages"]] == ["已签收"]
    alert.refresh_from_db()
    assert alert.acknowledged_by == liaison_a
    assert alert.acknowledged_at is not None
    row = AuditLog.objects.get(action="alert.acknowledged")
    assert (row.actor_id, row.target_id, row.data) == (
        liaison_a.pk,
        str(alert.pk),
        {"level": 3, "unit": unit_a.pk},
    )

    again = client.post(reverse("alerts:acknowledge", args=[alert.pk]), follow=True)
    assert [str(m) for m in again.context["messages"]] == [
        f"预警 #{alert.pk} 已于 {services._fmt(alert.acknowledged_at)} 签收，无需重复签收"
    ]
    assert AuditLog.objects.filter(action="alert.acknowledged").count() == 1


def test_the_office_sees_but_does_not_sign_for_a_unit(client, unit_a, city_office):
    (alert,) = issue(unit_a)
    client.force_login(city_office)

    response = client.post(reverse("alerts:acknowledge", args=[alert.pk]), follow=True)

    assert [str(m) for m in response.context["messages"]] == [
        f"只有责任单位（市甲局）的联络员或单位负责人可以签收预警 #{alert.pk}"
    ]
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_acknowledge_outside_scope_is_404_and_get_is_refused(client, unit_a, liaison_b):
    (alert,) = issue(unit_a)
    client.force_login(liaison_b)

    assert client.post(reverse("alerts:acknowledge", args=[alert.pk])).status_code == 404
    assert client.get(reverse("alerts:acknowledge", args=[alert.pk])).status_code == 405


def test_acknowledge_needs_the_csrf_token(unit_a, liaison_a):
    (alert,) = issue(unit_a)
    client = Client(enforce_csrf_checks=True)
    client.force_login(liaison_a)

    assert client.post(reverse("alerts:acknowledge", args=[alert.pk])).status_code == 403
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_download_is_a_real_docx_with_title_and_unit(client, unit_a, liaison_a):
    (alert,) = issue(unit_a, AlertLevel.YELLOW)
    client.force_login(liaison_a)

    response = client.get(reverse("alerts:document", args=[alert.pk]))

    assert response.status_code == 200
    assert (
        response["Content-Type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    texts = [p.text for p in docx.Document(io.BytesIO(b"".join(response.streaming_content))).paragraphs]
    assert "清远市“正风”办公室督办通知" in texts
    assert alert.title in texts
    assert "市甲局：" in texts


def test_download_outside_scope_is_404(client, unit_a, liaison_b, county_office):
    (alert,) = issue(unit_a)

    for user in (liaison_b, county_office):
        client.force_login(user)
        assert client.get(reverse("alerts:document", args=[alert.pk])).status_code == 404
    alert.refresh_from_db()
    assert alert.document.name == ""


def test_a_reminder_has_no_document(client, unit_a, liaison_a):
    (alert,) = issue(unit_a, AlertLevel.REMINDER)
    client.force_login(liaison_a)

    assert client.get(reverse("alerts:document", args=[alert.pk])).status_code == 404


def test_detail_shows_document_link_and_sign_button(client, unit_a, liaison_a):
    (alert,) = issue(unit_a)
    client.force_login(liaison_a)

    html = client.get(reverse("alerts:detail", args=[alert.pk])).content.decode()

    assert reverse("alerts:document", args=[alert.pk]) in html
    assert reverse("alerts:acknowledge", args=[alert.pk]) in html
    assert "-1.00 分（行政效能）" in html


def test_a_handler_cannot_sign(unit_a):
    (alert,) = issue(unit_a)
    handler = UserFactory.create(role=Role.HANDLER, unit=unit_a)

    with pytest.raises(Exception, match="联络员或单位负责人"):
        services.acknowledge_alert(alert, by=handler)
