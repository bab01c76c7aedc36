"""Flag review: flagged records are out of scores until reviewed; confirm/clear audited; clues; pages scoped."""

import datetime as dt
import re

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from zhengfeng.core.models import AuditLog
from zhengfeng.evaluation import queries, rules, services, voting
from zhengfeng.evaluation.models import Clue, FlagState
from zhengfeng.evaluation.tests.conftest import NOW, invite, local, process, reply
from zhengfeng.org.models import UnitKind
from zhengfeng.testing.factories import UnitFactory

pytestmark = pytest.mark.django_db

SENT = NOW + dt.timedelta(minutes=30)


@pytest.fixture
def fast(year, unit_a, zhang):
    """An answer 3 s after sending, flagged by rule (d)."""
    evaluation = invite(unit_a, zhang)
    reply("满意", at=SENT + dt.timedelta(seconds=3))
    process(SENT + dt.timedelta(minutes=1))
    rules.run_rules(year)
    evaluation.refresh_from_db()
    return evaluation


@pytest.fixture
def discipline(city):
    return UnitFactory(code="441800-JW", name="清远市纪委监委", division=city, kind=UnitKind.DISCIPLINE)


def unit_row(year_number=2015):
    return {row.unit_code: row for row in queries.unit_results(year_number, everything=True)}["441800-A"]


def test_a_flagged_answer_is_left_out_until_cleared(fast, city_office):
    before = unit_row()
    assert (before.sms.satisfied, before.sms.flagged, before.sms.score) == (0, 1, None)

    services.review_flag(fast, confirm=False, reason="电话核实为本人回复", by=city_office)

    after = unit_row()
    assert (after.sms.satisfied, after.sms.flagged, after.sms.score, after.total) == (1, 0, 100, 100)
    row = AuditLog.objects.get(action="evaluation.flag_cleared")
    assert row.data == {"reason": "电话核实为本人回复", "refer": False}
    assert row.actor_id == city_office.pk


def test_confirming_keeps_it_out_and_hands_a_clue_to_the_discipline_office(fast, city_office, discipline):
    services.review_flag(fast, confirm=True, reason="系本单位人员代答", by=city_office, refer=True)

    fast.refresh_from_db()
    assert (fast.flag_state, fast.reviewed_by, fast.review_reason) == (
        FlagState.CONFIRMED,
        city_office,
        "系本单位人员代答",
    )
    assert unit_row().sms.flagged == 1
    clue = Clue.objects.get()
    assert (clue.addressed_to, clue.unit.code, clue.division_code) == (discipline, "441800-A", "441800")
    assert (clue.source_type, clue.source_id) == ("evaluation.evaluation", str(fast.pk))
    assert "138****5678" in clue.summary
    assert "13812345678" not in clue.summary
    assert "(d) 评议短信发出后 3 秒即回复" in clue.summary
    assert list(
        AuditLog.objects.filter(action__in=["evaluation.flag_confirmed", "evaluation.clue_created"])
        .values_list("action", flat=True)
        .order_by("seq")
    ) == ["evaluation.flag_confirmed", "evaluation.clue_created"]
    # One clue per record.
    assert services.create_clue(fast, by=city_office) == clue


def test_review_needs_a_reason_and_a_pending_flag(fast, city_office):
    with pytest.raises(ValidationError) as exc:
        services.review_flag(fast, confirm=True, reason=" ", by=city_office)
    assert exc.value.messages == ["复核意见不能为空"]
    with pytest.raises(ValidationError) as exc:
        services.review_flag(fast, confirm=False, reason="排除", by=city_office, refer=True)
    assert exc.value.messages == ["只有确认违规的情形才能移交纪委监委"]
    services.review_flag(fast, confirm=False, reason="排除", by=city_office)
    with pytest.raises(ValidationError) as exc:
        services.review_flag(fast, confirm=True, reason="再改", by=city_office)
    assert exc.value.messages == [f"评议 #{fast.pk} 不在待复核状态（已排除）"]
    with pytest.raises(ValidationError) as exc:
        services.create_clue(fast, by=city_office)
    assert exc.value.messages == [f"评议 #{fast.pk} 未确认违规（已排除），不能移交"]


def test_a_flagged_vote_is_left_out_until_cleared(year, unit_a, city_office):
    services.update_year(year, vote_opens_at=local(11, 1, 0), vote_closes_at=local(12, 1, 0))
    with time_machine.travel(NOW, tick=False):
        verification = voting.request_code(
            evaluation_year=year, phone="13700000001", ip="10.0.0.1", device_id="d"
        )
        match = re.search(r"验证码(\d{6})", verification.message.text)
        assert match is not None, verification.message.text
        vote = voting.cast_vote(
            token=verification.token,
            code=match.group(1),
            unit=unit_a,
            rating="unsatisfied",
            ip="10.0.0.1",
            user_agent="UA",
            device_id="d",
        )
    assert (unit_row().votes, unit_row().vote_score) == (1, 0)

    services.flag_record(vote, reason="人工标记：同一号码多次来电", by=city_office)
    assert (unit_row().vote_flagged, unit_row().vote_score) == (1, None)
    services.review_record(vote, confirm=False, reason="核实无误", by=city_office)

    assert (unit_row().vote_flagged, unit_row().vote_score) == (0, 0)
    assert (
        AuditLog.objects.filter(
            action__in=["evaluation.vote_flagged", "evaluation.vote_flag_cleared"]
        ).count()
        == 2
    )


# --- Pages ---------------------------------------------------------------------------------------


def test_the_office_sees_the_reason_and_reviews_on_the_page(client, fast, city_office, discipline):
    client.force_login(city_office)

    page = client.get(reverse("evaluation:flags"))
    response = client.post(
        reverse("evaluation:flag_review", args=["sms", fast.pk]),
        {"decision": "confirm", "reason": "确认代答", "refer": "on"},
    )

    body = page.content.decode()
    assert "(d) 评议短信发出后 3 秒即回复（少于 10 秒）" in body
    assert "138****5678" in body
    assert "13812345678" not in body
    assert response.status_code == 302
    fast.refresh_from_db()
    assert fast.flag_state == FlagState.CONFIRMED
    assert Clue.objects.count() == 1


def test_review_pages_are_scoped(client, fast, county_office, inspector, liaison_a):
    client.force_login(county_office)
    assert "3 秒即回复" not in client.get(reverse("evaluation:flags")).content.decode()
    assert (
        client.post(
            reverse("evaluation:flag_review", args=["sms", fast.pk]), {"decision": "clear", "reason": "x"}
        ).status_code
        == 404
    )

    client.force_login(liaison_a)
    assert client.get(reverse("evaluation:flags")).status_code == 403

    client.force_login(inspector)
    page = client.get(reverse("evaluation:flags")).content.decode()
    assert "3 秒即回复" in page
    assert "确认违规</button>" not in page
    assert (
        client.post(
            reverse("evaluation:flag_review", args=["sms", fast.pk]), {"decision": "clear", "reason": "x"}
        ).status_code
        == 403
    )


def test_clues_are_visible_to_inspectors_of_the_division(
    client, fast, city_office, inspector, county_office, discipline
):
    services.review_flag(fast, confirm=True, reason="确认代答", by=city_office, refer=True)

    client.force_login(inspector)
    seen = client.get(reverse("evaluation:clues")).content.decode()
    client.force_login(county_office)
    unseen = client.get(reverse("evaluation:clues")).content.decode()

    assert "清远市纪委监委" in seen
    assert "经复核确认存在刷票嫌疑" in seen
    assert "经复核确认存在刷票嫌疑" not in unseen


def test_the_review_page_runs_a_constant_number_of_queries(client, year, unit_a, zhang, city_office):
    client.force_login(city_office)

    def flagged(n):
        evaluation = invite(unit_a, zhang, phone=f"1390000{n:04d}")
        services.flag_evaluation(evaluation, reason="人工标记", by=city_office)

    flagged(1)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("evaluation:flags"))
    flagged(2)
    flagged(3)
    with CaptureQueriesContext(connection) as three:
        page = client.get(reverse("evaluation:flags"))

    assert page.content.decode().count("人工标记") == 3
    assert len(three.captured_queries) == len(one.captured_queries)
