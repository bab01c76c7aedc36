"""Admin: the alias table is maintained here; plans are edited through the office pages (services),
so the admin shows them read-only."""

from django.contrib import admin

from zhengfeng.ledger.models import Ledger, Plan, PlanVersion, UnitAlias


@admin.register(UnitAlias)
class UnitAliasAdmin(admin.ModelAdmin):
    list_display = ("phrase", "level", "name_suffixes", "is_active", "note")
    list_filter = ("level", "is_active")
    search_fields = ("phrase", "name_suffixes", "note")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Plan)
class PlanAdmin(ReadOnlyAdmin):
    list_display = ("year", "title", "division", "version", "updated_at")
    list_filter = ("year",)
    exclude = ("source_text",)


@admin.register(PlanVersion)
class PlanVersionAdmin(ReadOnlyAdmin):
    list_display = ("plan", "number", "action", "summary", "created_by", "created_at")
    list_filter = ("action",)


@admin.register(Ledger)
class LedgerAdmin(ReadOnlyAdmin):
    list_display = ("task", "unit", "status", "updated_at")
    list_filter = ("status",)
    search_fields = ("unit__name", "unit__code")
    list_select_related = ("task", "unit")
