"""Test helpers: local times, the DB-free seed index and a brute-force day/minute walker."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from zhengfeng.deadlines.importing import SEED_FILE, parse_file, seed_index

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
CN = seed_index()
SEED_ROWS = parse_file(SEED_FILE)
EXCEPTIONS = {row.date: not row.is_off_day for row in SEED_ROWS}
INTERVALS = ((8 * 60 + 30, 12 * 60), (14 * 60 + 30, 17 * 60 + 30))


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, ss, tzinfo=TZ)


def brute_is_work(day: dt.date) -> bool:
    return EXCEPTIONS.get(day, day.weekday() < 5)


def brute_add(day: dt.date, n: int) -> dt.date:
    step = dt.timedelta(days=1 if n > 0 else -1)
    found = 0
    while found < abs(n):
        day += step
        found += brute_is_work(day)
    return day


def brute_count(a: dt.date, b: dt.date) -> int:
    return sum(brute_is_work(a + dt.timedelta(days=i)) for i in range(1, (b - a).days + 1))


def brute_working_minute(t: dt.datetime) -> bool:
    """Is the minute starting at t (local, whole minute) a working minute?"""
    minute = t.hour * 60 + t.minute
    return brute_is_work(t.date()) and any(a <= minute < b for a, b in INTERVALS)


def brute_add_minutes(t: dt.datetime, minutes: int) -> dt.datetime:
    """Walk minute by minute from t (rounded up to a whole minute) until `minutes` working minutes are used."""
    cur = t.replace(second=0, microsecond=0)
    if cur < t:
        cur += dt.timedelta(minutes=1)
    left = minutes
    while True:
        if brute_working_minute(cur):
            left -= 1
        cur += dt.timedelta(minutes=1)
        if left == 0:
            return cur


def brute_elapsed(t1: dt.datetime, t2: dt.datetime) -> int:
    cur, total = t1, 0
    while cur < t2:
        total += brute_working_minute(cur)
        cur += dt.timedelta(minutes=1)
    return total
