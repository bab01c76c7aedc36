"""Core records: the hash-chained audit log, the worker's periodic job schedule, publications."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

from zhengfeng.core.fields import EncryptedTextField


class AuditLog(models.Model):
    """One row per action a service performed, written in the service's transaction.

    Rows are chained: `entry_hash = SM3(prev_hash || canonical row)`. Editing or deleting any row
    breaks the chain from there on, which `zhengfeng audit verify` reports. Never update these rows.
    """

    seq = models.BigIntegerField("序号", unique=True, editable=False)
    created_at = models.DateTimeField("时间", db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Kept as text as well, so the record still reads right if the account is renamed.
    actor_label = models.CharField("操作人名称", max_length=150, blank=True)
    action = models.CharField("动作", max_length=80, db_index=True)
    target_type = models.CharField("对象类型", max_length=80, blank=True)
    target_id = models.CharField("对象编号", max_length=64, blank=True)
    division_code = models.CharField("行政区划", max_length=12, blank=True, db_index=True)
    data = models.JSONField("内容", default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = "审计日志"
        verbose_name_plural = "审计日志"
        ordering = ["-seq"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target_idx")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.target_type}:{self.target_id}"


class AuditChainHead(models.Model):
    """The single row that serialises appends to the chain (row-locked in each writing transaction)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = "审计链头"
        verbose_name_plural = "审计链头"

    def __str__(self) -> str:
        return f"#{self.last_seq} {self.last_hash[:12]}"


class WorkerProcess(models.Model):
    """One running `zhengfeng worker`, renewed by its heartbeat thread (zhengfeng.core.worker.Heartbeat).

    Claims made by a worker name it (`PeriodicJob.locked_by`, `OutboxMessage.claimed_by`); they stay
    its own while `last_seen` is recent and are taken over once it is older than WORKER_LEASE_SECONDS.
    """

    id = models.CharField(max_length=32, primary_key=True)
    host = models.CharField("主机", max_length=255)
    pid = models.PositiveIntegerField("进程号")
    started_at = models.DateTimeField("启动时间")
    last_seen = models.DateTimeField("最近心跳", db_index=True)

    class Meta:
        verbose_name = "后台任务进程"
        verbose_name_plural = "后台任务进程"

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}"


class PeriodicJob(models.Model):
    """When each registered worker job is next due; claimed with a conditional update."""

    name = models.CharField(max_length=100, primary_key=True)
    next_run_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    # The WorkerProcess running it; "" for a run without a heartbeat (`worker --once`), which holds
    # the job until `locked_until` only.
    locked_by = models.CharField(max_length=32, blank=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    runs = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"

    def __str__(self) -> str:
        return self.name


class PublicationStatus(models.TextChoices):
    PUBLISHED = "published", "已发布"
    WITHDRAWN = "withdrawn", "已撤回"


class PublicationQuerySet(models.QuerySet["Publication"]):
    def of_kind(self, *kinds: str) -> PublicationQuerySet:
        return self.filter(kind__in=kinds)

    def live(self) -> PublicationQuerySet:
        return self.filter(status=PublicationStatus.PUBLISHED)

    def public(self, *, at: dt.datetime) -> PublicationQuerySet:
        """What anyone may read at `at`: published, not withdrawn, and past its publication time."""
        return self.live().filter(publish_at__lte=at)


class Publication(models.Model):
    """A table a module published on the portal, frozen at the moment of publishing.

    Written only by `core.publications` (the publication engine); each module registers its kinds
    there. A publication never changes after it is made: a wrong one is withdrawn with a reason and
    stays on record, and a new one of the same kind, period and division may follow.
    """

    # A code registered by the publishing module (`core.publications.register_kind`); no choices
    # here, so a new module's kind needs no migration of core.
    kind = models.CharField("类别", max_length=40)
    period = models.CharField("期间", max_length=10, help_text="2026-03、2026Q1 或 2026")
    title = models.CharField("标题", max_length=200)
    # The publisher's division (empty: the whole city): the table covers its subtree.
    division_code = models.CharField("行政区划", max_length=12, db_index=True)
    scope_label = models.CharField("范围", max_length=60, blank=True)
    # The frozen table: unit names and figures only, never a person's data.
    data = models.JSONField("数据", default=dict)
    status = models.CharField(
        "状态", max_length=10, choices=PublicationStatus.choices, default=PublicationStatus.PUBLISHED
    )
    publish_at = models.DateTimeField("公开时间", help_text="可定于以后某一时间公开")
    created_at = models.DateTimeField("发布时间")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发布人", on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="撤回人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    withdraw_reason = models.TextField("撤回理由", blank=True)

    objects = PublicationQuerySet.as_manager()

    class Meta:
        verbose_name = "公开发布"
        verbose_name_plural = "公开发布"
        ordering = ["-publish_at", "-id"]
        indexes = [
            models.Index(fields=["kind", "status", "publish_at"], name="core_pub_kind_status_time_idx")
        ]
        constraints = [
            # One live table per kind, period and division: a correction withdraws the old one first.
            models.UniqueConstraint(
                fields=["kind", "period", "division_code"],
                condition=models.Q(status="published"),
                name="core_one_live_publication",
            ),
            models.CheckConstraint(
                condition=models.Q(status="published") | ~models.Q(withdraw_reason=""),
                name="core_publication_withdrawal_needs_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class FieldKeyCheck(models.Model):
    """The single row holding the key check value of the database's FIELD_ENCRYPTION_KEY.

    `check_value` is `crypto.key_check_value(key)`: a MAC of a fixed label under a key derived for that
    purpose alone, so it tells a wrong key at start-up without revealing the key (zhengfeng.core.keys).
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    check_value = models.CharField("密钥校验值", max_length=64)
    updated_at = models.DateTimeField("更新时间")

    class Meta:
        verbose_name = "加密密钥校验值"
        verbose_name_plural = "加密密钥校验值"

    def __str__(self) -> str:
        return self.check_value[:12]


class KeyRotation(models.Model):
    """One run of `zhengfeng keys rotate` from one key to the next, resumable from `progress`.

    `progress` maps a model label to the last primary key re-encrypted (rows are done in pk order, one
    transaction per batch with its progress), or to "done".
    """

    from_check_value = models.CharField("原密钥校验值", max_length=64)
    to_check_value = models.CharField("新密钥校验值", max_length=64)
    started_at = models.DateTimeField("开始时间")
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    progress = models.JSONField("进度", default=dict, blank=True)
    rows = models.BigIntegerField("已处理行数", default=0)

    class Meta:
        verbose_name = "密钥轮换"
        verbose_name_plural = "密钥轮换"
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {'完成' if self.finished_at else '进行中'}"


class RetainedPepper(models.Model):
    """A pepper of a retired key for a keyed MAC over an input never stored (query passwords).

    The pepper itself is encrypted under the current key (and re-encrypted by every rotation); the
    fingerprint (SM3 of the pepper) only keeps a rotation from storing the same pepper twice.
    """

    purpose = models.CharField("用途", max_length=100)
    fingerprint = models.CharField(max_length=64, unique=True)
    pepper = EncryptedTextField("密钥材料")
    created_at = models.DateTimeField("保存时间")

    class Meta:
        verbose_name = "保留的旧密钥材料"
        verbose_name_plural = "保留的旧密钥材料"

    def __str__(self) -> str:
        return f"{self.purpose} {self.fingerprint[:12]}"


class RateCounter(models.Model):
    """Hits of one rate-limit key in one fixed window, counted by `core.ratelimit` in one statement.

    A table, not the cache: the increment must be atomic across every server process and the worker
    (the database cache's incr() is a read then a write, which let 8 of 30 parallel filings through a
    limit of 5).
    """

    key = models.CharField(max_length=200)
    window_start = models.BigIntegerField(help_text="Unix time the window starts at")
    hits = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "频率计数"
        verbose_name_plural = "频率计数"
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="core_ratecounter_key_window")
        ]

    def __str__(self) -> str:
        return f"{self.key}@{self.window_start}: {self.hits}"


class AuditAnchor(models.Model):
    """A signed copy of the audit chain head at one moment (ADR 0001): append-only, never updated.

    A copy is also appended to the file `AUDIT_ANCHOR_FILE`, which can be kept outside the database; an
    attacker who deletes the chain's tail or rewrites it wholesale must also forge these signatures.
    """

    seq = models.BigIntegerField("链头序号")
    head_hash = models.CharField("链头哈希", max_length=64)
    created_at = models.DateTimeField("锚定时间")
    signature = models.CharField("签名", max_length=64)

    class Meta:
        verbose_name = "审计锚点"
        verbose_name_plural = "审计锚点"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"锚点 #{self.seq} {self.head_hash[:12]}"
