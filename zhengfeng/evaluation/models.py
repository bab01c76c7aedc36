"""公述民评: evaluation years, disclosed staff, enforcement actions and their SMS evaluations.

The flow (docs/evaluation.md):

1. An `EvaluationYear` names the key evaluated units of a division for one year, the invitation SMS
   template and the score formula.
2. Each unit keeps its enforcement and supervision staff as `DisclosedStaff`; only those marked for
   disclosure appear on the public portal.
3. An `EnforcementAction` (entered by the unit, imported, or sent by a system) creates exactly one
   `Evaluation`: the invitation SMS to the party visited, queued in the outbox after a delay.
4. Inbound SMS are matched to evaluations; every reply taken is kept as a `Reply`, and the first
   valid one becomes the evaluation's `answer`.
5. Scores count answered evaluations whose flag is not pending or confirmed (anti-rigging, part 2).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import nonmember
from typing import ClassVar

from django.conf import settings
from django.core.validators import FileExtensionValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from zhengfeng.core import uploads
from zhengfeng.core.fields import EncryptedTextField

DEFAULT_SMS_TEMPLATE = (
    "您好！{unit}{staff}同志于{date}对贵单位开展了{action}，请回复数字评价：1满意 2基本满意 3不满意。"
)
DEFAULT_REASK_TEMPLATE = (
    "您好！未能识别您的回复。请回复一个数字评价{unit}{staff}同志于{date}开展的{action}："
    "1满意 2基本满意 3不满意。感谢您的支持！"
)


class EvaluationYear(models.Model):
    """One year of 公述民评 run by the campaign office of `division` (city or county)."""

    division = models.ForeignKey(
        "org.Division", verbose_name="组织区划", on_delete=models.PROTECT, related_name="evaluation_years"
    )
    year = models.PositiveSmallIntegerField("年度")
    title = models.CharField("名称", max_length=100)
    key_units = models.ManyToManyField(
        "org.Unit", verbose_name="重点评议单位", related_name="evaluation_years", blank=True
    )
    sms_template = models.TextField(
        "评议短信模板",
        default=DEFAULT_SMS_TEMPLATE,
        help_text="可用占位符：{unit} 单位全称、{staff} 执法人员、{date} 执法日期（11月20日）、{action} 执法类型",
    )
    reask_template = models.TextField(
        "再次询问短信模板", default=DEFAULT_REASK_TEMPLATE, help_text="回复无法识别时发送一次；占位符同上"
    )
    points_satisfied = models.DecimalField("满意分值", max_digits=5, decimal_places=2, default=Decimal(100))
    points_basic = models.DecimalField("基本满意分值", max_digits=5, decimal_places=2, default=Decimal(60))
    points_unsatisfied = models.DecimalField("不满意分值", max_digits=5, decimal_places=2, default=Decimal(0))
    reply_window_days = models.PositiveSmallIntegerField(
        "回复有效天数", default=7, validators=[MinValueValidator(1)]
    )
    # Online evaluation of the key units (网上评议); no window = no online vote this year.
    vote_opens_at = models.DateTimeField("网上评议开始时间", null=True, blank=True)
    vote_closes_at = models.DateTimeField("网上评议结束时间", null=True, blank=True)
    vote_weight = models.PositiveSmallIntegerField(
        "网上评议权重（%）",
        default=30,
        validators=[MaxValueValidator(100)],
        help_text="单位总分 = 短信评议得分 ×（100−权重）% + 网上评议得分 × 权重%；只有一项有分时取该项",
    )
    assessment_points = models.DecimalField(
        "年度考核分值",
        max_digits=5,
        decimal_places=2,
        default=Decimal(10),
        help_text="公述民评在年度考核中的分值：扣分 = 分值 ×（100 − 单位总分）÷ 100",
    )
    # Anti-rigging thresholds (docs/evaluation.md §9), letters as in the rules.
    rule_repeat_count = models.PositiveSmallIntegerField(
        "(b) 同一号码作为同一人员执法对象的次数", default=3, validators=[MinValueValidator(2)]
    )
    rule_repeat_days = models.PositiveSmallIntegerField(
        "(b) 统计天数", default=30, validators=[MinValueValidator(1)]
    )
    rule_burst_count = models.PositiveSmallIntegerField(
        "(c) 集中录入条数", default=10, validators=[MinValueValidator(2)]
    )
    rule_burst_minutes = models.PositiveSmallIntegerField(
        "(c) 集中录入分钟数", default=10, validators=[MinValueValidator(1)]
    )
    rule_fast_seconds = models.PositiveSmallIntegerField(
        "(d) 回复过快（少于秒数）", default=10, validators=[MinValueValidator(1)]
    )
    rule_vote_count = models.PositiveSmallIntegerField(
        "(e) 同一网段或设备集中投票票数", default=5, validators=[MinValueValidator(2)]
    )
    rule_vote_minutes = models.PositiveSmallIntegerField(
        "(e) 集中投票分钟数", default=60, validators=[MinValueValidator(1)]
    )
    rule_name_phones = models.PositiveSmallIntegerField(
        "(f) 同名对象不同号码数（同单位同季度）", default=3, validators=[MinValueValidator(2)]
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        verbose_name = "公述民评年度"
        verbose_name_plural = "公述民评年度"
        ordering = ["-year", "division_id"]
        constraints = [
            models.UniqueConstraint(fields=["division", "year"], name="evaluation_year_unique"),
            models.CheckConstraint(
                condition=models.Q(reply_window_days__gte=1), name="evaluation_window_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(vote_opens_at__isnull=True)
                | models.Q(vote_closes_at__isnull=True)
                | models.Q(vote_closes_at__gt=models.F("vote_opens_at")),
                name="evaluation_vote_window_order",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def division_code(self) -> str:
        return self.division_id

    def voting_open(self, at: dt.datetime) -> bool:
        return bool(
            self.vote_opens_at and self.vote_closes_at and self.vote_opens_at <= at < self.vote_closes_at
        )


def staff_photo_path(instance: DisclosedStaff, filename: str) -> str:
    # A random stored name (core.uploads): the uploader's file name is never used as a path.
    extension = filename.rsplit(".", 1)[-1] if "." in filename else ""
    return uploads.random_path("evaluation/staff", extension)


class DisclosedStaff(models.Model):
    """A staff member of an enforcement or supervision post (执法、监督岗位人员).

    Every enforcement action names one or more of them. Only those with `is_disclosed` appear on the
    portal, and only their name, position, department, duties and photo. `person` links the org
    record when there is one (part 2 compares the subjects' phones with the staff's).
    """

    unit = models.ForeignKey("org.Unit", verbose_name="单位", on_delete=models.PROTECT, related_name="+")
    division_code = models.CharField("行政区划", max_length=12, db_index=True)
    person = models.ForeignKey(
        "org.Person",
        verbose_name="对应人员",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="disclosed_posts",
    )
    name = models.CharField("姓名", max_length=40)
    title = models.CharField("职务", max_length=60)
    department = models.CharField("科室", max_length=60, blank=True)
    duties = models.TextField("岗位职责", blank=True)
    photo = models.FileField(
        "照片",
        upload_to=staff_photo_path,
        blank=True,
        validators=[FileExtensionValidator(list(uploads.PHOTO.extensions))],
    )
    is_disclosed = models.BooleanField("向社会公开", default=False)
    is_active = models.BooleanField("在岗", default=True)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        verbose_name = "执法监督人员"
        verbose_name_plural = "执法监督人员"
        ordering = ["unit_id", "sort_order", "id"]
        indexes = [models.Index(fields=["unit", "name"], name="evaluation_staff_name_idx")]

    def __str__(self) -> str:
        return f"{self.name}（{self.title}）"


class ActionType(models.TextChoices):
    INSPECTION = "inspection", "执法检查"
    SUPERVISION = "supervision", "监督检查"
    PENALTY = "penalty", "行政处罚"
    COERCION = "coercion", "行政强制"
    LICENSING = "licensing", "许可核查"
    OTHER = "other", "其他执法监督"


class ActionSource(models.TextChoices):
    MANUAL = "manual", "单位录入"
    IMPORT = "import", "批量导入"
    API = "api", "系统接口"


class EnforcementAction(models.Model):
    """One enforcement or supervision visit. The party visited is personal data (encrypted)."""

    unit = models.ForeignKey(
        "org.Unit", verbose_name="执法单位", on_delete=models.PROTECT, related_name="enforcement_actions"
    )
    division_code = models.CharField("行政区划", max_length=12, db_index=True)
    year = models.ForeignKey(
        EvaluationYear, verbose_name="评议年度", on_delete=models.PROTECT, related_name="actions"
    )
    staff: models.ManyToManyField[DisclosedStaff, ActionStaff] = models.ManyToManyField(
        DisclosedStaff, verbose_name="执法人员", through="ActionStaff", related_name="actions"
    )
    action_type = models.CharField("执法类型", max_length=20, choices=ActionType.choices)
    acted_at = models.DateTimeField("执法时间")
    subject_name = EncryptedTextField("执法对象")
    subject_name_index = models.CharField(max_length=64, db_index=True, editable=False)
    subject_phone = EncryptedTextField("对象手机号码")
    subject_phone_index = models.CharField(max_length=64, db_index=True, editable=False)
    # Blind index -> the plaintext it is computed from: `zhengfeng keys rotate` recomputes them.
    BLIND_INDEXES: ClassVar[dict[str, str]] = {
        "subject_name_index": "subject_name",
        "subject_phone_index": "subject_phone",
    }
    source = models.CharField("来源", max_length=10, choices=ActionSource.choices)
    # The importing system's own key: a re-import of the same line creates nothing.
    external_id = models.CharField("外部编号", max_length=64, blank=True)
    created_at = models.DateTimeField("登记时间", default=timezone.now, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    api_key = models.ForeignKey(
        "org.ApiKey",
        verbose_name="接口密钥",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "执法监督记录"
        verbose_name_plural = "执法监督记录"
        ordering = ["-acted_at", "-id"]
        indexes = [
            models.Index(fields=["unit", "-acted_at"], name="evaluation_action_unit_idx"),
            models.Index(fields=["division_code", "-acted_at"], name="evaluation_action_div_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~models.Q(external_id=""),
                name="evaluation_action_external_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_type_display()} #{self.pk}"


class ActionStaff(models.Model):
    action = models.ForeignKey(EnforcementAction, on_delete=models.CASCADE, related_name="staff_links")
    staff = models.ForeignKey(DisclosedStaff, on_delete=models.PROTECT, related_name="action_links")

    class Meta:
        verbose_name = "执法人员"
        verbose_name_plural = "执法人员"
        constraints = [
            models.UniqueConstraint(fields=["action", "staff"], name="evaluation_action_staff_unique")
        ]

    def __str__(self) -> str:
        return f"{self.action_id}:{self.staff_id}"


class Answer(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    BASIC = "basic", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"


class FlagState(models.TextChoices):
    """Anti-rigging review of one evaluation (rules and review pages: part 2)."""

    NONE = "", "未标记"
    PENDING = "pending", "待复核"
    CONFIRMED = "confirmed", "确认违规"
    CLEARED = "cleared", "已排除"

    # An answer in one of these states is left out of every score and counted as `flagged`.
    EXCLUDED_STATES = nonmember(("pending", "confirmed"))


class EvaluationStatus(models.TextChoices):
    """Derived, never stored: from the invitation SMS's outbox state and the answer."""

    SCHEDULED = "scheduled", "待发送"
    SENT = "sent", "待回复"
    ANSWERED = "answered", "已评价"
    NOT_SENT = "not_sent", "未发送"


class Evaluation(models.Model):
    """The SMS evaluation of one action: the invitation sent to the party visited and its answer.

    `answer` is the first valid reply received within the window and never changes afterwards;
    later replies are kept as `Reply` rows. `flag_state` is the anti-rigging hook: an answer that
    is flagged (pending or confirmed) does not count in scores until the office clears it.
    """

    action = models.OneToOneField(EnforcementAction, on_delete=models.PROTECT, related_name="evaluation")
    division_code = models.CharField("行政区划", max_length=12, db_index=True)
    # A copy of the action's subject_phone_index (the number the survey went to).
    phone_index = models.CharField(max_length=64, db_index=True, editable=False)
    BLIND_INDEXES: ClassVar[dict[str, str]] = {"phone_index": "action.subject_phone"}
    message = models.OneToOneField(
        "messaging.OutboxMessage", verbose_name="评议短信", on_delete=models.PROTECT, related_name="+"
    )
    # Copied from the year when the invitation is made, so changing the year later changes nothing here.
    window_days = models.PositiveSmallIntegerField("回复有效天数")
    answer = models.CharField("评价", max_length=12, choices=Answer.choices, blank=True)
    answered_at = models.DateTimeField("评价时间", null=True, blank=True)
    # received_at − sent_at of the counted answer: replies faster than anyone could read are suspect.
    answer_seconds = models.IntegerField("回复用时（秒）", null=True, blank=True)
    reasked_at = models.DateTimeField("再次询问时间", null=True, blank=True)
    flag_state = models.CharField(
        "复核状态", max_length=10, choices=FlagState.choices, default=FlagState.NONE, blank=True
    )
    flag_reason = models.CharField("标记原因", max_length=300, blank=True)
    flagged_at = models.DateTimeField("标记时间", null=True, blank=True)
    reviewed_at = models.DateTimeField("复核时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="复核人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    review_reason = models.CharField("复核意见", max_length=300, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        verbose_name = "短信评议"
        verbose_name_plural = "短信评议"
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(answer="") | models.Q(answered_at__isnull=False),
                name="evaluation_answer_has_time",
            ),
            models.CheckConstraint(
                condition=models.Q(flag_state="") | ~models.Q(flag_reason=""),
                name="evaluation_flag_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"评议 #{self.pk}"

    @property
    def status(self) -> str:
        from zhengfeng.messaging.models import OutboxStatus

        if self.answer:
            return EvaluationStatus.ANSWERED
        state = self.message.status
        if state == OutboxStatus.SENT:
            return EvaluationStatus.SENT
        if state in OutboxStatus.OPEN_STATES:
            return EvaluationStatus.SCHEDULED
        return EvaluationStatus.NOT_SENT


class ReplyOutcome(models.TextChoices):
    COUNTED = "counted", "计入评价"
    LATER = "later", "已有评价，仅留存"
    UNRECOGNISED = "unrecognised", "无法识别"
    EXPIRED = "expired", "超过回复期限"
    NO_INVITATION = "no_invitation", "无对应评议短信"

    # Outcomes where the inbound SMS was taken (marked handled) by evaluation; the others are only
    # logged here and left for other modules (a hotline callback may be waiting for that number).
    TAKEN = nonmember(("counted", "later", "unrecognised"))


class Reply(models.Model):
    """One inbound SMS that the evaluation matcher looked at, with what it made of it."""

    inbound = models.OneToOneField(
        "messaging.InboundSms", verbose_name="上行短信", on_delete=models.PROTECT, related_name="+"
    )
    evaluation = models.ForeignKey(
        Evaluation,
        verbose_name="评议",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replies",
    )
    division_code = models.CharField("行政区划", max_length=12, blank=True, db_index=True)
    received_at = models.DateTimeField("接收时间")
    parsed = models.CharField("识别结果", max_length=12, choices=Answer.choices, blank=True)
    outcome = models.CharField("处理结果", max_length=16, choices=ReplyOutcome.choices)
    seconds_after_sent = models.IntegerField("距发送（秒）", null=True, blank=True)
    created_at = models.DateTimeField("处理时间", default=timezone.now)

    class Meta:
        verbose_name = "评议回复"
        verbose_name_plural = "评议回复"
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"回复 #{self.pk} {self.get_outcome_display()}"


# --- Part 2: online votes, anti-rigging, clues, publication ----------------------------------------


class VoteVerification(models.Model):
    """One SMS code sent to verify a mobile number before it may vote.

    Only a salted HMAC of the code is kept. A code expires after 10 minutes, allows 5 wrong tries,
    and is used by exactly one vote (`used_at`). `token` identifies the verification in the form
    (random, so a verification cannot be guessed from its id).
    """

    year = models.ForeignKey(
        EvaluationYear, verbose_name="评议年度", on_delete=models.PROTECT, related_name="verifications"
    )
    token = models.CharField(max_length=43, unique=True, editable=False)
    phone = EncryptedTextField("手机号码")
    phone_index = models.CharField(max_length=64, db_index=True, editable=False)
    BLIND_INDEXES: ClassVar[dict[str, str]] = {"phone_index": "phone"}
    code_hash = models.CharField(max_length=64, editable=False)
    message = models.OneToOneField(
        "messaging.OutboxMessage", verbose_name="验证码短信", on_delete=models.PROTECT, related_name="+"
    )
    ip = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    device_id = models.CharField("设备标识", max_length=64, db_index=True)
    created_at = models.DateTimeField("发送时间", default=timezone.now, db_index=True)
    expires_at = models.DateTimeField("失效时间")
    attempts = models.PositiveSmallIntegerField("错误次数", default=0)
    verified_at = models.DateTimeField("验证时间", null=True, blank=True)
    used_at = models.DateTimeField("使用时间", null=True, blank=True)

    class Meta:
        verbose_name = "网上评议验证码"
        verbose_name_plural = "网上评议验证码"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["phone_index", "-created_at"], name="evaluation_verif_phone_idx")]

    def __str__(self) -> str:
        return f"验证码 #{self.pk}"


class FlagFields(models.Model):
    """The anti-rigging review fields (as on `Evaluation`) for other evaluated records."""

    flag_state = models.CharField(
        "复核状态", max_length=10, choices=FlagState.choices, default=FlagState.NONE, blank=True
    )
    flag_reason = models.CharField("标记原因", max_length=300, blank=True)
    flagged_at = models.DateTimeField("标记时间", null=True, blank=True)
    reviewed_at = models.DateTimeField("复核时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="复核人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    review_reason = models.CharField("复核意见", max_length=300, blank=True)

    class Meta:
        abstract = True


class OnlineVote(FlagFields):
    """One citizen's online evaluation of one key unit (网上评议), with the evidence kept.

    A mobile number evaluates each key unit at most once a year (unique blind index). The rating is
    on the SMS scale (满意 / 基本满意 / 不满意) so the year's formula scores both alike.
    """

    year = models.ForeignKey(
        EvaluationYear, verbose_name="评议年度", on_delete=models.PROTECT, related_name="votes"
    )
    unit = models.ForeignKey("org.Unit", verbose_name="评议单位", on_delete=models.PROTECT, related_name="+")
    division_code = models.CharField("行政区划", max_length=12, db_index=True)
    rating = models.CharField("评价", max_length=12, choices=Answer.choices)
    comment = models.TextField("意见建议", blank=True)
    phone = EncryptedTextField("手机号码")
    phone_index = models.CharField(max_length=64, editable=False)
    BLIND_INDEXES: ClassVar[dict[str, str]] = {"phone_index": "phone"}
    verification = models.OneToOneField(
        VoteVerification, verbose_name="验证记录", on_delete=models.PROTECT, related_name="vote"
    )
    # Evidence: where the vote came from (rule (e) compares the /24 network and the device).
    ip = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    ip_network = models.CharField("网段", max_length=50, blank=True, db_index=True)
    user_agent_hash = models.CharField("浏览器标识摘要", max_length=64, blank=True)
    device_id = models.CharField("设备标识", max_length=64, db_index=True)
    created_at = models.DateTimeField("投票时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "网上评议"
        verbose_name_plural = "网上评议"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "unit", "phone_index"], name="evaluation_one_vote_per_number"
            ),
            models.CheckConstraint(
                condition=models.Q(flag_state="") | ~models.Q(flag_reason=""),
                name="evaluation_vote_flag_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"网上评议 #{self.pk}"


class ClueStatus(models.TextChoices):
    OPEN = "open", "待处理"
    TAKEN_OVER = "taken_over", "已转入核查"


class Clue(models.Model):
    """A confirmed rigging case handed to the discipline office (纪委监委) as a problem clue.

    The inspection module, when it lands, takes these over (status `taken_over`); until then the
    inspectors read them on /evaluation/clues/.
    """

    division_code = models.CharField("行政区划", max_length=12, db_index=True)
    addressed_to = models.ForeignKey(
        "org.Unit", verbose_name="移交单位", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey("org.Unit", verbose_name="涉及单位", on_delete=models.PROTECT, related_name="+")
    source_type = models.CharField("来源类型", max_length=60)
    source_id = models.CharField("来源编号", max_length=64)
    summary = models.TextField("线索摘要")
    status = models.CharField("状态", max_length=12, choices=ClueStatus.choices, default=ClueStatus.OPEN)
    created_at = models.DateTimeField("移交时间", default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="移交人", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "评议问题线索"
        verbose_name_plural = "评议问题线索"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_type", "source_id"], name="evaluation_one_clue_per_source"
            ),
        ]

    def __str__(self) -> str:
        return f"线索 #{self.pk}"
