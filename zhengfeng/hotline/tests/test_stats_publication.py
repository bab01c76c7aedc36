"""Publishing the hotline statistics through the core publication engine: frozen figures, the
audit rows, one live table per period, bad requests and permissions. The portal's pages (public
list and tables, scheduled publishing, the office's manage page) are tested in
zhengfeng/portal/tests/test_hotline_stats_publication.py."""

from __future__ import annotations

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from zhengfeng.core.models import AuditLog, Publication
from zhengfeng.hotline import publishing

from .test_metrics_data import AT, march_fixture  # noqa: F401 (fixture)


@pytest.fixture
def at_end_of_march():
    with time_machine.travel(AT, tick=False):
        yield


def publish(user, kind="hotline_units", period="2026-03", **kwargs):
    return publishing.publish_hotline_stats(by=user, kind=kind, period=period, **kwargs)


def test_publishing_freezes_the_figures_and_is_audited(client, march, city_office, at_end_of_march):
    publication = publish(city_office)

    assert publication.title == "清远市12345热线各单位办理情况（2026年3月）"
    assert publication.division_code == "441800"
    assert [row["unit"] for row in publication.data["rows"]] == ["市甲局", "市乙局"]
    assert publication.data["rows"][0]["values"][:4] == [6, "40.0", "75.0", "33.3"]
    log = AuditLog.objects.get(action="portal.publication_published")
    assert log.target_id == str(publication.pk)
    assert log.data == {"kind": "hotline_units", "period": "2026-03", "rows": 2, "publish_at": AT.isoformat()}


def test_a_live_publication_cannot_be_published_twice(march, city_office, at_end_of_march):
    publish(city_office)

    with pytest.raises(ValidationError, match="已经发布；如需更正，请先撤回原发布"):
        publish(city_office)
    assert Publication.objects.count() == 1


@pytest.mark.parametrize(
    ("kind", "period", "message"),
    [
        ("hotline_radio", "2026-03", "行风热线按季度公布，'2026-03' 不是季度"),
        ("hotline_units", "2026-15", "月份必须是 1–12，而不是 15"),
        ("other", "2026-03", "未知的发布类别 'other'"),
        ("hotline_units", "2026Q3", "统计期间 2026年第三季度 尚未开始，不能发布"),
    ],
)
def test_bad_publication_requests_are_refused(march, city_office, at_end_of_march, kind, period, message):
    with pytest.raises(ValidationError, match=message):
        publish(city_office, kind=kind, period=period)
    assert Publication.objects.count() == 0


def test_only_the_office_publishes(march, inspector, operator, liaison_a, at_end_of_march):
    for user in (inspector, operator, liaison_a):
        with pytest.raises(PermissionDenied):
            publish(user)


def test_another_division_may_not_withdraw(march, city_office, county_office, at_end_of_march):
    publication = publish(city_office)

    with pytest.raises(PermissionDenied):
        publishing.withdraw_publication(publication, by=county_office, reason="不对")
