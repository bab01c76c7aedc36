"""Outbox for SMS, e-mail and in-app messages; inbound SMS; opt-outs."""

from __future__ import annotations

from django.db import models
