"""The type check holds the evaluation views to the typed actor: `request.user` (maybe the anonymous
visitor) is refused where a service wants a `User`, and an API key is refused as a reader.

Runs mypy with the project's configuration on two small modules, as core's test_typecheck does (it
reuses the cache `make typecheck` leaves).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

HEADER = (
    "from django.http import HttpRequest\n"
    "from zhengfeng.evaluation import publishing, queries\n"
    "from zhengfeng.evaluation.models import EvaluationYear\n"
    "from zhengfeng.org.auth import request_user\n"
    "from zhengfeng.org.models import ApiKey\n\n\n"
)
WRONG = HEADER + (
    "def publish(request: HttpRequest, year: EvaluationYear, key: ApiKey) -> None:\n"
    "    publishing.publish_results(year, by=request.user)\n"
    "    queries.scores(2015, user=key)\n"
)
RIGHT = HEADER + (
    "def publish(request: HttpRequest, year: EvaluationYear, key: ApiKey) -> None:\n"
    "    publishing.publish_results(year, by=request_user(request))\n"
    "    queries.scores(2015, user=request.user, everything=isinstance(key, ApiKey))\n"
)


def test_request_user_and_an_api_key_as_the_actor_fail_the_type_check(tmp_path):
    (tmp_path / "wrong_actor.py").write_text(WRONG, encoding="utf-8")
    (tmp_path / "right_actor.py").write_text(RIGHT, encoding="utf-8")

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
                9,
                'error: Argument "by" to "publish_results" has incompatible type '
                '"User | AnonymousUser"; expected "User"  [arg-type]',
            ),
            (
                "wrong_actor.py",
                10,
                'error: Argument "user" to "scores" has incompatible type "ApiKey"; '
                'expected "User | AnonymousUser | None"  [arg-type]',
            ),
        ],
    ), result.stdout + result.stderr
