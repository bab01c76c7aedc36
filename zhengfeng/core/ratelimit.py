"""Atomic fixed-window rate limits, counted in the database (`core.RateCounter`).

One statement takes a slot: `INSERT … ON CONFLICT (key, window) DO UPDATE SET hits = hits + 1 WHERE hits <
limit RETURNING hits`. It returns a row only when the hit fit under the limit, so N parallel requests can
never take more than `limit` slots, on PostgreSQL (the conflicting row is locked for the update) as on
SQLite (one writer at a time). A read-then-write counter, such as the database cache's incr(), let 8 of 30
parallel filings through a limit of 5 (issue #10).

Callers take a slot before the action and give it back when the action turns out not to count (an invalid
form, a correct password), so the check and the count cannot drift apart. Each call runs in its own
autocommit statement, outside any caller's transaction, so that every process sees it at once.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import F
from django.utils import timezone

from zhengfeng.core.models import RateCounter

_KEY = connection.ops.quote_name("key")
_TABLE = connection.ops.quote_name(RateCounter._meta.db_table)


def _window(seconds: int, now: dt.datetime | None) -> tuple[int, dt.datetime]:
    at = int((now or timezone.now()).timestamp())
    start = at - at % seconds
    return start, dt.datetime.fromtimestamp(start + seconds, tz=dt.UTC)


def take(key: str, *, limit: int, window_seconds: int, now: dt.datetime | None = None) -> bool:
    """Count one hit of `key` in the current window if fewer than `limit` were counted; False if full."""
    start, expires_at = _window(window_seconds, now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_TABLE} ({_KEY}, window_start, hits, expires_at) VALUES (%s, %s, 1, %s) "  # noqa: S608 (our own names)
            f"ON CONFLICT ({_KEY}, window_start) DO UPDATE SET hits = {_TABLE}.hits + 1 "
            f"WHERE {_TABLE}.hits < %s RETURNING hits",
            [key, start, expires_at, limit],
        )
        return cursor.fetchone() is not None


def give_back(key: str, *, window_seconds: int, now: dt.datetime | None = None) -> None:
    """Return a slot taken in the current window by `take` (the action did not count after all)."""
    start, _ = _window(window_seconds, now)
    RateCounter.objects.filter(key=key, window_start=start, hits__gt=0).update(hits=F("hits") - 1)


def hits(key: str, *, window_seconds: int, now: dt.datetime | None = None) -> int:
    """Hits counted for `key` in the current window (for a check before any work; `take` decides)."""
    start, _ = _window(window_seconds, now)
    row = RateCounter.objects.filter(key=key, window_start=start).values_list("hits", flat=True).first()
    return row or 0


def is_full(key: str, *, limit: int, window_seconds: int, now: dt.datetime | None = None) -> bool:
    return hits(key, window_seconds=window_seconds, now=now) >= limit


def purge_expired(now: dt.datetime) -> int:
    """Delete counters of windows that have ended (the worker's `core.purge_rate_counters`)."""
    deleted, _ = RateCounter.objects.filter(expires_at__lt=now).delete()
    return deleted
