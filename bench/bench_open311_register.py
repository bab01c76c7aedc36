"""Benchmark: the worker's registration of accepted Open311 submissions (`hotline.register_open311`).

PostgreSQL only (the scale target is production). Creates its own database (zf_bench_open311_register
by default), migrates, loads one division, the built-in categories and an API key through the services,
then accepts `--submissions` Open311 POSTs through `accept_open311_submission` (the request path's
service, in this process: the HTTP side is bench_open311_post's) and times their registration: the
registration service called batch after batch, as the worker job does, until nothing is pending. It
prints registrations per second (intake under sustained load is ≈ 120 POST/s on this machine) and
checks exactly: registered = accepted, one work order per submission with the submission's code, one
`hotline.received` audit row per order, nothing parked. Drops the database unless --keep is given.

    DB_ENGINE=postgres .venv/bin/python bench/bench_open311_register.py [--submissions 4000] [--keep]

Exits non-zero only on wrong results, never on timings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from decimal import Decimal

import benchdb  # bench/ is on sys.path: the scripts run as `python bench/<name>.py`

BENCH_DB = benchdb.configure("bench_open311_register", "zf_bench_open311_register")
SERVICE_CODE = "010101"  # 城乡建设/市政设施/路灯故障 among the built-in categories


def load_fixtures():
    from django.core.management import call_command

    from zhengfeng.hotline.category_import import import_categories
    from zhengfeng.hotline.demo import BUILTIN_CATEGORIES
    from zhengfeng.org.models import DivisionLevel
    from zhengfeng.org.services import create_api_key, create_division

    call_command("migrate", verbosity=0)
    create_division(code="441800", name="清远市", level=DivisionLevel.CITY)
    import_categories(BUILTIN_CATEGORIES, source="bench")
    key, _token = create_api_key(name="压测客户端", scopes=["open311"])
    return key


def accept_all(key, count: int) -> set[str]:
    from django.utils import timezone

    from zhengfeng.hotline.services import submissions

    codes = set()
    at = timezone.now()
    for n in range(count):
        accepted = submissions.accept_open311_submission(
            key=key,
            external_ids=(f"open311:bench:{n}:1", f"open311:bench:{n}:0"),
            repeat_window=dt.timedelta(minutes=10),
            category_code=SERVICE_CODE,
            request_type="complaint",
            title=f"北江路第 {n} 号路灯不亮",
            content=f"北江路第 {n} 号路灯不亮，请尽快处理",
            division_code="441800",
            address="清城区北江路",
            latitude=Decimal("23.682000"),
            longitude=Decimal("113.056000"),
            requester_name="王小明",
            requester_phone="13902630001",
            at=at,
        )
        codes.add(accepted.code)
    return codes


def register_all() -> tuple[dict[str, int], float, float, int]:
    """Returns the counts, wall seconds, this process's CPU seconds (steadier on a shared machine), calls."""
    from zhengfeng.hotline.services import submissions

    totals = {"registered": 0, "failed": 0}
    batches = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    while True:
        counts = submissions.register_open311_submissions(limit=submissions.REGISTER_BATCH)
        batches += 1
        for name, value in counts.items():
            totals[name] += value
        if sum(counts.values()) == 0:
            return totals, time.perf_counter() - started, time.process_time() - cpu_started, batches


def check(accepted: set[str], totals: dict[str, int]) -> list[str]:
    from django.db.models import Count

    from zhengfeng.core.models import AuditLog
    from zhengfeng.hotline.models import Open311Submission, WorkOrder

    problems = []
    codes = list(WorkOrder.objects.values_list("code", flat=True))
    if totals != {"registered": len(accepted), "failed": 0}:
        problems.append(f"counts {totals}, expected {len(accepted)} registered and none failed")
    if sorted(codes) != sorted(accepted):
        problems.append(f"{len(codes)} work orders ({len(set(codes))} distinct) for {len(accepted)} accepted")
    states = dict(Open311Submission.objects.order_by().values_list("state").annotate(n=Count("id")))
    if states != {"registered": len(accepted)}:
        problems.append(f"submission states {states}")
    received = AuditLog.objects.filter(action="hotline.received").count()
    if received != len(accepted):
        problems.append(f"{received} hotline.received audit rows for {len(accepted)} orders")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=4000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    with benchdb.database(BENCH_DB, keep=args.keep):
        from zhengfeng.hotline.services import submissions

        key = load_fixtures()
        started = time.perf_counter()
        accepted = accept_all(key, args.submissions)
        accept_seconds = time.perf_counter() - started
        totals, seconds, cpu, batches = register_all()
        print(f"accepted {len(accepted)} submissions in {accept_seconds:.1f} s (in-process, not HTTP)")
        print(
            f"registered {totals['registered']} in {seconds:.2f} s, {batches} calls of at most "
            f"{submissions.REGISTER_BATCH}: {totals['registered'] / seconds:.0f} registrations/s; "
            f"{cpu * 1e6 / max(totals['registered'], 1):,.0f} µs of this process's CPU per registration"
        )
        problems = check(accepted, totals)
    for problem in problems:
        print(f"WRONG: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
