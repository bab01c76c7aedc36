"""Login lockout through the /login/ view: LOGIN_MAX_FAILURES failures lock for LOGIN_LOCKOUT_MINUTES."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings

from zhengfeng.core.models import AuditLog

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # the factories' password
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
LOCKED = "连续登录失败次数过多，账户已临时锁定，请稍后再试或联系系统管理员。"


def login(client, username, password):
    return client.post("/login/", {"username": username, "password": password})


def errors(response):
    return [str(error) for error in response.context["form"].non_field_errors()]


def actions():
    return list(AuditLog.objects.order_by("seq").values_list("action", flat=True))


def test_settings_are_the_documented_defaults():
    assert (settings.LOGIN_MAX_FAILURES, settings.LOGIN_LOCKOUT_MINUTES) == (5, 15)


def test_a_correct_password_signs_in_and_is_audited(client, liaison_a):
    response = login(client, "liaison_a", PASSWORD)
    assert (response.status_code, response.url) == (302, "/workbench/")
    assert actions() == ["auth.login"]


def test_five_failures_lock_the_account(client, liaison_a):
    with time_machine.travel(START, tick=False):
        for _attempt in range(4):
            assert errors(login(client, "liaison_a", "wrong-password")) == ["用户名或密码错误。"]
        assert errors(login(client, "liaison_a", "wrong-password")) == [LOCKED]

    liaison_a.refresh_from_db()
    assert liaison_a.locked_until == START + dt.timedelta(minutes=15)
    assert actions() == ["auth.login_failed"] * 5 + ["auth.locked"]
    last_failure = AuditLog.objects.filter(action="auth.login_failed").order_by("seq").last()
    assert last_failure is not None
    assert last_failure.data == {
        "ip": "127.0.0.1",
        "count": 5,
    }


def test_the_correct_password_is_refused_while_locked_then_accepted(client, liaison_a):
    with time_machine.travel(START, tick=False):
        for _attempt in range(5):
            login(client, "liaison_a", "wrong-password")

    with time_machine.travel(START + dt.timedelta(minutes=14, seconds=59), tick=False):
        response = login(client, "liaison_a", PASSWORD)
        assert (response.status_code, errors(response)) == (200, [LOCKED])
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
    assert errors(login(client, "liaison_a", "wrong-password")) == ["用户名或密码错误。"]
    liaison_a.refresh_from_db()
    assert (liaison_a.failed_logins, liaison_a.locked_until) == (1, None)


def test_unknown_user_is_not_audited_as_a_failure_of_anyone(client, liaison_a):
    assert errors(login(client, "nobody", "wrong-password")) == ["用户名或密码错误。"]
    assert actions() == []
