"""Login through the /login/ view: LOGIN_MAX_FAILURES failures lock for LOGIN_LOCKOUT_MINUTES, one message
whatever went wrong, every failure audited, LOGIN_IP_MAX_FAILURES failures per address and window."""

import datetime as dt
import ipaddress

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from zhengfeng.core.models import AuditLog

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # the factories' password
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
REFUSED = "用户名或密码错误；连续失败多次的账户将临时锁定，请稍后再试或联系系统管理员。"


def login(client, username, password):
    return client.post("/login/", {"username": username, "password": password})


def errors(response):
    return [str(error) for error in response.context["form"].non_field_errors()]


def actions():
    return list(AuditLog.objects.order_by("seq").values_list("action", flat=True))


def test_settings_are_the_documented_defaults():
    assert (settings.LOGIN_MAX_FAILURES, settings.LOGIN_LOCKOUT_MINUTES) == (5, 15)
    assert (settings.LOGIN_IP_MAX_FAILURES, settings.LOGIN_IP_WINDOW_MINUTES) == (20, 15)


def test_a_correct_password_signs_in_and_is_audited(client, liaison_a):
    response = login(client, "liaison_a", PASSWORD)
    assert (response.status_code, response.url) == (302, "/workbench/")
    assert actions() == ["auth.login"]


def test_five_failures_lock_the_account(client, liaison_a):
    with time_machine.travel(START, tick=False):
        for _attempt in range(5):
            assert errors(login(client, "liaison_a", "wrong-password")) == [REFUSED]

    liaison_a.refresh_from_db()
    assert liaison_a.locked_until == START + dt.timedelta(minutes=15)
    assert actions() == ["auth.login_failed"] * 5 + ["auth.locked"]
    last_failure = AuditLog.objects.filter(action="auth.login_failed").order_by("seq").last()
    assert last_failure is not None
    assert last_failure.data == {
        "ip": "127.0.0.1",
        "count": 5,
        "reason": "password",
    }


def test_the_correct_password_is_refused_while_locked_then_accepted(client, liaison_a):
    with time_machine.travel(START, tick=False):
        for _attempt in range(5):
            login(client, "liaison_a", "wrong-password")

    with time_machine.travel(START + dt.timedelta(minutes=14, seconds=59), tick=False):
        response = login(client, "liaison_a", PASSWORD)
        assert (response.status_code, errors(response)) == (200, [REFUSED])
        assert "_auth_user_id" not in client.session

    with time_machine.travel(START + dt.timedelta(minutes=15, seconds=1), tick=False):
        response = login(client, "liaison_a", PASSWORD)
        assert response.status_code == 302
    liaison_a.refresh_from_db()
    assert (liaison_a.failed_logins, liaison_a.locked_until) == (0, None)
    assert actions()[-1] == "auth.login"
    assert "auth.login" not in actions()[:-1]


def test_success_resets_the_failure_count(client, liaison_a):
    for _attempt in range(4):
        login(client, "liaison_a", "wrong-password")
    assert login(client, "liaison_a", PASSWORD).status_code == 302
    client.logout()
    assert errors(login(client, "liaison_a", "wrong-password")) == [REFUSED]
    liaison_a.refresh_from_db()
    assert (liaison_a.failed_logins, liaison_a.locked_until) == (1, None)


def test_unknown_user_gets_the_same_message_and_is_audited_without_the_password(client, liaison_a):
    assert errors(login(client, "nobody", "wrong-password")) == [REFUSED]
    row = AuditLog.objects.get()
    assert (row.action, row.target_type, row.target_id) == ("auth.login_failed", "", "")
    assert row.data == {"ip": "127.0.0.1", "username": "nobody", "reason": "unknown"}


def test_an_attempt_on_a_locked_account_is_audited_and_looks_like_any_failure(client, liaison_a):
    with time_machine.travel(START, tick=False):
        for _attempt in range(5):
            login(client, "liaison_a", "wrong-password")
        response = login(client, "liaison_a", PASSWORD)

    assert errors(response) == [REFUSED]
    row = AuditLog.objects.order_by("seq").last()
    assert row is not None
    assert (row.action, row.target_id, row.data) == (
        "auth.login_failed",
        str(liaison_a.pk),
        {"ip": "127.0.0.1", "reason": "locked"},
    )
    assert PASSWORD not in str(list(AuditLog.objects.values_list("data", flat=True)))


def test_an_address_is_throttled_after_twenty_failures_whatever_the_names(client, liaison_a):
    with time_machine.travel(START, tick=False):
        for n in range(20):
            assert errors(login(client, f"guess{n}", "wrong-password")) == [REFUSED]
        response = login(client, "liaison_a", PASSWORD)
        assert errors(response) == ["此网络地址登录失败次数过多，请稍后再试或联系系统管理员。"]
        assert "_auth_user_id" not in client.session
        # Another address is not affected.
        other = Client(REMOTE_ADDR="10.9.9.9")
        assert login(other, "liaison_a", PASSWORD).status_code == 302
    assert AuditLog.objects.filter(action="auth.login_failed").count() == 20

    with time_machine.travel(START + dt.timedelta(minutes=15), tick=False):
        assert login(client, "liaison_a", PASSWORD).status_code == 302


def test_successes_do_not_use_up_the_address(client, liaison_a):
    with time_machine.travel(START, tick=False):
        for _attempt in range(25):
            assert login(client, "liaison_a", PASSWORD).status_code == 302
            client.logout()
        for n in range(19):
            login(client, f"guess{n}", "wrong-password")
        assert login(client, "liaison_a", PASSWORD).status_code == 302


def test_the_address_behind_a_trusted_proxy_is_throttled_not_the_proxy(client, liaison_a, settings):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/8")]
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    with time_machine.travel(START, tick=False):
        for n in range(20):
            proxy.post(
                "/login/",
                {"username": f"guess{n}", "password": "x"},
                headers={"x-forwarded-for": "203.0.113.7"},
            )
        response = proxy.post(
            "/login/",
            {"username": "liaison_a", "password": PASSWORD},
            headers={"x-forwarded-for": "198.51.100.1"},
        )
    assert response.status_code == 302
    ips = set(AuditLog.objects.filter(action="auth.login_failed").values_list("data__ip", flat=True))
    assert ips == {"203.0.113.7"}
