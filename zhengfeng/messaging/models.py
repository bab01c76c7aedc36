"""Outbox for SMS, e-mail and in-app messages; inbound SMS; opt-outs.

Services never call a gateway: they write an `OutboxMessage` in their own transaction and the worker
(`messaging.sending.drain_outbox`) sends it. Phones are personal data: encrypted at rest, searched
through a keyed blind index, masked wherever they are listed.
"""

from __future__ import annotations

import datetime as dt
from enum import nonmember
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from zhengfeng.core.crypto import mask_phone
from zhengfeng.core.fields import EncryptedTextField
from zhengfeng.core.worker import abandoned_by_dead_worker


class Channel(models.TextChoices):
    SMS = "sms", "短信"
    EMAIL = "email", "电子邮件"
    INAPP = "inapp", "站内消息"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "待发送"
    SENDING = "sending", "发送中"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"
    CANCELLED = "cancelled", "已取消"

    # Still the worker's business; every other state is final.
    OPEN_STATES = nonmember(("pending", "sending"))
    FINAL_STATES = nonmember(("sent", "failed", "cancelled"))


class DeliveryStatus(models.TextChoices):
    """What the SMS gateway later reported about a sent message (a delivery receipt)."""

    UNKNOWN = "", "未回执"
    DELIVERED = "delivered", "已送达"
    UNDELIVERED = "undelivered", "未送达"


class OutboxQuerySet(models.QuerySet["OutboxMessage"]):
    def due(self, *, at: dt.datetime) -> OutboxQuerySet:
        return self.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=at)

    def stale(self, *, now: dt.datetime, claimed_before: dt.datetime) -> OutboxQuerySet:
        """Rows claimed and never finished: by a worker that stopped beating (killed, host gone), or,
        claimed without a heartbeat (`worker --once`), before `claimed_before`."""
        return self.filter(status=OutboxStatus.SENDING).filter(
            Q(claimed_by="", claimed_at__lt=claimed_before)
            | abandoned_by_dead_worker(now, field="claimed_by")
        )

    def inbox(self) -> OutboxQuerySet:
        return self.filter(channel=Channel.INAPP, status=OutboxStatus.SENT)

    def unread(self) -> OutboxQuerySet:
        return self.inbox().filter(read_at__isnull=True)


class OutboxMessage(models.Model):
    """One message to one recipient, sent at most once by the worker.

    The recipient column used depends on the channel: `phone` (+ `phone_index`) for SMS, `email` for
    e-mail, `user` for in-app messages, which the user reads in the site's inbox (`read_at`).
    """

    channel = models.CharField("渠道", max_length=10, choices=Channel.choices)
    phone = EncryptedTextField("手机号码", blank=True)
    phone_index = models.CharField(max_length=64, blank=True, editable=False)
    # Blind index -> the plaintext it is computed from: `zhengfeng keys rotate` recomputes it.
    BLIND_INDEXES: ClassVar[dict[str, str]] = {"phone_index": "phone"}
    email = models.EmailField("电子邮箱", blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="接收用户",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inapp_messages",
    )
    subject = models.CharField("标题", max_length=200, blank=True)
    text = models.TextField("内容")
    status = models.CharField(
        "状态", max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField("发送次数", default=0)
    next_attempt_at = models.DateTimeField("下次发送时间")
    # Set when a worker claims the row; a row `sending` for longer than the lease is taken back.
    claimed_at = models.DateTimeField("领取时间", null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True, editable=False)
    # The claiming WorkerProcess (zhengfeng.core.worker.Heartbeat): its row is its lease. "" without one.
    claimed_by = models.CharField(max_length=32, blank=True, editable=False)
    last_error = models.TextField("最近错误", blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    provider_message_id = models.CharField("网关消息编号", max_length=100, blank=True)
    delivery_status = models.CharField(
        "送达状态", max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.UNKNOWN, blank=True
    )
    delivery_reported_at = models.DateTimeField("回执时间", null=True, blank=True)
    delivery_error = models.CharField("回执错误", max_length=200, blank=True)
    read_at = models.DateTimeField("阅读时间", null=True, blank=True)
    source_type = models.CharField("来源类型", max_length=80, blank=True)
    source_id = models.CharField("来源编号", max_length=64, blank=True)
    division_code = models.CharField("行政区划", max_length=12, blank=True, db_index=True)
    respect_quiet_hours = models.BooleanField("遵守免打扰时段", default=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    objects = OutboxQuerySet.as_manager()

    class Meta:
        verbose_name = "待发消息"
        verbose_name_plural = "待发消息"
        ordering = ["-id"]
        indexes = [
            # The worker's claim query; partial so the index stays as small as the backlog.
            models.Index(
                fields=["next_attempt_at", "id"],
                name="outbox_pending_due_idx",
                condition=models.Q(status="pending"),
            ),
            models.Index(
                fields=["claimed_at"], name="outbox_sending_idx", condition=models.Q(status="sending")
            ),
            # Opt-out cancels a number's pending SMS.
            models.Index(
                fields=["phone_index"], name="outbox_phone_idx", condition=~models.Q(phone_index="")
            ),
            models.Index(
                fields=["user", "-sent_at"], name="outbox_inbox_idx", condition=models.Q(channel="inapp")
            ),
            models.Index(fields=["source_type", "source_id"], name="outbox_source_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(channel="sms", phone_index__gt="")
                    | models.Q(channel="email", email__gt="")
                    | models.Q(channel="inapp", user__isnull=False)
                ),
                name="outbox_recipient_matches_channel",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_channel_display()} → {self.recipient_label}"

    @property
    def recipient_label(self) -> str:
        """The recipient as lists may show it: phones masked."""
        if self.channel == Channel.SMS:
            return mask_phone(self.phone)
        if self.channel == Channel.EMAIL:
            return self.email
        return str(self.user) if self.user_id else ""


class InboundSms(models.Model):
    """One SMS a citizen sent to us, as the gateway reported it through the signed webhook.

    Modules that sent something answerable (an evaluation survey, a callback) match replies through
    `queries.unmatched_inbound()` and `services.mark_inbound_handled()`.
    """

    provider_id = models.CharField("网关消息编号", max_length=100, unique=True)
    phone = EncryptedTextField("发送号码")
    phone_index = models.CharField(max_length=64, db_index=True, editable=False)
    BLIND_INDEXES: ClassVar[dict[str, str]] = {"phone_index": "phone"}
    to_number = models.CharField("接收号码", max_length=30, blank=True)
    text = models.TextField("内容", blank=True)
    received_at = models.DateTimeField("接收时间")
    created_at = models.DateTimeField("入库时间", default=timezone.now)
    matched_type = models.CharField("匹配对象类型", max_length=80, blank=True)
    matched_id = models.CharField("匹配对象编号", max_length=64, blank=True)
    handled_at = models.DateTimeField("处理时间", null=True, blank=True)
    division_code = models.CharField("行政区划", max_length=12, blank=True, db_index=True)
    # Set when a job could not read or use the row (a time outside the plausible window stored before
    # the webhook refused them): the row is left out of every matching job from then on, and kept.
    parked_reason = models.CharField("无法处理原因", max_length=500, blank=True)

    class Meta:
        verbose_name = "上行短信"
        verbose_name_plural = "上行短信"
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(
                fields=["received_at", "id"],
                name="inbound_unhandled_idx",
                condition=models.Q(handled_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        if "received_at" in self.get_deferred_fields():
            # The admin defers the time (a bad stored one cannot be read back): never load it here.
            return f"{mask_phone(self.phone)} {self.provider_id}"
        return f"{mask_phone(self.phone)} {self.received_at:%Y-%m-%d %H:%M}"


class OptOut(models.Model):
    """A number that replied TD/退订: no SMS is queued to it any more."""

    phone = EncryptedTextField("手机号码")
    phone_index = models.CharField(max_length=64, unique=True, editable=False)
    BLIND_INDEXES: ClassVar[dict[str, str]] = {"phone_index": "phone"}
    inbound = models.ForeignKey(
        InboundSms, verbose_name="退订短信", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("退订时间", default=timezone.now)

    class Meta:
        verbose_name = "短信退订"
        verbose_name_plural = "短信退订"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return mask_phone(self.phone)
