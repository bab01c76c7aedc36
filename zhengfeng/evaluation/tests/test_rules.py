"""Anti-rigging rules: each with a case that must flag and a near miss that must not; idempotent runs."""

import datetime as dt
import re

import pytest
import time_machine
from django.core.management import call_command
from django.test.utils import override_settings

from zhengfeng.core import worker
from zhengfeng.core.models import AuditLog
from zhengfeng.evaluation import rules, services, voting
from zhengfeng.evaluation.models import Evaluation, FlagState, OnlineVote
from zhengfeng.evaluation.tests.conftest import NOW, PHONE, invite, local, process, record, reply
from zhengfeng.org import services as org_services

pytestmark = pytest.mark.django_db

SENT = NOW + dt.timedelta(minutes=30)


def reasons(hits):
    return sorted((hit.record.pk, hit.reason) for hit in hits)


# (a) the subject's phone is a staff phone of the evaluated unit


def test_a_subject_phone_of_a_unit_staff_member_is_flagged(year, unit_a, zhang):
    person = org_services.create_person(name="赵六", phone=PHONE)
    org_services.assign_position(person, unit=unit_a, title="科员")
    action = record(unit_a, zhang)

    assert reasons(rules.staff_phone(year)) == [
        (action.evaluation.pk, "(a) 执法对象的手机号码是被评议单位工作人员的号码")
    ]


def test_a_phone_of_a_disclosed_staff_members_person_is_flagged(year, unit_a, zhang):
    person = org_services.create_person(name="张三", phone=PHONE)
    services.update_staff(zhang, person=person)
    action = record(unit_a, zhang)

    assert [hit.record.pk for hit in rules.staff_phone(year)] == [action.evaluation.pk]


def test_a_near_miss_staff_of_another_unit_or_who_left_before_the_year(year, unit_a, unit_b, zhang):
    other = org_services.create_person(name="赵六", phone=PHONE)
    org_services.assign_position(other, unit=unit_b, title="科员")
    former = org_services.create_person(name="钱七", phone="13911112222")
    position = org_services.assign_position(former, unit=unit_a, title="科员")
    org_services.end_position(position, on=dt.date(2014, 12, 31))
    record(unit_a, zhang)
    record(unit_a, zhang, phone="13911112222")

    assert rules.staff_phone(year) == []


# (b) one phone as the subject of many actions of the same staff member


def test_b_one_phone_three_times_for_one_staff_member_within_30_days(year, unit_a, zhang):
    actions = [record(unit_a, zhang, at=NOW + dt.timedelta(days=d)) for d in (0, 10, 29)]

    assert reasons(rules.repeated_subject(year)) == [
        (a.evaluation.pk, "(b) 同一号码在 30 天内至少 3 次作为张三的执法对象") for a in actions
    ]


def test_b_near_miss_30_days_apart_or_different_staff(year, unit_a, zhang, li):
    for d in (0, 15, 30):
        record(unit_a, zhang, at=local(10, 1, 10) + dt.timedelta(days=d))
    record(unit_a, li, at=NOW)
    record(unit_a, li, at=NOW + dt.timedelta(days=1))

    assert rules.repeated_subject(year) == []


# (c) bursts of actions entered in a short time


def test_c_ten_actions_of_a_unit_within_ten_minutes(year, unit_a, zhang):
    actions = [
        record(unit_a, zhang, at=NOW + dt.timedelta(minutes=i), phone=f"139000000{i:02d}") for i in range(10)
    ]

    assert reasons(rules.entry_burst(year)) == [
        (a.evaluation.pk, "(c) 本单位在 10 分钟内集中录入至少 10 条执法监督记录") for a in actions
    ]


def test_c_near_miss_ten_actions_over_ten_minutes_or_two_units(year, unit_a, unit_b, zhang, wang):
    for i in range(10):
        record(unit_a, zhang, at=NOW + dt.timedelta(seconds=67 * i), phone=f"139000000{i:02d}")
    for i in range(5):
        record(unit_b, wang, at=local(11, 21, 10) + dt.timedelta(minutes=i), phone=f"139100000{i:02d}")
        record(unit_a, zhang, at=local(11, 21, 10) + dt.timedelta(minutes=i), phone=f"139200000{i:02d}")

    assert rules.entry_burst(year) == []


# (d) answers faster than anyone could read the SMS


def test_d_an_answer_nine_seconds_after_sending_is_flagged_ten_is_not(year, unit_a, zhang):
    fast = invite(unit_a, zhang)
    slow = invite(unit_a, zhang, phone="13900000001")
    reply("1", at=SENT + dt.timedelta(seconds=9))
    reply("1", at=SENT + dt.timedelta(seconds=10), phone="13900000001")
    process(SENT + dt.timedelta(minutes=1))

    assert reasons(rules.fast_answer(year)) == [(fast.pk, "(d) 评议短信发出后 9 秒即回复（少于 10 秒）")]
    assert Evaluation.objects.get(pk=slow.pk).answer_seconds == 10


# (e) many online votes from one network or device in a short time


@pytest.fixture
def open_year(year):
    services.update_year(year, vote_opens_at=local(11, 1, 0), vote_closes_at=local(12, 1, 0))
    year.refresh_from_db()
    return year


def cast(year, unit, n, *, at, ip, device):
    with time_machine.travel(at, tick=False):
        verification = voting.request_code(
            evaluation_year=year, phone=f"1370000{n:04d}", ip=ip, device_id=device
        )
        match = re.search(r"验证码(\d{6})", verification.message.text)
        assert match is not None, verification.message.text
        code = match.group(1)
        return voting.cast_vote(
            token=verification.token,
            code=code,
            unit=unit,
            rating="satisfied",
            ip=ip,
            user_agent="UA",
            device_id=device,
        )


@override_settings(EVALUATION_VOTE_DEVICE_LIMIT=100)
def test_e_five_votes_from_one_network_within_an_hour(open_year, unit_a):
    votes = [
        cast(
            open_year,
            unit_a,
            i,
            at=NOW + dt.timedelta(minutes=14 * i),
            ip=f"203.0.113.{i + 1}",
            device=f"d{i}",
        )
        for i in range(5)
    ]

    assert reasons(rules.vote_burst(open_year)) == [
        (v.pk, "(e) 同一网段 203.0.113.0/24 在 60 分钟内至少 5 票") for v in votes
    ]


@override_settings(EVALUATION_VOTE_DEVICE_LIMIT=100)
def test_e_five_votes_from_one_device_within_an_hour(open_year, unit_a):
    votes = [
        cast(open_year, unit_a, i, at=NOW + dt.timedelta(minutes=10 * i), ip=f"10.0.{i}.1", device="same")
        for i in range(5)
    ]

    assert reasons(rules.vote_burst(open_year)) == [
        (v.pk, "(e) 同一设备在 60 分钟内至少 5 票") for v in votes
    ]


@override_settings(EVALUATION_VOTE_DEVICE_LIMIT=100)
def test_e_near_miss_four_in_an_hour_or_five_over_sixty_minutes(open_year, unit_a):
    for i in range(5):
        cast(
            open_year,
            unit_a,
            i,
            at=NOW + dt.timedelta(minutes=15 * i),
            ip=f"203.0.113.{i + 1}",
            device="same",
        )
    for i in range(4):
        cast(
            open_year,
            unit_a,
            10 + i,
            at=NOW + dt.timedelta(minutes=i),
            ip=f"198.51.100.{i + 1}",
            device=f"x{i}",
        )

    assert rules.vote_burst(open_year) == []


# (f) identical subject names with different phones


def test_f_one_name_with_three_phones_in_a_unit_and_quarter(year, unit_a, zhang):
    actions = [
        record(unit_a, zhang, name="某某餐饮店", phone=f"1390000000{i}", at=local(10, 1 + i * 14, 10))
        for i in range(3)
    ]

    assert reasons(rules.same_name_phones(year)) == [
        (a.evaluation.pk, "(f) 同一执法对象名称在第4季度使用了至少 3 个不同手机号码") for a in actions
    ]


def test_f_near_miss_across_quarters_or_units_or_repeated_phone(year, unit_a, unit_b, zhang, wang):
    record(unit_a, zhang, name="某某餐饮店", phone="13900000001", at=local(9, 30, 10))
    record(unit_a, zhang, name="某某餐饮店", phone="13900000002", at=local(10, 8, 10))
    record(unit_b, wang, name="某某餐饮店", phone="13900000003", at=local(10, 9, 10))
    record(unit_a, zhang, name="某某餐饮店", phone="13900000002", at=local(10, 10, 10))

    assert rules.same_name_phones(year) == []


# Running the rules


def test_run_rules_flags_once_and_is_idempotent(year, unit_a, zhang):
    evaluation = invite(unit_a, zhang)
    reply("满意", at=SENT + dt.timedelta(seconds=3))
    process(SENT + dt.timedelta(minutes=1))

    first = rules.run_rules(year)
    second = rules.run_rules(year)

    assert first["d_fast_answer"] == 1
    assert sum(second.values()) == 0
    evaluation.refresh_from_db()
    assert (evaluation.flag_state, evaluation.flag_reason) == (
        FlagState.PENDING,
        "(d) 评议短信发出后 3 秒即回复（少于 10 秒）",
    )
    assert AuditLog.objects.filter(action="evaluation.flagged").count() == 1
    assert AuditLog.objects.filter(action="evaluation.rules_run").count() == 1


def test_a_cleared_record_is_not_flagged_again(year, unit_a, zhang, city_office):
    evaluation = invite(unit_a, zhang)
    reply("满意", at=SENT + dt.timedelta(seconds=3))
    process(SENT + dt.timedelta(minutes=1))
    rules.run_rules(year)
    services.review_flag(evaluation, confirm=False, reason="电话核实为本人回复", by=city_office)

    assert sum(rules.run_rules(year).values()) == 0
    evaluation.refresh_from_db()
    assert evaluation.flag_state == FlagState.CLEARED


def test_thresholds_come_from_the_year(year, unit_a, zhang):
    services.update_year(year, rule_fast_seconds=60)
    year.refresh_from_db()
    invite(unit_a, zhang)
    reply("满意", at=SENT + dt.timedelta(seconds=30))
    process(SENT + dt.timedelta(minutes=1))

    assert [hit.reason for hit in rules.fast_answer(year)] == ["(d) 评议短信发出后 30 秒即回复（少于 60 秒）"]


def test_the_flag_command_and_the_worker_job(year, unit_a, zhang, capsys):
    invite(unit_a, zhang)
    reply("满意", at=SENT + dt.timedelta(seconds=3))
    process(SENT + dt.timedelta(minutes=1))

    call_command("evaluation", "flag", "2015")
    out = capsys.readouterr().out
    results = worker.run_due_jobs(local(12, 1, 9), only="evaluation.flag_rules")

    assert "2015年清远市“公述民评”：新标记 1 条" in out
    assert results == {"evaluation.flag_rules": None}
    assert Evaluation.objects.filter(flag_state=FlagState.PENDING).count() == 1
    assert OnlineVote.objects.count() == 0
