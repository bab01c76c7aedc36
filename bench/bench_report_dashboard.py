"""Benchmark: the quarterly report dashboard (units × periods) for 2,000 units × 4 quarters.

PostgreSQL only (the target is production). Creates its own database (zf_bench_reports by default),
fills it with 2,000 city units, the 2015 reporting rule and 8,000 reports in mixed states with their
clocks (bulk inserts), then renders `/ledger/reports/dashboard/?year=2015` through the Django test
client logged in as the city office, and drops the database unless --keep is given.
Target: < 300 ms per render (the whole page, all 2,000 rows).

    DB_ENGINE=postgres .venv/bin/python bench/bench_report_dashboard.py [--units 2000] [--runs 10] [--keep]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import benchdb  # bench/ is on sys.path: the scripts run as `python bench/<name>.py`

BENCH_DB = benchdb.configure("bench_report_dashboard", "zf_bench_reports")

TARGET_MS = 300


def fill(units: int):
    """2,000 units; per unit and quarter a report and its clock; states spread over every cell kind."""
    import datetime as dt

    from django.db import connection

    from zhengfeng.core.periods import quarters_of
    from zhengfeng.deadlines.models import Clock
    from zhengfeng.deadlines.queries import calendar_index
    from zhengfeng.ledger.models import QuarterlyReport, ReportState
    from zhengfeng.ledger.reports.dates import close_of_business, due_date
    from zhengfeng.ledger.reports.services import ensure_reporting_rule
    from zhengfeng.org.models import Division, DivisionLevel, Role, Unit, UnitKind, User

    city = Division.objects.create(code="441800", name="清远市", level=DivisionLevel.CITY)
    office_unit = Unit.objects.create(
        code="441800-ZFB", name="市正风办", division=city, kind=UnitKind.CAMPAIGN_OFFICE
    )
    office = User.objects.create(username="office", role=Role.OFFICE, unit=office_unit, password="!")  # noqa: S106 (unusable password marker)
    Unit.objects.bulk_create(
        [Unit(code=f"B{n:05d}", name=f"压测单位{n}", division_id="441800") for n in range(1, units + 1)]
    )
    rule, _ = ensure_reporting_rule(division=city, year=2015)
    index = calendar_index()
    unit_ids = list(Unit.objects.exclude(pk=office_unit.pk).order_by("id").values_list("id", flat=True))
    clocks, reports = [], []
    for period in quarters_of(2015):
        due_at = close_of_business(index, due_date(period, 5, index).due)
        started = dt.datetime.combine(period.last, dt.time(0), tzinfo=index.tz)
        for n, unit_id in enumerate(unit_ids):
            fate = n % 10
            submitted = fate < 8
            late = fate in (6, 7)
            at = due_at + dt.timedelta(days=2 if late else -1)
            clocks.append(
                Clock(
                    source_type="ledger.quarterlyreport",
                    source_id=f"{period}-{unit_id}",
                    kind="quarterly_report",
                    label=f"压测单位{period}报送",
                    unit_id=unit_id,
                    division_code="441800",
                    budget_unit="workdays",
                    budget=5,
                    warn_before=2,
                    state="stopped" if submitted else "running",
                    started_at=started,
                    stopped_at=at if submitted else None,
                    due_at=due_at,
                    warn_at=due_at - dt.timedelta(days=3),
                )
            )
            state = ReportState.DRAFT
            if submitted:
                state = (ReportState.ACCEPTED, ReportState.SUBMITTED, ReportState.RETURNED)[fate % 3]
            reports.append(
                QuarterlyReport(
                    rule=rule,
                    unit_id=unit_id,
                    division_code="441800",
                    year=2015,
                    period=str(period),
                    state=state,
                    summary="压测" if submitted else "",
                    first_submitted_at=at if submitted else None,
                    submitted_at=at if submitted else None,
                    is_late=late,
                )
            )
    Clock.objects.bulk_create(clocks, batch_size=2000)
    for report, clock in zip(reports, clocks, strict=True):
        report.clock_id = clock.pk
    QuarterlyReport.objects.bulk_create(reports, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return office, len(reports)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    args = parser.parse_args()

    with benchdb.database(BENCH_DB, keep=args.keep):
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client
        from django.test.utils import setup_test_environment

        setup_test_environment()
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        office, count = fill(args.units)
        print(f"filled {count:,} reports for {args.units:,} units in {time.perf_counter() - started:.1f} s")

        client = Client()
        client.force_login(office)
        url = "/ledger/reports/dashboard/?year=2015"
        executed: list[str] = []

        def count(execute, sql, params, many, context):
            executed.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            response = client.get(url)  # warm-up: calendar index, templates
        assert response.status_code == 200, response.status_code
        rows = len(response.context["matrix"].rows)
        size = len(response.content)
        timings = []
        for _ in range(args.runs):
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        connection.close()

        median = statistics.median(timings)
        print(
            f"dashboard: {rows:,} units × 4 periods, {size / 1024:.0f} KiB HTML, {len(executed)} queries (session and user included)"
        )
        print(
            f"render over {args.runs} runs: median {median:.0f} ms, min {min(timings):.0f} ms, max {max(timings):.0f} ms"
        )
        print(f"target: < {TARGET_MS} ms:", "OK" if median < TARGET_MS else "MISSED")
        if rows != args.units:
            print(f"UNEXPECTED: {rows} rows, wanted {args.units}")
            sys.exit(1)


if __name__ == "__main__":
    main()
