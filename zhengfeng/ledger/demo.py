"""Demo data for plans: the units the 2015 plan names that the org demo lacks, the 2015 plan, and
work ledgers (台帐) with steps and progress for a few units, the demo liaison's 市司法局 among them.

The plan text is read from the shared seed folder next to the repository
(`../shared/seed/000_69ff0bccd2564e91.txt`) and is never copied into the repository; without it the
loader says so and skips the plan. Idempotent: units are looked up by code, and re-importing the
same text changes nothing (the import keeps ids and writes no new version); a ledger that exists is
left alone. Step due dates are counted from the day the demo is loaded, so the clocks show running,
due-soon and overdue steps whatever the date.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from zhengfeng.core.periods import Period
from zhengfeng.deadlines.queries import calendar_index
from zhengfeng.ledger.ledgers import services as ledger_services
from zhengfeng.ledger.models import (
    DemandState,
    Ledger,
    Plan,
    QuarterlyReport,
    ReportState,
    Responsibility,
    ReviewKind,
    ReviewRound,
    StepStatus,
)
from zhengfeng.ledger.plans.importing import prepare_import
from zhengfeng.ledger.plans.services import UnmatchedNamesError, import_plan, set_responsibility
from zhengfeng.ledger.reports import services as reports_services
from zhengfeng.ledger.reports.dates import due_date
from zhengfeng.ledger.reviews import services as reviews_services
from zhengfeng.org import services as org_services
from zhengfeng.org.models import Division, DivisionLevel, Role, Unit, UnitKind, User

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
SEED_PLAN = REPO_ROOT.parent / "shared" / "seed" / "000_69ff0bccd2564e91.txt"
SEED_YEAR = 2015
CITY_CODE = "441800"

# Task 8 of the plan gives the 行风热线 programme to the broadcaster in every county too:
# (code suffix, name pattern, kind); {d} is the county's name. Same code scheme as org.demo.
EXTRA_COUNTY_UNITS = [("GBDST", "{d}广播电视台", UnitKind.MEDIA)]


# Task 19 of the 2015 plan names 市司法局 among the key evaluated units (重点评议单位) but its clause
# does not; the demo makes it responsible so the demo liaison has a ledger to keep.
EXTRA_RESPONSIBILITIES = [(19, "441800-SFJ", "responsible")]

# (unit code, task number, goals, measures, time requirements, 责任人,
#  steps [(text, due in days from today, done)], progress [(days ago, text, step index or None)])
DemoSteps = list[tuple[str, int, bool]]
DemoProgress = list[tuple[int, str, int | None]]
DEMO_LEDGERS: list[tuple[str, int, str, str, str, str, DemoSteps, DemoProgress]] = [
    (
        "441800-SFJ",
        19,
        "业务科室人员职务、岗位职责全部公开，短信评议满意率不低于 90%",
        "一、梳理执法和监督岗位，在“公述民评”板块公开；\n二、执法后由对象回复短信评价；\n三、每季度通报评议结果并整改。",
        "全年，每季度通报一次",
        "分管领导 陈建国；经办 李晓明",
        [("梳理并公开岗位职责", -20, True), ("开通短信评议", 5, False), ("第一季度评议结果通报", -2, False)],
        [(25, "已印发公述民评工作方案，明确责任科室。", None), (21, "岗位职责已在门户网站公开。", 0)],
    ),
    (
        "441800-JWJW",
        1,
        "节日期间“四风”问题明察暗访全覆盖",
        "元旦、春节、清明、五一、端午、中秋、国庆前发文提醒，节中开展暗访，节后通报。",
        "每个重要节点前 5 个工作日发文",
        "郑海涛",
        [("节前发文提醒", 3, True), ("节中明察暗访", 2, False), ("节后通报曝光", 20, False)],
        [(12, "已印发节日期间廉洁自律通知。", 0)],
    ),
    (
        "441800-XZFWZX",
        11,
        "进驻事项、人员、授权全部到位，办件按时办结率 100%",
        "清理进驻事项；推行一个窗口受理；电子监察全覆盖。",
        "上半年完成清理，全年运行",
        "梁丽华",
        [("清理进驻事项目录", 30, False), ("窗口授权到位检查", 60, False)],
        [],
    ),
    (
        "441802-JWJW",
        1,
        "清城区节日“四风”问题监督检查不留死角",
        "配合市纪委监委开展交叉检查。",
        "按市统一部署",
        "",
        [("组织交叉检查", -5, False)],
        [(6, "已制定交叉检查方案。", 0)],
    ),
]


def load_demo_ledgers(plan: Plan) -> int:
    """Create the demo ledgers that do not exist yet; return how many were created."""
    for number, unit_code, role in EXTRA_RESPONSIBILITIES:
        task = plan.tasks.filter(number=number).first()
        unit = Unit.objects.filter(code=unit_code).first()
        if task is not None and unit is not None:
            set_responsibility(task, unit=unit, role=role)
    today = ledger_services.local_today()
    created = 0
    for code, number, goals, measures, times, persons, steps, progress in DEMO_LEDGERS:
        task = plan.tasks.filter(number=number).first()
        unit = Unit.objects.filter(code=code).first()
        if task is None or unit is None or Ledger.objects.filter(task=task, unit=unit).exists():
            continue
        if not Responsibility.objects.filter(task=task, unit=unit).exists():
            continue
        ledger = ledger_services.create_ledger(
            task=task,
            unit=unit,
            goals=goals,
            measures=measures,
            time_requirements=times,
            responsible_persons=persons,
        )
        made = [
            ledger_services.add_step(ledger, text=text, due_on=today + dt.timedelta(days=days))
            for text, days, _done in steps
        ]
        for days_ago, text, index in progress:
            step = made[index] if index is not None else None
            ledger_services.add_progress(
                ledger,
                text=text,
                step=step,
                noted_on=today - dt.timedelta(days=days_ago),
                author_name=f"{unit.name}联络员",
            )
        for step, (_text, _days, done) in zip(made, steps, strict=True):
            if done:
                ledger_services.set_step_status(step, StepStatus.DONE)
        created += 1
    return created


# How each 2015 report goes, by the unit's position in the list of reporting units (code order):
# a few late, a few never submitted, one returned and resubmitted; the rest on time and accepted.
def _demo_fate(period: Period, position: int, unit_code: str) -> str:
    if unit_code == "441800-SFJ" and period.number == 4:
        return "draft"  # the demo liaison still has a report to fill in and submit
    if period.number == 1 and position == 1:
        return "returned"
    if (period.number + position) % 9 == 0:
        return "missing"
    if (period.number * 2 + position) % 7 == 0:
        return "late"
    if period.number == 4 and position % 2:
        return "submitted"
    return "accepted"


def _local(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=calendar_index().tz)


def load_demo_reports(plan: Plan) -> int:
    """The 2015 reporting rule with every unit's four reports in mixed states (once); returns the
    number of reports created. Submissions are dated in 2015 as they would have happened."""
    rule, _ = reports_services.ensure_reporting_rule(division=plan.division, year=plan.year, plan=plan)
    if QuarterlyReport.objects.filter(rule=rule).exists():
        return 0
    created = reports_services.schedule_reports(rule)
    office = User.objects.filter(role=Role.OFFICE, unit__division=plan.division).order_by("id").first()
    liaisons = {
        user.unit_id: user for user in User.objects.filter(role=Role.LIAISON).order_by("-id") if user.unit_id
    }
    index = calendar_index()
    reports = QuarterlyReport.objects.filter(rule=rule).select_related("unit", "clock", "rule__division")
    positions = {code: n for n, code in enumerate(sorted({r.unit.code for r in reports}))}
    for report in reports.order_by("period", "unit__code"):
        period = Period.parse(report.period)
        fate = _demo_fate(period, positions[report.unit.code], report.unit.code)
        if fate in ("draft", "missing"):
            continue
        due = due_date(period, rule.due_workdays, index).due
        submitted_on = index.add_workdays(due, 2 if fate == "late" else -1)
        at = _local(submitted_on, 10)
        by = liaisons.get(report.unit_id)
        reports_services.save_report(
            report,
            summary=f"{report.unit.name}{period.label}按照实施方案推进各项任务，开展作风建设自查自纠。",
            figures={"meetings": 1 + positions[report.unit.code] % 3, "inspections": 2},
            by=by,
            now=at,
        )
        reports_services.set_report_state(report, ReportState.SUBMITTED, by=by, now=at)
        review_at = _local(index.add_workdays(submitted_on, 1), 15)
        if fate == "returned":
            reports_services.set_report_state(
                report, ReportState.RETURNED, by=office, reason="请补充任务落实数据和佐证材料", now=review_at
            )
            continue
        if fate in ("accepted", "late"):
            reports_services.set_report_state(report, ReportState.ACCEPTED, by=office, now=review_at)
    return created


def load_demo_review(plan: Plan) -> int:
    """A 2015 mid-year review (年中督查) with one finding at 市司法局 and a rectification demand due
    in 20 days from today; its report is open for the demo liaison. Returns rounds created (0 or 1)."""
    division = plan.division
    if ReviewRound.objects.filter(division=division, year=plan.year, kind=ReviewKind.MID_YEAR).exists():
        return 0
    office = User.objects.filter(role=Role.OFFICE, unit__division=division).order_by("id").first()
    unit = Unit.objects.filter(code="441800-SFJ").first()
    if office is None or unit is None:
        return 0
    review = reviews_services.create_review_round(
        division=division, year=plan.year, kind=ReviewKind.MID_YEAR, by=office
    )
    finding = reviews_services.add_finding(
        review,
        unit=unit,
        text="“公述民评”岗位职责公开不完整，3 个执法科室未公开人员职务。",
        severity="major",
        by=office,
    )
    reviews_services.issue_demand(
        finding,
        requirements="补齐 3 个执法科室人员职务和岗位职责公开，报送整改情况及截图。",
        due_on=ledger_services.local_today() + dt.timedelta(days=20),
        by=office,
    )
    other = Unit.objects.filter(code="441800-XZFWZX").first()
    if other is not None:
        done = reviews_services.add_finding(review, unit=other, text="窗口服务评价器未全部启用。", by=office)
        demand = reviews_services.issue_demand(
            done,
            requirements="全部启用评价器。",
            due_on=ledger_services.local_today() + dt.timedelta(days=10),
            by=office,
        )
        # Reported and accepted already (by the system: the demo has no liaison there).
        reviews_services.set_demand_state(
            demand, DemandState.SUBMITTED, text="已全部启用并每日检查。", by=None
        )
        reviews_services.set_demand_state(demand, DemandState.ACCEPTED, by=office)
    return 1


def _say(stdout: Any, text: str) -> None:
    if stdout is not None:
        stdout.write(text)


def ensure_plan_units(city: Division) -> int:
    """Create the county units the plan names that the org demo does not have. Returns the number created."""
    created = 0
    counties = Division.objects.filter(parent=city, level=DivisionLevel.COUNTY).order_by("code")
    for county in counties:
        for suffix, name, kind in EXTRA_COUNTY_UNITS:
            code = f"{county.code}-{suffix}"
            if Unit.objects.filter(code=code).exists():
                continue
            org_services.create_unit(code=code, name=name.format(d=county.name), division=county, kind=kind)
            created += 1
    return created


def load_demo(*, stdout: Any = None) -> dict[str, Any]:
    """Load the demo plan. Side effects: units and the plan through the services (audited)."""
    city = Division.objects.filter(code=CITY_CODE).first()
    if city is None:
        _say(stdout, "实施方案：未找到演示区划 441800（清远市），跳过。")
        return {}
    units_created = ensure_plan_units(city)
    if not SEED_PLAN.exists():
        _say(stdout, f"实施方案：未找到 2015 年方案原文（{SEED_PLAN.name}，应在 ../shared/seed/ 下），跳过。")
        return {"created": {"units": units_created}}
    text = SEED_PLAN.read_text(encoding="utf-8")
    loaded = Plan.objects.filter(division=city, year=SEED_YEAR, source_text=text).first()
    if loaded is not None:
        _say(stdout, f"实施方案：{SEED_YEAR} 年方案已载入，无变化。")
        ledgers = load_demo_ledgers(loaded)
        _say(stdout, f"工作台帐：新建 {ledgers} 个。")
        extra = _load_reports_and_review(loaded, stdout)
        return {"created": {"units": units_created, "plan": 0, "ledgers": ledgers, **extra}}
    prepared = prepare_import(text, division=city, year=SEED_YEAR)
    try:
        summary = import_plan(prepared)
    except UnmatchedNamesError as exc:
        names = "；".join(row.describe() for row in exc.prepared.unmatched)
        _say(stdout, f"实施方案：有未匹配的单位名称，未导入：{names}")
        return {"created": {"units": units_created}}
    for line in summary.lines():
        _say(stdout, f"实施方案：{line}")
    ledgers = load_demo_ledgers(summary.plan)
    _say(stdout, f"工作台帐：新建 {ledgers} 个。")
    extra = _load_reports_and_review(summary.plan, stdout)
    return {"created": {"units": units_created, "plan": int(summary.created), "ledgers": ledgers, **extra}}


def _load_reports_and_review(plan: Plan, stdout: Any) -> dict[str, int]:
    reports = load_demo_reports(plan)
    _say(stdout, f"季度报送：新建 {reports} 份。")
    reviews = load_demo_review(plan)
    _say(stdout, f"督查整改：新建督查 {reviews} 次。")
    return {"reports": reports, "reviews": reviews}
