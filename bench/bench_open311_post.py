"""Benchmark: Open311 POST /open311/v2/requests.json under gunicorn on loopback, against GET /healthz.

PostgreSQL only (the scale target is production). Creates its own database (zf_bench_open311 by
default), migrates, loads one division, the built-in categories and an API key with scope open311
through the services, starts gunicorn the way production runs it (DEBUG off, generated secrets), warms
up, then drives each endpoint with a bounded load generator: `--concurrency` threads, each on its own
keep-alive `http.client` connection, `--requests` requests in all or until `--time-cap` seconds.
It prints requests/s and p50/p99 for (a) GET /healthz, the minimal Django JSON view, (b) the
durable-insert floor, POST /bench/floor (the same body; one two-column INSERT committed; mounted only
by bench/floor_settings.py, which the benchmark's server alone loads), and (c) the Open311 POST, with
floor and POST alternating for `--rounds` rounds; the ratio POST / floor of every round and their
median (target ≥ 80%), floor and POST against healthz, and the CPU time each request cost per process group (gunicorn,
PostgreSQL, the load generator: steadier than throughput on a shared machine). A POST is answered once
the request is stored; the worker registers the work orders, so the script then runs the worker's
registration job in this process and times it. Finally it checks that every POST was answered 200 with
a fresh tracking code and became exactly one work order, and drops the database unless --keep is given.

    DB_ENGINE=postgres .venv/bin/python bench/bench_open311_post.py [--requests 2000] [--concurrency 8]
        [--workers 2] [--threads 4] [--time-cap 60] [--rounds 3] [--keep]

Exits non-zero only on wrong results (a failed POST, a missing or doubled order), never on timings.
"""

from __future__ import annotations

import argparse
import glob
import http.client
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import benchdb  # bench/ is on sys.path: the scripts run as `python bench/<name>.py`
import orjson

ROOT = Path(__file__).resolve().parent.parent
# Production-like and generated per run: the server and this process must share them (the API key's
# hash and the encrypted requester fields), nothing else ever sees them.
SERVER_ENV = {
    "DB_ENGINE": "postgres",
    "DEBUG": "False",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "FIELD_ENCRYPTION_KEY": secrets.token_urlsafe(32),
    "STATIC_MANIFEST": "False",
    "HTTPS": "False",
    "ALLOWED_HOSTS": "127.0.0.1",
    "LOG_LEVEL": "WARNING",
}
BENCH_DB = benchdb.configure("bench_open311_post", "zf_bench_open311", env=SERVER_ENV)
SERVER_ENV["DB_NAME"] = BENCH_DB

HOST = "127.0.0.1"
FLOOR = "/bench/floor"
SERVICE_CODE = "010101"  # 城乡建设/市政设施/路灯故障 among the built-in categories


def load_fixtures() -> str:
    """Division, categories and the API key, through the services; returns the key's token."""
    from django.core.management import call_command

    from zhengfeng.hotline.category_import import import_categories
    from zhengfeng.hotline.demo import BUILTIN_CATEGORIES
    from zhengfeng.hotline.models import Category
    from zhengfeng.org.models import DivisionLevel
    from zhengfeng.org.services import create_api_key, create_division

    call_command("migrate", verbosity=0)
    create_division(code="441800", name="清远市", level=DivisionLevel.CITY)
    import_categories(BUILTIN_CATEGORIES, source="bench")
    assert Category.objects.filter(code=SERVICE_CODE, level=3).exists(), "service code missing"
    _key, token = create_api_key(name="压测客户端", scopes=["open311"])
    from django.db import connection

    with connection.cursor() as cursor:
        # The floor's table (bench/floor_urls.py): an id and the two columns it inserts.
        cursor.execute(
            "CREATE TABLE bench_floor (id bigserial PRIMARY KEY, device_id text NOT NULL, description text NOT NULL)"
        )
    return token


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_server(port: int, workers: int, threads: int) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        f"--bind={HOST}:{port}",
        f"--workers={workers}",
        "--worker-class=gthread",
        f"--threads={threads}",
        "--keep-alive=30",
        "--log-level=warning",
    ]
    # The server alone loads the benchmark's settings (bench/floor_settings.py: the floor's URL).
    env = {**os.environ, **SERVER_ENV, "DJANGO_SETTINGS_MODULE": "bench.floor_settings"}
    server = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer /healthz within 30 s")


class Run:
    """One bounded load run: fixed concurrency, a fixed number of requests, a time cap."""

    def __init__(self, port: int, total: int, concurrency: int, time_cap: float, make_request) -> None:
        self.port, self.total, self.concurrency, self.time_cap = port, total, concurrency, time_cap
        self.make_request = make_request
        self.lock = threading.Lock()
        self.issued = 0
        self.latencies: list[float] = []
        self.results: list[tuple[int, bytes]] = []
        self.errors: list[str] = []

    def _next(self) -> int | None:
        with self.lock:
            if self.issued >= self.total:
                return None
            self.issued += 1
            return self.issued

    def _worker(self, deadline: float) -> None:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
        while time.perf_counter() < deadline:
            number = self._next()
            if number is None:
                break
            method, path, body, headers = self.make_request(number)
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                content = response.read()
            except (OSError, http.client.HTTPException) as exc:
                with self.lock:
                    self.errors.append(f"request {number}: {exc!r}")
                conn.close()
                conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
                continue
            elapsed = time.perf_counter() - started
            with self.lock:
                self.latencies.append(elapsed)
                self.results.append((response.status, content))
        conn.close()

    def go(self) -> float:
        started = time.perf_counter()
        deadline = started + self.time_cap
        threads = [threading.Thread(target=self._worker, args=(deadline,)) for _ in range(self.concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - started

    def figures(self, wall: float) -> dict[str, float]:
        done = len(self.latencies)
        ordered = sorted(self.latencies)
        return {
            "requests": done,
            "seconds": wall,
            "rps": done / wall if wall else 0.0,
            "p50_ms": statistics.median(ordered) * 1000 if ordered else 0.0,
            "p99_ms": ordered[max(0, round(0.99 * done) - 1)] * 1000 if ordered else 0.0,
        }


def cpu_ticks() -> dict[str, int]:
    """CPU clock ticks (user + system) so far, per process group, read from /proc (Linux).

    A backend that exits between two readings drops out of the sum: the server keeps one persistent
    connection per gunicorn thread, so none do during a run."""
    groups = {"gunicorn": 0, "postgres": 0, "load generator": 0}
    me = os.getpid()
    for folder in glob.glob("/proc/[0-9]*"):
        try:
            with open(f"{folder}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"{folder}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks = int(fields[11]) + int(fields[12])
        if "gunicorn" in command:
            groups["gunicorn"] += ticks
        elif command.startswith("postgres") and f" {BENCH_DB} " in command:
            # Only the backends serving this benchmark's database, not other work on the server.
            groups["postgres"] += ticks
        elif int(folder.rsplit("/", 1)[1]) == me:
            groups["load generator"] += ticks
    return groups


def cpu_per_request(before: dict[str, int], after: dict[str, int], requests: int) -> str:
    tick = os.sysconf("SC_CLK_TCK")
    parts = [
        f"{name} {(after[name] - before[name]) / tick / requests * 1e6:,.0f} µs"
        for name in before
        if requests
    ]
    return ", ".join(parts)


def healthz_request(_number: int):
    return "GET", "/healthz", None, {"Host": HOST}


def post_factory(token: str, tag: str, path: str = "/open311/v2/requests.json"):
    """The Open311 POST (or, with path /bench/floor, the same body to the floor)."""

    def make(number: int):
        body = urllib.parse.urlencode(
            {
                "api_key": token,
                "service_code": SERVICE_CODE,
                "lat": f"23.{680000 + number % 9999:06d}",
                "long": f"113.{50000 + number % 9999:05d}",
                "address_string": f"清城区压测路 {number} 号",
                "description": f"压测路 {number} 号路灯不亮已三天（{tag}-{number}），请尽快维修。",
                "device_id": f"bench-{tag}",
                "attribute[request_type]": "complaint",
            }
        )
        headers = {"Host": HOST, "Content-Type": "application/x-www-form-urlencoded"}
        return "POST", path, body, headers

    return make


def check_posts(run: Run) -> list[str]:
    """Every POST answered 200 with one record carrying a tracking code, all codes distinct."""
    problems = [
        f"POST answered {status}: {content[:200]!r}" for status, content in run.results if status != 200
    ]
    codes = []
    for status, content in run.results:
        if status == 200:
            records = orjson.loads(content)
            if len(records) != 1 or not records[0].get("service_request_id"):
                problems.append(f"POST answer without a tracking code: {content[:200]!r}")
            else:
                codes.append(records[0]["service_request_id"])
    if len(set(codes)) != len(codes):
        problems.append(f"{len(codes) - len(set(codes))} tracking codes answered twice")
    return problems[:10] + run.errors[:10]


def row(name: str, figures: dict[str, float]) -> str:
    return (
        f"| {name} | {figures['requests']:,} | {figures['seconds']:.1f} s | {figures['rps']:,.0f} "
        f"| {figures['p50_ms']:.1f} ms | {figures['p99_ms']:.1f} ms |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="POSTs to send (healthz gets 5×)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="gthread threads per worker")
    parser.add_argument("--time-cap", type=float, default=60.0, help="seconds per run at most")
    parser.add_argument("--rounds", type=int, default=3, help="floor-then-POST rounds")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    args = parser.parse_args()

    with benchdb.database(BENCH_DB, keep=args.keep):
        server = None
        try:
            from django.db import connections

            from zhengfeng.hotline.models import WorkOrder

            token = load_fixtures()
            connections.close_all()
            port = free_port()
            server = start_server(port, args.workers, args.threads)
            tag = secrets.token_hex(4)

            # Warm-up: imports, URL resolver, database connections of every worker thread.
            warm = Run(port, 200, args.concurrency, args.time_cap, healthz_request)
            warm.go()
            warm_posts = Run(port, 50, args.concurrency, args.time_cap, post_factory(token, f"{tag}w"))
            warm_posts.go()

            warm_floor = Run(port, 50, args.concurrency, args.time_cap, post_factory(token, f"{tag}w", FLOOR))
            warm_floor.go()

            health = Run(port, args.requests * 5, args.concurrency, args.time_cap, healthz_request)
            before = cpu_ticks()
            health_figures = health.figures(health.go())
            health_cpu = cpu_per_request(before, cpu_ticks(), len(health.latencies))
            # Floor and POST alternate, round by round: on a shared machine the load of the moment
            # weighs on both of a round alike, and each round's ratio is reported.
            floors: list[Run] = []
            post_runs: list[Run] = []
            rounds: list[tuple[dict[str, float], dict[str, float], str, str]] = []
            for number in range(args.rounds):
                floor = Run(
                    port,
                    args.requests,
                    args.concurrency,
                    args.time_cap,
                    post_factory(token, f"{tag}f{number}", FLOOR),
                )
                before = cpu_ticks()
                floor_figures = floor.figures(floor.go())
                floor_cpu = cpu_per_request(before, cpu_ticks(), len(floor.latencies))
                posts = Run(
                    port,
                    args.requests,
                    args.concurrency,
                    args.time_cap,
                    post_factory(token, f"{tag}p{number}"),
                )
                before = cpu_ticks()
                post_figures = posts.figures(posts.go())
                post_cpu = cpu_per_request(before, cpu_ticks(), len(posts.latencies))
                floors.append(floor)
                post_runs.append(posts)
                rounds.append((floor_figures, post_figures, floor_cpu, post_cpu))

            # What the worker's hotline.register_open311 job does, timed here on the same database.
            from zhengfeng.hotline.services.submissions import register_open311_submissions

            started = time.perf_counter()
            registered = 0
            while counts := register_open311_submissions():
                if not sum(counts.values()):
                    break
                registered += counts["registered"]
            register_seconds = time.perf_counter() - started

            print(
                f"gunicorn: {args.workers} workers × {args.threads} threads (gthread), keep-alive; "
                f"load: {args.concurrency} connections on loopback, cap {args.time_cap:.0f} s per run"
            )
            print("| endpoint | requests | time | req/s | p50 | p99 |")
            print("|---|---|---|---|---|---|")
            print(row("GET /healthz", health_figures))
            for number, (floor_figures, post_figures, _fc, _pc) in enumerate(rounds, 1):
                print(row(f"round {number}: POST /bench/floor (one INSERT)", floor_figures))
                print(row(f"round {number}: POST /open311/v2/requests.json", post_figures))
            ratios = [post["rps"] / floor["rps"] if floor["rps"] else 0.0 for floor, post, _fc, _pc in rounds]
            floor_share = [
                floor["rps"] / health_figures["rps"] if health_figures["rps"] else 0.0 for floor, *_ in rounds
            ]
            print(
                f"ratio POST / floor per round: {', '.join(f'{r:.1%}' for r in ratios)}; "
                f"median {statistics.median(ratios):.1%} — target ≥ 80%:",
                "OK" if statistics.median(ratios) >= 0.8 else "MISSED",
            )
            print(f"ratio floor / healthz per round: {', '.join(f'{r:.1%}' for r in floor_share)}")
            post_share = [
                post["rps"] / health_figures["rps"] if health_figures["rps"] else 0.0
                for _f, post, *_ in rounds
            ]
            print(f"ratio POST / healthz per round: {', '.join(f'{r:.1%}' for r in post_share)}")
            print(f"CPU per request, GET /healthz: {health_cpu}")
            for number, (_ff, _pf, floor_cpu, post_cpu) in enumerate(rounds, 1):
                print(f"CPU per request, round {number}: floor {floor_cpu}; POST {post_cpu}")
            print(
                f"registered by the worker's job: {registered:,} work orders in {register_seconds:.1f} s "
                f"({registered / register_seconds if register_seconds else 0:,.0f} per second, one process)"
            )

            problems = check_posts(warm_posts)
            for posts in post_runs:
                problems += check_posts(posts)
            problems += [f"healthz answered {status}" for status, _ in health.results if status != 200][:5]
            floor_answers = [warm_floor, *floors]
            problems += [
                f"floor answered {status}: {content[:200]!r}"
                for run in floor_answers
                for status, content in run.results
                if status != 200
            ][:5]
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM bench_floor")
                (floor_rows,) = cursor.fetchone()
            if floor_rows != sum(len(run.results) for run in floor_answers):
                problems.append(
                    f"{floor_rows:,} floor rows for {sum(len(run.results) for run in floor_answers):,} requests"
                )
            expected = len(warm_posts.results) + sum(len(posts.results) for posts in post_runs)
            created = WorkOrder.objects.count()
            per_request = WorkOrder.objects.filter(content__contains=f"（{tag}p").count()
            if created != expected or per_request != sum(len(posts.results) for posts in post_runs):
                problems.append(
                    f"{created:,} work orders for {expected:,} POSTs ({per_request:,} of the timed runs)"
                )
            connections.close_all()
            if problems:
                print("UNEXPECTED:")
                for problem in problems:
                    print("  ", problem)
                sys.exit(1)
            print(f"checked: {expected:,} POSTs answered 200, {created:,} work orders, one each")
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)


if __name__ == "__main__":
    main()
