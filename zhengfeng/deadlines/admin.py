"""Read-only admin views: calendar data changes only through `zhengfeng calendar import` and
`services.set_work_schedule` (which bump the version and recompute clocks), and clocks only through
their services, so nothing here can bypass the replay or the audit chain."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from zhengfeng.deadlines.models import (
    CalendarException,
    Clock,
    ClockEvent,
    WorkCalendar,
    WorkInterval,
    WorkSchedule,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(WorkCalendar)
class WorkCalendarAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "coverage_start", "coverage_end", "version", "updated_at"]


@admin.register(CalendarException)
class CalendarExceptionAdmin(ReadOnlyAdmin):
    list_display = ["date", "is_off_day", "name", "notice_no", "provisional", "calendar"]
    list_filter = ["calendar", "is_off_day", "provisional"]
    date_hierarchy = "date"
    search_fields = ["name", "notice_no"]


class WorkIntervalInline(ReadOnlyInline):
    model = WorkInterval


@admin.register(WorkSchedule)
class WorkScheduleAdmin(ReadOnlyAdmin):
    list_display = ["name", "calendar", "effective_from", "effective_to"]
    inlines = [WorkIntervalInline]


class ClockEventInline(ReadOnlyInline):
    model = ClockEvent
    fields = ["kind", "at", "data", "reason", "by"]


@admin.register(Clock)
class ClockAdmin(ReadOnlyAdmin):
    list_display = ["label", "kind", "unit", "state", "due_at", "warn_at", "provisional", "alert_level"]
    list_filter = ["state", "budget_unit", "provisional", "kind"]
    search_fields = ["label", "source_id"]
    list_select_related = ["unit"]
    inlines = [ClockEventInline]
