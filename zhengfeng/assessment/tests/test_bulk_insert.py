"""core.bulk.insert_rows: many rows in one statement, exact values, defaults, conflicts skipped.

Here rather than in core's tests: it needs a model with a uniqueness rule on its source (ScoreEvent), and core's
tests, like core, import no other app (the import contract).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from zhengfeng.assessment.models import ScoreEvent
from zhengfeng.core.bulk import insert_rows

AT = dt.datetime(2026, 11, 27, 1, 2, 3, 456789, tzinfo=dt.UTC)


def columns(unit, count, *, source="s", points=Decimal("-0.50")):
    return {
        "unit_id": [unit.pk] * count,
        "division_code": [unit.division_id] * count,
        "year": [2026] * count,
        "dimension": ["hotline"] * count,
        "points": [points] * count,
        "reason_code": ["alert.yellow"] * count,
        "reason": [f"黄牌（催办）：第 {n} 件" for n in range(count)],
        "source_type": ["alerts.alert"] * count,
        "source_id": [f"{source}{n}" for n in range(count)],
        "occurred_at": [AT] * count,
        "created_at": [AT] * count,
    }


def test_rows_go_in_with_exact_values_and_field_defaults(unit_a):
    inserted = insert_rows(ScoreEvent, columns(unit_a, 3, points=Decimal("-1.25")))

    events = list(ScoreEvent.objects.order_by("source_id"))
    assert [(e.source_id, e.points, e.occurred_at, e.reason) for e in events] == [
        ("s0", Decimal("-1.25"), AT, "黄牌（催办）：第 0 件"),
        ("s1", Decimal("-1.25"), AT, "黄牌（催办）：第 1 件"),
        ("s2", Decimal("-1.25"), AT, "黄牌（催办）：第 2 件"),
    ]
    # Columns left out take the field's default: "" for text, None when nullable.
    assert {(e.void_reason, e.voided_at, e.created_by_id) for e in events} == {("", None, None)}
    if connection.vendor == "postgresql":
        assert inserted == {e.pk for e in events}
    else:
        assert inserted is None


def test_rows_that_conflict_are_skipped(unit_a):
    insert_rows(ScoreEvent, columns(unit_a, 2))

    inserted = insert_rows(ScoreEvent, columns(unit_a, 4))

    assert ScoreEvent.objects.count() == 4
    if connection.vendor == "postgresql":
        assert inserted == set(
            ScoreEvent.objects.filter(source_id__in=["s2", "s3"]).values_list("pk", flat=True)
        )


def test_nothing_to_insert(unit_a):
    assert insert_rows(ScoreEvent, {"unit_id": []}) == (set() if connection.vendor == "postgresql" else None)
    assert ScoreEvent.objects.count() == 0


def test_an_unknown_column_is_refused(unit_a):
    with pytest.raises(LookupError, match=r"assessment\.ScoreEvent has no column colour"):
        insert_rows(ScoreEvent, {**columns(unit_a, 1), "colour": ["red"]})
    assert ScoreEvent.objects.count() == 0
