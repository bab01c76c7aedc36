"""Benchmark: per-unit hotline metrics (hotline.metrics) over 1,000,000 work orders.

PostgreSQL only (the scale target is production). Creates its own database (zf_bench_hotline by
default), fills one year (2025) of orders over 2,000 units with INSERT … SELECT generate_series: each
order has a 主办 assignment, most a reply clock and a signed-off reply, the closed ones a callback.
Then times the per-unit table for one month (the target: under 1 s), a quarter and the year, and the
per-division table, for the administrator (all units) and a city office user; then drops the database
unless --keep is given.

    DB_ENGINE=postgres .venv/bin/python bench/bench_hotline_metrics.py [--orders 1000000] [--keep] [--explain]
"""

from __future__ import annotations

import argparse
import time

import benchdb  # bench/ is on sys.path: the scripts run as `python bench/<name>.py`

BENCH_DB = benchdb.configure("bench_hotline_metrics", "zf_bench_hotline")

UNITS = 2000


# Per order i (1..N), spread evenly over 2025 and over the units:
#   i % 20 = 1  dispatched, never signed (sign-for overdue);  i % 20 = 0  signed, not replied (overdue)
#   otherwise   replied (i % 7 = 0 late), review passed, closed two days later
#   i % 10 = 0  signed late; i % 13 = 0 anonymous (no callback); i % 3 → 满意 / 基本满意 / 不满意;
#   i % 4 = 0   not resolved; i % 50 = 0 reopened once; i % 40 = 3 a return overruled (不当退单).
ORDER_SQL = """
    INSERT INTO hotline_workorder (id, code, query_password_hash, channel, request_type, urgency, is_complex,
        concerns_conduct, title, content, division_id, division_code, address, requester_name, requester_phone,
        phone_index, requester_id_number, id_number_index, is_anonymous, is_confidential, allow_unit_contact,
        status, main_unit_id, sign_due_at, reply_due_at, received_at, dispatched_at, signed_at, replied_at,
        closed_at, answered_directly, satisfaction, resolved, reopen_count, return_count, improper_return_count,
        extension_count, is_referred, created_by_id, updated_at)
    SELECT i, 'B' || lpad(i::text, 12, '0'), '!', CASE WHEN i %% 25 = 0 THEN 'radio' ELSE 'phone' END, 'help',
        'normal', false, false, '压测工单' || i, '内容', '441800', '441800', '', '', '',
        CASE WHEN i %% 13 = 0 THEN '' ELSE 'h' || i END, '', '', i %% 13 = 0, false, false,
        CASE WHEN i %% 20 = 1 THEN 'dispatched' WHEN i %% 20 = 0 THEN 'handling' ELSE 'closed' END,
        %(first_unit)s + i %% %(units)s,
        CASE WHEN i %% 20 = 1 THEN t + interval '25 hours' END,
        CASE WHEN i %% 20 <> 1 THEN t + interval '14 days' END,
        t, t + interval '1 hour',
        CASE WHEN i %% 20 <> 1 THEN t + CASE WHEN i %% 10 = 0 THEN interval '30 hours' ELSE interval '2 hours' END END,
        CASE WHEN i %% 20 > 1 THEN t + CASE WHEN i %% 7 = 0 THEN interval '16 days' ELSE interval '5 days' END END,
        CASE WHEN i %% 20 > 1 THEN t + CASE WHEN i %% 7 = 0 THEN interval '18 days' ELSE interval '7 days' END END,
        false,
        CASE WHEN i %% 20 > 1 AND i %% 13 <> 0 THEN (ARRAY['satisfied','basically','dissatisfied'])[1 + i %% 3] ELSE '' END,
        CASE WHEN i %% 20 > 1 AND i %% 13 <> 0 THEN i %% 4 <> 0 END,
        CASE WHEN i %% 50 = 0 THEN 1 ELSE 0 END, CASE WHEN i %% 40 = 3 THEN 1 ELSE 0 END,
        CASE WHEN i %% 40 = 3 THEN 1 ELSE 0 END, 0, false, NULL, t
    FROM (SELECT i, %(start)s::timestamptz + (i - 1) * (interval '365 days' / %(total)s) AS t
          FROM generate_series(1, %(total)s) AS i) AS s
"""
CLOCK_SQL = """
    INSERT INTO deadlines_clock (id, source_type, source_id, kind, label, unit_id, division_code, budget_unit,
        budget, warn_before, state, started_at, stopped_at, due_at, warn_at, provisional, calendar_version,
        alert_level)
    SELECT o.id, 'hotline.assignment', o.id::text, 'hotline_reply', '压测', o.main_unit_id, '441800', 'workdays',
        10, 1, CASE WHEN o.replied_at IS NULL THEN 'running' ELSE 'stopped' END, o.signed_at, o.replied_at,
        o.reply_due_at, o.reply_due_at - interval '1 day', false, 1, 0
    FROM hotline_workorder o WHERE o.signed_at IS NOT NULL
"""
ASSIGNMENT_SQL = """
    INSERT INTO hotline_workorderassignment (id, order_id, unit_id, role, status, reason, round, division_code,
        dispatched_at, dispatched_by_id, time_limit_rule_id, reply_limit_days, sign_clock_id, reply_clock_id,
        signed_at, signed_by_id, is_forced, sign_late, reply_late, ended_at)
    SELECT o.id, o.id, o.main_unit_id, 'main',
        CASE WHEN o.status = 'dispatched' THEN 'pending' WHEN o.status = 'closed' THEN 'ended' ELSE 'signed' END,
        'dispatch', 1, '441800', o.dispatched_at, NULL, NULL, 10, NULL,
        CASE WHEN o.signed_at IS NOT NULL THEN o.id END, o.signed_at, NULL, o.improper_return_count > 0,
        o.id %% 10 = 0 AND o.signed_at IS NOT NULL, o.id %% 7 = 0 AND o.replied_at IS NOT NULL,
        o.closed_at
    FROM hotline_workorder o
"""
REPLY_SQL = """
    INSERT INTO hotline_reply (id, order_id, assignment_id, text, status, is_direct, drafted_at, drafted_by_id,
        approved_at, approved_by_id, reviewed_at, reviewed_by_id, review_note)
    SELECT o.id, o.id, o.id, '已办理', 'passed', false, o.replied_at, %(user)s, o.replied_at, %(user)s,
        o.replied_at, %(user)s, ''
    FROM hotline_workorder o WHERE o.replied_at IS NOT NULL
"""
CALLBACK_SQL = """
    INSERT INTO hotline_callback (id, order_id, assignment_id, at, by_id, reached, satisfaction, resolved,
        false_completion, reopened, note)
    SELECT o.id, o.id, o.id, o.closed_at, %(user)s, true, o.satisfaction, o.resolved, false, false, ''
    FROM hotline_workorder o WHERE o.status = 'closed' AND NOT o.is_anonymous
"""


def fill(total: int) -> None:
    import datetime as dt
    import zoneinfo

    from django.db import connection

    from zhengfeng.org.models import Division, DivisionLevel, Role, Unit, User

    Division.objects.create(code="441800", name="清远市", level=DivisionLevel.CITY)
    Unit.objects.bulk_create(
        [Unit(code=f"B{n:05d}", name=f"压测单位{n}", division_id="441800") for n in range(1, UNITS + 1)]
    )
    office_unit = Unit.objects.create(
        code="B-OFFICE", name="市正风办", kind="campaign_office", division_id="441800"
    )
    first_unit = Unit.objects.order_by("id").values_list("id", flat=True).first()
    user = User.objects.create(username="bench_office", role=Role.OFFICE, unit=office_unit, password="!")  # noqa: S106 (unusable password marker)
    start = dt.datetime(2025, 1, 1, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
    params = {"first_unit": first_unit, "units": UNITS, "total": total, "start": start, "user": user.pk}
    with connection.cursor() as cursor:
        for name, sql in (
            ("orders", ORDER_SQL),
            ("reply clocks", CLOCK_SQL),
            ("assignments", ASSIGNMENT_SQL),
            ("replies", REPLY_SQL),
            ("callbacks", CALLBACK_SQL),
        ):
            started = time.perf_counter()
            cursor.execute(sql, params)
            print(f"  {name}: {cursor.rowcount:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
        for table in (
            "hotline_workorder",
            "deadlines_clock",
            "hotline_workorderassignment",
            "hotline_reply",
            "hotline_callback",
        ):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608 (literal table names)
            )
        cursor.execute("ANALYZE")


# Indexes the metrics queries want and the models do not have yet (proposed to the hotline and deadlines
# owners). The bench measures without them, then creates the missing ones and measures again.
PROPOSED_INDEXES = {
    "hotline_assign_dispatched_idx": "hotline_workorderassignment (dispatched_at) WHERE role = 'main'",
    "hotline_order_closed_idx": "hotline_workorder (closed_at) WHERE status = 'closed'",
    "hotline_order_uncounted_idx": "hotline_workorder (id) WHERE status IN ('merged', 'voided')",
    "clock_kind_due_idx": "deadlines_clock (kind, due_at)",
}


def create_missing_indexes() -> list[str]:
    from django.db import connection

    created = []
    with connection.cursor() as cursor:
        for name, definition in PROPOSED_INDEXES.items():
            cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(f"CREATE INDEX {name} ON {definition}")
                created.append(name)
        cursor.execute("ANALYZE")
    return created


def drop_proposed_indexes() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for name in PROPOSED_INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


def timed(label: str, func, repeat: int = 3):
    best, result = None, None
    for _ in range(repeat):
        started = time.perf_counter()
        result = func()
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    print(f"{label}: best of {repeat} {best * 1000:.0f} ms", flush=True)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    parser.add_argument(
        "--reuse", action="store_true", help="reuse a database kept by --keep (skip the fill)"
    )
    parser.add_argument("--explain", action="store_true", help="print the plans of the monthly queries")
    args = parser.parse_args()

    with benchdb.database(BENCH_DB, keep=args.keep, reuse=args.reuse):
        import datetime as dt

        from django.core.management import call_command
        from django.db import connection
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone

        from zhengfeng.core.periods import Period
        from zhengfeng.hotline import metrics
        from zhengfeng.org.models import Unit, User

        if not args.reuse:
            call_command("migrate", verbosity=0)
            started = time.perf_counter()
            fill(args.orders)
            print(
                f"filled {args.orders:,} orders over {UNITS:,} units in {time.perf_counter() - started:.1f} s"
            )
        else:
            drop_proposed_indexes()

        office = User.objects.get(username="bench_office")
        units = Unit.objects.all()
        at = dt.datetime(2026, 1, 15, tzinfo=timezone.get_current_timezone())
        month = metrics.Month(2025, 6)

        def explain() -> None:
            with CaptureQueriesContext(connection) as queries:
                metrics.compute(units, month, at=at)
            with connection.cursor() as cursor:
                for query in queries.captured_queries[:3]:
                    cursor.execute("EXPLAIN ANALYZE " + query["sql"])
                    print("\n".join(row[0] for row in cursor.fetchall()), "\n")

        def measure() -> float:
            if args.explain:
                explain()
            best_month, rows = timed(
                "  month, per unit, administrator (all units)", lambda: metrics.compute(units, month, at=at)
            )
            best_office, _ = timed(
                "  month, per unit, city office (scoped)", lambda: metrics.unit_metrics(office, month, at=at)
            )
            timed("  month, per division", lambda: metrics.compute(units, month, group="division", at=at))
            timed("  quarter, per unit", lambda: metrics.compute(units, Period.quarter(2025, 2), at=at))
            timed("  year, per unit", lambda: metrics.compute(units, Period.parse("2025"), at=at), repeat=1)
            one_unit = units.filter(pk=rows[0].key)
            timed(
                "  one unit, the year by month (drill-down)",
                lambda: metrics.compute(one_unit, Period.parse("2025"), group="month", at=at),
            )
            print(f"  {len(rows):,} unit rows; e.g. {rows[3].label}: {rows[3].figures}")
            return max(best_month, best_office)

        print("with the model's indexes only:")
        before = measure()
        created = create_missing_indexes()
        print(f"with the proposed indexes ({', '.join(created) or 'all present already'}):")
        after = measure()
        print(
            f"target: per-unit monthly metrics < 1 s: {before:.2f} s without, {after:.2f} s with the indexes:",
            "OK" if after < 1 else "MISSED",
        )
        connection.close()


if __name__ == "__main__":
    main()
