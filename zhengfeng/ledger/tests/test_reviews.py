import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from zhengfeng.alerts.models import Alert, AlertLevel
from zhengfeng.alerts.services import sweep
from zhengfeng.ledger.models import DemandState, Finding, RectificationDemand, ReviewRound
from zhengfeng.ledger.reviews import services
from zhengfeng.ledger.tests.conftest import local

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(report_org, city, city_office, travel):
    travel(local(2015, 6, 15, 9, 0))
    return services.create_review_round(division=city, year=2015, kind="mid_year", by=city_office)


@pytest.fixture
def demand(review, report_org, city_office):
    finding = services.add_finding(
        review, unit=report_org["a"], text="台帐记录不完整", severity="major", by=city_office
    )
    return services.issue_demand(
        finding, requirements="补齐台帐并建立月检制度", due_on=dt.date(2015, 6, 30), by=city_office
    )


def test_a_round_gets_its_default_title(review):
    assert (review.title, review.kind) == ("清远市2015年“正风”行动年中督查", "mid_year")


def test_one_round_per_kind_and_year(review, city, city_office):
    with pytest.raises(ValidationError) as error:
        services.create_review_round(division=city, year=2015, kind="mid_year", by=city_office)
    assert error.value.messages == ["清远市2015年已有年中督查"]


def test_only_the_office_runs_reviews(report_org, city, liaison_a, county_office):
    with pytest.raises(ValidationError):
        services.create_review_round(division=city, year=2015, kind="annual", by=liaison_a)
    with pytest.raises(ValidationError):
        services.create_review_round(division=city, year=2015, kind="annual", by=county_office)
    assert ReviewRound.objects.count() == 0


def test_a_finding_must_be_about_a_unit_of_the_division(review, other_county_unit, county_office, qingcheng):
    county_review = services.create_review_round(
        division=qingcheng, year=2015, kind="annual", by=county_office
    )
    with pytest.raises(ValidationError) as error:
        services.add_finding(county_review, unit=other_county_unit, text="x", by=county_office)
    assert error.value.messages == ["清新区甲局不在清城区范围内，不能登记问题"]
    assert Finding.objects.count() == 0


def test_a_demand_runs_a_rectification_clock(demand):
    clock = demand.clock
    assert (clock.kind, clock.source_type, clock.state) == (
        "rectification",
        "ledger.rectificationdemand",
        "running",
    )
    assert clock.due_at == local(2015, 6, 30, 17, 30)


def test_a_demand_due_today_or_earlier_is_refused(review, report_org, city_office):
    finding = services.add_finding(review, unit=report_org["a"], text="问题", by=city_office)
    with pytest.raises(ValidationError) as error:
        services.issue_demand(finding, requirements="整改", due_on=dt.date(2015, 6, 15), by=city_office)
    assert error.value.messages == ["整改时限 2015-06-15 须晚于今天"]
    assert RectificationDemand.objects.count() == 0


def test_the_overdue_demand_climbs_the_same_ladder(demand, travel):
    travel(local(2015, 7, 1, 9, 0))
    sweep(local(2015, 7, 1, 9, 0))
    assert sorted(Alert.objects.filter(clock=demand.clock).values_list("level", flat=True)) == [
        AlertLevel.YELLOW
    ]


def test_rectification_report_late_return_and_accept(demand, liaison_a, city_office, travel):
    travel(local(2015, 7, 2, 9, 0))
    services.set_demand_state(demand, DemandState.SUBMITTED, text="已补齐台帐", by=liaison_a)
    with pytest.raises(ValidationError) as no_reason:
        services.set_demand_state(demand, DemandState.RETURNED, by=city_office)
    services.set_demand_state(demand, DemandState.RETURNED, reason="缺月检记录", by=city_office)
    travel(local(2015, 7, 6, 9, 0))
    services.set_demand_state(demand, DemandState.SUBMITTED, text="已补充月检记录", by=liaison_a)
    services.set_demand_state(demand, DemandState.ACCEPTED, by=city_office)

    demand.refresh_from_db()
    assert no_reason.value.messages == ["退回须说明原因"]
    assert (demand.state, demand.is_late, demand.first_submitted_at) == (
        "accepted",
        True,
        local(2015, 7, 2, 9, 0),
    )
    assert list(demand.reports.order_by("id").values_list("text", "state", "review_reason")) == [
        ("已补齐台帐", "returned", "缺月检记录"),
        ("已补充月检记录", "accepted", ""),
    ]


def test_another_unit_cannot_report_on_the_demand(demand, liaison_b):
    with pytest.raises(ValidationError) as error:
        services.set_demand_state(demand, DemandState.SUBMITTED, text="代报", by=liaison_b)
    assert error.value.messages == ["只有市甲局的联络员或单位负责人可以报送整改情况"]


# --- Pages ---------------------------------------------------------------------------------------------


def test_office_pages_create_round_finding_and_demand(client, report_org, city_office, travel):
    travel(local(2015, 6, 15, 9, 0))
    client.force_login(city_office)

    response = client.post(reverse("ledger:review_create"), {"year": 2015, "kind": "annual", "title": ""})
    review = ReviewRound.objects.get()
    assert response.url == reverse("ledger:review_detail", args=[review.pk])
    client.post(
        reverse("ledger:finding_add", args=[review.pk]),
        {"unit": report_org["b"].pk, "severity": "minor", "text": "未按时更新台帐"},
    )
    finding = Finding.objects.get()
    client.post(
        reverse("ledger:demand_issue", args=[finding.pk]),
        {"requirements": "按月更新", "due_on": "2015-07-15"},
    )

    demand = RectificationDemand.objects.get()
    assert (demand.unit, demand.due_on) == (report_org["b"], dt.date(2015, 7, 15))
    page = client.get(reverse("ledger:review_detail", args=[review.pk]))
    assert "未按时更新台帐" in page.content.decode()


def test_the_unit_sees_and_answers_its_demand(client, demand, liaison_a, liaison_b, travel):
    travel(local(2015, 6, 20, 9, 0))
    client.force_login(liaison_a)
    listing = client.get(reverse("ledger:review_home"))
    assert [d.pk for d in listing.context["demands"]] == [demand.pk]

    client.post(reverse("ledger:demand_submit", args=[demand.pk]), {"text": "已整改"})

    demand.refresh_from_db()
    assert (demand.state, demand.is_late) == ("submitted", False)
    client.force_login(liaison_b)
    assert client.get(reverse("ledger:demand_detail", args=[demand.pk])).status_code == 404


def test_review_list_query_count_is_constant(
    client, demand, report_org, city_office, city, django_assert_num_queries
):
    client.force_login(city_office)
    client.get(reverse("ledger:review_home"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("ledger:review_home"))
    services.create_review_round(division=city, year=2015, kind="annual", by=city_office)
    services.create_review_round(division=city, year=2016, kind="annual", by=city_office)

    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(reverse("ledger:review_home"))
    assert len(response.context["rounds"]) == 3


def test_round_detail_query_count_is_constant(
    client, review, demand, report_org, city_office, django_assert_num_queries
):
    client.force_login(city_office)
    url = reverse("ledger:review_detail", args=[review.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for unit in (report_org["b"], report_org["county_office"]):
        finding = services.add_finding(review, unit=unit, text="问题", by=city_office)
        services.issue_demand(finding, requirements="整改", due_on=dt.date(2015, 7, 30), by=city_office)

    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(url)
    assert len(response.context["findings"]) == 3
