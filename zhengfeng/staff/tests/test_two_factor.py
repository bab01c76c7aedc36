"""TOTP two-factor through the real pages: /login/ then /2fa/ (enrol at first, verify later), recovery
codes, the pages and API refused until verified, the admin reset, and OTP_REQUIRED_ROLES (issue #10 §4)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from zhengfeng.core.models import AuditLog
from zhengfeng.testing.twofactor import current_code, device_for

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # the factories' password


def sign_in(client: Client, username: str, next_url: str = "") -> str:
    """Post the password form (never force_login, which passes the second factor); return where it led."""
    data = {"username": username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    response = client.post("/login/", data)
    assert response.status_code == 302, response.content.decode()
    return client.get(response["Location"])["Location"]


def actions() -> list[str]:
    return list(AuditLog.objects.order_by("seq").values_list("action", flat=True))


def test_the_first_sign_in_of_an_office_user_enrols_a_device_and_shows_recovery_codes(city_office):
    client = Client()

    assert sign_in(client, "city_office") == "/2fa/?next=%2Fworkbench%2F"
    page = client.get("/2fa/?next=/workbench/")
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    secret = re.search(r'class="otp-secret">([A-Z2-7]+)<', page.content.decode())
    assert secret is not None
    qr = client.get("/2fa/qr.svg")
    assert (qr.status_code, qr["Content-Type"]) == (200, "image/svg+xml")
    assert qr.content.startswith(b"<?xml")
    assert b"<svg" in qr.content
    device = TOTPDevice.objects.get(user=city_office)
    assert device.confirmed is False
    # Every other page waits for the enrolment.
    assert client.get("/workbench/")["Location"] == "/2fa/?next=%2Fworkbench%2F"

    wrong = client.post("/2fa/", {"code": "000000" if current_code(device) != "000000" else "111111"})
    assert wrong.status_code == 400
    assert "验证码不正确" in wrong.content.decode()

    # django-otp throttles the device after the wrong code: the next try must wait a second.
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2), tick=False):
        done = client.post("/2fa/", {"code": current_code(device), "next": "/workbench/"})

    assert done.status_code == 200
    assert done["Cache-Control"] == "no-store"
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", done.content.decode())
    assert len(codes) == 10
    assert sorted(codes) == sorted(
        StaticToken.objects.filter(device__user=city_office).values_list("token", flat=True)
    )
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.get("/workbench/").status_code == 200
    assert actions() == ["auth.login", "auth.otp_enrolled"]
    assert secret.group(1) not in str(list(AuditLog.objects.values_list("data", flat=True)))
    # Shown once: the QR code of an enrolled user is gone.
    assert client.get("/2fa/qr.svg").status_code == 404


def test_a_later_sign_in_asks_for_the_code_and_keeps_the_next_page(inspector):
    device = device_for(inspector)
    client = Client()

    assert sign_in(client, "inspector", next_url="/audit/") == "/2fa/?next=%2Faudit%2F"
    assert client.get("/audit/").status_code == 302
    response = client.post("/2fa/", {"code": current_code(device), "next": "/audit/"})

    assert (response.status_code, response["Location"]) == (302, "/audit/")
    assert client.get("/audit/").status_code == 200
    assert actions() == ["auth.login", "auth.otp_verified"]
    assert AuditLog.objects.get(action="auth.otp_verified").data == {"ip": "127.0.0.1", "method": "totp"}


def test_a_wrong_code_is_refused_audited_and_throttled(inspector):
    device = device_for(inspector)
    client = Client()
    sign_in(client, "inspector")

    response = client.post("/2fa/", {"code": "12345x"})

    assert response.status_code == 400
    assert "验证码不正确或已过期" in response.content.decode()
    assert actions() == ["auth.login", "auth.otp_failed"]
    # django-otp makes the next try wait (1 s, then 2, 4, …): even the right code is refused at once.
    assert client.post("/2fa/", {"code": current_code(device)}).status_code == 400
    assert client.get("/workbench/").status_code == 302


def test_a_recovery_code_signs_in_once(city_office):
    client = Client()
    sign_in(client, "city_office")
    client.get("/2fa/")
    device = TOTPDevice.objects.get(user=city_office)
    page = client.post("/2fa/", {"code": current_code(device)})
    code = re.findall(r"<li><code>([a-z2-7]+)</code></li>", page.content.decode())[0]

    for attempt in ("first", "second"):
        other = Client()
        sign_in(other, "city_office")
        response = other.post("/2fa/", {"code": code.upper() if attempt == "first" else code})
        if attempt == "first":
            assert response.status_code == 302
            verified = AuditLog.objects.filter(action="auth.otp_verified").get()
            assert verified.data["method"] == "recovery_code"
        else:
            assert response.status_code == 400
    assert StaticToken.objects.filter(device__user=city_office).count() == 9


def test_the_api_and_the_admin_wait_for_the_second_factor(admin_user):
    device_for(admin_user)
    client = Client()
    sign_in(client, "admin")

    api = client.get("/api/v1/org/units")
    assert (api.status_code, api.json()) == (
        403,
        {"detail": "请先完成两步验证（登录后输入身份验证器中的动态验证码）"},
    )
    assert client.get("/admin/")["Location"] == "/2fa/?next=%2Fadmin%2F"
    # The public site and signing out stay open.
    assert client.get("/portal/hotline/file/").status_code == 200
    assert client.post("/logout/").status_code == 302


def test_roles_outside_the_setting_sign_in_with_the_password(liaison_a, city_office, settings):
    client = Client()
    response = client.post("/login/", {"username": "liaison_a", "password": PASSWORD})
    assert (response["Location"], client.get(response["Location"]).status_code) == ("/workbench/", 200)

    settings.OTP_REQUIRED_ROLES = []
    office = Client()
    response = office.post("/login/", {"username": "city_office", "password": PASSWORD})
    assert office.get(response["Location"]).status_code == 200
    assert not TOTPDevice.objects.exists()


def test_an_admin_resets_a_lost_device_and_the_next_sign_in_enrols_again(admin_user, city_office):
    device_for(city_office)
    StaticDevice.objects.create(user=city_office, name="恢复码", confirmed=True)
    admin = Client()
    admin.force_login(admin_user)

    response = admin.post(
        "/admin/org/user/", {"action": "reset_two_factor", "_selected_action": [str(city_office.pk)]}
    )

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=city_office).exists()
    assert not StaticDevice.objects.filter(user=city_office).exists()
    row = AuditLog.objects.get(action="auth.otp_reset")
    assert (row.actor_id, row.target_id, row.data) == (admin_user.pk, str(city_office.pk), {"devices": 2})
    client = Client()
    sign_in(client, "city_office")
    assert "绑定身份验证器" in client.get("/2fa/").content.decode()


def test_a_reset_ends_a_verified_session_s_access_at_once(city_office, admin_user):
    client = Client()
    client.force_login(city_office)
    assert client.get("/workbench/").status_code == 200

    TOTPDevice.objects.filter(user=city_office).delete()

    assert client.get("/workbench/").status_code == 302
