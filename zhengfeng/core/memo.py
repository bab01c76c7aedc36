"""A short-lived, per-process memo for hot lookups on the request path.

For rows that change rarely and are read on every request of a busy endpoint (an API key by its
prefix, a category by its code), one database round trip per request costs more than the request's
own work. Values live `seconds` in each process; a change made elsewhere is seen within that time,
so only lookups whose staleness is harmless (or re-checked in the write itself) belong here.
Absent rows (None) are not remembered: something just created is found at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")

_memos: list[TimedMemo] = []


class TimedMemo(Generic[T]):
    def __init__(self, name: str, *, seconds: float, max_entries: int = 4096) -> None:
        self.name = name
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, T]] = {}
        self._lock = threading.Lock()
        _memos.append(self)

    def get(self, key: Hashable, compute: Callable[[], T | None]) -> T | None:
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        value = compute()
        if value is not None:
            with self._lock:
                # Bounded without bookkeeping: a full memo starts over (keys are few in practice).
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()
                self._entries[key] = (now + self.seconds, value)
        return value

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def clear_all() -> None:
    """Forget everything (tests start from the database, not from another test's memo)."""
    for memo in _memos:
        memo.clear()
