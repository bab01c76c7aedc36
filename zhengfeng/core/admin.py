from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from zhengfeng.core import publications
from zhengfeng.core.models import AuditLog, PeriodicJob, Publication


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only and written by services only."""

    list_display = ("seq", "created_at", "actor_label", "action", "target_type", "target_id", "division_code")
    list_filter = ("action",)
    search_fields = ("action", "target_id", "actor_label")
    ordering = ("-seq",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(PeriodicJob)
class PeriodicJobAdmin(admin.ModelAdmin):
    list_display = ("name", "next_run_at", "last_finished_at", "runs", "locked_until")
    readonly_fields = ("last_started_at", "last_finished_at", "last_error", "runs")


@admin.register(Publication)
class PublicationAdmin(admin.ModelAdmin):
    """Read-only: publications are made and withdrawn by the modules' services (the engine)."""

    list_display = ("title", "kind_label", "period", "status", "publish_at", "created_by", "withdrawn_at")
    list_filter = ("kind", "status")
    search_fields = ("title", "period", "division_code")

    @admin.display(description="类别")
    def kind_label(self, obj: Publication) -> str:
        return publications.kind_label(obj.kind)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Publication | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Publication | None = None) -> bool:
        return False
