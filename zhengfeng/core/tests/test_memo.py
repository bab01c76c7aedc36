"""The per-process memo for hot lookups: remembers values for its time, never None, bounded."""

from __future__ import annotations

from zhengfeng.core import memo
from zhengfeng.core.memo import TimedMemo


def counting(values):
    calls = []

    def compute(key):
        def inner():
            calls.append(key)
            return values.get(key)

        return inner

    return calls, compute


def test_a_value_is_computed_once_while_fresh():
    calls, compute = counting({"a": 1})
    box: TimedMemo[int] = TimedMemo("test.fresh", seconds=60)

    assert [box.get("a", compute("a")) for _ in range(3)] == [1, 1, 1]
    assert calls == ["a"]


def test_absent_rows_are_not_remembered():
    values: dict[str, str] = {}
    calls, compute = counting(values)
    box: TimedMemo[str] = TimedMemo("test.absent", seconds=60)

    assert box.get("k", compute("k")) is None
    values["k"] = "created"
    assert box.get("k", compute("k")) == "created"
    assert calls == ["k", "k"]


def test_an_expired_value_is_computed_again():
    values = {"a": 1}
    calls, compute = counting(values)
    box: TimedMemo[int] = TimedMemo("test.expired", seconds=0)

    box.get("a", compute("a"))
    values["a"] = 2

    assert box.get("a", compute("a")) == 2
    assert calls == ["a", "a"]


def test_forget_and_clear_all():
    values = {"a": 1, "b": 2}
    calls, compute = counting(values)
    box: TimedMemo[int] = TimedMemo("test.forget", seconds=60)
    box.get("a", compute("a"))
    box.get("b", compute("b"))

    box.forget("a")
    box.get("a", compute("a"))
    box.get("b", compute("b"))
    memo.clear_all()
    box.get("b", compute("b"))

    assert calls == ["a", "b", "a", "b"]


def test_a_full_memo_starts_over():
    values = {n: n * 10 for n in range(5)}
    calls, compute = counting(values)
    box: TimedMemo[int] = TimedMemo("test.full", seconds=60, max_entries=2)

    for key in (0, 1, 2, 0):
        box.get(key, compute(key))

    # 0 and 1 filled it; 2 emptied it first, so 0 is computed again.
    assert calls == [0, 1, 2, 0]
