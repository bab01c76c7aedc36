"""Seed the national calendar "CN" (2004–2026) from the committed data file, with 08:30–12:00 / 14:30–17:30.

The file is read with a small reader of its own so that later changes to the import code cannot
change what this migration does.
"""

import csv
import datetime as dt
from pathlib import Path

from django.db import migrations

SEED_FILE = Path(__file__).resolve().parent.parent / "data" / "cn_2004_2026.csv"


def seed(apps, schema_editor):
    WorkCalendar = apps.get_model("deadlines", "WorkCalendar")
    CalendarException = apps.get_model("deadlines", "CalendarException")
    WorkSchedule = apps.get_model("deadlines", "WorkSchedule")
    WorkInterval = apps.get_model("deadlines", "WorkInterval")
    calendar = WorkCalendar.objects.create(
        code="CN",
        name="全国（国务院办公厅节假日安排）",
        tz="Asia/Shanghai",
        coverage_start=dt.date(2004, 1, 1),
        coverage_end=dt.date(2026, 12, 31),
        version=1,
    )
    with SEED_FILE.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(line for line in handle if not line.startswith("#"))]
    CalendarException.objects.bulk_create(
        CalendarException(
            calendar=calendar,
            date=dt.date.fromisoformat(row["date"]),
            is_off_day=row["kind"] == "off",
            name=row["name"],
            notice_no=row["notice_no"],
            notice_url=row["notice_url"],
            provisional=row["provisional"].strip().lower() in {"1", "true"},
        )
        for row in rows
    )
    schedule = WorkSchedule.objects.create(calendar=calendar, name="标准作息")
    WorkInterval.objects.bulk_create(
        [
            WorkInterval(schedule=schedule, start=dt.time(8, 30), end=dt.time(12, 0)),
            WorkInterval(schedule=schedule, start=dt.time(14, 30), end=dt.time(17, 30)),
        ]
    )


def unseed(apps, schema_editor):
    apps.get_model("deadlines", "WorkCalendar").objects.filter(code="CN").delete()


class Migration(migrations.Migration):
    dependencies = [("deadlines", "0003_calendar")]

    operations = [migrations.RunPython(seed, unseed)]
