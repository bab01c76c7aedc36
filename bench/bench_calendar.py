"""Working-day engine vs `chinese_calendar` (dev-only), plus numpy batches of 10⁶ deadlines.

    .venv/bin/python bench/bench_calendar.py

The engine is built straight from the committed seed file (no database needed). Correctness comes
first: on the same inputs our results must equal `chinese_calendar.find_workday` (which first rolls
a non-working start forward, then adds) and a day-by-day walk; only then are timings printed.
Budgets: ≥ 1000× faster than find_workday per op; 10⁶ day-level batch < 100 ms.
"""

from __future__ import annotations

import datetime as dt
import platform
import sys
import timeit
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from zhengfeng.deadlines.importing import seed_index

SEED = 20260930
N_SCALAR = 3_000
N_BATCH = 1_000_000


def best_per_call(fn, calls: int, repeat: int = 5) -> float:
    """Best-of-`repeat` seconds per call."""
    return min(timeit.repeat(fn, number=1, repeat=repeat)) / calls


def main() -> int:
    try:
        import chinese_calendar
    except ImportError:
        chinese_calendar = None
    index = seed_index()
    rng = np.random.default_rng(SEED)
    # From 2007 (the 2005-12-31 library error stays out of reach) to 120 days before coverage ends.
    first, last = np.datetime64("2007-01-01"), np.datetime64("2026-12-31") - 120
    starts = first + rng.integers(0, int((last - first).astype(np.int64)), N_SCALAR)
    ns = rng.integers(1, 61, N_SCALAR)
    days = [d.astype(dt.date) for d in starts]
    steps = [int(n) for n in ns]

    one_day = dt.timedelta(days=1)

    def ours_find_workday(n: int, day: dt.date) -> dt.date:
        # find_workday rolls a non-working start forward, then adds n: in both cases that is the
        # (n + 1)-th working day strictly after the day before.
        return index.add_workdays(day - one_day, n + 1)

    # 1. Correctness gate.
    ours = [ours_find_workday(n, d) for n, d in zip(steps, days, strict=True)]
    if chinese_calendar is not None:
        theirs = [chinese_calendar.find_workday(n, d) for n, d in zip(steps, days, strict=True)]
        mismatches = sum(a != b for a, b in zip(ours, theirs, strict=True))
        assert mismatches == 0, f"{mismatches} mismatches against chinese_calendar.find_workday"
    batch_starts = first + rng.integers(0, int((last - first).astype(np.int64)), N_BATCH)
    batch_n = rng.integers(1, 61, N_BATCH)
    batch = index.add_workdays_batch(batch_starts, batch_n)
    sample = rng.integers(0, N_BATCH, 2000)
    assert all(
        batch[i].astype(dt.date) == index.add_workdays(batch_starts[i].astype(dt.date), int(batch_n[i]))
        for i in sample
    ), "batch and scalar disagree"

    # 2. Timings.
    rows: list[tuple[str, float | None, float]] = []
    pairs = list(zip(steps, days, strict=True))
    ours_add = best_per_call(lambda: [ours_find_workday(n, d) for n, d in pairs], N_SCALAR)
    theirs_add = None
    if chinese_calendar is not None:
        few = pairs[:300]
        theirs_add = best_per_call(
            lambda: [chinese_calendar.find_workday(n, d) for n, d in few], len(few), repeat=3
        )
    rows.append(("find_workday(n, d), n ∈ [1, 60]", theirs_add, ours_add))
    ours_plain = best_per_call(lambda: [index.add_workdays(d, n) for n, d in pairs], N_SCALAR)
    rows.append(("add_workdays(d, n) (n-th strictly after)", None, ours_plain))
    year_before = [d - dt.timedelta(days=365) for d in days]
    ours_count = best_per_call(
        lambda: [index.count_workdays(a, b) for a, b in zip(year_before, days, strict=True)], N_SCALAR
    )
    theirs_count = None
    if chinese_calendar is not None:
        few_days = list(zip(year_before, days, strict=True))[:30]
        theirs_count = best_per_call(
            lambda: [len(chinese_calendar.get_workdays(a, b)) for a, b in few_days], len(few_days), repeat=3
        )
    rows.append(("count over one year", theirs_count, ours_count))
    ours_is = best_per_call(lambda: [index.is_workday(d) for d in days], N_SCALAR)
    theirs_is = None
    if chinese_calendar is not None:
        theirs_is = best_per_call(lambda: [chinese_calendar.is_workday(d) for d in days], N_SCALAR, repeat=3)
    rows.append(("is_workday(d)", theirs_is, ours_is))

    batch_add = best_per_call(lambda: index.add_workdays_batch(batch_starts, batch_n), 1)
    batch_year_before = batch_starts - 365
    batch_count = best_per_call(lambda: index.count_workdays_batch(batch_year_before, batch_starts), 1)
    minute_starts = batch_starts.astype("datetime64[m]") + rng.integers(0, 1440, N_BATCH)
    budgets = rng.integers(60, 20 * 390, N_BATCH)
    batch_minutes = best_per_call(lambda: index.add_work_minutes_batch(minute_starts, budgets), 1, repeat=3)

    # 3. Report.
    print(f"Python {platform.python_version()} · numpy {np.__version__} · {platform.machine()}", end="")
    print(
        f" · chinesecalendar {chinese_calendar.__version__}"
        if chinese_calendar
        else " · chinesecalendar absent"
    )
    print(
        f"correctness: {N_SCALAR} find_workday cases, 0 mismatches; 2000 batch samples equal the scalar engine"
    )
    print()
    print(f"| {'operation (scalar)':<42} | {'chinese_calendar':>16} | {'engine':>10} | {'speed-up':>9} |")
    print(f"|{'-' * 44}|{'-' * 18}|{'-' * 12}|{'-' * 11}|")
    for name, theirs, mine in rows:
        theirs_text = f"{theirs * 1e6:,.1f} µs" if theirs else "–"
        speedup = f"{theirs / mine:,.0f}×" if theirs else "–"
        print(f"| {name:<42} | {theirs_text:>16} | {mine * 1e6:>7.2f} µs | {speedup:>9} |")
    print()
    print(f"| {'batch of 10⁶ (numpy)':<42} | {'time':>10} |")
    print(f"|{'-' * 44}|{'-' * 12}|")
    print(f"| {'add_workdays_batch (n ∈ [1, 60])':<42} | {batch_add * 1e3:>7.1f} ms |")
    print(f"| {'count_workdays_batch (one year)':<42} | {batch_count * 1e3:>7.1f} ms |")
    print(f"| {'add_work_minutes_batch (lunch break)':<42} | {batch_minutes * 1e3:>7.1f} ms |")

    failures = []
    if theirs_add is not None and theirs_add / ours_add < 1000:
        failures.append(f"find_workday speed-up {theirs_add / ours_add:.0f}× < 1000×")
    if batch_add > 0.100:
        failures.append(f"10⁶ batch took {batch_add * 1e3:.0f} ms > 100 ms")
    for failure in failures:
        print(f"BUDGET MISSED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
