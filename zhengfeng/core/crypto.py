"""SM3 hashing, SM4-GCM encryption of personal data, keyed blind indexes, and masking.

Keys are derived from settings.FIELD_ENCRYPTION_KEY with HKDF-SM3, one per purpose, so the blind
index key never equals the encryption key. Ciphertext format: "sm4gcm:v1:" + base64(nonce || ct || tag).
"""

from __future__ import annotations

import base64
import functools
import hmac
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

CIPHER_PREFIX = "sm4gcm:v1:"
_NONCE_BYTES = 12
_TAG_BYTES = 16


class DecryptionError(ValueError):
    """The stored value was not produced with the configured key (or was altered)."""


def sm3_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


@functools.cache
def _derived_key(secret: str, purpose: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SM3(), length=length, salt=b"zhengfeng", info=purpose).derive(
        secret.encode()
    )


def _encryption_key() -> bytes:
    return _derived_key(settings.FIELD_ENCRYPTION_KEY, b"field-encryption-sm4", 16)


def _index_key() -> bytes:
    return _derived_key(settings.FIELD_ENCRYPTION_KEY, b"blind-index-hmac-sm3", 32)


def encrypt_text(plaintext: str) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(_encryption_key()), modes.GCM(nonce)).encryptor()
    ciphertext = encryptor.update(plaintext.encode()) + encryptor.finalize()
    return CIPHER_PREFIX + base64.b64encode(nonce + ciphertext + encryptor.tag).decode()


def decrypt_text(token: str) -> str:
    if not token.startswith(CIPHER_PREFIX):
        raise DecryptionError("不是加密字段的格式")
    raw = base64.b64decode(token[len(CIPHER_PREFIX) :])
    nonce, body, tag = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:-_TAG_BYTES], raw[-_TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(_encryption_key()), modes.GCM(nonce, tag)).decryptor()
    try:
        return (decryptor.update(body) + decryptor.finalize()).decode()
    except InvalidTag as exc:
        raise DecryptionError("密文校验失败：密钥不符或数据被篡改") from exc


def keyed_mac(purpose: bytes, data: bytes) -> str:
    """HMAC-SM3 of `data` under a key derived for `purpose` (a secret pepper: never in the database)."""
    return hmac.new(_derived_key(settings.FIELD_ENCRYPTION_KEY, purpose, 32), data, "sm3").hexdigest()


def secret_mac(secret: str, purpose: bytes, data: bytes) -> str:
    """HMAC-SM3 of `data` under a key derived from `secret` for `purpose` alone (e.g. audit anchors)."""
    return hmac.new(_derived_key(secret, purpose, 32), data, "sm3").hexdigest()


def normalise_for_index(value: str) -> str:
    """Blind-index input: trimmed, no inner spaces or dashes, ASCII upper case (ID numbers' X)."""
    return re.sub(r"[\s\-]", "", value).upper()


def blind_index(value: str) -> str:
    """Keyed HMAC-SM3 of the normalised value: equal inputs match, the index reveals nothing."""
    mac = hmac.new(_index_key(), normalise_for_index(value).encode(), "sm3")
    return mac.hexdigest()


def mask_phone(phone: str) -> str:
    """138****5678 for mobiles; keeps the area code and last 4 digits of other numbers."""
    digits = phone.strip()
    if len(digits) == 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 4:
        return "*" * (len(digits) - 4) + digits[-4:]
    return "*" * len(digits)


def mask_name(name: str) -> str:
    """张* / 欧阳** : keep the first character only."""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_id_number(id_number: str) -> str:
    """4418**********123X : keep the first 4 and last 4 characters."""
    value = id_number.strip()
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]
