"""`make bench`: run every bench/bench_*.py in turn and print what each reports.

Benchmarks are measurements, not tests: they print figures, and the latest ones are copied by hand into
docs/performance.md with the machine and the date. A benchmark that needs PostgreSQL says so and skips.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    print(f"# {platform.node()} · Python {platform.python_version()} · {platform.machine()}")
    failures = 0
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n## {script.name}", flush=True)
        # Benchmarks measure the production database unless told otherwise.
        env = {**os.environ, "DB_ENGINE": os.environ.get("DB_ENGINE", "postgres")}
        result = subprocess.run([sys.executable, str(script)], cwd=HERE.parent, env=env, check=False)  # noqa: S603
        failures += result.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
