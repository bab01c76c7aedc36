"""bench/benchdb.py: every PostgreSQL benchmark goes through it, and skips cleanly without PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

BENCH = Path(settings.BASE_DIR) / "bench"
POSTGRES_ONLY = [
    "bench_clock_sweep",
    "bench_evaluation_replies",
    "bench_hotline_import",
    "bench_hotline_metrics",
    "bench_hotline_sweep",
    "bench_open311_post",
    "bench_open311_register",
    "bench_report_dashboard",
]


def test_the_list_is_every_benchmark_but_the_calendar_one():
    scripts = sorted(path.stem for path in BENCH.glob("bench_*.py"))

    assert scripts == sorted([*POSTGRES_ONLY, "bench_calendar"])


@pytest.mark.parametrize("script", POSTGRES_ONLY)
def test_a_postgres_benchmark_skips_without_postgres(script):
    source = (BENCH / f"{script}.py").read_text(encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key != "DB_ENGINE"}

    done = subprocess.run(  # noqa: S603 (our own script, fixed arguments)
        [sys.executable, str(BENCH / f"{script}.py")], capture_output=True, text=True, env=env, check=False
    )

    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        f"SKIP {script}: needs PostgreSQL (run with DB_ENGINE=postgres)\n",
        "",
    )
    # The set-up is the helper's, not a copy: no script opens its own admin connection any more.
    assert ("benchdb.configure(" in source, "psycopg.connect(" in source) == (True, False)
