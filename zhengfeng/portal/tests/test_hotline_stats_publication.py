"""The published hotline statistics on the public portal: frozen figures on the pages, withdrawal
(410 with the reason), the 行风热线 quarter, scheduled publishing, the office's manage page, and no
personal data on the public pages."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from zhengfeng.core.models import AuditLog, Publication
from zhengfeng.hotline import publishing, services
from zhengfeng.hotline.tests.test_metrics_data import AT, REQUESTER_NAME, REQUESTER_PHONE, day

LIST = reverse("portal:hotline_stats:list")


@pytest.fixture
def at_end_of_march():
    with time_machine.travel(AT, tick=False):
        yield


def publish(user, kind="hotline_units", period="2026-03", **kwargs):
    return publishing.publish_hotline_stats(by=user, kind=kind, period=period, **kwargs)


def table_of(response) -> str:
    html = response.content.decode()
    return html[html.index("<table") : html.index("</table>")]


def detail_url(publication):
    return reverse("portal:hotline_stats:detail", args=[publication.pk])


def test_changing_an_order_afterwards_does_not_change_the_published_page(
    client, march, city_office, liaison_a, handler_a, head_a, at_end_of_march
):
    publication = publish(city_office)
    before = table_of(client.get(detail_url(publication)))

    # o3 is finally replied (late) and o6 signed (late): the live figures move, the publication does not.
    services.transition(march.orders["o3"], "draft_reply", by=handler_a, at=day(31, 17), text="已处理。")
    services.transition(march.orders["o3"], "approve_reply", by=head_a, at=day(31, 17), approve=True)
    services.transition(march.orders["o6"], "sign", by=liaison_a, at=day(31, 17))

    assert table_of(client.get(detail_url(publication))) == before
    assert "40.0%" in before
    client.force_login(city_office)
    staff = client.get(reverse("hotline_stats:index"), {"period": "2026-03"})
    live = staff.context["lines"][0][0].figures
    # Published for A: 逾期签收 1, 逾期答复 0; live now: 2 and 1.
    assert publication.data["rows"][0]["values"][5:7] == [1, 0]
    assert (live.signed_late, live.replied_late) == (2, 1)


def test_public_pages_show_no_personal_data(client, march, city_office, at_end_of_march):
    publication = publish(city_office)

    pages = [client.get(LIST), client.get(detail_url(publication))]

    assert [page.status_code for page in pages] == [200, 200]
    for page in pages:
        html = page.content.decode()
        assert REQUESTER_NAME not in html
        assert REQUESTER_PHONE not in html
        assert REQUESTER_PHONE[-4:] not in html
        assert march.orders["o1"].code not in html
        assert "路灯不亮" not in html
    assert publication.title in pages[0].content.decode()
    assert "市甲局" in pages[1].content.decode()


def test_withdrawal_needs_a_reason_and_hides_the_table(client, march, city_office, at_end_of_march):
    publication = publish(city_office)

    with pytest.raises(ValidationError, match="撤回须说明理由"):
        publishing.withdraw_publication(publication, by=city_office, reason="  ")
    publishing.withdraw_publication(publication, by=city_office, reason="数据口径有误，更正后重新发布")

    publication.refresh_from_db()
    assert publication.status == "withdrawn"
    assert publication.withdrawn_by == city_office
    assert AuditLog.objects.get(action="portal.publication_withdrawn").data == {
        "reason": "数据口径有误，更正后重新发布"
    }
    assert publication.title not in client.get(LIST).content.decode()
    response = client.get(detail_url(publication))
    assert response.status_code == 410
    assert "数据口径有误，更正后重新发布" in response.content.decode()
    with pytest.raises(ValidationError, match="已撤回，不能再次撤回"):
        publishing.withdraw_publication(publication, by=city_office, reason="再撤一次")
    # After the withdrawal the period may be published again.
    assert publish(city_office).status == "published"


def test_radio_quarter_publication_lists_units_on_air(client, march, city_office, at_end_of_march):
    publication = publish(city_office, kind="hotline_radio", period="2026Q1")

    assert publication.title == "清远市行风热线上线单位办理情况（2026年第一季度）"
    assert [c["label"] for c in publication.data["columns"]] == [
        "受理量",
        "应办结",
        "按时办结",
        "按时办结率",
        "办结量",
        "已评价",
        "满意率",
    ]
    assert publication.data["rows"] == [{"unit": "市乙局", "values": [1, 1, 0, "0.0", 1, 1, "100.0"]}]
    assert "100.0%" in client.get(detail_url(publication)).content.decode()


def test_scheduled_publication_is_hidden_until_its_time(client, march, city_office, at_end_of_march):
    later = AT + dt.timedelta(days=1)
    publication = publish(city_office, publish_at=later)

    assert publication.title not in client.get(LIST).content.decode()
    assert client.get(detail_url(publication)).status_code == 404
    with time_machine.travel(later, tick=False):
        assert publication.title in client.get(LIST).content.decode()
        assert client.get(detail_url(publication)).status_code == 200


def test_manage_pages_publish_and_withdraw(client, march, city_office, at_end_of_march):
    client.force_login(city_office)

    assert client.get(reverse("portal:hotline_stats:manage")).status_code == 200
    response = client.post(
        reverse("portal:hotline_stats:publish"),
        {"kind": "hotline_units", "period": "2026Q1", "publish_at": ""},
    )
    assert response.status_code == 302
    publication = Publication.objects.get()
    assert publication.period == "2026Q1"
    response = client.post(
        reverse("portal:hotline_stats:withdraw", args=[publication.pk]), {"reason": ""}, follow=True
    )
    assert "撤回须说明理由" in response.content.decode()
    client.post(reverse("portal:hotline_stats:withdraw", args=[publication.pk]), {"reason": "重算"})
    publication.refresh_from_db()
    assert publication.status == "withdrawn"


def test_manage_pages_refuse_other_roles(client, inspector, at_end_of_march):
    client.force_login(inspector)

    assert client.get(reverse("portal:hotline_stats:manage")).status_code == 403
    assert client.post(reverse("portal:hotline_stats:publish"), {"kind": "hotline_units"}).status_code == 403


def test_bad_publish_time_is_reported(client, march, city_office, at_end_of_march):
    client.force_login(city_office)

    response = client.post(
        reverse("portal:hotline_stats:publish"),
        {"kind": "hotline_units", "period": "2026-03", "publish_at": "明天"},
        follow=True,
    )

    assert "公开时间 &#x27;明天&#x27; 无法识别" in response.content.decode()
    assert Publication.objects.count() == 0
