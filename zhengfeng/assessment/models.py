"""Score events: every fact that counts in the annual assessment, pointing at its source."""

from __future__ import annotations

from django.db import models
