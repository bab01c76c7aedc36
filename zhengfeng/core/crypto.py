"""SM3 hashing, SM4-GCM encryption of personal data, keyed blind indexes, and masking.

Keys are derived from settings.FIELD_ENCRYPTION_KEY with HKDF-SM3, one per purpose, so the blind
index key never equals the encryption key. Ciphertext format: "sm4gcm:v1:" + base64(nonce || ct || tag).

During a key rotation (`zhengfeng keys rotate`, zhengfeng.core.keys) settings.FIELD_ENCRYPTION_KEY_PREVIOUS
holds the old key: values are always written under the current key and read under the current one, else
the previous one (GCM's tag tells which). The format carries no key id: the tag check is the id, and a
value written before the rotation needs no rewrite to stay readable.
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


def _encryption_key(secret: str | None = None) -> bytes:
    return _derived_key(secret or settings.FIELD_ENCRYPTION_KEY, b"field-encryption-sm4", 16)


def reading_keys() -> list[str]:
    """The keys a stored value may be under: the current one, then the previous one during a rotation."""
    keys = [settings.FIELD_ENCRYPTION_KEY]
    previous = getattr(settings, "FIELD_ENCRYPTION_KEY_PREVIOUS", "")
    if previous and previous != settings.FIELD_ENCRYPTION_KEY:
        keys.append(previous)
    return keys


def _index_key() -> bytes:
    return _derived_key(settings.FIELD_ENCRYPTION_KEY, b"blind-index-hmac-sm3", 32)


def encrypt_text(plaintext: str) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(_encryption_key()), modes.GCM(nonce)).encryptor()
    ciphertext = encryptor.update(plaintext.encode()) + encryptor.finalize()
    return CIPHER_PREFIX + base64.b64encode(nonce + ciphertext + encryptor.tag).decode()


def decrypt_text(token: str, *, keys: list[str] | None = None) -> str:
    """Decrypt under the first of `keys` (default `reading_keys()`) whose tag verifies."""
    if not token.startswith(CIPHER_PREFIX):
        raise DecryptionError("不是加密字段的格式")
    try:
        raw = base64.b64decode(token[len(CIPHER_PREFIX) :], validate=True)
    except ValueError as exc:
        raise DecryptionError("密文不是有效的 base64") from exc
    if len(raw) < _NONCE_BYTES + _TAG_BYTES:
        raise DecryptionError("密文长度不足")
    nonce, body, tag = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:-_TAG_BYTES], raw[-_TAG_BYTES:]
    for secret in reading_keys() if keys is None else keys:
        decryptor = Cipher(algorithms.SM4(_encryption_key(secret)), modes.GCM(nonce, tag)).decryptor()
        try:
            return (decryptor.update(body) + decryptor.finalize()).decode()
        except InvalidTag:
            continue
    raise DecryptionError("密文校验失败：密钥不符或数据被篡改")


# A fixed label MACed under a key derived for this purpose only: the stored check value tells whether
# a key is the database's without revealing the key or anything derived for another purpose.
_CHECK_LABEL = b"zhengfeng field-encryption key check v1"


def key_check_value(secret: str) -> str:
    return hmac.new(_derived_key(secret, b"key-check-value-hmac-sm3", 32), _CHECK_LABEL, "sm3").hexdigest()


# Keyed MACs over inputs that are never stored (query passwords) cannot be recomputed under a new key.
# Their modules register the purpose here; a rotation keeps the old key's pepper for each (encrypted
# under the new key, core.RetainedPepper) so that values made before it still verify.
RETAINED_MAC_PURPOSES: set[bytes] = set()


def retained_mac_purpose(purpose: bytes) -> bytes:
    RETAINED_MAC_PURPOSES.add(purpose)
    return purpose


def mac_pepper(purpose: bytes, secret: str | None = None) -> bytes:
    return _derived_key(secret or settings.FIELD_ENCRYPTION_KEY, purpose, 32)


def mac_with_pepper(pepper: bytes, data: bytes) -> str:
    return hmac.new(pepper, data, "sm3").hexdigest()


def keyed_mac(purpose: bytes, data: bytes) -> str:
    """HMAC-SM3 of `data` under a key derived for `purpose` (a secret pepper: never in the database)."""
    return mac_with_pepper(mac_pepper(purpose), data)


def secret_mac(secret: str, purpose: bytes, data: bytes) -> str:
    """HMAC-SM3 of `data` under a key derived from `secret` for `purpose` alone (e.g. audit anchors)."""
    return hmac.new(_derived_key(secret, purpose, 32), data, "sm3").hexdigest()


def normalise_for_index(value: str) -> str:
    """Blind-index input: trimmed, no inner spaces or dashes, ASCII upper case (ID numbers' X)."""
    return re.sub(r"[\s\-]", "", value).upper()


def blind_index(value: str) -> str:
    """Keyed HMAC-SM3 of the normalised value: equal inputs match, the index reveals nothing.

    Always under the current key: `zhengfeng keys rotate` recomputes the stored indexes."""
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
