"""The type check is strict enough to catch a wrong actor: `make typecheck` fails on it.

Runs mypy with the project's configuration on two small modules, one passing a string as `by`. It
reuses the cache `make typecheck` leaves (CI runs that step first): a few seconds then, about
twenty with a cold cache.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

WRONG = 'from zhengfeng.core import audit\n\naudit.record("x.done", by="not a user")\n'
RIGHT = (
    "from zhengfeng.core import audit\n"
    "from zhengfeng.org.models import User\n\n\n"
    "def done(user: User) -> None:\n"
    '    audit.record("x.done", by=user)\n'
)


def test_a_string_as_the_actor_fails_the_type_check_and_a_user_passes(tmp_path):
    (tmp_path / "wrong_actor.py").write_text(WRONG, encoding="utf-8")
    (tmp_path / "right_actor.py").write_text(RIGHT, encoding="utf-8")

    # A separate process: the django-stubs plugin sets Django up itself, from the settings the
    # test environment (zhengfeng.testing.pytest_env) has already put in os.environ.
    result = subprocess.run(  # noqa: S603 (our interpreter, our arguments)
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            str(tmp_path / "wrong_actor.py"),
            str(tmp_path / "right_actor.py"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    # "<path>:<line>: error: <message>" lines, with the temporary directory left out.
    errors = [
        (Path(path).name, int(line), message.strip())
        for path, line, message in (
            row.split(":", 2) for row in result.stdout.splitlines() if ": error: " in row
        )
    ]
    assert (result.returncode, errors) == (
        1,
        [
            (
                "wrong_actor.py",
                3,
                'error: Argument "by" to "record" has incompatible type "str"; '
                'expected "AbstractBaseUser | None"  [arg-type]',
            )
        ],
    ), result.stdout + result.stderr
