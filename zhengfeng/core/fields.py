"""Model fields for personal data: SM4-encrypted at rest, plaintext in Python.

Lookups on an encrypted column cannot work (every value has its own nonce); search through the
blind index column that the owning service fills with `crypto.blind_index()`.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression
from django.db.models.lookups import Lookup

from zhengfeng.core import crypto


class EncryptedTextField(models.TextField):
    description = "SM4-GCM 加密文本"

    def from_db_value(
        self, value: str | None, expression: Expression, connection: BaseDatabaseWrapper
    ) -> str | None:
        if value is None or value == "":
            return value
        return crypto.decrypt_text(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt_text(str(value))

    def get_lookup(self, lookup_name: str) -> type[Lookup[Any]] | None:
        if lookup_name not in ("isnull", "exact"):
            return None
        return super().get_lookup(lookup_name)
