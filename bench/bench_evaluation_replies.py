"""Benchmark: 100,000 inbound SMS replies parsed, matched and scored (公述民评), target < 60 s.

PostgreSQL only. Creates its own database (zf_bench_eval by default), fills it with ten key units,
96,000 enforcement actions whose invitation SMS were sent, and 100,000 inbound replies (95,000
first answers in assorted forms, 2,000 second replies, 1,000 unreadable ones that get the one
re-ask SMS, 2,000 from numbers with no invitation), then times `services.process_replies(now)`
(the worker job) and the unit scores, and drops the database unless --keep is given.

    DB_ENGINE=postgres .venv/bin/python bench/bench_evaluation_replies.py [--replies 100000] [--keep]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

import benchdb  # bench/ is on sys.path: the scripts run as `python bench/<name>.py`

BENCH_DB = benchdb.configure("bench_evaluation_replies", "zf_bench_eval")

UNITS = 10
STAFF_PER_UNIT = 5
# Reply texts as people write them (the parsing table in tests/test_parsing.py has the full list).
VALID_TEXTS = ["1", "２", "3", "满意", "基本满意！", "不满意", "回复1", "1。谢谢", "非常满意", "比较满意"]


def fill(total: int, now):
    """Rows as the services would have written them, inserted in bulk (not timed)."""
    import datetime as dt

    from django.db import connection

    from zhengfeng.core.crypto import blind_index
    from zhengfeng.evaluation.models import (
        ActionStaff,
        DisclosedStaff,
        EnforcementAction,
        Evaluation,
        EvaluationYear,
    )
    from zhengfeng.messaging.models import Channel, InboundSms, OutboxMessage, OutboxStatus
    from zhengfeng.org.models import Division, DivisionLevel, Unit

    later, unreadable, strangers = total * 2 // 100, total // 100, total * 2 // 100
    first = total - later - unreadable - strangers
    invited = first + unreadable
    city = Division.objects.create(code="441800", name="清远市", level=DivisionLevel.CITY)
    units = Unit.objects.bulk_create(
        [Unit(code=f"441800-B{n:02d}", name=f"市压测局{n}", division=city) for n in range(UNITS)]
    )
    year = EvaluationYear.objects.create(division=city, year=now.year, title=f"{now.year}年压测“公述民评”")
    year.key_units.set(units)
    staff = DisclosedStaff.objects.bulk_create(
        [
            DisclosedStaff(unit=u, division_code="441800", name=f"人员{u.pk}-{k}", title="执法队员")
            for u in units
            for k in range(STAFF_PER_UNIT)
        ]
    )
    sent_at = now - dt.timedelta(days=1)
    phones = [f"139{n:08d}" for n in range(invited + strangers)]
    indexes = [blind_index(p) for p in phones]
    started = time.perf_counter()
    messages = OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                channel=Channel.SMS,
                phone=phones[i],
                phone_index=indexes[i],
                text="【清远正风】请回复数字评价：1满意 2基本满意 3不满意。",
                status=OutboxStatus.SENT,
                next_attempt_at=sent_at,
                sent_at=sent_at,
                source_type="evaluation.enforcementaction",
                division_code="441800",
            )
            for i in range(invited)
        ],
        batch_size=5000,
    )
    actions = EnforcementAction.objects.bulk_create(
        [
            EnforcementAction(
                unit=units[i % UNITS],
                division_code="441800",
                year=year,
                action_type="inspection",
                acted_at=sent_at - dt.timedelta(minutes=30),
                subject_name="某某压测公司",
                subject_name_index=blind_index("某某压测公司"),
                subject_phone=phones[i],
                subject_phone_index=indexes[i],
                source="api",
                created_at=sent_at - dt.timedelta(minutes=30),
            )
            for i in range(invited)
        ],
        batch_size=5000,
    )
    ActionStaff.objects.bulk_create(
        [
            ActionStaff(action=a, staff=staff[(i % UNITS) * STAFF_PER_UNIT + i % STAFF_PER_UNIT])
            for i, a in enumerate(actions)
        ],
        batch_size=5000,
    )
    Evaluation.objects.bulk_create(
        [
            Evaluation(
                action=a,
                division_code="441800",
                phone_index=indexes[i],
                message=messages[i],
                window_days=7,
                created_at=a.created_at,
            )
            for i, a in enumerate(actions)
        ],
        batch_size=5000,
    )
    replies = [(i, VALID_TEXTS[i % len(VALID_TEXTS)]) for i in range(first)]
    replies += [(i, "还行吧") for i in range(first, invited)]
    replies += [(i, "3") for i in range(later)]
    replies += [(i, "1") for i in range(invited, invited + strangers)]
    InboundSms.objects.bulk_create(
        [
            InboundSms(
                provider_id=f"bench-{n}",
                phone=phones[i],
                phone_index=indexes[i],
                to_number="10690000",
                text=text,
                received_at=sent_at + dt.timedelta(minutes=5, milliseconds=n),
            )
            for n, (i, text) in enumerate(replies)
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"filled: {invited:,} evaluations, {len(replies):,} replies "
        f"({first:,} first, {later:,} later, {unreadable:,} unreadable, {strangers:,} unknown numbers) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return year


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary of process_replies")
    parser.add_argument("--sql", action="store_true", help="print the SQL statements taking the most time")
    args = parser.parse_args()

    with benchdb.database(BENCH_DB, keep=args.keep):
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone

        call_command("migrate", verbosity=0)
        now = timezone.now()
        fill(args.replies, now)

        from zhengfeng.evaluation import queries, services

        profiler = cProfile.Profile() if args.profile else None
        timings: dict[str, list[float]] = {}

        def timed(execute, sql, params, many, context):
            begun = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                timings.setdefault(sql[:110], []).append(time.perf_counter() - begun)

        started = time.perf_counter()
        if profiler:
            profiler.enable()
        if args.sql:
            with connection.execute_wrapper(timed):
                stats = services.process_replies(now)
        else:
            stats = services.process_replies(now)
        if profiler:
            profiler.disable()
        matched = time.perf_counter() - started
        started = time.perf_counter()
        rows = queries.unit_results(now.year, everything=True)
        scored = time.perf_counter() - started
        total = matched + scored
        answered = sum(row.sms.answered for row in rows)
        print(
            f"process_replies: {matched:.1f} s ({args.replies / matched:,.0f} replies/s) → {stats.as_dict()}"
        )
        print(f"unit scores: {scored:.2f} s, {len(rows)} units, {answered:,} answers counted")
        print(
            f"total {total:.1f} s for {args.replies:,} replies: {'OK' if total < 60 else 'TOO SLOW'} (target < 60 s)"
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM core_auditlog")
            print(f"audit rows written: {cursor.fetchone()[0]:,}")
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        for sql, spent in sorted(timings.items(), key=lambda item: -sum(item[1]))[:8]:
            print(f"{sum(spent):7.2f} s {len(spent):6d}×  {sql}")
        connection.close()


if __name__ == "__main__":
    main()
