"""Admin: the alias table is maintained here; plans are edited through the office pages (services),
so the admin shows them read-only."""

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest

from zhengfeng.core import audit
from zhengfeng.ledger.models import (
    Ledger,
    Plan,
    PlanVersion,
    QuarterlyReport,
    ReportingRule,
    ReportNotice,
    ReviewRound,
    UnitAlias,
)
from zhengfeng.org.auth import request_user


@admin.register(UnitAlias)
class UnitAliasAdmin(admin.ModelAdmin):
    list_display = ("phrase", "level", "name_suffixes", "is_active", "note")
    list_filter = ("level", "is_active")
    search_fields = ("phrase", "name_suffixes", "note")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
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


@admin.register(ReportingRule)
class ReportingRuleAdmin(admin.ModelAdmin):
    """The reporting rule is data the office keeps; every change goes on the audit chain."""

    list_display = (
        "year",
        "title",
        "division",
        "due_workdays",
        "warn_workdays",
        "late_points",
        "missing_points",
        "is_active",
    )
    list_filter = ("year", "is_active")

    def save_model(
        self, request: HttpRequest, obj: ReportingRule, form: forms.ModelForm, change: bool
    ) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit.record(
                "report.rule_changed" if change else "report.rule_created",
                by=request_user(request),
                target=obj,
                division_code=obj.division_id,
                data={name: str(form.cleaned_data.get(name)) for name in form.changed_data},
            )

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Reports point at their rule; deactivate a rule instead.
        return False


@admin.register(QuarterlyReport)
class QuarterlyReportAdmin(ReadOnlyAdmin):
    list_display = ("period", "unit", "state", "first_submitted_at", "is_late", "missing_at")
    list_filter = ("year", "state", "is_late")
    search_fields = ("unit__name", "unit__code")
    list_select_related = ("unit",)


@admin.register(ReportNotice)
class ReportNoticeAdmin(ReadOnlyAdmin):
    list_display = ("period", "doc_number", "title", "issued_at")


@admin.register(ReviewRound)
class ReviewRoundAdmin(ReadOnlyAdmin):
    list_display = ("year", "kind", "title", "division", "created_at")
