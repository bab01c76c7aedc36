"""Admin views of the outbox, inbound SMS and opt-outs: read-only, phones always masked.

Rows are written by services only; the one write offered here (cancel pending messages) calls the
service. Searching by a full phone number goes through the blind index.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import CharField, Model, QuerySet
from django.db.models.functions import Cast
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from zhengfeng.core.crypto import blind_index, mask_phone
from zhengfeng.messaging import services
from zhengfeng.messaging.models import InboundSms, OptOut, OutboxMessage, OutboxStatus
from zhengfeng.org.auth import request_user
from zhengfeng.org.validators import normalise_mobile


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Model], search_term: str
    ) -> tuple[QuerySet[Model], bool]:
        # A phone number is only searchable by its blind index; anything else uses search_fields.
        try:
            number = normalise_mobile(search_term)
        except ValidationError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(phone_index=blind_index(number)), False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "channel",
        "recipient",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "source",
    ]
    list_filter = ["channel", "status", "delivery_status"]
    search_fields = ["source_type", "source_id", "email", "provider_message_id"]
    list_select_related = ["user"]
    exclude = ["phone"]
    readonly_fields = ["recipient"]
    actions = ["cancel_pending"]

    @admin.display(description="接收人")
    def recipient(self, obj: OutboxMessage) -> str:
        return obj.recipient_label

    @admin.display(description="来源")
    def source(self, obj: OutboxMessage) -> str:
        return f"{obj.source_type}:{obj.source_id}" if obj.source_type else ""

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("messaging.change_outboxmessage")

    @admin.action(description="取消所选待发送消息", permissions=["cancel"])
    def cancel_pending(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        cancelled = sum(
            services.cancel_message(message, reason="管理员取消", by=request_user(request))
            for message in queryset.filter(status=OutboxStatus.PENDING)
        )
        self.message_user(request, f"已取消 {cancelled} 条待发送消息。", messages.SUCCESS)


@admin.register(InboundSms)
class InboundSmsAdmin(ReadOnlyAdmin):
    """`received_at` is read as text, never as a datetime: a row stored before the webhook refused
    implausible times (year 1) cannot be read back on PostgreSQL and would make the list a 500. For
    the same reason there is no date hierarchy (it reads the column's minimum); a date filter instead."""

    list_display = ["id", "sender", "text", "received", "matched", "handled_at", "parked_reason"]
    list_filter = [
        ("handled_at", admin.EmptyFieldListFilter),
        ("parked_reason", admin.EmptyFieldListFilter),
        ("received_at", admin.DateFieldListFilter),
    ]
    search_fields = ["provider_id", "text", "matched_type", "matched_id"]
    exclude = ["phone", "received_at"]
    readonly_fields = ["sender", "received"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[InboundSms]:
        return (
            super()
            .get_queryset(request)
            .defer("received_at")
            .annotate(received_text=Cast("received_at", output_field=CharField()))
        )

    @admin.display(description="接收时间", ordering="received_at")
    def received(self, obj: InboundSms) -> str:
        text = str(getattr(obj, "received_text", "") or "")
        try:
            moment = parse_datetime(text)
        except ValueError:
            moment = None
        if moment is None:
            return f"无法读取：{text}"
        if timezone.is_naive(moment):  # SQLite keeps UTC without an offset
            moment = moment.replace(tzinfo=dt.UTC)
        return f"{timezone.localtime(moment):%Y-%m-%d %H:%M:%S}"

    @admin.display(description="发送号码")
    def sender(self, obj: InboundSms) -> str:
        return mask_phone(obj.phone)

    @admin.display(description="匹配对象")
    def matched(self, obj: InboundSms) -> str:
        return f"{obj.matched_type}:{obj.matched_id}" if obj.matched_type else ""


@admin.register(OptOut)
class OptOutAdmin(ReadOnlyAdmin):
    list_display = ["id", "number", "created_at", "inbound"]
    exclude = ["phone"]
    readonly_fields = ["number"]

    @admin.display(description="手机号码")
    def number(self, obj: OptOut) -> str:
        return mask_phone(obj.phone)
