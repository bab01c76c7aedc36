"""`zhengfeng workdays`: exact outputs and exit codes."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from zhengfeng.deadlines.management.commands.workdays import Command

pytestmark = pytest.mark.django_db


def workdays(*args: str) -> str:
    out = StringIO()
    call_command("workdays", *args, stdout=out)
    return out.getvalue().strip()


def test_exact_outputs():
    assert workdays("add", "2026-09-30", "5") == "2026-10-13"
    assert workdays("add", "2026-10-13", "-5") == "2026-09-30"
    assert workdays("count", "2023-12-31", "2024-12-31") == "251"
    assert workdays("is", "2026-10-10") == "workday 2026-10-10 补班（国庆节）"
    assert workdays("is", "2026-10-01") == "off 2026-10-01 国庆节"
    assert workdays("is", "2026-10-03") == "off 2026-10-03 周六"
    assert workdays("is", "2005-12-31") == "workday 2005-12-31 补班（元旦）"


def test_outside_coverage_fails_unless_provisional():
    with pytest.raises(CommandError, match="2004-01-01 至 2026-12-31"):
        workdays("add", "2026-12-30", "5")
    assert workdays("add", "2026-12-30", "5", "--provisional") == "2027-01-06 provisional"
    assert workdays("--provisional", "count", "2026-12-31", "2027-01-08") == "6 provisional"
    assert workdays("is", "2027-01-01", "--provisional") == "workday 2027-01-01 周五 provisional"


def test_malformed_input_has_a_clear_message():
    with pytest.raises(CommandError, match="日期格式错误：'2026-13-01'"):
        workdays("add", "2026-13-01", "5")
    with pytest.raises(CommandError, match="工作日数错误：'five'"):
        workdays("add", "2026-09-30", "five")


def test_exit_codes():
    # Django's command line exits with CommandError.returncode; argparse errors exit 2.
    with pytest.raises(CommandError) as outside:
        workdays("is", "2027-03-01")
    assert outside.value.returncode == 1
    with pytest.raises(CommandError) as malformed:
        workdays("is", "01/10/2026")
    assert malformed.value.returncode == 1
    command = Command()
    # What `run_from_argv` sets for a real command line; django-stubs does not declare it.
    command._called_from_command_line = True  # type: ignore[attr-defined]
    with pytest.raises(SystemExit) as missing:
        command.create_parser("zhengfeng", "workdays").parse_args(["add", "2026-09-30"])
    assert missing.value.code == 2
