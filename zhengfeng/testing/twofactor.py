"""Test helpers for the second factor: a device for a user, its current code, a session marked verified."""

from __future__ import annotations

import time

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from zhengfeng.org.models import User


def device_for(user: User) -> TOTPDevice:
    """The user's confirmed TOTP device, created if missing (without the audit row enrolment writes)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="测试", confirmed=True)


def current_code(device: TOTPDevice, *, offset_steps: int = 0) -> str:
    """The 6-digit code an authenticator app would show for `device` now (or `offset_steps` later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


def mark_verified(client: Client, user: User) -> None:
    """Make the client's signed-in session count as having passed the second factor, as
    `django_otp.login` does after a correct code."""
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device_for(user).persistent_id
    session.save()
