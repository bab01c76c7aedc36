"""core.ratelimit: a fixed window, slots given back, expired windows purged, and no slot too many under a race."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from zhengfeng.core import ratelimit
from zhengfeng.core.models import RateCounter

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 16, 2, 0, 10, tzinfo=dt.UTC)


def test_a_key_takes_up_to_its_limit_per_window():
    taken = [ratelimit.take("k", limit=3, window_seconds=60, now=NOW) for _ in range(5)]

    assert taken == [True, True, True, False, False]
    assert ratelimit.hits("k", window_seconds=60, now=NOW) == 3
    assert ratelimit.is_full("k", limit=3, window_seconds=60, now=NOW)
    assert not ratelimit.is_full("other", limit=3, window_seconds=60, now=NOW)
    # The window is aligned: 02:00:00 to 02:01:00; the next one starts empty.
    assert ratelimit.take("k", limit=3, window_seconds=60, now=NOW + dt.timedelta(seconds=50))
    assert ratelimit.hits("k", window_seconds=60, now=NOW + dt.timedelta(seconds=50)) == 1


def test_a_slot_given_back_can_be_taken_again():
    for _ in range(2):
        ratelimit.take("k", limit=2, window_seconds=60, now=NOW)
    ratelimit.give_back("k", window_seconds=60, now=NOW)

    assert ratelimit.take("k", limit=2, window_seconds=60, now=NOW)
    assert not ratelimit.take("k", limit=2, window_seconds=60, now=NOW)


def test_giving_back_never_goes_below_zero():
    ratelimit.give_back("k", window_seconds=60, now=NOW)
    ratelimit.take("k", limit=2, window_seconds=60, now=NOW)
    ratelimit.give_back("k", window_seconds=60, now=NOW)
    ratelimit.give_back("k", window_seconds=60, now=NOW)

    assert ratelimit.hits("k", window_seconds=60, now=NOW) == 0


def test_ended_windows_are_purged():
    ratelimit.take("old", limit=2, window_seconds=60, now=NOW - dt.timedelta(minutes=5))
    ratelimit.take("new", limit=2, window_seconds=60, now=NOW)

    assert ratelimit.purge_expired(NOW) == 1
    assert list(RateCounter.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the race needs separate server connections")
def test_thirty_parallel_takes_get_exactly_the_limit():
    start = threading.Barrier(30)
    results: list[bool] = []

    def hit() -> None:
        try:
            start.wait()
            results.append(ratelimit.take("race", limit=5, window_seconds=3600, now=NOW))
        finally:
            connection.close()

    threads = [threading.Thread(target=hit) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [False] * 25 + [True] * 5
    assert ratelimit.hits("race", window_seconds=3600, now=NOW) == 5
