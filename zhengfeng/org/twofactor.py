"""Two-factor sign-in (TOTP, django-otp) for the roles in OTP_REQUIRED_ROLES: enrolment, verification,
recovery codes, reset by an admin; every write audited.

A user of such a role signs in with the password, then must verify a code before any other staff page,
the JSON API with the session, or the admin (`staff.middleware.TwoFactorRequired`). At the first sign-in
there is no device yet: the user enrols one (a TOTP secret shown as a QR code), confirms it with a first
code and gets ten single-use recovery codes (django-otp static tokens), shown once.
"""

from __future__ import annotations

import io

import segno
from django.conf import settings
from django.db import transaction
from django_otp import devices_for_user, user_has_device
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from zhengfeng.core import audit
from zhengfeng.org.models import User

RECOVERY_CODES = 10
TOTP_NAME = "身份验证器"
RECOVERY_NAME = "恢复码"


def is_required(user: User) -> bool:
    """Whether `user` must pass a second factor: its role is listed, or it is a superuser and admins are."""
    roles = set(settings.OTP_REQUIRED_ROLES)
    return user.role in roles or (user.is_superuser and "admin" in roles)


def is_verified(user: User) -> bool:
    """Whether this request's session passed a second factor (set by django-otp's OTPMiddleware)."""
    check = getattr(user, "is_verified", None)
    return bool(check()) if callable(check) else False


def is_enrolled(user: User) -> bool:
    return bool(user_has_device(user, confirmed=True))


def pending_device(user: User) -> TOTPDevice:
    """The unconfirmed TOTP device of an enrolment in progress, created on first call (kept across reloads,
    so the QR code the user scanned stays valid until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def qr_svg(device: TOTPDevice) -> bytes:
    """The device's otpauth:// URL as an SVG QR code (drawn here, never by a third-party service)."""
    buffer = io.BytesIO()
    segno.make(device.config_url, error="m").save(buffer, kind="svg", scale=5, border=2)
    return buffer.getvalue()


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def confirm_enrolment(user: User, token: str) -> tuple[TOTPDevice, list[str]] | None:
    """Confirm the pending device with its first code; return it and the new recovery codes, or None.

    Side effects: the device confirmed, ten recovery codes replacing any earlier ones, audit row
    `auth.otp_enrolled` (no secret, no code in it).
    """
    with transaction.atomic():
        device = pending_device(user)
        if not device.verify_token(token.strip()):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(user)
        audit.record("auth.otp_enrolled", by=user, target=user, data={"device": device.persistent_id})
    return device, codes


def verify(user: User, token: str, *, ip: str = "") -> Device | None:
    """The confirmed device (TOTP or a recovery code, which is then used up) accepting `token`, or None.

    django-otp throttles each device (the wait doubles after each failure). Side effects: audit row
    `auth.otp_verified` or `auth.otp_failed` (never the code).
    """
    # Recovery codes are lower-case base32; a user may type them in capitals or in groups.
    token = token.strip().replace(" ", "").lower()
    with transaction.atomic():
        matched = None
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if device.verify_token(token):
                matched = device
                break
        if matched is None:
            audit.record("auth.otp_failed", by=None, target=user, data={"ip": ip})
            return None
        audit.record(
            "auth.otp_verified",
            by=user,
            target=user,
            data={"ip": ip, "method": "recovery_code" if isinstance(matched, StaticDevice) else "totp"},
        )
    return matched


def install_device(user: User, *, key_hex: str, by: User | None = None) -> TOTPDevice:
    """Give `user` a confirmed TOTP device with a known secret (the demo's published accounts only).

    Side effect: audit row `auth.otp_enrolled`.
    """
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, key=key_hex, confirmed=True)
        audit.record("auth.otp_enrolled", by=by, target=user, data={"device": device.persistent_id})
    return device


def reset(user: User, *, by: User) -> int:
    """Remove every device and recovery code of `user` (a lost phone): the next sign-in enrols anew.

    Returns the number of devices removed. Side effect: audit row `auth.otp_reset`.
    """
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).delete()[1].get("otp_totp.TOTPDevice", 0)
        removed += StaticDevice.objects.filter(user=user).delete()[1].get("otp_static.StaticDevice", 0)
        audit.record("auth.otp_reset", by=by, target=user, data={"devices": removed})
    return removed
