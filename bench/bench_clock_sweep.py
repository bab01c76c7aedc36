"""Benchmark: the alerts sweep over 1,000,000 running clocks, 10,000 of them crossing a threshold.

PostgreSQL only (the scale target is production). Creates its own database (zf_bench_sweep by
default), fills it with INSERT … SELECT generate_series, times `alerts.services.sweep(now)`, then
`notify_units(now)` (the worker job's second half, one message per unit liaison), then the sweep
again (it must find nothing), and drops the database unless --keep is given.

    DB_ENGINE=postgres .venv/bin/python bench/bench_clock_sweep.py [--clocks 1000000] [--keep]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time

import benchdb  # bench/ is on sys.path: the scripts run as `python bench/<name>.py`

BENCH_DB = benchdb.configure("bench_clock_sweep", "zf_bench_sweep")

UNITS = 2000
# The clocks that cross a step at `now`, by step: 提醒, 黄牌, 通报, 红牌 (10,000 in all).
CROSSING = {"reminder": 4000, "yellow": 3000, "notice": 2000, "red": 1000}


def fill(total: int, now) -> None:
    from django.db import connection

    from zhengfeng.alerts.services import overdue_cutoff
    from zhengfeng.org.models import Division, DivisionLevel, Role, Unit, User

    Division.objects.create(code="441800", name="清远市", level=DivisionLevel.CITY)
    Unit.objects.bulk_create(
        [Unit(code=f"B{n:05d}", name=f"压测单位{n}", division_id="441800") for n in range(1, UNITS + 1)]
    )
    unit_ids = list(Unit.objects.order_by("id").values_list("id", flat=True))
    User.objects.bulk_create(
        [
            User(username=f"liaison{n}", role=Role.LIAISON, unit_id=uid, password="!")  # noqa: S106 (unusable password marker)
            for n, uid in enumerate(unit_ids)
        ]
    )
    first_unit = unit_ids[0]
    notice_cut = overdue_cutoff(now, 3)
    red_cut = overdue_cutoff(now, 8)
    quiet = total - sum(CROSSING.values())
    future, escalated = quiet * 7 // 10, quiet - quiet * 7 // 10
    bounds = []
    start = 1
    for size in (future, escalated, *CROSSING.values()):
        bounds.append((start, start + size - 1))
        start += size
    (f0, f1), (_e0, e1), (r0, r1), (y0, y1), (n0, n1), (d0, d1) = bounds
    # due_at / warn_at / alert_level per band; every band spreads its clocks over all units and kinds.
    # Only integers computed above are interpolated; the instants are bound parameters.
    sql = f"""
        INSERT INTO deadlines_clock (source_type, source_id, kind, label, unit_id, division_code, budget_unit,
            budget, warn_before, state, started_at, due_at, warn_at, provisional, calendar_version, alert_level)
        SELECT 'bench.item', i::text,
               (ARRAY['hotline.reply','hotline.sign','report.quarterly','approvals.case'])[1 + i %% 4],
               '压测工单' || i || '答复', {first_unit} + i %% {UNITS}, '441800', 'workdays', 5, 1, 'running',
               %(now)s - interval '10 days',
               CASE WHEN i <= {f1} THEN %(now)s + (1 + i %% 30) * interval '1 day'
                    WHEN i <= {e1} THEN %(now)s - (30 + i %% 30) * interval '1 day'
                    WHEN i <= {r1} THEN %(now)s + interval '3 hours'
                    WHEN i <= {y1} THEN %(now)s - interval '1 hour'
                    WHEN i <= {n1} THEN %(notice)s - interval '1 minute'
                    ELSE %(red)s - interval '1 minute' END,
               CASE WHEN i <= {f1} THEN %(now)s + (1 + i %% 30) * interval '1 day' - interval '12 hours'
                    WHEN i <= {e1} THEN NULL
                    ELSE %(now)s - interval '2 hours' END,
               false, 0,
               CASE WHEN i <= {f1} THEN 0 WHEN i <= {e1} THEN 4 WHEN i <= {r1} THEN 0
                    WHEN i <= {y1} THEN 1 WHEN i <= {n1} THEN 2 ELSE 3 END
        FROM generate_series({f0}, {d1}) AS i
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, {"now": now, "notice": notice_cut, "red": red_cut})
        cursor.execute("ANALYZE")
    assert (f0, r0, y0, n0, d0) == (1, e1 + 1, r1 + 1, y1 + 1, n1 + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clocks", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary of the first sweep")
    args = parser.parse_args()

    with benchdb.database(BENCH_DB, keep=args.keep):
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone

        from zhengfeng.alerts.services import notify_units, sweep
        from zhengfeng.deadlines.models import Clock

        call_command("migrate", verbosity=0)
        now = timezone.now()
        started = time.perf_counter()
        fill(args.clocks, now)
        print(
            f"filled {Clock.objects.count():,} clocks, {UNITS:,} units in {time.perf_counter() - started:.1f} s"
        )

        profiler = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        counts = sweep(now)
        first = time.perf_counter() - started
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        started = time.perf_counter()
        messages = notify_units(now)
        notifying = time.perf_counter() - started
        started = time.perf_counter()
        again = sweep(now)
        second = time.perf_counter() - started
        connection.close()

        print(f"sweep 1: {first:.2f} s, new alerts per level {counts} (total {sum(counts.values()):,})")
        print(f"notify_units: {notifying:.2f} s, {messages:,} in-app messages to {UNITS:,} unit liaisons")
        print(f"sweep 2: {second:.2f} s, new alerts per level {again}")
        print("target: sweep 1 < 2 s:", "OK" if first < 2 else "MISSED")
        expected = dict(zip((1, 2, 3, 4), CROSSING.values(), strict=True))
        # A clock 8 working days late at level 3 crosses only 红牌; a 3-day-late one only 通报.
        if counts != expected or any(again.values()):
            print(f"UNEXPECTED counts: wanted {expected} then nothing")
            sys.exit(1)


if __name__ == "__main__":
    main()
