"""Online evaluation of units: SMS code verification, one vote per number and unit, rate limits,
double submit, the evidence kept, and the portal page (CSRF, device cookie, no personal data)."""

import datetime as dt
import re

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse

from zhengfeng.core.crypto import blind_index
from zhengfeng.core.models import AuditLog
from zhengfeng.evaluation import services, voting
from zhengfeng.evaluation.models import Answer, OnlineVote, VoteVerification
from zhengfeng.evaluation.tests.conftest import NOW, PHONE, local, reply
from zhengfeng.messaging.models import OutboxMessage

pytestmark = pytest.mark.django_db

DEVICE = "device-1"
IP = "203.0.113.7"


@pytest.fixture
def open_year(year):
    services.update_year(year, vote_opens_at=local(11, 1, 0), vote_closes_at=local(12, 1, 0))
    year.refresh_from_db()
    return year


def code_of(verification):
    match = re.search(r"验证码(\d{6})", verification.message.text)
    assert match is not None, verification.message.text
    return match.group(1)


def ask(year, *, phone=PHONE, at=NOW, ip=IP, device=DEVICE):
    with time_machine.travel(at, tick=False):
        return voting.request_code(evaluation_year=year, phone=phone, ip=ip, device_id=device)


def vote(verification, unit, *, code=None, at=NOW + dt.timedelta(minutes=1), rating="satisfied", **kwargs):
    with time_machine.travel(at, tick=False):
        return voting.cast_vote(
            token=verification.token,
            code=code_of(verification) if code is None else code,
            unit=unit,
            rating=rating,
            comment=kwargs.pop("comment", ""),
            ip=kwargs.pop("ip", IP),
            user_agent=kwargs.pop("user_agent", "Mozilla/5.0"),
            device_id=kwargs.pop("device", DEVICE),
        )


def test_a_verified_number_votes_and_the_evidence_is_kept(open_year, unit_a):
    verification = ask(open_year)

    cast = vote(verification, unit_a, rating="基本满意", comment="办事效率高")

    cast.refresh_from_db()
    assert (cast.unit, cast.rating, cast.comment) == (unit_a, Answer.BASIC, "办事效率高")
    assert (cast.ip, cast.ip_network, cast.device_id) == (IP, "203.0.113.0/24", DEVICE)
    assert cast.phone_index == blind_index(PHONE)
    assert len(cast.user_agent_hash) == 64
    assert cast.verification == verification
    verification.refresh_from_db()
    assert verification.used_at == NOW + dt.timedelta(minutes=1)
    assert verification.code_hash != code_of(verification)
    assert len(verification.code_hash) == 64
    row = AuditLog.objects.get(action="evaluation.vote_cast")
    assert row.data == {
        "unit": "441800-A",
        "rating": "basic",
        "from": "138****5678",
        "network": "203.0.113.0/24",
        "device": DEVICE,
    }


def test_the_code_goes_out_at_once_even_in_quiet_hours(open_year):
    late = local(11, 20, 22, 30)

    verification = ask(open_year, at=late)

    assert verification.message.next_attempt_at == late
    assert verification.message.respect_quiet_hours is False
    assert verification.expires_at == late + dt.timedelta(minutes=10)
    assert "验证码" in verification.message.text


def test_a_wrong_code_counts_an_attempt_and_saves_nothing(open_year, unit_a):
    verification = ask(open_year)
    wrong = "000000" if code_of(verification) != "000000" else "111111"

    with pytest.raises(ValidationError) as exc:
        vote(verification, unit_a, code=wrong)

    assert exc.value.messages == [f"验证码“{wrong}”错误，还可尝试 4 次"]
    verification.refresh_from_db()
    assert verification.attempts == 1
    assert OnlineVote.objects.count() == 0


def test_five_wrong_codes_lock_the_verification(open_year, unit_a):
    verification = ask(open_year)
    wrong = "000000" if code_of(verification) != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(ValidationError):
            vote(verification, unit_a, code=wrong)

    with pytest.raises(ValidationError) as exc:
        vote(verification, unit_a)

    assert exc.value.messages == ["验证码错误次数已达 5 次，请重新获取"]
    assert OnlineVote.objects.count() == 0


def test_an_expired_code_is_refused(open_year, unit_a):
    verification = ask(open_year)

    with pytest.raises(ValidationError) as exc:
        vote(verification, unit_a, at=NOW + dt.timedelta(minutes=10))

    assert exc.value.messages == ["验证码已过期（有效期 10 分钟），请重新获取"]
    assert OnlineVote.objects.count() == 0


def test_a_code_one_second_before_expiry_is_accepted(open_year, unit_a):
    verification = ask(open_year)

    vote(verification, unit_a, at=NOW + dt.timedelta(minutes=10) - dt.timedelta(seconds=1))

    assert OnlineVote.objects.count() == 1


def test_double_submit_is_refused_cleanly(open_year, unit_a):
    verification = ask(open_year)
    vote(verification, unit_a)

    with pytest.raises(ValidationError) as exc:
        vote(verification, unit_a)

    assert exc.value.messages == ["该验证码已用于提交评议，请勿重复提交"]
    assert OnlineVote.objects.count() == 1


def test_one_vote_per_number_per_unit_and_year(open_year, unit_a, unit_b):
    vote(ask(open_year), unit_a)
    second = ask(open_year, at=NOW + dt.timedelta(minutes=5))

    with pytest.raises(ValidationError) as exc:
        vote(second, unit_a, at=NOW + dt.timedelta(minutes=6))

    assert exc.value.messages == ["138****5678 今年已评议过市甲局，每个号码每年只能评议一次"]
    vote(second, unit_b, at=NOW + dt.timedelta(minutes=6))
    assert sorted(OnlineVote.objects.values_list("unit__code", flat=True)) == ["441800-A", "441800-B"]


def test_a_new_code_for_the_same_number_waits_a_minute(open_year):
    ask(open_year)

    with pytest.raises(ValidationError) as exc:
        ask(open_year, at=NOW + dt.timedelta(seconds=30))

    assert exc.value.messages == ["验证码已发送至 138****5678，请 31 秒后再重新获取"]
    ask(open_year, at=NOW + dt.timedelta(seconds=60))
    assert VoteVerification.objects.count() == 2


@override_settings(EVALUATION_VOTE_IP_LIMIT=3)
def test_codes_per_ip_address_are_limited(open_year):
    for n in range(3):
        ask(open_year, phone=f"1390000000{n}", device=f"d{n}")

    with pytest.raises(ValidationError) as exc:
        ask(open_year, phone="13900000009", device="d9")

    assert exc.value.messages == [f"来自 {IP} 的请求过于频繁，请一小时后再试"]
    # An hour later the address may ask again.
    ask(open_year, phone="13900000009", device="d9", at=NOW + dt.timedelta(hours=1, seconds=1))


@override_settings(EVALUATION_VOTE_DEVICE_LIMIT=2)
def test_codes_per_device_are_limited(open_year):
    ask(open_year, phone="13900000001", ip="10.0.0.1")
    ask(open_year, phone="13900000002", ip="10.0.1.1")

    with pytest.raises(ValidationError) as exc:
        ask(open_year, phone="13900000003", ip="10.0.2.1")

    assert exc.value.messages == ["本设备的请求过于频繁，请一小时后再试"]
    assert VoteVerification.objects.count() == 2


def test_voting_outside_the_window_is_refused(open_year, unit_a):
    with pytest.raises(ValidationError) as exc:
        ask(open_year, at=local(12, 1, 0))

    assert exc.value.messages == [
        "网上评议开放时间为 2015-11-01 00:00 至 2015-12-01 00:00，现在不在开放时间内"
    ]


def test_bad_inputs_are_named(open_year, unit_a, county_unit):
    with pytest.raises(ValidationError) as exc:
        ask(open_year, phone="12345")
    assert "12345" in exc.value.messages[0]
    verification = ask(open_year)
    with pytest.raises(ValidationError) as exc:
        vote(verification, county_unit)
    assert exc.value.messages == ["清城区甲局不是2015年清远市“公述民评”的评议单位"]
    with pytest.raises(ValidationError) as exc:
        vote(verification, unit_a, rating="还行")
    assert exc.value.messages == ["未知的评价“还行”；可选：满意、基本满意、不满意"]
    with pytest.raises(ValidationError) as exc:
        vote(verification, unit_a, comment="长" * 501)
    assert exc.value.messages == ["意见建议过长（501 字，最多 500 字）"]
    assert OnlineVote.objects.count() == 0
    # None of those used the code up.
    vote(verification, unit_a)


def test_an_opted_out_number_gets_no_code(open_year):
    reply("TD", at=NOW - dt.timedelta(days=1))

    with pytest.raises(ValidationError) as exc:
        ask(open_year)

    assert exc.value.messages == ["138****5678 已退订短信，无法接收验证码"]
    assert VoteVerification.objects.count() == 0


# --- The portal page --------------------------------------------------------------------------


def test_the_vote_page_runs_both_steps_with_csrf_and_a_device_cookie(open_year, unit_a):
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR=IP)
    url = reverse("portal:evaluation_vote")
    with time_machine.travel(NOW, tick=False):
        page = client.get(url)
        assert page.status_code == 200
        assert "zf_device" in page.cookies
        token = page.cookies["csrftoken"].value
        without_csrf = client.post(url, {"step": "code", "phone": PHONE})
        assert without_csrf.status_code == 403
        step1 = client.post(url, {"step": "code", "phone": PHONE, "csrfmiddlewaretoken": token})
    assert step1.status_code == 200
    body = step1.content.decode()
    assert "验证码已发送至 138****5678" in body
    assert PHONE not in body
    verification = VoteVerification.objects.get()
    assert verification.ip == IP
    data = {
        "step": "vote",
        "token": verification.token,
        "code": code_of(verification),
        "unit": unit_a.code,
        "rating": "satisfied",
        "csrfmiddlewaretoken": token,
    }
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        done = client.post(url, data)
        again = client.post(url, data)
    assert done.status_code == 302
    assert done["Location"] == f"{url}?done=1"
    assert again.status_code == 400
    assert "该验证码已用于提交评议，请勿重复提交" in again.content.decode()
    assert OnlineVote.objects.get().device_id == verification.device_id


def test_the_vote_page_without_a_device_cookie_asks_for_cookies(open_year):
    client = Client()
    with time_machine.travel(NOW, tick=False):
        response = client.post(reverse("portal:evaluation_vote"), {"step": "code", "phone": PHONE})

    assert response.status_code == 400
    assert "请允许浏览器保存 Cookie" in response.content.decode()
    assert "zf_device" in response.cookies
    assert OutboxMessage.objects.count() == 0


def test_the_vote_page_says_when_voting_is_closed(year, client):
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("portal:evaluation_vote"))

    assert "当前不在网上评议开放时间内" in response.content.decode()
