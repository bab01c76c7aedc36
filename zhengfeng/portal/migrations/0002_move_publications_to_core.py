"""Move the hotline statistics publications into the core publication engine (ids may change)."""

from django.db import migrations

FIELDS = (
    "kind",
    "period",
    "title",
    "division_code",
    "scope_label",
    "data",
    "status",
    "publish_at",
    "created_at",
    "created_by_id",
    "withdrawn_at",
    "withdrawn_by_id",
    "withdraw_reason",
)
KINDS = ("hotline_units", "hotline_radio")


def forward(apps, schema_editor):
    old = apps.get_model("portal", "Publication")
    new = apps.get_model("core", "Publication")
    new.objects.bulk_create(
        [new(**{field: getattr(row, field) for field in FIELDS}) for row in old.objects.order_by("id")]
    )


def backward(apps, schema_editor):
    old = apps.get_model("portal", "Publication")
    new = apps.get_model("core", "Publication")
    rows = new.objects.filter(kind__in=KINDS).order_by("id")
    old.objects.bulk_create([old(**{field: getattr(row, field) for field in FIELDS}) for row in rows])
    rows.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_initial"),
        ("core", "0004_publication"),
    ]

    operations = [migrations.RunPython(forward, backward)]
