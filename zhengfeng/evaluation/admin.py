"""Admin for 公述民评: years (templates, formula, key units) and staff are saved through the services
(`create_year` / `update_year`, `create_staff` / `update_staff`, each with its audit row); actions,
evaluations and replies are read-only, with personal data masked."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Model
from django.forms.formsets import BaseFormSet
from django.http import HttpRequest

from zhengfeng.core import uploads
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
from zhengfeng.org.auth import request_user


class EvaluationYearForm(forms.ModelForm):
    class Meta:
        model = EvaluationYear
        # The settings the services take (services.YEAR_FIELDS), after what fixes the year.
        fields = ("division", "year", "key_units", *services.YEAR_FIELDS)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        try:
            if "sms_template" in cleaned:
                cleaned["sms_template"] = services.clean_template(cleaned["sms_template"])
            if "reask_template" in cleaned:
                cleaned["reask_template"] = services.clean_template(
                    cleaned["reask_template"], label="再次询问短信模板"
                )
            if cleaned.get("year") and cleaned.get("key_units") is not None:
                services.check_key_units(cleaned["year"], cleaned["key_units"], exclude=self.instance.pk)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc
        return cleaned


class ServiceSavedAdmin(admin.ModelAdmin):
    """`save_model` calls the services, which also set the many-to-many fields; the admin's own
    save of them would be a second, unaudited write."""

    # The fields the admin shows but the services do not change after creation.
    fixed_after_creation: tuple[str, ...] = ()

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> tuple[str, ...]:
        return self.fixed_after_creation if obj is not None else ()

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm, formsets: Iterable[BaseFormSet[Any]], change: bool
    ) -> None:
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @staticmethod
    def _adopt(obj: Model, saved: Model) -> None:
        # The admin goes on with `obj` (messages, redirect, history): give it the saved row's state.
        obj.pk = saved.pk
        obj._state.adding = False
        obj._state.db = saved._state.db


@admin.register(EvaluationYear)
class EvaluationYearAdmin(ServiceSavedAdmin):
    form = EvaluationYearForm
    list_display = ("title", "year", "division", "reply_window_days")
    filter_horizontal = ("key_units",)
    fixed_after_creation = ("division", "year")

    def save_model(
        self, request: HttpRequest, obj: EvaluationYear, form: forms.ModelForm, change: bool
    ) -> None:
        cleaned = form.cleaned_data
        if change:
            changes = {name: cleaned[name] for name in form.changed_data if name in services.YEAR_FIELDS}
            key_units = cleaned["key_units"] if "key_units" in form.changed_data else None
            services.update_year(
                EvaluationYear.objects.get(pk=obj.pk),
                key_units=key_units,
                by=request_user(request),
                **changes,
            )
            return
        named: tuple[str, ...] = (
            "title",
            "sms_template",
            "reask_template",
            "points_satisfied",
            "points_basic",
        )
        named += ("points_unsatisfied", "reply_window_days")
        settings = {
            name: cleaned[name]
            for name in form.changed_data
            if name in services.YEAR_FIELDS and name not in named
        }
        saved = services.create_year(
            division=cleaned["division"],
            year=cleaned["year"],
            key_units=cleaned["key_units"],
            by=request_user(request),
            **{name: cleaned[name] for name in named},
            **settings,
        )
        self._adopt(obj, saved)


class DisclosedStaffForm(forms.ModelForm):
    def clean_photo(self) -> Any:
        # The service checks again; checking here puts the reason on the field instead of a 500.
        photo = self.cleaned_data.get("photo")
        if isinstance(photo, UploadedFile):
            uploads.check_upload(photo, uploads.PHOTO)
        return photo


@admin.register(DisclosedStaff)
class DisclosedStaffAdmin(ServiceSavedAdmin):
    form = DisclosedStaffForm
    list_display = ("name", "title", "unit", "department", "is_disclosed", "is_active")
    list_filter = ("is_disclosed", "is_active")
    search_fields = ("name", "unit__name", "unit__code")
    raw_id_fields = ("person",)
    # The division follows the unit and the creation time is the service's.
    exclude = ("division_code", "created_at")
    fixed_after_creation = ("unit",)

    def save_model(
        self, request: HttpRequest, obj: DisclosedStaff, form: forms.ModelForm, change: bool
    ) -> None:
        cleaned = form.cleaned_data
        if change:
            changes = {name: cleaned[name] for name in form.changed_data if name in services.STAFF_FIELDS}
            services.update_staff(DisclosedStaff.objects.get(pk=obj.pk), by=request_user(request), **changes)
            return
        saved = services.create_staff(
            unit=cleaned["unit"],
            name=cleaned["name"],
            title=cleaned["title"],
            department=cleaned["department"],
            duties=cleaned["duties"],
            person=cleaned["person"],
            is_disclosed=cleaned["is_disclosed"],
            sort_order=cleaned["sort_order"],
            photo=cleaned["photo"] or None,
            by=request_user(request),
        )
        if not cleaned["is_active"]:
            # Entered as already gone from the post: the service records that as the change it is.
            services.update_staff(saved, is_active=False, by=request_user(request))
        self._adopt(obj, saved)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
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
