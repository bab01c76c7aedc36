"""Writes for the organisation: units, people, users and API keys. Each is atomic and audited."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from zhengfeng.core import audit
from zhengfeng.core.crypto import blind_index
from zhengfeng.org.models import ApiKey, Person
from zhengfeng.org.validators import normalise_mobile

KNOWN_API_SCOPES = frozenset({"org", "open311", "hotline", "evaluation", "approvals", "funds", "trading", "sms"})


def hash_api_secret(secret: str) -> str:
    # Keys are 256-bit random strings: a plain SHA-256 is enough (nothing to brute-force).
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(*, name: str, scopes: list[str], by: Any = None) -> tuple[ApiKey, str]:
    """Create a key for an integrating system. Returns the row and the full key, shown only once.

    Side effects: one audit row `apikey.created` (without the secret).
    """
    name = name.strip()
    if not name:
        raise ValidationError("接口密钥名称不能为空")
    cleaned = sorted({scope.strip() for scope in scopes if scope.strip()})
    if not cleaned:
        raise ValidationError("至少需要一个权限范围")
    unknown = [scope for scope in cleaned if scope not in KNOWN_API_SCOPES]
    if unknown:
        raise ValidationError(
            f"未知的权限范围：{', '.join(unknown)}；可用：{', '.join(sorted(KNOWN_API_SCOPES))}"
        )
    if ApiKey.objects.filter(name=name).exists():
        raise ValidationError(f"名称为 {name} 的接口密钥已存在")
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        key = ApiKey.objects.create(name=name, prefix=prefix, key_hash=hash_api_secret(secret), scopes=cleaned)
        audit.record("apikey.created", by=by, target=key, data={"name": name, "scopes": cleaned})
    return key, f"zf_{prefix}_{secret}"


def revoke_api_key(key: ApiKey, *, by: Any = None) -> None:
    with transaction.atomic():
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit.record("apikey.revoked", by=by, target=key, data={"name": key.name})


def set_person_phone(person: Person, phone: str) -> None:
    """Validate and store a mobile number encrypted, with its blind index (caller saves and audits)."""
    if phone:
        number = normalise_mobile(phone)
        person.phone = number
        person.phone_index = blind_index(number)
    else:
        person.phone = ""
        person.phone_index = ""
