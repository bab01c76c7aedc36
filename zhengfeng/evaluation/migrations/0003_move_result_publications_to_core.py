"""Move the results publications into the core publication engine (ids may change).

The key becomes kind `evaluation_results`, period the year, division that of the evaluation year;
`published_at` / `published_by` become the engine's publish_at and created_at / created_by.
"""

from django.db import migrations

KIND = "evaluation_results"
COMMON = ("title", "division_code", "data", "status", "withdrawn_at", "withdrawn_by_id", "withdraw_reason")


def forward(apps, schema_editor):
    old = apps.get_model("evaluation", "ResultPublication")
    new = apps.get_model("core", "Publication")
    new.objects.bulk_create(
        [
            new(
                kind=KIND,
                period=str(row.year.year),
                publish_at=row.published_at,
                created_at=row.published_at,
                created_by_id=row.published_by_id,
                **{field: getattr(row, field) for field in COMMON},
            )
            for row in old.objects.select_related("year").order_by("id")
        ]
    )


def backward(apps, schema_editor):
    old = apps.get_model("evaluation", "ResultPublication")
    new = apps.get_model("core", "Publication")
    years = apps.get_model("evaluation", "EvaluationYear")
    rows = new.objects.filter(kind=KIND).order_by("id")
    old.objects.bulk_create(
        [
            old(
                year=years.objects.get(year=int(row.period), division_id=row.division_code),
                published_at=row.created_at,
                published_by_id=row.created_by_id,
                **{field: getattr(row, field) for field in COMMON},
            )
            for row in rows
        ]
    )
    rows.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("evaluation", "0002_part2_votes_rules_clues_publication"),
        ("core", "0004_publication"),
    ]

    operations = [migrations.RunPython(forward, backward)]
