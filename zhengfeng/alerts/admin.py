from django import forms
from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from zhengfeng.alerts.models import Alert, AlertRule
from zhengfeng.core import audit
from zhengfeng.org.auth import request_user


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = [
        "kind",
        "name",
        "is_active",
        "remind",
        "notice_after_workdays",
        "red_after_workdays",
        "dimension",
        "yellow_points",
        "notice_points",
        "red_points",
        "sms_from_level",
    ]
    list_filter = ["is_active", "dimension"]

    def save_model(self, request: HttpRequest, obj: AlertRule, form: forms.ModelForm, change: bool) -> None:
        # Rule changes decide who gets 通报 and points: keep them on the audit chain.
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit.record(
                "alertrule.changed" if change else "alertrule.created",
                by=request_user(request),
                target=obj,
                data={name: str(form.cleaned_data.get(name)) for name in form.changed_data},
            )

    def has_delete_permission(self, request: HttpRequest, obj: AlertRule | None = None) -> bool:
        # Alerts point at their rule; deactivate a rule instead.
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    """Read-only: alerts are issued by the sweep and signed for by the units."""

    list_display = ["issued_at", "level", "title", "unit", "doc_number", "acknowledged_at"]
    list_filter = ["level", ("acknowledged_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "doc_number", "unit__name"]
    list_select_related = ["unit"]
    date_hierarchy = "issued_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Alert | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Alert | None = None) -> bool:
        return False
