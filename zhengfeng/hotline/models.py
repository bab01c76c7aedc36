"""12345 hotline work orders: taxonomy, orders, assignments to units, the append-only timeline, the
rule tables (dispatch, time limits) and the records of each step (returns, extensions, replies,
callbacks, referrals).

Every write goes through `hotline.services` (one transition function, `transition()`); models hold
fields, constraints, grouped states and QuerySet vocabulary only. docs/hotline.md describes the states.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import nonmember
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from zhengfeng.core import uploads
from zhengfeng.core.fields import EncryptedTextField

TITLE_MAX_LENGTH = 200
# The Open311 description limit; the same for every channel so an order always fits the public API.
CONTENT_MAX_LENGTH = 4000
TEXT_MAX_LENGTH = 4000
ADDRESS_MAX_LENGTH = 200


class Channel(models.TextChoices):
    PHONE = "phone", "电话"
    LETTER = "letter", "来信"
    VISIT = "visit", "来访"
    WEB = "web", "网络问政"
    LEADER_MAILBOX = "mailbox", "领导信箱"
    WEIBO = "weibo", "微博"
    WECHAT = "wechat", "微信"
    RADIO = "radio", "行风热线"
    MONITOR = "monitor", "效能监测点"
    ENTERPRISE = "enterprise", "企业绿色通道"
    IMPORT = "import", "平台导入"

    # Channels whose default time limits are half the normal ones (rounded up).
    HALF_LIMIT = nonmember(frozenset({"monitor", "enterprise"}))


class RequestType(models.TextChoices):
    INQUIRY = "inquiry", "咨询"
    HELP = "help", "求助"
    COMPLAINT = "complaint", "投诉"
    REPORT = "report", "举报"
    SUGGESTION = "suggestion", "建议"
    PRAISE = "praise", "表扬"


class Urgency(models.TextChoices):
    NORMAL = "normal", "一般"
    URGENT = "urgent", "紧急"


class Status(models.TextChoices):
    RECEIVED = "received", "已受理"
    DISPATCHED = "dispatched", "待签收"
    RETURN_REQUESTED = "return_requested", "退单待审"
    HANDLING = "handling", "办理中"
    REPLY_DRAFTED = "reply_drafted", "答复待审批"
    REPLIED = "replied", "答复待审核"
    AWAITING_CALLBACK = "awaiting_callback", "待回访"
    CLOSED = "closed", "已办结"
    MERGED = "merged", "已并单"
    VOIDED = "voided", "已作废"

    # Not finished: the order still needs someone to act (Open311 "open").
    OPEN_STATES = nonmember(
        (
            "received",
            "dispatched",
            "return_requested",
            "handling",
            "reply_drafted",
            "replied",
            "awaiting_callback",
        )
    )
    # The unit's turn: signing, handling or approving its reply.
    WITH_UNIT_STATES = nonmember(("dispatched", "handling", "reply_drafted"))
    # The hotline's turn: dispatch, review of a return or of a reply, callback.
    WITH_HOTLINE_STATES = nonmember(("received", "return_requested", "replied", "awaiting_callback"))
    FINAL_STATES = nonmember(("closed", "merged", "voided"))
    # States in which the order may still be merged into another (nobody has started handling it).
    MERGEABLE_STATES = nonmember(("received", "dispatched"))
    # Waiting for the main unit's sign-for (its sign-for clock runs).
    UNSIGNED_STATES = nonmember(("dispatched",))
    # Signed for, the reply not yet approved by the head (the main unit's reply clock runs).
    UNREPLIED_STATES = nonmember(("handling", "reply_drafted"))
    # Left out of every statistic: a merged order counts through its main order, a voided one never.
    UNCOUNTED_STATES = nonmember(("merged", "voided"))


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    BASICALLY = "basically", "基本满意"
    DISSATISFIED = "dissatisfied", "不满意"

    # Count as satisfied in 满意率.
    POSITIVE = nonmember(frozenset({"satisfied", "basically"}))


class Category(models.Model):
    """One node of the 3-level taxonomy (一级/二级/三级分类); also the Open311 service list."""

    code = models.CharField("分类编码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=60)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级分类",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    level = models.PositiveSmallIntegerField("层级", choices=[(1, "一级"), (2, "二级"), (3, "三级")])
    # "城乡建设/安全生产/事故处理": shown in lists and searched without joins.
    path = models.CharField("完整名称", max_length=200)
    is_active = models.BooleanField("在用", default=True)

    class Meta:
        verbose_name = "诉求分类"
        verbose_name_plural = "诉求分类"
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="hotline_category_unique_name"),
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(parent__isnull=True), name="hotline_category_unique_root"
            ),
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=3), name="hotline_category_level"
            ),
        ]

    def __str__(self) -> str:
        return self.path


@dataclass(frozen=True)
class Overdue:
    """One overdue concept: an order in one of `states` whose `due_field` deadline is before `at`.

    `SIGN_OVERDUE` (签收超期) and `REPLY_OVERDUE` (办理超期) below are the only definitions: lists and
    counts filter with `q(at)` (the QuerySet methods, the metrics' conditional counts), one order
    already in memory asks `of(order, at)`, so both always agree.
    """

    states: tuple[str, ...]
    due_field: str

    def q(self, at: dt.datetime) -> Q:
        return Q(status__in=self.states, **{f"{self.due_field}__lt": at})

    def of(self, order: WorkOrder, at: dt.datetime) -> bool:
        """Whether one loaded order is overdue at `at` (the same test as `q`, in Python)."""
        due = getattr(order, self.due_field)
        return order.status in self.states and due is not None and due < at


SIGN_OVERDUE = Overdue(states=Status.UNSIGNED_STATES, due_field="sign_due_at")
REPLY_OVERDUE = Overdue(states=Status.UNREPLIED_STATES, due_field="reply_due_at")


class WorkOrderQuerySet(models.QuerySet["WorkOrder"]):
    def open(self) -> WorkOrderQuerySet:
        return self.filter(status__in=Status.OPEN_STATES)

    def counted(self) -> WorkOrderQuerySet:
        """Orders that count in statistics: a merged order counts once, through its main order."""
        return self.exclude(status__in=Status.UNCOUNTED_STATES)

    def sign_overdue(self, *, at: dt.datetime) -> WorkOrderQuerySet:
        return self.filter(SIGN_OVERDUE.q(at))

    def reply_overdue(self, *, at: dt.datetime) -> WorkOrderQuerySet:
        return self.filter(REPLY_OVERDUE.q(at))

    def overdue(self, *, at: dt.datetime) -> WorkOrderQuerySet:
        """Past either deadline: sign-for or reply."""
        return self.filter(SIGN_OVERDUE.q(at) | REPLY_OVERDUE.q(at))


class WorkOrder(models.Model):
    """A citizen's request (诉求), from intake to archive."""

    code = models.CharField("受理编号", max_length=24, unique=True)
    # Only a hash; the requester gets the password once, at intake, to track the order publicly.
    query_password_hash = models.CharField("查询密码", max_length=128, editable=False)
    channel = models.CharField("来源渠道", max_length=12, choices=Channel.choices)
    request_type = models.CharField("诉求类型", max_length=12, choices=RequestType.choices)
    urgency = models.CharField("紧急程度", max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    is_complex = models.BooleanField("复杂件", default=False, help_text="行风热线复杂件时限 10 个工作日")
    concerns_conduct = models.BooleanField(
        "涉及干部作风", default=False, help_text="反映干部作风或违纪问题，可移送纪检监察机关"
    )
    category = models.ForeignKey(
        Category,
        verbose_name="诉求分类",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    title = models.CharField("标题", max_length=TITLE_MAX_LENGTH)
    content = models.TextField("诉求内容")

    division = models.ForeignKey(
        "org.Division", verbose_name="发生地区划", on_delete=models.PROTECT, related_name="+"
    )
    # Denormalised GB/T 2260 code: scoping by prefix and distribution (Citus) without joins.
    division_code = models.CharField("行政区划", max_length=12)
    address = models.CharField("地址", max_length=ADDRESS_MAX_LENGTH, blank=True)
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)

    requester_name = EncryptedTextField("诉求人姓名", blank=True)
    requester_phone = EncryptedTextField("诉求人电话", blank=True)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    requester_id_number = EncryptedTextField("诉求人身份证号码", blank=True)
    id_number_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    # Blind index -> the plaintext it is computed from: `zhengfeng keys rotate` recomputes them.
    BLIND_INDEXES: ClassVar[dict[str, str]] = {
        "phone_index": "requester_phone",
        "id_number_index": "requester_id_number",
    }
    is_anonymous = models.BooleanField("匿名", default=False)
    is_confidential = models.BooleanField("要求保密", default=False)
    allow_unit_contact = models.BooleanField(
        "同意承办单位联系", default=False, help_text="诉求人同意承办单位查看其联系方式并直接联系"
    )

    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.RECEIVED)
    # The unit holding the current main assignment (主办); None before dispatch.
    main_unit = models.ForeignKey(
        "org.Unit", verbose_name="主办单位", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Copies of the current main assignment's clock deadlines, for lists (the clocks are the truth).
    sign_due_at = models.DateTimeField("签收期限", null=True, blank=True)
    reply_due_at = models.DateTimeField("办理期限", null=True, blank=True)
    external_id = models.CharField("外部编号", max_length=64, null=True, blank=True, unique=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name="并入工单",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_orders",
    )

    received_at = models.DateTimeField("受理时间")
    dispatched_at = models.DateTimeField("派单时间", null=True, blank=True)
    signed_at = models.DateTimeField("签收时间", null=True, blank=True)
    replied_at = models.DateTimeField("答复时间", null=True, blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    answered_directly = models.BooleanField("直接答复", default=False)

    satisfaction = models.CharField("满意度", max_length=12, choices=Satisfaction.choices, blank=True)
    resolved = models.BooleanField("已解决", null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField("重办次数", default=0)
    return_count = models.PositiveSmallIntegerField("退单次数", default=0)
    improper_return_count = models.PositiveSmallIntegerField("不当退单次数", default=0)
    extension_count = models.PositiveSmallIntegerField("延期次数", default=0)
    is_referred = models.BooleanField("已移送纪检监察", default=False)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = WorkOrderQuerySet.as_manager()

    class Meta:
        verbose_name = "工单"
        verbose_name_plural = "工单"
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["division_code", "status"], name="hotline_order_div_status_idx"),
            models.Index(fields=["main_unit", "status"], name="hotline_order_unit_status_idx"),
            models.Index(fields=["received_at"], name="hotline_order_received_idx"),
            # The overdue lists' indexes: the states of REPLY_OVERDUE and SIGN_OVERDUE.
            models.Index(
                fields=["reply_due_at"],
                name="hotline_order_reply_due_idx",
                condition=models.Q(status__in=list(Status.UNREPLIED_STATES)),
            ),
            models.Index(
                fields=["sign_due_at"],
                name="hotline_order_sign_due_idx",
                condition=models.Q(status="dispatched"),
            ),
            # Metrics: callback rates by close date, and the (small) set of orders that never count.
            models.Index(
                fields=["closed_at"], name="hotline_order_closed_idx", condition=models.Q(status="closed")
            ),
            models.Index(
                fields=["id"],
                name="hotline_order_uncounted_idx",
                condition=models.Q(status__in=list(Status.UNCOUNTED_STATES)),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(merged_into__isnull=True) | models.Q(status="merged"),
                name="hotline_order_merged_state",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in Status.OPEN_STATES

    @property
    def callback_expected(self) -> bool:
        """Anonymous requesters and those without a phone are not called back (and leave the rates)."""
        return not self.is_anonymous and bool(self.phone_index)


class WorkOrderSerial(models.Model):
    """The last serial number of the tracking codes issued on one day (row-locked when numbering)."""

    day = models.DateField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "受理编号序号"
        verbose_name_plural = "受理编号序号"

    def __str__(self) -> str:
        return f"{self.day}: {self.last_number}"


class SubmissionState(models.TextChoices):
    PENDING = "pending", "待登记"
    REGISTERED = "registered", "已登记"
    FAILED = "failed", "登记失败"


class Open311Submission(models.Model):
    """An Open311 POST as accepted: numbered and stored in one statement before the client is answered,
    then registered as a work order by the worker (`hotline.register_open311`, within seconds).

    Why not register at once: registering is ≈ 15 round trips with the day's serial row and the audit
    chain locked until commit, which caps intake at ~100 requests/s on two cores; a burst (a typhoon, a
    broadcast) must be taken in without making clients wait. This row is the durable record of the
    acceptance; the work order's audit row is written when it is registered.
    """

    code = models.CharField("受理编号", max_length=24)
    # Keyed fingerprint of key, device, service, place, text and 10-minute bucket: the double-POST rule.
    external_id = models.CharField("请求指纹", max_length=64)
    # No index of its own: keys are never deleted (only revoked) and submissions are not looked up by
    # key; every POST fills one index less.
    api_key = models.ForeignKey(
        "org.ApiKey",
        verbose_name="接口密钥",
        on_delete=models.PROTECT,
        related_name="open311_submissions",
        db_index=False,
    )
    category_code = models.CharField("服务代码", max_length=20)
    request_type = models.CharField("诉求类型", max_length=12, choices=RequestType.choices)
    title = models.CharField("标题", max_length=TITLE_MAX_LENGTH)
    content = models.TextField("诉求内容")
    division_code = models.CharField("行政区划", max_length=12)
    address = models.CharField("地址", max_length=ADDRESS_MAX_LENGTH, blank=True)
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    requester_name = EncryptedTextField("诉求人姓名", blank=True)
    requester_phone = EncryptedTextField("诉求人电话", blank=True)
    query_password_hash = models.CharField("查询密码", max_length=128, editable=False)
    received_at = models.DateTimeField("受理时间")
    state = models.CharField(
        "登记状态", max_length=12, choices=SubmissionState.choices, default=SubmissionState.PENDING
    )
    attempts = models.PositiveSmallIntegerField("登记次数", default=0)
    last_error = models.TextField("登记失败原因", blank=True)
    registered_at = models.DateTimeField("登记时间", null=True, blank=True)
    order = models.OneToOneField(
        WorkOrder,
        verbose_name="工单",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="open311_submission",
    )

    class Meta:
        verbose_name = "Open311 受理记录"
        verbose_name_plural = "Open311 受理记录"
        ordering = ["-id"]
        # Constraints rather than unique=True: equality is the only lookup, so PostgreSQL needs no
        # second, pattern-matching index per column (fewer indexes to update on every POST).
        constraints = [
            models.UniqueConstraint(fields=["code"], name="open311sub_code_unique"),
            models.UniqueConstraint(fields=["external_id"], name="open311sub_external_id_unique"),
        ]
        indexes = [
            # The worker's queue: only the few pending rows, however many were ever accepted.
            models.Index(fields=["id"], name="open311sub_pending_idx", condition=models.Q(state="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.code}（{self.get_state_display()}）"


class AssignmentRole(models.TextChoices):
    MAIN = "main", "主办"
    CO = "co", "协办"


class AssignmentStatus(models.TextChoices):
    PENDING = "pending", "待签收"
    RETURN_REQUESTED = "return_requested", "退单待审"
    SIGNED = "signed", "已签收"
    RETURNED = "returned", "已退回"
    ENDED = "ended", "已结束"

    LIVE_STATES = nonmember(("pending", "return_requested", "signed"))


class AssignmentReason(models.TextChoices):
    DISPATCH = "dispatch", "派单"
    REASSIGN = "reassign", "改派"
    REOPEN = "reopen", "重办"
    REWORK = "rework", "审核退回重办"


class WorkOrderAssignment(models.Model):
    """One unit's part in one handling round of an order (主办 or 协办).

    Each round is a new row (dispatch, reassignment, reopen, rework after a reply is sent back), so
    every row's clocks are frozen facts: a late sign-for or reply stays late.
    """

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey("org.Unit", verbose_name="承办单位", on_delete=models.PROTECT, related_name="+")
    role = models.CharField("角色", max_length=4, choices=AssignmentRole.choices)
    status = models.CharField(
        "状态", max_length=20, choices=AssignmentStatus.choices, default=AssignmentStatus.PENDING
    )
    reason = models.CharField("来由", max_length=10, choices=AssignmentReason.choices)
    round = models.PositiveSmallIntegerField("办理轮次", default=1)
    division_code = models.CharField("行政区划", max_length=12)
    dispatched_at = models.DateTimeField("派单时间")
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Frozen at dispatch / sign-for from the TimeLimitRule that applied.
    time_limit_rule = models.ForeignKey(
        "TimeLimitRule", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reply_limit_days = models.PositiveSmallIntegerField("办理时限（工作日）", null=True, blank=True)
    sign_clock = models.OneToOneField(
        "deadlines.Clock", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reply_clock = models.OneToOneField(
        "deadlines.Clock", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField("签收时间", null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_forced = models.BooleanField("审定强派", default=False)
    # Overdue clocks are the alerts ladder's business (its 黄牌 carries the deduction); these two are
    # frozen when the sign-for / reply clock stops.
    sign_late = models.BooleanField("逾期签收", default=False)
    reply_late = models.BooleanField("逾期答复", default=False)
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)

    class Meta:
        verbose_name = "派单记录"
        verbose_name_plural = "派单记录"
        ordering = ["order_id", "round", "-role", "id"]
        indexes = [
            models.Index(fields=["unit", "status"], name="hotline_assign_unit_status_idx"),
            models.Index(fields=["division_code", "dispatched_at"], name="hotline_assign_div_time_idx"),
            # Metrics: main rounds dispatched in a period (受理量, 按时签收率, 退单率).
            models.Index(
                fields=["dispatched_at"], name="hotline_assign_main_time_idx", condition=models.Q(role="main")
            ),
        ]
        constraints = [
            # One live main assignment per order at a time.
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(role="main", status__in=["pending", "return_requested", "signed"]),
                name="hotline_one_live_main_assignment",
            ),
            models.UniqueConstraint(
                fields=["order", "unit", "round"],
                condition=models.Q(status__in=["pending", "return_requested", "signed"]),
                name="hotline_assignment_unit_once_per_round",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.get_role_display()} {self.unit_id}"


class EventKind(models.TextChoices):
    RECEIVED = "received", "受理"
    ANSWERED = "answered", "直接答复"
    DISPATCHED = "dispatched", "派单"
    SIGNED = "signed", "签收"
    RETURN_REQUESTED = "return_requested", "申请退单"
    RETURN_ACCEPTED = "return_accepted", "退单改派"
    RETURN_OVERRULED = "return_overruled", "退单驳回（审定强派）"
    NOTE = "note", "办理记录"
    EXTENSION_REQUESTED = "extension_requested", "申请延期"
    EXTENSION_HEAD_APPROVED = "extension_head_approved", "延期经单位负责人同意"
    EXTENSION_APPROVED = "extension_approved", "延期批准"
    EXTENSION_REJECTED = "extension_rejected", "延期不予批准"
    REPLY_DRAFTED = "reply_drafted", "拟写答复"
    REPLY_APPROVED = "reply_approved", "负责人签发答复"
    REPLY_REJECTED = "reply_rejected", "负责人退回答复"
    REPLY_PASSED = "reply_passed", "答复审核通过"
    REPLY_SENT_BACK = "reply_sent_back", "答复审核退回"
    CALLBACK = "callback", "回访"
    REOPENED = "reopened", "重办"
    CLOSED = "closed", "办结"
    MERGED = "merged", "并单"
    MERGE_RECEIVED = "merge_received", "并入重复诉求"
    VOIDED = "voided", "作废"
    REFERRED = "referred", "移送纪检监察"


class WorkOrderEvent(models.Model):
    """The order's timeline. Append-only: services create rows, nothing updates or deletes them."""

    order = models.ForeignKey(WorkOrder, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField("事件", max_length=24, choices=EventKind.choices)
    at = models.DateTimeField("时间")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    unit = models.ForeignKey(
        "org.Unit", verbose_name="单位", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField("说明", blank=True)
    data = models.JSONField(default=dict, blank=True)
    # Visible on the public tracking page (the requester's view of progress).
    is_public = models.BooleanField("公开", default=False)

    class Meta:
        verbose_name = "工单记录"
        verbose_name_plural = "工单记录"
        ordering = ["order_id", "at", "id"]
        indexes = [models.Index(fields=["order", "at"], name="hotline_event_order_at_idx")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.get_kind_display()}"


class DispatchRule(models.Model):
    """派单目录: orders of this category (or any of its sub-categories) in this division go to this unit.

    The most specific rule wins: deepest category, then longest division code, then lowest priority.
    """

    category = models.ForeignKey(
        Category, verbose_name="诉求分类", on_delete=models.PROTECT, related_name="rules"
    )
    division = models.ForeignKey(
        "org.Division",
        verbose_name="区划",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="空：所有区划",
    )
    unit = models.ForeignKey("org.Unit", verbose_name="主办单位", on_delete=models.PROTECT, related_name="+")
    co_units = models.ManyToManyField("org.Unit", verbose_name="协办单位", blank=True, related_name="+")
    priority = models.PositiveSmallIntegerField("优先级", default=100, help_text="数字小者优先")
    is_active = models.BooleanField("在用", default=True)

    class Meta:
        verbose_name = "派单规则"
        verbose_name_plural = "派单规则"
        ordering = ["category__code", "division_id", "priority", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "division", "unit"], name="hotline_dispatch_rule_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} → {self.unit}"


class TimeLimitRule(models.Model):
    """Time limits keyed by type × urgency × channel; an empty key matches any value.

    The most specific active rule wins: urgency counts most, then channel, then type.
    """

    name = models.CharField("名称", max_length=80)
    request_type = models.CharField("诉求类型", max_length=12, choices=RequestType.choices, blank=True)
    urgency = models.CharField("紧急程度", max_length=8, choices=Urgency.choices, blank=True)
    channel = models.CharField("来源渠道", max_length=12, choices=Channel.choices, blank=True)
    sign_minutes = models.PositiveIntegerField(
        "签收时限（工作分钟）", null=True, blank=True, help_text="紧急件按工作时间计；空则按签收工作日"
    )
    sign_days = models.PositiveSmallIntegerField("签收时限（工作日）", default=1)
    reply_days = models.PositiveSmallIntegerField("办理时限（工作日）")
    complex_reply_days = models.PositiveSmallIntegerField("复杂件办理时限（工作日）", null=True, blank=True)
    is_active = models.BooleanField("在用", default=True)

    class Meta:
        verbose_name = "办理时限规则"
        verbose_name_plural = "办理时限规则"
        ordering = ["urgency", "channel", "request_type", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request_type", "urgency", "channel"],
                condition=models.Q(is_active=True),
                name="hotline_time_limit_unique_key",
            ),
            models.CheckConstraint(
                condition=models.Q(reply_days__gte=1), name="hotline_time_limit_reply_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def specificity(self) -> int:
        return 4 * bool(self.urgency) + 2 * bool(self.channel) + bool(self.request_type)


class ReturnStatus(models.TextChoices):
    PENDING = "pending", "待审核"
    ACCEPTED = "accepted", "同意退单（改派）"
    OVERRULED = "overruled", "驳回（不当退单）"


def return_evidence_path(instance: ReturnRequest, filename: str) -> str:
    # A random stored name: the uploader's name is kept in `evidence_name`, never used as a path.
    # Filed by the month of the upload (a back-dated request still lands in the current month).
    extension = filename.rsplit(".", 1)[-1] if "." in filename else ""
    return uploads.random_path(f"hotline/returns/{timezone.localtime():%Y/%m}", extension)


class ReturnRequest(models.Model):
    """退单: a unit says the order is not its business; the hotline reassigns or overrules."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="returns")
    assignment = models.ForeignKey(WorkOrderAssignment, on_delete=models.PROTECT, related_name="returns")
    unit = models.ForeignKey("org.Unit", verbose_name="退单单位", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField("退单理由")
    evidence = models.FileField("依据材料", upload_to=return_evidence_path, max_length=200)
    # The evidence's original (cleaned) name and checksum (core.uploads); blank on rows stored before.
    evidence_name = models.CharField("依据材料文件名", max_length=200, blank=True)
    evidence_sha256 = models.CharField("依据材料 SHA-256", max_length=64, blank=True)
    requested_at = models.DateTimeField("申请时间")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        "审核结果", max_length=10, choices=ReturnStatus.choices, default=ReturnStatus.PENDING
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_note = models.TextField("审核意见", blank=True)

    class Meta:
        verbose_name = "退单申请"
        verbose_name_plural = "退单申请"
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment"], condition=models.Q(status="pending"), name="hotline_one_pending_return"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} 退单 {self.get_status_display()}"


class ExtensionStatus(models.TextChoices):
    PENDING_HEAD = "pending_head", "待单位负责人审批"
    PENDING_HOTLINE = "pending_hotline", "待热线审核"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "不予批准"

    PENDING_STATES = nonmember(("pending_head", "pending_hotline"))


class ExtensionRequest(models.Model):
    """延期申请: asked before the deadline, approved by the unit head and then the hotline."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="extensions")
    assignment = models.ForeignKey(WorkOrderAssignment, on_delete=models.PROTECT, related_name="extensions")
    days = models.PositiveSmallIntegerField("延期工作日")
    reason = models.TextField("延期理由")
    requested_at = models.DateTimeField("申请时间")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The deadline the request was made against (it must be asked before it passes).
    due_at_request = models.DateTimeField("申请时的期限")
    status = models.CharField(
        "状态", max_length=16, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING_HEAD
    )
    head_decided_at = models.DateTimeField(null=True, blank=True)
    head_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    hotline_decided_at = models.DateTimeField(null=True, blank=True)
    hotline_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.TextField("审批意见", blank=True)
    new_due_at = models.DateTimeField("延期后期限", null=True, blank=True)

    class Meta:
        verbose_name = "延期申请"
        verbose_name_plural = "延期申请"
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(status__in=["pending_head", "pending_hotline"]),
                name="hotline_one_pending_extension",
            ),
            models.CheckConstraint(condition=models.Q(days__gte=1), name="hotline_extension_days_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} 延期 {self.days} 日 {self.get_status_display()}"


class ReplyStatus(models.TextChoices):
    AWAITING_HEAD = "awaiting_head", "待负责人签发"
    HEAD_REJECTED = "head_rejected", "负责人退回"
    SUBMITTED = "submitted", "待平台审核"
    PASSED = "passed", "审核通过"
    SENT_BACK = "sent_back", "审核退回"


class Reply(models.Model):
    """The unit's answer (or the operator's direct answer), through head approval and platform review."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="replies")
    assignment = models.ForeignKey(
        WorkOrderAssignment, null=True, blank=True, on_delete=models.PROTECT, related_name="replies"
    )
    text = models.TextField("答复内容")
    status = models.CharField("状态", max_length=16, choices=ReplyStatus.choices)
    is_direct = models.BooleanField("热线直接答复", default=False)
    drafted_at = models.DateTimeField("拟写时间")
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField("签发时间", null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_note = models.TextField("审核意见", blank=True)

    class Meta:
        verbose_name = "答复"
        verbose_name_plural = "答复"
        ordering = ["order_id", "drafted_at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} 答复 {self.get_status_display()}"


class Callback(models.Model):
    """回访 by the hotline (never the unit): satisfaction and resolution, asked separately."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="callbacks")
    assignment = models.ForeignKey(
        WorkOrderAssignment, null=True, blank=True, on_delete=models.PROTECT, related_name="callbacks"
    )
    at = models.DateTimeField("回访时间")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reached = models.BooleanField("联系上诉求人", default=True)
    satisfaction = models.CharField("满意度", max_length=12, choices=Satisfaction.choices, blank=True)
    resolved = models.BooleanField("已解决", null=True, blank=True)
    false_completion = models.BooleanField("虚假办结", default=False)
    reopened = models.BooleanField("重办", default=False)
    note = models.TextField("回访记录", blank=True)

    class Meta:
        verbose_name = "回访"
        verbose_name_plural = "回访"
        ordering = ["order_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} 回访 {self.get_satisfaction_display()}"


class Referral(models.Model):
    """移送: a case about a cadre's conduct passed to the discipline office."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="referrals")
    to_unit = models.ForeignKey(
        "org.Unit", verbose_name="移送单位", on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField("移送理由")
    at = models.DateTimeField("移送时间")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    division_code = models.CharField("行政区划", max_length=12, db_index=True)

    class Meta:
        verbose_name = "移送记录"
        verbose_name_plural = "移送记录"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.order_id} → {self.to_unit_id}"
