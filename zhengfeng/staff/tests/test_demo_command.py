"""`zhengfeng demo` belongs to the staff shell (it orchestrates every app's demo loader)."""

from django.core.management import get_commands


def test_the_demo_command_is_the_shells():
    # Not run here: loading every app's demo data takes half a minute of CPU.
    assert (get_commands()["demo"], get_commands()["serve"], get_commands()["worker"]) == (
        "zhengfeng.staff",
        "zhengfeng.core",
        "zhengfeng.core",
    )
