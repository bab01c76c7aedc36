"""Benchmark: `zhengfeng hotline import` of a 100,000-row CSV, with another connection writing audit rows.

PostgreSQL only (the scale target is production). Creates its own database (zf_bench_import by
default), migrates, loads two divisions and the built-in categories, writes a CSV of `--rows` new
orders (已受理, spread over 30 days and two divisions, half with a requester phone) plus `--handled`
orders arriving 待签收 (dispatched to a unit by an operator, the one-by-one path), and runs the
import as the command does. Meanwhile another process appends an audit row every
0.1 s (a login's audit row) and records how long each append took: the import holds the audit chain's
head only while a batch commits, so no append should wait for more than a batch's commit.

It prints rows/s (target ≥ 1,000), the time spent checking and writing, the CPU time of the import
and of its PostgreSQL backend (rows per CPU-second: steadier than wall time on a shared machine), and
the appends' p50 / max latency; then checks exactly: every line became one order with its own code and one `received`
event, one `hotline.received_batch` audit row per batch listing its orders, one
`hotline.orders_imported`, every concurrent append stored, the audit chain intact; a second import
of the same file creates nothing. Drops the database unless --keep is given.

    DB_ENGINE=postgres .venv/bin/python bench/bench_hotline_import.py [--rows 100000] [--handled 200]
        [--batch-size 1000] [--profile] [--keep]

Exits non-zero only on wrong results, never on timings.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import datetime as dt
import io
import math
import multiprocessing
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event as EventType
from pathlib import Path

import benchdb  # bench/ is on sys.path: the scripts run as `python bench/<name>.py`

BENCH_DB = benchdb.configure("bench_hotline_import", "zf_bench_import")

HEADER = [
    "外部编号",
    "受理时间",
    "诉求类型",
    "诉求分类",
    "标题",
    "诉求内容",
    "区划代码",
    "诉求人",
    "联系电话",
    "状态",
    "承办单位编码",
]
TYPES = ["投诉", "求助", "咨询", "建议"]
CATEGORIES = ["010101", "城乡建设", ""]
DIVISIONS = ["441800", "441802"]
DAYS = 30


def fill() -> None:
    from django.core.management import call_command

    from zhengfeng.hotline.category_import import import_categories
    from zhengfeng.hotline.demo import BUILTIN_CATEGORIES
    from zhengfeng.org.models import DivisionLevel, Role, Unit, UnitKind, User
    from zhengfeng.org.services import create_division

    call_command("migrate", verbosity=0)
    city = create_division(code="441800", name="清远市", level=DivisionLevel.CITY)
    create_division(code="441802", name="清城区", level=DivisionLevel.COUNTY, parent=city)
    import_categories(BUILTIN_CATEGORIES, source="bench")
    center = Unit.objects.create(
        code="441800-RX", name="市12345热线", division_id="441800", kind=UnitKind.SERVICE_CENTER
    )
    Unit.objects.create(code="441800-A", name="市甲局", division_id="441800")
    User.objects.create(username="operator", role=Role.OPERATOR, unit=center, password="!")  # noqa: S106 (unusable password marker)


def write_csv(path: Path, rows: int, handled: int, start: dt.datetime) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows + handled):
            at = start + dt.timedelta(minutes=n * DAYS * 24 * 60 // (rows + handled))
            writer.writerow(
                [
                    f"BENCH-{n:07d}",
                    f"{at:%Y-%m-%d %H:%M}",
                    TYPES[n % len(TYPES)],
                    CATEGORIES[n % len(CATEGORIES)],
                    f"压测工单{n}",
                    f"第{n}号压测工单：人民路路灯不亮，已持续三天。",
                    DIVISIONS[n % len(DIVISIONS)],
                    "张三" if n % 2 else "",
                    f"138{n:08d}" if n % 2 else "",
                    "办理中" if n >= rows else "已受理",
                    "441800-A" if n >= rows else "",
                ]
            )


def _gapless_days(codes: Iterable[str]) -> bool:
    """Every day's codes are exactly 000001 … its count (QY20261118-000001)."""
    by_day: dict[str, list[int]] = {}
    for code in codes:
        day, number = code.rsplit("-", 1)
        by_day.setdefault(day, []).append(int(number))
    return all(sorted(numbers) == list(range(1, len(numbers) + 1)) for numbers in by_day.values())


def backend_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a PostgreSQL backend so far, from /proc (Linux, local server)."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def append_audit_rows(stop: EventType, latencies: Queue[float]) -> None:
    """An audit row every 0.1 s until `stop`, each append timed (a process of its own: a thread
    would measure waits for this process's GIL, not for the chain's lock)."""
    import django

    django.setup()
    from django.db import connection

    from zhengfeng.core import audit

    try:
        while not stop.wait(0.1):
            started = time.perf_counter()
            audit.record("bench.concurrent_write", data={"at": started})
            latencies.put(time.perf_counter() - started)
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--handled", type=int, default=200, help="orders arriving 待签收 (one by one)")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary of the import")
    args = parser.parse_args()

    with benchdb.database(BENCH_DB, keep=args.keep), tempfile.TemporaryDirectory() as tmp:
        from django.db import connection
        from django.utils import timezone

        from zhengfeng.core import audit
        from zhengfeng.core.models import AuditLog
        from zhengfeng.hotline.models import EventKind, WorkOrder, WorkOrderEvent
        from zhengfeng.hotline.order_import import import_file, plan, read_rows
        from zhengfeng.org.models import User

        fill()
        path = Path(tmp) / "orders.csv"
        start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(days=DAYS + 1)
        write_csv(path, args.rows, args.handled, timezone.localtime(start).replace(tzinfo=None))
        operator = User.objects.get(username="operator")
        total = args.rows + args.handled

        started = time.perf_counter()
        plan(read_rows(path), actor=operator)
        checking = time.perf_counter() - started

        spawn = multiprocessing.get_context("spawn")
        stop, latencies = spawn.Event(), spawn.Queue()
        appender = spawn.Process(target=append_audit_rows, args=(stop, latencies))
        appender.start()
        time.sleep(3)  # Django set up in the appender before the clock starts
        profiler = cProfile.Profile() if args.profile else None
        progress = io.StringIO()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        server_cpu, client_cpu = backend_cpu(backend), time.process_time()
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        result = import_file(path, by=operator, progress=progress, batch_size=args.batch_size)
        if profiler:
            profiler.disable()
        elapsed = time.perf_counter() - started
        client_cpu = time.process_time() - client_cpu
        server_cpu = backend_cpu(backend) - server_cpu
        stop.set()
        appender.join()
        waits = []
        while not latencies.empty():
            waits.append(latencies.get())
        waits.sort()
        if profiler:
            stats = pstats.Stats(profiler)
            stats.sort_stats("cumulative").print_stats(30)
            stats.sort_stats("tottime").print_stats(30)

        again = import_file(path, by=operator)
        print(
            f"{total:,} rows ({args.rows:,} 已受理 in batches of {args.batch_size:,}, {args.handled:,} 待签收)"
        )
        print(
            f"import: {elapsed:.1f} s = {total / elapsed:,.0f} rows/s (checking the file alone: {checking:.1f} s)"
        )
        print(
            f"concurrent audit appends: {len(waits)}, p50 {statistics.median(waits) * 1000:.1f} ms, "
            f"max {waits[-1] * 1000:.1f} ms"
        )
        busy = client_cpu + server_cpu
        print(
            f"CPU: import process {client_cpu:.1f} s + its PostgreSQL backend {server_cpu:.1f} s "
            f"= {total / busy:,.0f} rows per CPU-second (the rate on an otherwise idle machine; "
            f"load average now {os.getloadavg()[0]:.1f})"
        )
        print("target: ≥ 1,000 rows/s:", "OK" if total / elapsed >= 1000 else "MISSED")

        batches = math.ceil(args.rows / args.batch_size)
        listed = sum(
            len(row.data["orders"]) for row in AuditLog.objects.filter(action="hotline.received_batch")
        )
        checks = {
            "created": (result.created, {"received": args.rows, "dispatched": args.handled, "closed": 0}),
            "orders": (WorkOrder.objects.count(), total),
            "distinct codes": (WorkOrder.objects.values("code").distinct().count(), total),
            "received events": (WorkOrderEvent.objects.filter(kind=EventKind.RECEIVED).count(), total),
            "dispatched": (WorkOrder.objects.filter(main_unit__code="441800-A").count(), args.handled),
            "batch audit rows": (AuditLog.objects.filter(action="hotline.received_batch").count(), batches),
            "orders listed in them": (listed, args.rows),
            "import audit rows": (AuditLog.objects.filter(action="hotline.orders_imported").count(), 1),
            "concurrent appends stored": (
                AuditLog.objects.filter(action="bench.concurrent_write").count(),
                len(waits),
            ),
            "codes per day numbered 1..n": (
                _gapless_days(WorkOrder.objects.values_list("code", flat=True)),
                True,
            ),
            "chain problem": (audit.verify_chain()[1], None),
            "second import": ((sum(again.created.values()), again.existing), (0, total)),
        }
        connection.close()
        wrong = {name: got for name, (got, want) in checks.items() if got != want}
        if wrong:
            print(f"UNEXPECTED: {wrong}")
            sys.exit(1)
        print("results: every check exact")


if __name__ == "__main__":
    main()
