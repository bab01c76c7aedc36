"""Writes for quarterly reports (季度报送). Every function is atomic and writes one audit row (`report.*`).

The reporting rule (`ReportingRule`) is data: who reports, how often, N working days after each
period. `schedule_reports` creates each expected report (未报送) with a deadline clock (kind
`quarterly_report`); the alerts ladder then reminds, urges (催办) and issues the 通报 for it like
for every other clock. `set_report_state` is the one transition function of a report:

    draft → submitted → returned (reason required) → resubmitted → returned … ; submitted/resubmitted → accepted

The first submission stops the clock and freezes `first_submitted_at` and `is_late`, so a late
report stays late after it is returned and resubmitted; a late first submission is scored (迟报)
once. A report still not submitted when the next period's report falls due is missing (漏报):
`record_missing_reports` (a worker job) scores it once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from zhengfeng.alerts.documents import OfficialDocument, build_docx, chinese_date
from zhengfeng.alerts.services import issuer_code, next_document_numbers
from zhengfeng.assessment.services import record_score_event
from zhengfeng.core import audit, uploads
from zhengfeng.core.periods import Period, quarters_of
from zhengfeng.deadlines import services as deadlines
from zhengfeng.deadlines.models import BudgetUnit
from zhengfeng.deadlines.queries import calendar_index
from zhengfeng.ledger.ledgers.queries import can_keep_unit
from zhengfeng.ledger.models import (
    REPORT_FIGURES,
    Plan,
    QuarterlyReport,
    ReportAttachment,
    ReportingRule,
    ReportItem,
    ReportNotice,
    ReportState,
    Responsibility,
)
from zhengfeng.ledger.reports.dates import (
    next_period,
    opening_day,
)
from zhengfeng.ledger.reports.queries import grace_ends, period_deadlines
from zhengfeng.org.models import Division, DivisionLevel, Role, Unit, UnitKind, User
from zhengfeng.org.queries import Viewer

CLOCK_KIND = "quarterly_report"
CLOCK_SOURCE = "ledger.quarterlyreport"
SCORE_SOURCE = "ledger.quarterlyreport"
# 发文字号 series of the report 通报 (the same series as the ladder's 通报).
NOTICE_SERIES = "通"

_TRANSITIONS: dict[str, set[str]] = {
    ReportState.DRAFT: {ReportState.SUBMITTED},
    ReportState.SUBMITTED: {ReportState.RETURNED, ReportState.ACCEPTED},
    ReportState.RETURNED: {ReportState.RESUBMITTED},
    ReportState.RESUBMITTED: {ReportState.RETURNED, ReportState.ACCEPTED},
}
# Who moves a report into each state: the unit (its liaison or head) or the receiving office.
_UNIT_STATES = {ReportState.SUBMITTED, ReportState.RESUBMITTED}
_OFFICE_STATES = {ReportState.RETURNED, ReportState.ACCEPTED}


# --- The rule ----------------------------------------------------------------------------------


def reporting_units(rule: ReportingRule) -> QuerySet[Unit]:
    """Who reports under `rule`, resolved now: the issuing division's units except the excluded
    kinds, plus the units of the listed kinds in each county-level division under it."""
    wanted = Q(pk__in=[])
    if rule.include_city_units:
        wanted |= Q(division_id=rule.division_id) & ~Q(kind__in=list(rule.city_excluded_kinds or []))
    if rule.county_unit_kinds:
        wanted |= Q(
            division__parent_id=rule.division_id,
            division__level=DivisionLevel.COUNTY,
            kind__in=list(rule.county_unit_kinds),
        )
    return Unit.objects.active().filter(wanted).order_by("division_id", "code")


def ensure_reporting_rule(
    *, division: Division, year: int, plan: Plan | None = None, by: User | None = None
) -> tuple[ReportingRule, bool]:
    """The division's rule for `year`, created with the seed's values when missing: each county
    正风办 and each unit of the division but the office itself reports every quarter, 5 working days
    after the quarter ends; 迟报 −1, 漏报 −2 (工作落实). Returns (rule, created).

    Side effects: the rule; audit row `report.rule_created` when created.
    """
    existing = ReportingRule.objects.filter(division=division, year=year).first()
    if existing is not None:
        return existing, False
    plan = plan or Plan.objects.filter(division=division, year=year).first()
    with transaction.atomic():
        rule = ReportingRule.objects.create(
            division=division,
            year=year,
            plan=plan,
            title=f"{division.name}{year}年“正风”行动季度报送",
            city_excluded_kinds=[UnitKind.CAMPAIGN_OFFICE],
            county_unit_kinds=[UnitKind.CAMPAIGN_OFFICE],
        )
        audit.record(
            "report.rule_created",
            by=by,
            target=rule,
            division_code=division.code,
            data={"year": year, "plan": plan.pk if plan else None, "due_workdays": rule.due_workdays},
        )
    return rule, True


def _label(unit: Unit, period: Period) -> str:
    return f"{unit.name}{period.label}“正风”行动工作情况报送"[:200]


def schedule_reports(
    rule: ReportingRule, *, periods: Iterable[Period] | None = None, by: User | None = None
) -> int:
    """Create the expected report of every reporting unit for each period (default: the rule's four
    quarters), each with its clock; reports that exist are left alone. Returns how many were created.

    Side effects: QuarterlyReport rows (未报送); a clock each (kind `quarterly_report`, work-day budget
    N from the period's last working day, warning `warn_workdays` before; audit rows `clock.started`);
    one audit row `report.scheduled` when something was created.
    """
    index = calendar_index()
    wanted = list(periods) if periods is not None else quarters_of(rule.year)
    units = list(reporting_units(rule))
    created: dict[str, int] = {}
    with transaction.atomic():
        for period in wanted:
            existing = set(
                QuarterlyReport.objects.filter(rule=rule, period=str(period)).values_list(
                    "unit_id", flat=True
                )
            )
            started_at = index.local_midnight(opening_day(period, index))
            for unit in units:
                if unit.pk in existing:
                    continue
                report = QuarterlyReport.objects.create(
                    rule=rule, unit=unit, division_code=unit.division_id, year=period.year, period=str(period)
                )
                try:
                    report.clock = deadlines.start_clock(
                        source_type=CLOCK_SOURCE,
                        source_id=report.pk,
                        kind=CLOCK_KIND,
                        label=_label(unit, period),
                        unit=unit,
                        division_code=unit.division_id,
                        budget_unit=BudgetUnit.WORKDAYS,
                        budget=rule.due_workdays,
                        warn_before=rule.warn_workdays,
                        started_at=started_at,
                        by=by,
                    )
                except ValueError as exc:
                    raise ValidationError(f"{unit.name}{period.label}的报送时限无法计时：{exc}") from exc
                report.save(update_fields=["clock"])
                created[str(period)] = created.get(str(period), 0) + 1
        if created:
            audit.record(
                "report.scheduled",
                by=by,
                target=rule,
                division_code=rule.division_id,
                data={"year": rule.year, "created": created},
            )
    return sum(created.values())


def schedule_current(now: dt.datetime | None = None) -> int:
    """The worker's scheduling: the current and the next quarter for every active rule of their
    years (idempotent; new reporting units are picked up on the next run)."""
    now = now or timezone.now()
    index = calendar_index()
    today = now.astimezone(index.tz).date()
    current = Period.quarter(today.year, (today.month - 1) // 3 + 1)
    created = 0
    for period in (current, next_period(current)):
        for rule in ReportingRule.objects.filter(year=period.year, is_active=True):
            created += schedule_reports(rule, periods=[period])
    return created


# --- Permissions -------------------------------------------------------------------------------


def can_submit(user: Viewer, report: QuarterlyReport) -> bool:
    """The reporting unit's liaison or head fills in and submits its report."""
    return can_keep_unit(user, report.unit_id)


def can_review(user: Viewer, rule: ReportingRule) -> bool:
    """The office (正风办) of the rule's division, or of a division above it, reviews the reports."""
    if not (isinstance(user, User) and user.is_active and user.role == Role.OFFICE):
        return False
    if user.unit is None:
        return False
    return rule.division_id.startswith(user.unit.division.prefix)


# --- Editing -----------------------------------------------------------------------------------


def report_tasks(report: QuarterlyReport) -> list[Responsibility]:
    """The tasks the unit carries in the rule's plan, by task number (what the report covers)."""
    if report.rule.plan_id is None:
        return []
    return list(
        Responsibility.objects.filter(unit_id=report.unit_id, task__plan_id=report.rule.plan_id)
        .select_related("task")
        .order_by("task__number")
    )


def clean_figures(figures: Mapping[str, Any]) -> dict[str, int]:
    labels = dict(REPORT_FIGURES)
    cleaned: dict[str, int] = {}
    for key, value in figures.items():
        if key not in labels:
            raise ValidationError(f"未知的工作数据项：{key}")
        if value is None or value == "":
            continue
        try:
            number = int(str(value).strip())
        except ValueError as exc:
            raise ValidationError(f"{labels[key]}必须是非负整数，而不是“{value}”") from exc
        if number < 0 or str(value).strip().startswith("+"):
            raise ValidationError(f"{labels[key]}必须是非负整数，而不是“{value}”")
        cleaned[key] = number
    return cleaned


def save_report(
    report: QuarterlyReport,
    *,
    summary: str,
    figures: Mapping[str, Any] | None = None,
    progress: Mapping[int, str] | None = None,
    files: Sequence[UploadedFile] = (),
    by: User | None,
    now: dt.datetime | None = None,
) -> QuarterlyReport:
    """Fill in a report that is not submitted yet (or was returned): 本期工作情况, figures, progress
    per task (blank removes that task's entry), new attachments. Everything is checked first.

    Side effects: the report and its items saved, attachments stored under MEDIA_ROOT/reports/;
    audit row `report.saved`.
    """
    if by is not None and not can_submit(by, report):
        raise ValidationError(f"只有{report.unit.name}的联络员或单位负责人可以填写本单位的季度报送")
    if report.state not in ReportState.EDITABLE:
        raise ValidationError(f"{report.period} 的报送已是“{report.get_state_display()}”状态，不能修改")
    summary = (summary or "").strip()
    cleaned = clean_figures(figures or {})
    tasks = {resp.task_id: resp.task for resp in report_tasks(report)}
    texts: dict[int, str] = {}
    for task_id, text in (progress or {}).items():
        if task_id not in tasks:
            raise ValidationError(f"{report.unit.name}不承担任务（编号 {task_id}），不能填报其落实情况")
        texts[task_id] = (text or "").strip()
    checked = [uploads.check_upload(upload, uploads.ATTACHMENT) for upload in files]
    names = [upload.name for upload in checked]
    now = now or timezone.now()
    saved: list[ReportAttachment] = []
    try:
        with transaction.atomic():
            report.summary, report.figures, report.updated_at = summary, cleaned, now
            report.save(update_fields=["summary", "figures", "updated_at"])
            for task_id, text in texts.items():
                if text:
                    ReportItem.objects.update_or_create(
                        report=report, task_id=task_id, defaults={"progress": text}
                    )
                else:
                    ReportItem.objects.filter(report=report, task_id=task_id).delete()
            for upload in checked:
                attachment = ReportAttachment(
                    report=report, name=upload.name, size=upload.size, sha256=upload.sha256
                )
                attachment.file.save(upload.name, upload.file, save=False)
                saved.append(attachment)
                attachment.save()
            audit.record(
                "report.saved",
                by=by,
                target=report,
                division_code=report.division_code,
                data={
                    "unit": report.unit.code,
                    "period": report.period,
                    "tasks": sorted(task for task, text in texts.items() if text),
                    "attachments": names,
                },
            )
    except Exception:
        for attachment in saved:
            attachment.file.delete(save=False)
        raise
    return report


# --- The transition function -------------------------------------------------------------------


def _fmt(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "（未定）"


def set_report_state(
    report: QuarterlyReport, state: str, *, by: User | None, reason: str = "", now: dt.datetime | None = None
) -> QuarterlyReport:
    """The one transition function of a quarterly report.

    Submitting (submitted, resubmitted) is for the unit's liaison or head and needs 本期工作情况;
    returning needs a reason; returning and accepting are for the receiving office. `by=None` is a
    system action (the demo, an import of historical reports): no user's permission is checked.
    Side effects: state and its times saved (conditional update); on the first submission the clock
    is stopped (lateness frozen: `first_submitted_at`, `is_late`) and a late one gets a 迟报 score
    event (unless it was already scored as missing); audit row `report.<state>`.
    """
    if state not in ReportState.values:
        raise ValidationError(f"未知的报送状态：{state}")
    old = report.state
    label = ReportState(state).label
    if state == old:
        raise ValidationError(f"{report.unit.name}{report.period} 的报送已是“{label}”状态，不能重复操作")
    if state not in _TRANSITIONS.get(old, set()):
        raise ValidationError(f"报送状态不能从“{ReportState(old).label}”改为“{label}”")
    if by is not None and state in _UNIT_STATES and not can_submit(by, report):
        raise ValidationError(f"只有{report.unit.name}的联络员或单位负责人可以报送本单位的季度报送")
    if by is not None and state in _OFFICE_STATES and not can_review(by, report.rule):
        raise ValidationError(f"只有{report.rule.division.name}“正风”办可以审核季度报送")
    reason = (reason or "").strip()
    if state == ReportState.RETURNED and not reason:
        raise ValidationError("退回须说明原因")
    if state in _UNIT_STATES and not report.summary.strip():
        raise ValidationError("请先填写本期工作情况再报送")
    now = now or timezone.now()
    clock = report.clock if report.clock_id else None
    if state == ReportState.SUBMITTED and clock is not None and now < clock.started_at:
        opens = timezone.localtime(clock.started_at).date()
        raise ValidationError(
            f"{Period.parse(report.period).label}的报送自 {opens:%Y-%m-%d} 起开放，不能提前报送"
        )
    fields: dict[str, Any] = {"state": state, "updated_at": now}
    if state in _UNIT_STATES:
        fields |= {"submitted_at": now, "submitted_by": by, "return_reason": ""}
    else:
        fields |= {"reviewed_at": now, "reviewed_by": by}
        if state == ReportState.RETURNED:
            fields["return_reason"] = reason
    first = state == ReportState.SUBMITTED and report.first_submitted_at is None
    with transaction.atomic():
        updated = QuarterlyReport.objects.filter(pk=report.pk, state=old).update(**fields)
        if updated != 1:
            raise ValidationError("报送状态已被他人修改，请刷新后重试")
        for name, value in fields.items():
            setattr(report, name, value)
        late = report.is_late
        if first:
            if clock is not None and clock.state != "stopped":
                try:
                    clock = deadlines.apply_clock_event(clock, "stop", at=now, by=by, reason="已报送")
                except ValueError as exc:
                    raise ValidationError(f"报送时限无法停止计时：{exc}") from exc
                report.clock = clock
            late = bool(clock is not None and clock.due_at is not None and now > clock.due_at)
            QuarterlyReport.objects.filter(pk=report.pk).update(first_submitted_at=now, is_late=late)
            report.first_submitted_at, report.is_late = now, late
            if late and report.missing_at is None and report.rule.late_points:
                _score(report, "report.late", report.rule.late_points, "迟报", now=now, by=by)
        audit.record(
            f"report.{state}",
            by=by,
            target=report,
            division_code=report.division_code,
            data={
                "unit": report.unit.code,
                "period": report.period,
                "from": old,
                "to": state,
                "reason": reason,
                "late": late,
            },
        )
    return report


def _score(
    report: QuarterlyReport, code: str, points: Decimal, what: str, *, now: dt.datetime, by: User | None
) -> None:
    period = Period.parse(report.period)
    due = _fmt(report.clock.due_at) if report.clock is not None else "（未定）"
    record_score_event(
        unit=report.unit,
        dimension=report.rule.dimension,
        points=points,
        reason=f"{what}：{period.label}“正风”行动工作情况（报送截止 {due}）",
        reason_code=code,
        source_type=SCORE_SOURCE,
        source_id=report.pk,
        occurred_at=now,
        year=report.rule.year,
        division_code=report.division_code,
        by=by,
    )


def record_missing_reports(now: dt.datetime | None = None) -> int:
    """Declare missing (漏报) every report not submitted when its grace ended (the next period's
    reports fell due, read from their clocks: `reports.queries.grace_ends`), and score each once. Returns how many were declared now; a second run finds none.

    Side effects: missing_at set (conditional update); one 漏报 score event per report (with its
    audit row); one audit row `report.missing_recorded` when something was declared.
    """
    now = now or timezone.now()
    declared: dict[str, int] = {}
    with transaction.atomic():
        for rule in ReportingRule.objects.filter(is_active=True).select_related("division"):
            periods = sorted(
                {
                    Period.parse(value)
                    for value in QuarterlyReport.objects.filter(
                        rule=rule, state=ReportState.DRAFT, missing_at__isnull=True
                    )
                    .values_list("period", flat=True)
                    .distinct()
                }
            )
            graces = grace_ends(QuarterlyReport.objects.filter(rule__division_id=rule.division_id), periods)
            for period in periods:
                grace = graces[str(period)]
                if grace is None or grace >= now:
                    continue
                pending = QuarterlyReport.objects.filter(
                    rule=rule, period=str(period), state=ReportState.DRAFT, missing_at__isnull=True
                )
                reports = list(
                    pending.select_for_update(of=("self",)).select_related("unit", "clock", "rule")
                )
                for report in reports:
                    if not QuarterlyReport.objects.filter(pk=report.pk, missing_at__isnull=True).update(
                        missing_at=now
                    ):
                        continue
                    report.missing_at = now
                    if rule.missing_points:
                        _score(report, "report.missing", rule.missing_points, "漏报", now=now, by=None)
                    declared[str(period)] = declared.get(str(period), 0) + 1
        if declared:
            audit.record(
                "report.missing_recorded",
                by=None,
                target=None,
                data={"at": now.isoformat(), "periods": declared},
            )
    return sum(declared.values())


# --- 通报 of late and missing units ------------------------------------------------------------


def issue_report_notice(
    rule: ReportingRule, period: Period, *, by: User, now: dt.datetime | None = None
) -> ReportNotice:
    """通报 the units that reported `period` late (迟报) or have not reported (未报) after the due date.

    One per rule and period, numbered with the alerts' 发文字号 series 通 of the issuing office; the
    text and lists are fixed now and the DOCX (GB/T 9704 layout of the alerts documents) is stored.
    Side effects: the notice row and its document; DocumentSerial advanced; audit row
    `report.notice_issued`.
    """
    if not can_review(by, rule):
        raise ValidationError(f"只有{rule.division.name}“正风”办可以印发季度报送情况通报")
    if period.kind != "Q" or period.year != rule.year:
        raise ValidationError(f"报送期 {period} 不属于 {rule.year} 年的季度报送")
    now = now or timezone.now()
    due_at = period_deadlines(QuarterlyReport.objects.filter(rule=rule), [period])[str(period)].due_at
    if due_at is None:
        raise ValidationError(f"{period.label}尚无报送时限，不能通报")
    due_day = timezone.localtime(due_at).date()
    if now <= due_at:
        raise ValidationError(f"{period.label}的报送截止日期 {due_day:%Y-%m-%d} 尚未届满，不能通报")
    if ReportNotice.objects.filter(rule=rule, period=str(period)).exists():
        raise ValidationError(f"{period.label}的报送情况通报已经印发，不能重复印发")
    reports = QuarterlyReport.objects.filter(rule=rule, period=str(period)).select_related("unit")
    late = [r.unit.name for r in reports.filter(is_late=True).order_by("division_code", "unit__code")]
    missing = [
        r.unit.name for r in reports.filter(state=ReportState.DRAFT).order_by("division_code", "unit__code")
    ]
    if not late and not missing:
        raise ValidationError(f"{period.label}各单位均已按时报送，无需通报")
    place = rule.division.name
    title = f"关于{period.label}“正风”行动工作情况报送情况的通报"
    lines = [
        f"根据{rule.year}年“正风”行动季度报送制度，各县（市、区）“正风”办及{place[-1:]}直各单位应在每季度结束后的"
        f" {rule.due_workdays} 个工作日内报送本季度工作情况。{period.label}的报送截止日期为{chinese_date(due_day)}。"
        f"截至{chinese_date(timezone.localtime(now).date())}，报送情况通报如下：",
    ]
    if late:
        lines.append(f"一、逾期报送的单位（{len(late)} 个）：{'、'.join(late)}。")
    if missing:
        lines.append(f"{'二' if late else '一'}、未报送的单位（{len(missing)} 个）：{'、'.join(missing)}。")
    lines.append(
        "请上述单位认真查找原因，切实加强工作落实，未报送的单位须立即补报。"
        "迟报、漏报情况按规定计入年度作风建设考核。"
    )
    code = issuer_code(rule.division_id)
    with transaction.atomic():
        notice = ReportNotice.objects.create(
            rule=rule,
            period=str(period),
            division_code=rule.division_id,
            doc_number=next_document_numbers(
                issuer_code=code, series=NOTICE_SERIES, year=timezone.localtime(now).year
            )[0],
            title=title,
            body="\n".join(lines),
            late_units=late,
            missing_units=missing,
            issued_at=now,
            issued_by=by,
        )
        content = build_docx(notice_document(notice))
        notice.document.save(f"notice-{rule.pk}-{period}.docx", ContentFile(content), save=True)
        audit.record(
            "report.notice_issued",
            by=by,
            target=notice,
            division_code=rule.division_id,
            data={"period": str(period), "doc_number": notice.doc_number, "late": late, "missing": missing},
        )
    return notice


def notice_document(notice: ReportNotice) -> OfficialDocument:
    place = notice.rule.division.name
    office = f"{place}“正风”办公室"
    return OfficialDocument(
        header=f"{office}文件",
        doc_number=notice.doc_number,
        title=notice.title,
        addressee=f"各县（市、区）“正风”办，{place[-1:]}直各单位",
        paragraphs=[line for line in notice.body.splitlines() if line.strip()],
        issuer=office,
        issued_on=timezone.localtime(notice.issued_at).date(),
        copy_to=f"{place}纪委监委",
    )
