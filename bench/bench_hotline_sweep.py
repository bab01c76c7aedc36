"""Benchmark: the hotline's overdue sweep over 1,000,000 open work orders, 10,000 of them crossing a deadline.

The overdue sweep is the alerts ladder's (`alerts.services.sweep`): its 黄牌 on a hotline_sign or
hotline_reply clock carries the hotline deduction (rules seeded by hotline migrations 0002 and 0005:
−0.5 and −1).

PostgreSQL only (the scale target is production). Creates its own database (zf_bench_hsweep by
default) and fills it with INSERT … SELECT generate_series, shaped like what the services leave behind:
every order is dispatched to one 主办 unit (2,000 units) with a sign-for clock; odd orders are still
unsigned (assignment pending, sign clock running), even ones signed (sign clock stopped, reply clock
running). Of them 10,000 crossed their deadline minutes ago (5,000 sign-for, 5,000 reply; their 提醒
was issued), 50,000 have been overdue for days and are at 红牌 from earlier sweeps, the rest are due
in the coming weeks.

It times, on the same data: `alerts.services.sweep(now)` inside a transaction rolled back afterwards,
then committed (the worker's tick), then again (it must find nothing). Drops the database unless
--keep is given.

    DB_ENGINE=postgres .venv/bin/python bench/bench_hotline_sweep.py [--orders 1000000] [--keep] [--profile]

Exits non-zero only on wrong results (alert counts, score events), never on timings.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time

import benchdb  # bench/ is on sys.path: the scripts run as `python bench/<name>.py`

BENCH_DB = benchdb.configure("bench_hotline_sweep", "zf_bench_hsweep")

UNITS = 2000
CROSSING = 10_000  # orders 1..CROSSING crossed their deadline 1–4 minutes ago
MARKED = 50_000  # the next ones: overdue for days, at 红牌 from earlier sweeps
TARGET_SECONDS = 2.0


# Per order i: its deadline (the sign-for one when i is odd, the reply one when even) by band.
DUE = f"""CASE WHEN i <= {CROSSING} THEN %(now)s - (1 + i %% 4) * interval '1 minute'
               WHEN i <= {CROSSING + MARKED} THEN %(now)s - (1 + i %% 30) * interval '1 day'
               ELSE %(now)s + (2 + i %% 20) * interval '1 day' END"""
ORDER_SQL = f"""
    INSERT INTO hotline_workorder (id, code, query_password_hash, channel, request_type, urgency, is_complex,
        concerns_conduct, title, content, division_id, division_code, address, requester_name, requester_phone,
        phone_index, requester_id_number, id_number_index, is_anonymous, is_confidential, allow_unit_contact,
        status, main_unit_id, sign_due_at, reply_due_at, received_at, dispatched_at, signed_at,
        answered_directly, satisfaction, reopen_count, return_count, improper_return_count, extension_count,
        is_referred, updated_at)
    SELECT i, 'B' || lpad(i::text, 12, '0'), '!', 'phone', 'help', 'normal', false, false,
        '压测工单' || i, '内容', '441800', '441800', '', '', '', '', '', '', false, false, false,
        CASE WHEN i %% 2 = 1 THEN 'dispatched' ELSE 'handling' END, %(first_unit)s + i %% {UNITS},
        CASE WHEN i %% 2 = 1 THEN due END, CASE WHEN i %% 2 = 0 THEN due END,
        due - interval '20 days', due - interval '20 days',
        CASE WHEN i %% 2 = 0 THEN due - interval '19 days' END,
        false, '', 0, 0, 0, 0, false, due - interval '19 days'
    FROM (SELECT i, {DUE} AS due FROM generate_series(1, %(total)s) AS i) AS s
"""  # noqa: S608 (only integer constants are interpolated; the instants are parameters)
# Sign-for clocks (id = order id): running while unsigned, stopped at signing.
SIGN_CLOCK_SQL = f"""
    INSERT INTO deadlines_clock (id, source_type, source_id, kind, label, unit_id, division_code, budget_unit,
        budget, warn_before, state, started_at, stopped_at, due_at, warn_at, provisional, calendar_version,
        alert_level)
    SELECT o.id, 'hotline.assignment', o.id::text, 'hotline_sign', o.code || ' 签收：' || o.title, o.main_unit_id,
        '441800', 'workdays', 1, 0, CASE WHEN o.signed_at IS NULL THEN 'running' ELSE 'stopped' END,
        o.dispatched_at, o.signed_at, coalesce(o.sign_due_at, o.dispatched_at + interval '1 day'),
        NULL, false, 1,
        CASE WHEN o.signed_at IS NOT NULL THEN 0 WHEN o.id <= {CROSSING} THEN 1
             WHEN o.id <= {CROSSING + MARKED} THEN 4 ELSE 0 END
    FROM hotline_workorder o
"""  # noqa: S608 (only integer constants are interpolated; the instants are parameters)
# Reply clocks (id = total + order id) of the signed orders, running.
REPLY_CLOCK_SQL = f"""
    INSERT INTO deadlines_clock (id, source_type, source_id, kind, label, unit_id, division_code, budget_unit,
        budget, warn_before, state, started_at, stopped_at, due_at, warn_at, provisional, calendar_version,
        alert_level)
    SELECT %(total)s + o.id, 'hotline.assignment', o.id::text, 'hotline_reply', o.code || ' 办理：' || o.title,
        o.main_unit_id, '441800', 'workdays', 10, 1, 'running', o.signed_at, NULL, o.reply_due_at,
        o.reply_due_at - interval '1 day', false, 1,
        CASE WHEN o.id <= {CROSSING} THEN 1 WHEN o.id <= {CROSSING + MARKED} THEN 4 ELSE 0 END
    FROM hotline_workorder o WHERE o.signed_at IS NOT NULL
"""  # noqa: S608 (only integer constants are interpolated; the instants are parameters)
ASSIGNMENT_SQL = """
    INSERT INTO hotline_workorderassignment (id, order_id, unit_id, role, status, reason, round, division_code,
        dispatched_at, reply_limit_days, sign_clock_id, reply_clock_id, signed_at, is_forced, sign_late,
        reply_late)
    SELECT o.id, o.id, o.main_unit_id, 'main', CASE WHEN o.signed_at IS NULL THEN 'pending' ELSE 'signed' END,
        'dispatch', 1, '441800', o.dispatched_at, 10, o.id,
        CASE WHEN o.signed_at IS NOT NULL THEN %(total)s + o.id END, o.signed_at, false, false, false
    FROM hotline_workorder o
"""


def fill(total: int, now) -> None:
    from django.db import connection

    from zhengfeng.org.models import Division, DivisionLevel, Unit

    Division.objects.create(code="441800", name="清远市", level=DivisionLevel.CITY)
    Unit.objects.bulk_create(
        [Unit(code=f"B{n:05d}", name=f"压测单位{n}", division_id="441800") for n in range(1, UNITS + 1)]
    )
    first_unit = Unit.objects.order_by("id").values_list("id", flat=True).first()
    params = {"now": now, "total": total, "first_unit": first_unit}
    with connection.cursor() as cursor:
        for name, sql in (
            ("orders", ORDER_SQL),
            ("sign clocks", SIGN_CLOCK_SQL),
            ("reply clocks", REPLY_CLOCK_SQL),
            ("assignments", ASSIGNMENT_SQL),
        ):
            started = time.perf_counter()
            cursor.execute(sql, params)
            print(f"  {name}: {cursor.rowcount:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
        for table in ("hotline_workorder", "deadlines_clock", "hotline_workorderassignment"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608 (literal table names)
            )
        cursor.execute("VACUUM ANALYZE")
        # A steady state, not the minute after loading a gigabyte: the fill's dirty pages are written
        # now, not by the checkpointer in the middle of a timed sweep.
        cursor.execute("CHECKPOINT")


class RollbackError(Exception):
    """Raised to undo a timed run."""


def alone(func, now) -> tuple[float, object]:
    """Time `func(now)` inside a transaction rolled back afterwards (the data stays as filled)."""
    from django.db import transaction

    result = None
    started = time.perf_counter()
    try:
        with transaction.atomic():
            result = func(now)
            elapsed = time.perf_counter() - started
            raise RollbackError
    except RollbackError:
        pass
    return elapsed, result


def check(issued, committed, again) -> list[str]:
    """What the sweep must have done: one 黄牌 per crossing clock carrying the hotline deduction."""
    from decimal import Decimal

    from django.db.models import Count

    from zhengfeng.alerts.models import Alert, AlertLevel
    from zhengfeng.assessment.models import ScoreEvent

    half = CROSSING // 2
    wanted = {AlertLevel.REMINDER: 0, AlertLevel.YELLOW: CROSSING, AlertLevel.NOTICE: 0, AlertLevel.RED: 0}
    problems = []
    if issued != wanted or committed != wanted:
        problems.append(f"sweep issued {issued} (rolled back) / {committed} (committed), wanted {wanted}")
    if any(again.values()):
        problems.append(f"second sweep issued {again}")
    yellow = Alert.objects.filter(level=AlertLevel.YELLOW)
    if yellow.count() != CROSSING or yellow.filter(score_event__isnull=True).exists():
        problems.append(f"{yellow.count():,} 黄牌 alerts (wanted {CROSSING:,}), each with its score event")
    scores = dict(
        ScoreEvent.objects.filter(dimension="hotline", reason_code="alert.yellow")
        .values("points")
        .annotate(n=Count("id"))
        .values_list("points", "n")
    )
    if scores != {Decimal("-0.5"): half, Decimal("-1"): half} or ScoreEvent.objects.count() != CROSSING:
        problems.append(
            f"score events {scores} of {ScoreEvent.objects.count():,}, wanted {half:,} × −0.5 and −1"
        )
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile summary of the (rolled back) sweep"
    )
    args = parser.parse_args()

    with benchdb.database(BENCH_DB, keep=args.keep):
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone

        from zhengfeng.alerts.services import sweep

        call_command("migrate", verbosity=0)
        now = timezone.now()
        started = time.perf_counter()
        fill(args.orders, now)
        print(f"filled {args.orders:,} open orders in {time.perf_counter() - started:.1f} s", flush=True)

        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        rolled_back, issued = alone(sweep, now)
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)

        started = time.perf_counter()
        committed = sweep(now)
        tick = time.perf_counter() - started
        started = time.perf_counter()
        again = sweep(now)
        second = time.perf_counter() - started

        print("| step | time | result | target |")
        print("|---|---|---|---|")
        print(f"| alerts.sweep (rolled back) | {rolled_back:.2f} s | {sum(issued.values()):,} alerts | |")
        print(
            f"| alerts.sweep, committed (the worker's tick) | {tick:.2f} s "
            f"| {sum(committed.values()):,} alerts | < {TARGET_SECONDS:.0f} s |"
        )
        print(f"| alerts.sweep again (nothing new) | {second:.2f} s | {sum(again.values())} alerts | |")
        print(f"target: overdue sweep < {TARGET_SECONDS:.0f} s:", "OK" if tick < TARGET_SECONDS else "MISSED")

        problems = check(issued, committed, again)
        connection.close()
        if problems:
            print("UNEXPECTED:", *problems, sep="\n  ")
            sys.exit(1)


if __name__ == "__main__":
    main()
