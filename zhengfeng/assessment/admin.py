from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from zhengfeng.assessment.models import ScoreEvent


@admin.register(ScoreEvent)
class ScoreEventAdmin(admin.ModelAdmin):
    """Read-only: events are recorded by the services that produce them and voided with a reason."""

    list_display = ["occurred_at", "unit", "year", "dimension", "points", "reason", "voided_at"]
    list_filter = ["year", "dimension", ("voided_at", admin.EmptyFieldListFilter)]
    search_fields = ["unit__name", "reason", "source_id", "reason_code"]
    list_select_related = ["unit"]
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
