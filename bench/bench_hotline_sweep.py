"""Benchmark: the hotline's overdue sweep over 1,000,000 open work orders, 10,000 of them crossing a deadline.

PostgreSQL only (the scale target is production). Creates its own database (zf_bench_hsweep by
default) and fills it with INSERT … SELECT generate_series, shaped like what the services leave behind:
every order is dispatched to one 主办 unit (2,000 units) with a sign-for clock; odd orders are still
unsigned (assignment pending, sign clock running), even ones signed (sign clock stopped, reply clock
running). Of them 10,000 crossed their deadline minutes ago (5,000 sign-for, 5,000 reply), 50,000 have
been overdue for days and were marked by earlier sweeps, the rest are due in the coming weeks.

It times, on the same data: `hotline.services.sweep_overdue(now)` and `alerts.services.sweep(now)` each
alone (inside a transaction rolled back afterwards), then both in turn and committed, as the worker's
tick runs them, then both again (they must find nothing). Drops the database unless --keep is given.

    DB_ENGINE=postgres .venv/bin/python bench/bench_hotline_sweep.py [--orders 1000000] [--keep]

Exits non-zero only on wrong results (counts, marks, events, score events), never on timings.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time

if os.environ.get("DB_ENGINE") != "postgres":
    print("SKIP bench_hotline_sweep: needs PostgreSQL (run with DB_ENGINE=postgres)")
    sys.exit(0)

BENCH_DB = os.environ.get("BENCH_DB_NAME", "zf_bench_hsweep")
os.environ["DB_NAME"] = BENCH_DB
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "bench-only-field-encryption-key")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import psycopg  # noqa: E402 (after the environment is set)

UNITS = 2000
CROSSING = 10_000  # orders 1..CROSSING crossed their deadline 1–4 minutes ago
MARKED = 50_000  # the next ones: overdue for days, marked by earlier sweeps


def admin_connection() -> psycopg.Connection:
    return psycopg.connect(
        host=os.environ.get("DB_HOST", "127.0.0.1"),
        port=int(os.environ.get("DB_PORT", "5432")),
        user=os.environ.get("DB_USER", "postgres"),
        password=os.environ.get("DB_PASSWORD", ""),
        dbname="postgres",
        autocommit=True,
    )


def recreate_database() -> None:
    with admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def drop_database() -> None:
    with admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


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
ASSIGNMENT_SQL = f"""
    INSERT INTO hotline_workorderassignment (id, order_id, unit_id, role, status, reason, round, division_code,
        dispatched_at, reply_limit_days, sign_clock_id, reply_clock_id, signed_at, is_forced,
        sign_overdue_at, reply_overdue_at, sign_late, reply_late)
    SELECT o.id, o.id, o.main_unit_id, 'main', CASE WHEN o.signed_at IS NULL THEN 'pending' ELSE 'signed' END,
        'dispatch', 1, '441800', o.dispatched_at, 10, o.id,
        CASE WHEN o.signed_at IS NOT NULL THEN %(total)s + o.id END, o.signed_at, false,
        CASE WHEN o.id > {CROSSING} AND o.id <= {CROSSING + MARKED} AND o.signed_at IS NULL THEN o.sign_due_at END,
        CASE WHEN o.id > {CROSSING} AND o.id <= {CROSSING + MARKED} AND o.signed_at IS NOT NULL THEN o.reply_due_at END,
        false, false
    FROM hotline_workorder o
"""  # noqa: S608 (only integer constants are interpolated; the instants are parameters)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile summary of the hotline sweep"
    )
    args = parser.parse_args()

    recreate_database()
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone

        from zhengfeng.alerts.models import Alert
        from zhengfeng.alerts.services import sweep as alerts_sweep
        from zhengfeng.assessment.models import ScoreEvent
        from zhengfeng.hotline.models import WorkOrderAssignment, WorkOrderEvent
        from zhengfeng.hotline.services import sweep_overdue

        call_command("migrate", verbosity=0)
        now = timezone.now()
        started = time.perf_counter()
        fill(args.orders, now)
        print(f"filled {args.orders:,} open orders in {time.perf_counter() - started:.1f} s", flush=True)

        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        hotline_alone, hotline_counts = alone(sweep_overdue, now)
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        alerts_alone, alerts_counts = alone(alerts_sweep, now)

        started = time.perf_counter()
        counts = sweep_overdue(now)
        hotline_tick = time.perf_counter() - started
        alerts = alerts_sweep(now)
        together = time.perf_counter() - started
        started = time.perf_counter()
        again = (sweep_overdue(now), alerts_sweep(now))
        second = time.perf_counter() - started

        print("| step | time | result | target |")
        print("|---|---|---|---|")
        print(f"| hotline.sweep_overdue alone | {hotline_alone:.2f} s | {hotline_counts} | < 2 s |")
        print(f"| alerts.sweep alone | {alerts_alone:.2f} s | {sum(alerts_counts.values()):,} alerts | |")
        print(
            f"| both, committed (worker tick) | {together:.2f} s (hotline {hotline_tick:.2f} s) "
            f"| {counts}, {sum(alerts.values()):,} alerts | < 2 s |"
        )
        print(
            f"| both again (nothing new) | {second:.2f} s | {again[0]}, {sum(again[1].values())} alerts | |"
        )
        print("target: overdue sweep < 2 s:", "OK" if together < 2 else "MISSED")

        half = CROSSING // 2
        problems = []
        if hotline_counts != {"sign": half, "reply": half} or counts != hotline_counts:
            problems.append(f"hotline sweep counts {hotline_counts} / {counts}, wanted {half} each")
        if sum(alerts.values()) != CROSSING or alerts != alerts_counts:
            problems.append(f"alerts {alerts} / {alerts_counts}, wanted {CROSSING:,} in all")
        if any(again[0].values()) or any(again[1].values()):
            problems.append(f"second sweep found {again}")
        marked = WorkOrderAssignment.objects.filter(pk__lte=CROSSING)
        if (
            marked.filter(sign_overdue_at__isnull=False).count() != half
            or marked.filter(reply_overdue_at__isnull=False).count() != half
        ):
            problems.append("marks missing on the crossing assignments")
        if WorkOrderEvent.objects.filter(kind__in=["sign_overdue", "reply_overdue"]).count() != CROSSING:
            problems.append("timeline events: not one per crossing assignment")
        hotline_scores = ScoreEvent.objects.filter(reason_code__startswith="hotline.overdue_").count()
        if hotline_scores != CROSSING:
            problems.append(f"{hotline_scores:,} hotline score events, wanted {CROSSING:,}")
        print(f"alerts in the database: {Alert.objects.count():,}; hotline score events: {hotline_scores:,}")
        connection.close()
        if problems:
            print("UNEXPECTED:", *problems, sep="\n  ")
            sys.exit(1)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            drop_database()


if __name__ == "__main__":
    main()
