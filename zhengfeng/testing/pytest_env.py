"""Loaded with `-p` before pytest-django reads the settings: test-only secrets, never used elsewhere."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "test-only-field-encryption-key")
os.environ.setdefault("SMS_WEBHOOK_SECRET", "test-only-webhook-secret")
os.environ.setdefault("SMS_BACKEND", "locmem")
os.environ.setdefault("HTTPS", "False")
os.environ.setdefault("STATIC_MANIFEST", "False")
