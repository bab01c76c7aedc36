"""Admin for 公述民评: years (templates, formula, key units) and staff are edited here with an audit
row; actions, evaluations and replies are read-only, with personal data masked."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from zhengfeng.core import audit
from zhengfeng.core.crypto import mask_name, mask_phone
from zhengfeng.evaluation import services
from zhengfeng.evaluation.models import (
    Clue,
    DisclosedStaff,
    EnforcementAction,
    Evaluation,
    EvaluationYear,
    OnlineVote,
    Reply,
)


class AuditedAdmin(admin.ModelAdmin):
    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> None:
        if isinstance(obj, DisclosedStaff):
            obj.division_code = obj.unit.division_id
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit.record(
                f"evaluation.{obj._meta.model_name}_{'changed' if change else 'added'}_in_admin",
                by=request.user,
                target=obj,
                division_code=str(getattr(obj, "division_code", "") or ""),
                data={"fields": sorted(form.changed_data)},
            )


class EvaluationYearForm(forms.ModelForm):
    class Meta:
        model = EvaluationYear
        fields = (
            "division",
            "year",
            "title",
            "key_units",
            "sms_template",
            "reask_template",
            "points_satisfied",
            "points_basic",
            "points_unsatisfied",
            "reply_window_days",
            "vote_opens_at",
            "vote_closes_at",
            "vote_weight",
            "assessment_points",
            "rule_repeat_count",
            "rule_repeat_days",
            "rule_burst_count",
            "rule_burst_minutes",
            "rule_fast_seconds",
            "rule_vote_count",
            "rule_vote_minutes",
            "rule_name_phones",
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        try:
            if "sms_template" in cleaned:
                cleaned["sms_template"] = services.clean_template(cleaned["sms_template"])
            if "reask_template" in cleaned:
                cleaned["reask_template"] = services.clean_template(
                    cleaned["reask_template"], label="再次询问短信模板"
                )
            if cleaned.get("year") and cleaned.get("key_units") is not None:
                services._check_key_units(cleaned["year"], cleaned["key_units"], exclude=self.instance.pk)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc
        return cleaned


@admin.register(EvaluationYear)
class EvaluationYearAdmin(AuditedAdmin):
    form = EvaluationYearForm
    list_display = ("title", "year", "division", "reply_window_days")
    filter_horizontal = ("key_units",)


@admin.register(DisclosedStaff)
class DisclosedStaffAdmin(AuditedAdmin):
    list_display = ("name", "title", "unit", "department", "is_disclosed", "is_active")
    list_filter = ("is_disclosed", "is_active")
    search_fields = ("name", "unit__name", "unit__code")
    raw_id_fields = ("person",)
    exclude = ("division_code",)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(EnforcementAction)
class EnforcementActionAdmin(ReadOnlyAdmin):
    list_display = ("id", "unit", "action_type", "acted_at", "subject", "phone", "source")
    list_filter = ("action_type", "source")
    fields = (
        "unit",
        "year",
        "action_type",
        "acted_at",
        "subject",
        "phone",
        "source",
        "external_id",
        "created_at",
    )
    readonly_fields = fields
    list_select_related = ("unit",)

    @admin.display(description="执法对象")
    def subject(self, obj: EnforcementAction) -> str:
        return mask_name(obj.subject_name)

    @admin.display(description="对象手机号码")
    def phone(self, obj: EnforcementAction) -> str:
        return mask_phone(obj.subject_phone)


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdmin):
    list_display = ("id", "action", "answer", "answered_at", "answer_seconds", "flag_state")
    list_filter = ("answer", "flag_state")


@admin.register(Reply)
class ReplyAdmin(ReadOnlyAdmin):
    list_display = ("id", "evaluation", "received_at", "parsed", "outcome", "seconds_after_sent")
    list_filter = ("outcome", "parsed")


@admin.register(OnlineVote)
class OnlineVoteAdmin(ReadOnlyAdmin):
    list_display = ("id", "unit", "rating", "created_at", "masked_phone", "ip_network", "flag_state")
    list_filter = ("rating", "flag_state")
    fields = (
        "year",
        "unit",
        "rating",
        "comment",
        "masked_phone",
        "ip",
        "ip_network",
        "device_id",
        "created_at",
    )
    readonly_fields = fields
    list_select_related = ("unit",)

    @admin.display(description="手机号码")
    def masked_phone(self, obj: OnlineVote) -> str:
        return mask_phone(obj.phone)


@admin.register(Clue)
class ClueAdmin(ReadOnlyAdmin):
    list_display = ("id", "unit", "addressed_to", "status", "created_at")
    list_filter = ("status",)
