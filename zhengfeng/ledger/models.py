"""Campaign plans (实施方案): sections, tasks, the units responsible for each task, version history,
and the alias table that maps the plan's wording of a unit ("纪检监察机关") to org units; and the
units' work ledgers (台帐): goals, measures, steps with deadline clocks, progress with attachments."""

from __future__ import annotations

from decimal import Decimal
from enum import nonmember

from django.conf import settings
from django.db import models
from django.db.models.functions import Now

from zhengfeng.assessment.models import Dimension
from zhengfeng.core import uploads
from zhengfeng.org.models import Division, Unit


class Level(models.TextChoices):
    """Where a responsibility sits relative to the plan's issuing division.

    `city` is the issuing division itself (本级, the city for a city plan); `county` is each of its
    county-level divisions, which the plan addresses with "市、各县(市、区)…".
    """

    CITY = "city", "市级"
    COUNTY = "county", "县级"


class AliasLevel(models.TextChoices):
    ANY = "any", "各级"
    CITY = "city", "市级"
    COUNTY = "county", "县级"


class ResponsibilityRole(models.TextChoices):
    LEAD = "lead", "牵头"
    RESPONSIBLE = "responsible", "负责"
    SUPPORT = "support", "协助配合"

    # Display and export order: lead units first, supporting units last.
    ORDER = nonmember({"lead": 0, "responsible": 1, "support": 2})


class Plan(models.Model):
    """One year's campaign plan issued by one division (normally the city)."""

    division = models.ForeignKey(
        Division, verbose_name="发文区划", on_delete=models.PROTECT, related_name="campaign_plans"
    )
    year = models.PositiveSmallIntegerField("年度")
    title = models.CharField("标题", max_length=200)
    preamble = models.TextField("引言", blank=True)
    goals = models.TextField("工作目标", blank=True)
    requirements = models.TextField("有关要求", blank=True)
    # The file as last imported, kept so an import can be explained and repeated.
    source_text = models.TextField("导入原文", blank=True)
    version = models.PositiveIntegerField("版本号", default=0)
    created_at = models.DateTimeField("创建时间", db_default=Now())
    updated_at = models.DateTimeField("更新时间", db_default=Now())

    class Meta:
        verbose_name = "实施方案"
        verbose_name_plural = "实施方案"
        ordering = ["-year", "division_id"]
        constraints = [
            models.UniqueConstraint(fields=["division", "year"], name="plan_one_per_division_year"),
        ]

    def __str__(self) -> str:
        return self.title


class Section(models.Model):
    """A task group such as "(一)围绕贯彻落实中央八项规定精神…"."""

    plan = models.ForeignKey(Plan, verbose_name="实施方案", on_delete=models.CASCADE, related_name="sections")
    number = models.CharField("序号", max_length=10, help_text="中文序号，如 一、二")
    title = models.CharField("标题", max_length=300)
    order = models.PositiveSmallIntegerField("排序")

    class Meta:
        verbose_name = "任务分组"
        verbose_name_plural = "任务分组"
        ordering = ["plan_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="section_number_unique_in_plan"),
        ]

    def __str__(self) -> str:
        return f"（{self.number}）{self.title}"


class Task(models.Model):
    plan = models.ForeignKey(Plan, verbose_name="实施方案", on_delete=models.CASCADE, related_name="tasks")
    section = models.ForeignKey(Section, verbose_name="分组", on_delete=models.PROTECT, related_name="tasks")
    number = models.PositiveSmallIntegerField("任务序号")
    title = models.CharField("任务名称", max_length=200)
    body = models.TextField("任务内容", blank=True)
    clause = models.TextField("责任分工原文", blank=True, help_text="如：由市编办牵头，市法制局协助……")
    # Parties the plan names without naming a unit ("各相关部门按职责分工配合落实"): kept as text, one
    # per line with the role in brackets, because no unit can be held to them.
    open_parties = models.TextField("其他责任方", blank=True)

    class Meta:
        verbose_name = "任务"
        verbose_name_plural = "任务"
        ordering = ["plan_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="task_number_unique_in_plan"),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"

    @property
    def open_party_lines(self) -> list[str]:
        return [line for line in self.open_parties.splitlines() if line.strip()]


class ResponsibilityQuerySet(models.QuerySet["Responsibility"]):
    def in_display_order(self) -> ResponsibilityQuerySet:
        role_order = models.Case(
            *(models.When(role=role, then=rank) for role, rank in ResponsibilityRole.ORDER.items()),
            output_field=models.IntegerField(),
        )
        return self.alias(role_rank=role_order).order_by("role_rank", "unit__code")


class Responsibility(models.Model):
    task = models.ForeignKey(
        Task, verbose_name="任务", on_delete=models.CASCADE, related_name="responsibilities"
    )
    unit = models.ForeignKey(Unit, verbose_name="单位", on_delete=models.PROTECT, related_name="+")
    role = models.CharField("职责", max_length=12, choices=ResponsibilityRole.choices)
    level = models.CharField("层级", max_length=8, choices=Level.choices)
    # The unit's division, copied so scoping and distribution by division need no join.
    division_code = models.CharField("行政区划", max_length=12, db_index=True)

    objects = ResponsibilityQuerySet.as_manager()

    class Meta:
        verbose_name = "责任分工"
        verbose_name_plural = "责任分工"
        ordering = ["task_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["task", "unit"], name="responsibility_unit_once_per_task"),
        ]

    def __str__(self) -> str:
        return f"{self.task.number} {self.unit} {self.get_role_display()}"


class PlanVersion(models.Model):
    """A snapshot of the whole plan after each change made through the services."""

    plan = models.ForeignKey(Plan, verbose_name="实施方案", on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField("版本号")
    action = models.CharField("操作", max_length=40)
    summary = models.CharField("说明", max_length=300, blank=True)
    snapshot = models.JSONField("快照")
    created_at = models.DateTimeField("时间", db_default=Now())
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "方案版本"
        verbose_name_plural = "方案版本"
        ordering = ["plan_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plan_version_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} v{self.number}"


class UnitAlias(models.Model):
    """How a plan names a kind of unit, and how to find that unit in a division.

    The importer looks a phrase up here ("纪检监察机关", "党委办公室", "行政(综合)服务中心"), then picks
    the active unit of the division whose name ends with one of `name_suffixes` ("纪委监委|纪委"),
    trying the suffixes in order. Offices keep this table in the admin as unit names change.
    """

    phrase = models.CharField("方案用语", max_length=60)
    level = models.CharField("适用层级", max_length=8, choices=AliasLevel.choices, default=AliasLevel.ANY)
    name_suffixes = models.CharField(
        "单位名称结尾", max_length=200, help_text="用 | 分隔多个候选，按顺序匹配，如：纪委监委|纪委"
    )
    note = models.CharField("备注", max_length=200, blank=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "单位别名"
        verbose_name_plural = "单位别名"
        ordering = ["phrase", "level"]
        constraints = [
            models.UniqueConstraint(fields=["phrase", "level"], name="unit_alias_phrase_level_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.phrase}（{self.get_level_display()}）→ {self.name_suffixes}"

    @property
    def suffixes(self) -> list[str]:
        return [part.strip() for part in self.name_suffixes.split("|") if part.strip()]


# --- Work ledgers (台帐) -------------------------------------------------------------------------


class LedgerStatus(models.TextChoices):
    """Stored states of a ledger. "Overdue" is not a state: it is read from the steps' clocks."""

    NOT_STARTED = "not_started", "未开始"
    IN_PROGRESS = "in_progress", "推进中"
    DONE = "done", "已完成"

    OPEN_STATES = nonmember(("not_started", "in_progress"))


class StepStatus(models.TextChoices):
    OPEN = "open", "未完成"
    DONE = "done", "已完成"


class Ledger(models.Model):
    """One responsible unit's work ledger for one task of a plan (per unit and task)."""

    task = models.ForeignKey(Task, verbose_name="任务", on_delete=models.PROTECT, related_name="ledgers")
    unit = models.ForeignKey(Unit, verbose_name="责任单位", on_delete=models.PROTECT, related_name="+")
    # The unit's division, copied so scoping and distribution by division need no join.
    division_code = models.CharField("行政区划", max_length=12, db_index=True)
    goals = models.TextField("工作目标", blank=True)
    measures = models.TextField("工作措施", blank=True)
    time_requirements = models.TextField("时间要求", blank=True)
    responsible_persons = models.CharField("责任人", max_length=200, blank=True)
    responsible_person = models.ForeignKey(
        "org.Person",
        verbose_name="责任人（人员库）",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        "状态", max_length=12, choices=LedgerStatus.choices, default=LedgerStatus.NOT_STARTED
    )
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)
    created_at = models.DateTimeField("建立时间", db_default=Now())
    updated_at = models.DateTimeField("更新时间", db_default=Now())

    class Meta:
        verbose_name = "工作台帐"
        verbose_name_plural = "工作台帐"
        ordering = ["task_id", "unit_id"]
        indexes = [models.Index(fields=["unit", "status"], name="ledger_unit_status_idx")]
        constraints = [
            models.UniqueConstraint(fields=["task", "unit"], name="ledger_one_per_task_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} · 任务 {self.task.number}"

    @property
    def persons_label(self) -> str:
        """责任人 as shown and exported: the text, or the chosen person's name."""
        if self.responsible_persons:
            return self.responsible_persons
        person = self.responsible_person
        return person.name if person is not None else ""


class LedgerStep(models.Model):
    """A step (工作步骤) of a ledger. A step with a due date owns a deadline clock."""

    ledger = models.ForeignKey(Ledger, verbose_name="台帐", on_delete=models.CASCADE, related_name="steps")
    division_code = models.CharField("行政区划", max_length=12, db_index=True)
    order = models.PositiveSmallIntegerField("排序")
    text = models.CharField("工作步骤", max_length=500)
    due_on = models.DateField("完成时限", null=True, blank=True)
    status = models.CharField("状态", max_length=8, choices=StepStatus.choices, default=StepStatus.OPEN)
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)
    clock = models.OneToOneField(
        "deadlines.Clock",
        verbose_name="时限",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "工作步骤"
        verbose_name_plural = "工作步骤"
        ordering = ["ledger_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ledger", "text"], name="ledger_step_text_unique"),
        ]

    def __str__(self) -> str:
        return self.text


class ProgressEntry(models.Model):
    """A dated note of what was done (进展), optionally about one step, with attachments."""

    ledger = models.ForeignKey(
        Ledger, verbose_name="台帐", on_delete=models.CASCADE, related_name="progress_entries"
    )
    step = models.ForeignKey(
        LedgerStep,
        verbose_name="工作步骤",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="progress_entries",
    )
    division_code = models.CharField("行政区划", max_length=12, db_index=True)
    noted_on = models.DateField("日期")
    text = models.TextField("进展情况")
    # Who wrote it, as a name: an imported sheet names people who may have no account.
    author_name = models.CharField("填报人", max_length=60, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("录入时间", db_default=Now())

    class Meta:
        verbose_name = "工作进展"
        verbose_name_plural = "工作进展"
        ordering = ["ledger_id", "-noted_on", "-id"]

    def __str__(self) -> str:
        return f"{self.noted_on:%Y-%m-%d} {self.text[:30]}"


def _random_upload_name(folder: str, filename: str) -> str:
    # Stored under a random name: the original name is kept in the row, never trusted as a path.
    extension = filename.rsplit(".", 1)[-1] if "." in filename else ""
    return uploads.random_path(folder, extension)


def attachment_path(instance: ProgressAttachment, filename: str) -> str:
    entry = instance.entry
    return _random_upload_name(f"ledger/{entry.division_code}/{entry.ledger_id}", filename)


class StoredAttachment(models.Model):
    """What every uploaded attachment keeps besides its file (checked by core.uploads.check_upload)."""

    name = models.CharField("文件名", max_length=200)
    size = models.PositiveBigIntegerField("大小（字节）")
    # Blank for attachments stored before checksums were recorded.
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    created_at = models.DateTimeField("上传时间", db_default=Now())

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name


class ProgressAttachment(StoredAttachment):
    entry = models.ForeignKey(
        ProgressEntry, verbose_name="工作进展", on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField("文件", upload_to=attachment_path, max_length=200)

    class Meta:
        verbose_name = "进展附件"
        verbose_name_plural = "进展附件"
        ordering = ["entry_id", "id"]


# --- Quarterly reports (季度报送) ---------------------------------------------------------------


class ReportFrequency(models.TextChoices):
    QUARTERLY = "quarterly", "每季度"


class ReportingRule(models.Model):
    """A year's reporting rule (季度报送制度) as data: who reports to the issuing division, how often,
    how many working days after each period ends, and what a late or missing report costs.

    Who reports is a rule over org units, resolved when the reports are scheduled: every active
    unit of the issuing division itself except the kinds in `city_excluded_kinds` (the office
    that receives the reports), plus, in every county-level division under it, the units of the
    kinds in `county_unit_kinds` (the county 正风办). The reports scheduled are the explicit list.
    When 通报 follows a missed deadline is the alerts ladder's rule for clock kind
    `quarterly_report` (one ladder for every source), not a field here.
    """

    division = models.ForeignKey(
        Division, verbose_name="受理区划", on_delete=models.PROTECT, related_name="reporting_rules"
    )
    year = models.PositiveSmallIntegerField("年度")
    plan = models.ForeignKey(
        Plan,
        verbose_name="实施方案",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reporting_rules",
    )
    title = models.CharField("名称", max_length=200)
    frequency = models.CharField(
        "报送频次", max_length=12, choices=ReportFrequency.choices, default=ReportFrequency.QUARTERLY
    )
    due_workdays = models.PositiveSmallIntegerField("期满后报送时限（工作日）", default=5)
    warn_workdays = models.PositiveSmallIntegerField("到期前提醒（工作日）", default=2)
    include_city_units = models.BooleanField("本级各单位报送", default=True)
    city_excluded_kinds = models.JSONField(
        "本级不报送的单位类别",
        default=list,
        blank=True,
        help_text='如 ["campaign_office"]：受理报送的正风办本身',
    )
    county_unit_kinds = models.JSONField(
        "各县（市、区）报送的单位类别",
        default=list,
        blank=True,
        help_text='如 ["campaign_office"]：各县正风办',
    )
    dimension = models.CharField(
        "计入考核项目", max_length=30, choices=Dimension.choices, default=Dimension.IMPLEMENTATION
    )
    late_points = models.DecimalField("迟报扣分", max_digits=6, decimal_places=2, default=Decimal("-1"))
    missing_points = models.DecimalField("漏报扣分", max_digits=6, decimal_places=2, default=Decimal("-2"))
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", db_default=Now())

    class Meta:
        verbose_name = "报送规则"
        verbose_name_plural = "报送规则"
        ordering = ["-year", "division_id"]
        constraints = [
            models.UniqueConstraint(fields=["division", "year"], name="reporting_rule_one_per_division_year"),
            models.CheckConstraint(
                condition=models.Q(due_workdays__gte=1), name="reporting_rule_due_workdays_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(late_points__lte=0, missing_points__lte=0),
                name="reporting_rule_points_are_deductions",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ReportState(models.TextChoices):
    DRAFT = "draft", "未报送"
    SUBMITTED = "submitted", "已报送"
    RETURNED = "returned", "已退回"
    RESUBMITTED = "resubmitted", "已重新报送"
    ACCEPTED = "accepted", "已采用"

    # The unit may still edit the report.
    EDITABLE = nonmember(("draft", "returned"))
    # Waiting for the office's review.
    AWAITING_REVIEW = nonmember(("submitted", "resubmitted"))


# Named figures of a report (工作数据): key → label. All are non-negative whole numbers.
REPORT_FIGURES: list[tuple[str, str]] = [
    ("meetings", "召开专题会议（次）"),
    ("inspections", "开展监督检查、明察暗访（次）"),
    ("problems_found", "发现问题（个）"),
    ("problems_fixed", "完成整改（个）"),
    ("people_handled", "问责处理（人）"),
]


class QuarterlyReport(models.Model):
    """One unit's report for one period under a rule; created (as 未报送) when the period is scheduled.

    `first_submitted_at` and `is_late` are set once, at the first submission, and never change:
    a late report stays late after it is returned and resubmitted.
    """

    rule = models.ForeignKey(
        ReportingRule, verbose_name="报送规则", on_delete=models.PROTECT, related_name="reports"
    )
    unit = models.ForeignKey(Unit, verbose_name="报送单位", on_delete=models.PROTECT, related_name="+")
    # The unit's division, copied so scoping and distribution by division need no join.
    division_code = models.CharField("行政区划", max_length=12, db_index=True)
    year = models.PositiveSmallIntegerField("年度")
    period = models.CharField("报送期", max_length=8, help_text="如 2015Q1")
    state = models.CharField("状态", max_length=12, choices=ReportState.choices, default=ReportState.DRAFT)
    summary = models.TextField("本期工作情况", blank=True)
    figures = models.JSONField("工作数据", default=dict, blank=True)
    clock = models.OneToOneField(
        "deadlines.Clock",
        verbose_name="时限",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    first_submitted_at = models.DateTimeField("首次报送时间", null=True, blank=True)
    is_late = models.BooleanField("迟报", default=False)
    submitted_at = models.DateTimeField("最近报送时间", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="报送人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    return_reason = models.TextField("退回原因", blank=True)
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # When the report was declared missing (漏报) and scored; it may still be handed in later.
    missing_at = models.DateTimeField("认定漏报时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", db_default=Now())
    updated_at = models.DateTimeField("更新时间", db_default=Now())

    class Meta:
        verbose_name = "季度报送"
        verbose_name_plural = "季度报送"
        ordering = ["rule_id", "period", "unit_id"]
        indexes = [
            models.Index(fields=["year", "division_code"], name="report_year_division_idx"),
            models.Index(fields=["unit", "period"], name="report_unit_period_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "unit", "period"], name="report_one_per_rule_unit_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.period}"


class ReportItem(models.Model):
    """Progress on one task the unit carries in the rule's plan (本季度落实情况)."""

    report = models.ForeignKey(
        QuarterlyReport, verbose_name="季度报送", on_delete=models.CASCADE, related_name="items"
    )
    task = models.ForeignKey(Task, verbose_name="任务", on_delete=models.PROTECT, related_name="+")
    progress = models.TextField("落实情况")

    class Meta:
        verbose_name = "任务落实情况"
        verbose_name_plural = "任务落实情况"
        ordering = ["report_id", "task_id"]
        constraints = [models.UniqueConstraint(fields=["report", "task"], name="report_item_once_per_task")]

    def __str__(self) -> str:
        return f"{self.report} 任务 {self.task_id}"


def report_attachment_path(instance: ReportAttachment, filename: str) -> str:
    report = instance.report
    return _random_upload_name(f"reports/{report.division_code}/{report.pk}", filename)


class ReportAttachment(StoredAttachment):
    report = models.ForeignKey(
        QuarterlyReport, verbose_name="季度报送", on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField("文件", upload_to=report_attachment_path, max_length=200)

    class Meta:
        verbose_name = "报送附件"
        verbose_name_plural = "报送附件"
        ordering = ["report_id", "id"]


class ReportNotice(models.Model):
    """The 通报 listing the late and missing units of one period (one per rule and period)."""

    rule = models.ForeignKey(
        ReportingRule, verbose_name="报送规则", on_delete=models.PROTECT, related_name="notices"
    )
    period = models.CharField("报送期", max_length=8)
    division_code = models.CharField("发文区划", max_length=12)
    doc_number = models.CharField("发文字号", max_length=40)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("正文")
    late_units = models.JSONField("迟报单位", default=list)
    missing_units = models.JSONField("漏报单位", default=list)
    issued_at = models.DateTimeField("印发时间")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="印发人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    document = models.FileField("文书", upload_to="reports/notices/", blank=True, max_length=200)

    class Meta:
        verbose_name = "报送情况通报"
        verbose_name_plural = "报送情况通报"
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "period"], name="report_notice_one_per_period")
        ]

    def __str__(self) -> str:
        return self.title


# --- Review rounds (年中督查、年度考核检查) and rectification ------------------------------------


class ReviewKind(models.TextChoices):
    MID_YEAR = "mid_year", "年中督查"
    ANNUAL = "annual", "年度考核检查"


class ReviewRound(models.Model):
    division = models.ForeignKey(
        Division, verbose_name="组织区划", on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField("年度")
    kind = models.CharField("类别", max_length=10, choices=ReviewKind.choices)
    title = models.CharField("名称", max_length=200)
    created_at = models.DateTimeField("创建时间", db_default=Now())
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "督查检查"
        verbose_name_plural = "督查检查"
        ordering = ["-year", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["division", "year", "kind"], name="review_round_one_per_kind_year"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Severity(models.TextChoices):
    MINOR = "minor", "一般"
    MAJOR = "major", "较重"
    SERIOUS = "serious", "严重"


class Finding(models.Model):
    """A problem found at a unit during a review round (发现问题)."""

    round = models.ForeignKey(
        ReviewRound, verbose_name="督查检查", on_delete=models.PROTECT, related_name="findings"
    )
    unit = models.ForeignKey(Unit, verbose_name="被检查单位", on_delete=models.PROTECT, related_name="+")
    division_code = models.CharField("行政区划", max_length=12, db_index=True)
    text = models.TextField("问题描述")
    severity = models.CharField("严重程度", max_length=10, choices=Severity.choices, default=Severity.MINOR)
    created_at = models.DateTimeField("登记时间", db_default=Now())
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "发现问题"
        verbose_name_plural = "发现问题"
        ordering = ["round_id", "unit_id", "id"]

    def __str__(self) -> str:
        return f"{self.unit}：{self.text[:30]}"


class DemandState(models.TextChoices):
    OPEN = "open", "待整改"
    SUBMITTED = "submitted", "已报送整改情况"
    RETURNED = "returned", "已退回"
    ACCEPTED = "accepted", "已销号"

    EDITABLE = nonmember(("open", "returned"))


class RectificationDemand(models.Model):
    """整改通知: what the unit must fix about a finding, by when (a clock of kind `rectification`)."""

    finding = models.OneToOneField(
        Finding, verbose_name="发现问题", on_delete=models.PROTECT, related_name="demand"
    )
    unit = models.ForeignKey(Unit, verbose_name="整改单位", on_delete=models.PROTECT, related_name="+")
    division_code = models.CharField("行政区划", max_length=12, db_index=True)
    requirements = models.TextField("整改要求")
    due_on = models.DateField("整改时限")
    clock = models.OneToOneField(
        "deadlines.Clock",
        verbose_name="时限",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    state = models.CharField("状态", max_length=10, choices=DemandState.choices, default=DemandState.OPEN)
    first_submitted_at = models.DateTimeField("首次报送时间", null=True, blank=True)
    is_late = models.BooleanField("逾期报送", default=False)
    created_at = models.DateTimeField("下达时间", db_default=Now())
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="下达人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "整改通知"
        verbose_name_plural = "整改通知"
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return f"{self.unit} 整改：{self.requirements[:30]}"


class RectificationReportState(models.TextChoices):
    SUBMITTED = "submitted", "待审核"
    ACCEPTED = "accepted", "已通过"
    RETURNED = "returned", "已退回"


class RectificationReport(models.Model):
    """The unit's report on its rectification (整改报告); each resubmission is a new row."""

    demand = models.ForeignKey(
        RectificationDemand, verbose_name="整改通知", on_delete=models.PROTECT, related_name="reports"
    )
    text = models.TextField("整改情况")
    state = models.CharField(
        "审核结果",
        max_length=10,
        choices=RectificationReportState.choices,
        default=RectificationReportState.SUBMITTED,
    )
    submitted_at = models.DateTimeField("报送时间")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="报送人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    review_reason = models.TextField("审核意见", blank=True)
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "整改报告"
        verbose_name_plural = "整改报告"
        ordering = ["demand_id", "-submitted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.demand} {self.submitted_at:%Y-%m-%d}"
