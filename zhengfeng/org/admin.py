"""Admin for the organisation. Units, people and API keys are written through the services (USCC
check, encrypted phone with its blind index, hashed keys); the rest are plain saves with an audit row.

Personal data never appears in clear in the admin: lists and forms show masked values, and a new
phone or ID number is typed into a write-only field.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from zhengfeng.core import audit
from zhengfeng.core.crypto import blind_index, mask_id_number, mask_phone
from zhengfeng.org import services, twofactor
from zhengfeng.org.auth import request_user
from zhengfeng.org.models import ApiKey, Division, Person, Position, Role, Unit, User

# django-otp's own admin pages would add and delete devices without an audit row: devices change only
# through org.twofactor (enrolment by the user, the reset action below).
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


class AuditedAdmin(admin.ModelAdmin):
    """Plain model saves from the admin, each with an audit row naming the changed fields."""

    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> None:
        label = obj._meta.model_name
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit.record(
                f"{label}.{'changed' if change else 'added'}_in_admin",
                by=request_user(request),
                target=obj,
                data={"fields": sorted(form.changed_data)},
            )


class DivisionAdminForm(forms.ModelForm):
    class Meta:
        model = Division
        fields = ("code", "name", "level", "parent")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.instance._state.adding and not self.errors:
            try:
                services.check_division(
                    code=cleaned["code"],
                    name=cleaned["name"],
                    level=cleaned["level"],
                    parent=cleaned.get("parent"),
                )
            except ValidationError as exc:
                raise ValidationError(exc.messages) from exc
        return cleaned


@admin.register(Division)
class DivisionAdmin(AuditedAdmin):
    form = DivisionAdminForm
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)

    def get_readonly_fields(self, request: HttpRequest, obj: Division | None = None) -> tuple[str, ...]:
        # The code is the key every scoped row carries: it is never edited, only created.
        return ("code", "level") if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Division, form: forms.ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        services.create_division(
            code=obj.code, name=obj.name, level=obj.level, parent=obj.parent, by=request_user(request)
        )
        obj._state.adding = False


class UnitAdminForm(forms.ModelForm):
    class Meta:
        model = Unit
        fields = ("code", "name", "short_name", "kind", "division", "parent", "uscc", "is_active")

    def clean_uscc(self) -> str | None:
        return services.clean_uscc(self.cleaned_data.get("uscc"))

    def clean_code(self) -> str:
        return services.clean_code(self.cleaned_data.get("code"))

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.instance.pk is not None and cleaned.get("parent") is not None:
            try:
                services.check_unit_parent(self.instance, cleaned["parent"])
            except ValidationError as exc:
                self.add_error("parent", exc)
        return cleaned


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    form = UnitAdminForm
    list_display = ("code", "name", "short_name", "kind", "division", "parent", "uscc", "is_active")
    list_filter = ("kind", "is_active", "division")
    search_fields = ("code", "name", "short_name", "uscc")
    list_select_related = ("division", "parent")
    raw_id_fields = ("division", "parent")

    def get_readonly_fields(self, request: HttpRequest, obj: Unit | None = None) -> tuple[str, ...]:
        return ("code",) if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Unit, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        if change:
            services.update_unit(
                Unit.objects.get(pk=obj.pk),
                name=data["name"],
                short_name=data["short_name"],
                kind=data["kind"],
                division=data["division"],
                parent=data["parent"],
                uscc=data["uscc"],
                is_active=data["is_active"],
                by=request_user(request),
            )
            return
        unit = services.create_unit(
            code=data["code"],
            name=data["name"],
            short_name=data["short_name"],
            kind=data["kind"],
            division=data["division"],
            parent=data["parent"],
            uscc=data["uscc"],
            by=request_user(request),
        )
        obj.pk = unit.pk
        obj._state.adding = False
        if not data["is_active"]:
            services.update_unit(unit, is_active=False, by=request_user(request))


class PositionInline(admin.TabularInline):
    model = Position
    extra = 0
    fields = ("unit", "title", "department", "is_leader", "started_on", "ended_on")
    raw_id_fields = ("unit",)
    # Positions are assigned and ended through the position admin (audited); here they are shown.
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PersonAdminForm(forms.ModelForm):
    new_phone = forms.CharField(
        label="手机号码", required=False, help_text="填写则替换现有号码；留空则不修改"
    )
    clear_phone = forms.BooleanField(label="清除手机号码", required=False)

    class Meta:
        model = Person
        fields = ("name", "external_id")

    def clean_new_phone(self) -> str:
        return services.clean_phone(self.cleaned_data.get("new_phone"))

    def clean_external_id(self) -> str | None:
        value = (self.cleaned_data.get("external_id") or "").strip()
        return services.clean_code(value, "人员编号") if value else None


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    form = PersonAdminForm
    list_display = ("name", "external_id", "masked_phone")
    search_fields = ("name", "external_id")
    readonly_fields = ("masked_phone", "masked_id_number")
    inlines = [PositionInline]

    def get_fields(self, request: HttpRequest, obj: Person | None = None) -> tuple[str, ...]:
        fields = ("name", "external_id", "masked_phone", "new_phone", "clear_phone", "masked_id_number")
        return fields if obj is not None else ("name", "external_id", "new_phone")

    def get_readonly_fields(self, request: HttpRequest, obj: Person | None = None) -> tuple[str, ...]:
        return ("external_id", "masked_phone", "masked_id_number") if obj is not None else ()

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Person], search_term: str
    ) -> tuple[QuerySet[Person], bool]:
        # The phone column is encrypted; a typed mobile number is found through its blind index.
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            number = services.clean_phone(search_term)
        except ValidationError:
            return queryset, may_have_duplicates
        if number:
            queryset |= self.model.objects.filter(phone_index=blind_index(number))
        return queryset, may_have_duplicates

    @admin.display(description="手机号码")
    def masked_phone(self, obj: Person) -> str:
        return mask_phone(obj.phone) if obj.phone else "—"

    @admin.display(description="身份证号码")
    def masked_id_number(self, obj: Person) -> str:
        return mask_id_number(obj.id_number) if obj.id_number else "—"

    def save_model(self, request: HttpRequest, obj: Person, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        if change:
            phone = "" if data.get("clear_phone") else (data.get("new_phone") or None)
            services.update_person(
                Person.objects.get(pk=obj.pk), name=data["name"], phone=phone, by=request_user(request)
            )
            return
        person = services.create_person(
            name=data["name"],
            external_id=data.get("external_id"),
            phone=data.get("new_phone", ""),
            by=request_user(request),
        )
        obj.pk = person.pk
        obj._state.adding = False


@admin.register(Position)
class PositionAdmin(AuditedAdmin):
    list_display = ("person", "unit", "title", "department", "is_leader", "started_on", "ended_on")
    list_filter = ("is_leader",)
    search_fields = ("person__name", "person__external_id", "unit__name", "unit__code", "title")
    list_select_related = ("person", "unit")
    raw_id_fields = ("person", "unit")


class ZhengfengUserCreationForm(UserCreationForm):
    # django-stubs declares no Meta on these two forms, though Django's have one.
    class Meta(UserCreationForm.Meta):  # type: ignore[name-defined]
        model = User
        fields = ("username", "role", "unit")


class ZhengfengUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):  # type: ignore[name-defined]
        model = User


def _unit_required(form: forms.ModelForm) -> None:
    role = form.cleaned_data.get("role")
    if role and role != Role.ADMIN and not form.cleaned_data.get("unit"):
        form.add_error(
            "unit", f"角色为{Role(role).label}的用户必须选择所在单位（只有系统管理员可以不属于单位）"
        )


class CreationForm(ZhengfengUserCreationForm):
    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        _unit_required(self)
        return cleaned


class ChangeForm(ZhengfengUserChangeForm):
    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        _unit_required(self)
        return cleaned


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = ChangeForm
    add_form = CreationForm
    list_display = ("username", "display_name", "role", "unit", "is_active", "is_staff", "locked_until")
    list_filter = ("role", "is_active", "is_staff", "is_superuser")
    search_fields = ("username", "display_name", "unit__name", "unit__code")
    list_select_related = ("unit",)
    raw_id_fields = ("unit", "person")
    readonly_fields = ("failed_logins", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("角色与单位", {"fields": ("role", "unit", "person", "display_name", "email")}),
        ("登录锁定", {"fields": ("failed_logins", "locked_until")}),
        ("权限", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("时间", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "role", "unit", "password1", "password2")}),
    )
    actions = ["unlock", "reset_two_factor"]

    def save_model(self, request: HttpRequest, obj: User, form: forms.ModelForm, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            # Never the password itself, only that it changed.
            audit.record(
                f"user.{'changed' if change else 'added'}_in_admin",
                by=request_user(request),
                target=obj,
                division_code=obj.unit.division_id if obj.unit is not None else "",
                data={
                    "fields": sorted(form.changed_data),
                    "role": obj.role,
                    "unit": obj.unit.code if obj.unit is not None else None,
                },
            )

    @admin.action(description="解除登录锁定")
    def unlock(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            services.unlock_user(user, by=request_user(request))
        messages.success(request, f"已解除 {queryset.count()} 个账号的登录锁定")

    @admin.action(description="重置两步验证（手机丢失时；下次登录重新绑定）")
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            twofactor.reset(user, by=request_user(request))
        messages.success(request, f"已重置 {queryset.count()} 个账号的两步验证，下次登录时需重新绑定")


class ApiKeyCreationForm(forms.ModelForm):
    scope_choices = forms.MultipleChoiceField(
        label="权限范围",
        choices=[(scope, scope) for scope in sorted(services.KNOWN_API_SCOPES)],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = ApiKey
        fields = ("name",)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "scope_list", "created_at", "last_used_at", "revoked_at")
    search_fields = ("name", "prefix")
    actions = ["revoke"]

    @admin.display(description="权限范围")
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    def get_form(
        self, request: HttpRequest, obj: ApiKey | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        if obj is None:
            kwargs["form"] = ApiKeyCreationForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("name", "scope_choices")
        return ("name", "prefix", "key_hash", "scope_list", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        if obj is None:
            return []
        return ["name", "prefix", "key_hash", "scope_list", "created_at", "last_used_at", "revoked_at"]

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False  # revoke instead: the row stays for the audit trail

    def save_model(self, request: HttpRequest, obj: ApiKey, form: forms.ModelForm, change: bool) -> None:
        if change:
            return  # every field is read-only once created
        key, token = services.create_api_key(
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scope_choices"],
            by=request_user(request),
        )
        obj.pk = key.pk
        obj._state.adding = False
        messages.warning(request, f"新接口密钥（只显示这一次，请立即复制保存）：{token}")

    @admin.action(description="吊销所选接口密钥")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset.filter(revoked_at__isnull=True):
            services.revoke_api_key(key, by=request_user(request))
            messages.success(request, f"已吊销接口密钥 {key.name}")
