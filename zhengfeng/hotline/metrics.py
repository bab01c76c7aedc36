"""Efficiency supervision metrics of the hotline (read side): per unit, per division and per month.

Every figure comes from four aggregate queries (conditional `Count(filter=Q)`), whatever the number of
units or orders: one over the 主办 rounds dispatched in the period (sign-for and returns), one over
those still pending past their sign-for deadline (the current backlog, small), one over the 主办 rounds
whose reply deadline falls in the period (replies), one over the orders (callbacks and the overdue
snapshot). Merged and voided orders never count (`WorkOrder.objects.counted()`): a merged
order is handled, answered and called back through its main order, so it counts once.

Definitions (P = the period [first day 00:00, day after the last 00:00) in the configured time zone;
`at` = the moment of the figures, default now; a "round" is one `WorkOrderAssignment` with role 主办):

| figure | definition |
|---|---|
| 派单数 dispatched | rounds with reason 派单 or 改派 dispatched to the unit in P |
| 受理量 received | distinct orders among those rounds |
| 应签收 sign_base | those rounds whose sign-for is settled: signed (by the unit or 审定强派), or still pending with the deadline passed at `at`. A return the hotline accepted (改派) or has not yet reviewed is not settled and leaves the base |
| 按时签收 signed_on_time | rounds signed by the unit itself (not forced) without `sign_late` |
| 按时签收率 | signed_on_time ÷ sign_base |
| 逾期签收 signed_late | rounds with `sign_late` (signed, or a return asked for, after the limit) |
| 退单 returned | rounds the unit asked to return (pending review, accepted, or overruled) |
| 退单率 | returned ÷ dispatched |
| 不当退单数 improper_returns | rounds whose return the hotline overruled (`is_forced`, 审定强派) |
| 应办结 reply_due | rounds of any reason whose reply deadline (the clock's frozen `due_at`, after approved extensions) falls in P and that are settled: the reply was signed off by the unit head (the round's reply clock stopped), or the deadline has passed at `at`. Read from the reply clocks (`deadlines.Clock`, kind hotline_reply) |
| 按时办结 replied_on_time | settled rounds replied by the deadline (clock stopped at or before `due_at`, i.e. not `reply_late`) |
| 按时办结率 | replied_on_time ÷ reply_due |
| 逾期答复 replied_late | rounds replied after the deadline (`Clock.is_late`, the test that set `reply_late`) |
| 当前超期未签收 sign_overdue_now | open orders of the unit (主办) waiting for sign-for with `sign_due_at` < `at` (a snapshot, not tied to P) |
| 当前超期未答复 reply_overdue_now | open orders of the unit in 办理中 / 答复待审批 with `reply_due_at` < `at` (snapshot) |
| 办结量 closed | orders closed in P whose last 主办 is the unit |
| 应回访 callback_expected | closed orders with a named requester and a phone (anonymous requesters are not called back and leave every callback rate) |
| 已回访 called_back | callback_expected orders with a callback that reached the requester (such a callback always records a satisfaction, so this equals rated) |
| 回访率 | called_back ÷ callback_expected |
| 已评价 rated | callback_expected orders with a satisfaction answer (the last callback's) |
| 满意率 | satisfied (满意 + 基本满意) ÷ rated |
| 解决率 | resolved (已解决 = yes) ÷ rated |
| 重办率 | reopened (reopened at least once) ÷ callback_expected |

Rates are percentages rounded half up to one decimal, or None when the denominator is 0.
Per-division rows group the units by the county of their division (first six digits of the GB/T 2260
code; a city unit falls in the city row).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

from django.db.models import CharField, Count, F, Q, QuerySet
from django.db.models.functions import Cast, Substr, TruncMonth
from django.utils import timezone

from zhengfeng.core.periods import Period
from zhengfeng.deadlines.models import Clock, ClockState
from zhengfeng.hotline.models import (
    REPLY_OVERDUE,
    SIGN_OVERDUE,
    AssignmentReason,
    AssignmentRole,
    AssignmentStatus,
    Satisfaction,
    Status,
    WorkOrder,
    WorkOrderAssignment,
)
from zhengfeng.hotline.services import CLOCK_SOURCE, REPLY_CLOCK
from zhengfeng.org.models import Division, Unit, User
from zhengfeng.org.queries import units_for

# ------------------------------------------------------------------------------- periods

_MONTH_RE = re.compile(r"^(\d{4})(?:-|M)(\d{1,2})$")


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month, the same shape as `core.periods.Period` (first/last/label/str)."""

    year: int
    number: int
    kind: ClassVar[str] = "M"

    def __post_init__(self) -> None:
        if not 1 <= self.number <= 12:
            raise ValueError(f"月份必须是 1–12，而不是 {self.number}")

    @property
    def first(self) -> dt.date:
        return dt.date(self.year, self.number, 1)

    @property
    def last(self) -> dt.date:
        if self.number == 12:
            return dt.date(self.year, 12, 31)
        return dt.date(self.year, self.number + 1, 1) - dt.timedelta(days=1)

    @property
    def label(self) -> str:
        return f"{self.year}年{self.number}月"

    def __str__(self) -> str:
        return f"{self.year}-{self.number:02d}"


ReportPeriod = Month | Period


def parse_period(text: str) -> ReportPeriod:
    """ "2026-03" (month), "2026Q1" (quarter) or "2026" (year); half-years are accepted too."""
    value = (text or "").strip().upper()
    match = _MONTH_RE.match(value)
    if match:
        return Month(int(match.group(1)), int(match.group(2)))
    try:
        return Period.parse(value)
    except ValueError:
        raise ValueError(
            f"无法识别的统计期间 {text!r}：应为 2026-03（月）、2026Q1（季度）或 2026（年）"
        ) from None


def month_of(day: dt.date) -> Month:
    return Month(day.year, day.month)


def period_bounds(period: ReportPeriod) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) as aware datetimes at local midnight."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(period.first, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(period.last + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def months_in(period: ReportPeriod) -> list[Month]:
    first, last = period.first, period.last
    return [
        Month(year, number)
        for year in range(first.year, last.year + 1)
        for number in range(1, 13)
        if first <= dt.date(year, number, 1) <= last
    ]


def period_choices(today: dt.date) -> list[tuple[str, list[tuple[str, str]]]]:
    """The picker: the last 12 months, the last 8 quarters and the last 3 years, newest first."""
    months = []
    year, number = today.year, today.month
    for _ in range(12):
        month = Month(year, number)
        months.append((str(month), month.label))
        year, number = (year, number - 1) if number > 1 else (year - 1, 12)
    quarters = []
    year, number = today.year, (today.month - 1) // 3 + 1
    for _ in range(8):
        quarter = Period.quarter(year, number)
        quarters.append((str(quarter), quarter.label))
        year, number = (year, number - 1) if number > 1 else (year - 1, 4)
    years = [(str(y), f"{y}年") for y in range(today.year, today.year - 3, -1)]
    return [("月度", months), ("季度", quarters), ("年度", years)]


# ------------------------------------------------------------------------------- figures


def rate(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(100 * numerator) / Decimal(denominator)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Figures:
    """The counts of one row; the rates are derived from them (so sums of rows stay exact)."""

    received: int = 0
    dispatched: int = 0
    sign_base: int = 0
    signed_on_time: int = 0
    signed_late: int = 0
    returned: int = 0
    improper_returns: int = 0
    reply_due: int = 0
    replied_on_time: int = 0
    replied_late: int = 0
    sign_overdue_now: int = 0
    reply_overdue_now: int = 0
    closed: int = 0
    callback_expected: int = 0
    called_back: int = 0
    rated: int = 0
    satisfied: int = 0
    resolved: int = 0
    reopened: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    @property
    def sign_rate(self) -> Decimal | None:
        return rate(self.signed_on_time, self.sign_base)

    @property
    def on_time_rate(self) -> Decimal | None:
        return rate(self.replied_on_time, self.reply_due)

    @property
    def return_rate(self) -> Decimal | None:
        return rate(self.returned, self.dispatched)

    @property
    def callback_rate(self) -> Decimal | None:
        return rate(self.called_back, self.callback_expected)

    @property
    def satisfaction_rate(self) -> Decimal | None:
        return rate(self.satisfied, self.rated)

    @property
    def resolution_rate(self) -> Decimal | None:
        return rate(self.resolved, self.rated)

    @property
    def reopen_rate(self) -> Decimal | None:
        return rate(self.reopened, self.callback_expected)

    @property
    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))

    def value(self, key: str) -> int | Decimal | None:
        return getattr(self, key)


COUNT_KEYS: tuple[str, ...] = tuple(f.name for f in fields(Figures))


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    is_rate: bool = False


# The columns of the screen table, the Excel sheet and the published table, in that order.
COLUMNS: tuple[Column, ...] = (
    Column("received", "受理量"),
    Column("sign_rate", "按时签收率", is_rate=True),
    Column("on_time_rate", "按时办结率", is_rate=True),
    Column("return_rate", "退单率", is_rate=True),
    Column("improper_returns", "不当退单数"),
    Column("signed_late", "逾期签收"),
    Column("replied_late", "逾期答复"),
    Column("sign_overdue_now", "当前超期未签收"),
    Column("reply_overdue_now", "当前超期未答复"),
    Column("closed", "办结量"),
    Column("callback_rate", "回访率", is_rate=True),
    Column("satisfaction_rate", "满意率", is_rate=True),
    Column("resolution_rate", "解决率", is_rate=True),
    Column("reopen_rate", "重办率", is_rate=True),
)
# The 行风热线 quarterly publication: the units on air, their handling and satisfaction.
RADIO_COLUMNS: tuple[Column, ...] = (
    Column("received", "受理量"),
    Column("reply_due", "应办结"),
    Column("replied_on_time", "按时办结"),
    Column("on_time_rate", "按时办结率", is_rate=True),
    Column("closed", "办结量"),
    Column("rated", "已评价"),
    Column("satisfaction_rate", "满意率", is_rate=True),
)
COLUMN_KEYS = frozenset(c.key for c in COLUMNS) | frozenset(c.key for c in RADIO_COLUMNS)

DEFINITIONS: tuple[tuple[str, str], ...] = (
    ("受理量", "统计期内派至（含改派）本单位主办的工单数（同一工单只计一次；并单、作废工单不计）"),
    ("按时签收率", "按时签收 ÷ 应签收；应签收不含经热线同意改派和待审核的退单"),
    ("按时办结率", "按时答复 ÷ 应办结；应办结为办理期限（含批准的延期）在统计期内且已答复或已超期的办理轮次"),
    ("退单率", "申请退单的派单 ÷ 派单数"),
    ("不当退单数", "退单被热线驳回、审定强派的次数"),
    ("逾期签收", "超过签收时限才签收或申请退单的派单数"),
    ("逾期答复", "超过办理期限才答复的办理轮次数"),
    ("当前超期未签收／未答复", "统计时点仍超期未签收、未答复的在办工单数"),
    ("办结量", "统计期内办结、最后主办单位为本单位的工单数"),
    ("回访率", "已回访 ÷ 应回访；匿名或无联系电话的诉求人不回访，不计入回访、满意、解决和重办各率"),
    ("满意率", "（满意 + 基本满意）÷ 已评价"),
    ("解决率", "已解决 ÷ 已评价"),
    ("重办率", "重办过的工单 ÷ 应回访的办结工单"),
)


@dataclass
class Row:
    """One line of a table: a unit, a division or a month, with its figures."""

    key: Any
    label: str
    figures: Figures = field(default_factory=Figures)
    code: str = ""
    division_code: str = ""
    score_total: Decimal | None = None
    score_hotline: Decimal | None = None

    def value(self, key: str) -> int | Decimal | None:
        return self.figures.value(key)


# ------------------------------------------------------------------------------- aggregation

SIGN_REASONS = (AssignmentReason.DISPATCH, AssignmentReason.REASSIGN)


def _group_expression(group: str, unit_path: str, time_field: str) -> Any:
    if group == "unit":
        return F(f"{unit_path}_id")
    if group == "division":
        return Substr(f"{unit_path}__division_id", 1, 6)
    if group == "month":
        return TruncMonth(time_field)
    raise ValueError(f"未知的分组方式 {group!r}")


def _aggregate(
    units: QuerySet[Unit],
    period: ReportPeriod,
    *,
    group: str,
    at: dt.datetime,
    channel: str | None,
) -> dict[Any, Figures]:
    start, end = period_bounds(period)
    unit_ids = units.order_by().values("pk")
    result: dict[Any, Figures] = {}

    def add(rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            key = row.pop("key")
            if key is None:
                continue
            if group == "month":
                key = month_of(timezone.localtime(key).date() if isinstance(key, dt.datetime) else key)
            figures = result.setdefault(key, Figures())
            for name, value in row.items():
                setattr(figures, name, getattr(figures, name) + (value or 0))

    # NOT IN over the (few) merged and voided orders: cheaper than joining every round to its order.
    uncounted = WorkOrder.objects.filter(status__in=Status.UNCOUNTED_STATES).order_by().values("pk")
    rounds = WorkOrderAssignment.objects.filter(role=AssignmentRole.MAIN, unit__in=unit_ids).exclude(
        order__in=uncounted
    )
    orders = WorkOrder.objects.counted().filter(main_unit__in=unit_ids)
    if channel:
        rounds = rounds.filter(order__channel=channel)
        orders = orders.filter(channel=channel)

    # 1. Sign-for and returns: dispatch / reassign rounds dispatched in P.
    signed = Q(signed_at__isnull=False)
    sign_rows = (
        rounds.filter(reason__in=SIGN_REASONS, dispatched_at__gte=start, dispatched_at__lt=end)
        .order_by()
        .values(key=_group_expression(group, "unit", "dispatched_at"))
        .annotate(
            dispatched=Count("pk"),
            received=Count("order_id", distinct=True),
            sign_base=Count("pk", filter=signed),
            signed_on_time=Count("pk", filter=signed & Q(is_forced=False, sign_late=False)),
            signed_late=Count("pk", filter=Q(sign_late=True)),
            returned=Count(
                "pk",
                filter=Q(status__in=(AssignmentStatus.RETURN_REQUESTED, AssignmentStatus.RETURNED))
                | Q(is_forced=True),
            ),
            improper_returns=Count("pk", filter=Q(is_forced=True)),
        )
    )
    add(sign_rows)
    # Rounds still pending past their sign-for deadline also count in the base. Few rows (the current
    # backlog), counted apart so the big query above needs no join to the orders.
    pending_rows = (
        rounds.filter(
            reason__in=SIGN_REASONS,
            dispatched_at__gte=start,
            dispatched_at__lt=end,
            status=AssignmentStatus.PENDING,
            order__sign_due_at__lt=at,
        )
        .order_by()
        .values(key=_group_expression(group, "unit", "dispatched_at"))
        .annotate(sign_base=Count("pk"))
    )
    add(pending_rows)

    # 2. Replies: rounds whose (frozen, extended) reply deadline falls in P, read from the reply clocks
    # alone (no join): only a signed 主办 round has one, its `unit` is the round's unit, and a signed
    # order can be neither merged nor voided. The services stop the clock when the unit head signs the
    # reply off (答复签发), so "replied" = stopped and "late" = stopped after `due_at` (`Clock.is_late`,
    # the same test that set the round's `reply_late`).
    clocks = Clock.objects.filter(
        source_type=CLOCK_SOURCE, kind=REPLY_CLOCK, unit__in=unit_ids, due_at__gte=start, due_at__lt=end
    )
    if channel:
        of_channel = WorkOrderAssignment.objects.filter(order__channel=channel).annotate(
            source=Cast("pk", CharField())
        )
        clocks = clocks.filter(source_id__in=of_channel.values("source"))
    replied = Q(state=ClockState.STOPPED)
    reply_rows = (
        clocks.order_by()
        .values(key=_group_expression(group, "unit", "due_at"))
        .annotate(
            reply_due=Count("pk", filter=replied | Q(due_at__lt=at)),
            replied_on_time=Count("pk", filter=replied & Q(stopped_at__lte=F("due_at"))),
            replied_late=Count("pk", filter=replied & Q(stopped_at__gt=F("due_at"))),
        )
    )
    add(reply_rows)

    # 3. Orders: closed in P (callbacks) and, per unit or division, the overdue snapshot at `at`.
    closed = Q(status=Status.CLOSED, closed_at__gte=start, closed_at__lt=end)
    expected = closed & Q(is_anonymous=False) & ~Q(phone_index="")
    rated = expected & ~Q(satisfaction="")
    sign_overdue = SIGN_OVERDUE.q(at)
    reply_overdue = REPLY_OVERDUE.q(at)
    wanted = closed if group == "month" else closed | sign_overdue | reply_overdue
    order_rows = (
        orders.filter(wanted)
        .order_by()
        .values(key=_group_expression(group, "main_unit", "closed_at"))
        .annotate(
            closed=Count("pk", filter=closed),
            # The plugin takes the annotation for a new attribute of WorkOrder (which has a property of
            # that name); in values() rows it is only a key.
            callback_expected=Count("pk", filter=expected),  # type: ignore[no-redef]
            # A callback that reaches the requester must record a satisfaction (services), so the
            # last reached callback's answer on the order marks it as called back.
            called_back=Count("pk", filter=rated),
            rated=Count("pk", filter=rated),
            satisfied=Count("pk", filter=rated & Q(satisfaction__in=Satisfaction.POSITIVE)),
            resolved=Count("pk", filter=rated & Q(resolved=True)),
            reopened=Count("pk", filter=expected & Q(reopen_count__gt=0)),
            sign_overdue_now=Count("pk", filter=sign_overdue),
            reply_overdue_now=Count("pk", filter=reply_overdue),
        )
    )
    add(order_rows)
    return result


def compute(
    units: QuerySet[Unit],
    period: ReportPeriod,
    *,
    group: str = "unit",
    at: dt.datetime | None = None,
    channel: str | None = None,
) -> list[Row]:
    """Rows for the given (already scoped) units; only rows with some figure appear.

    `group`: "unit" (sorted by unit code), "division" (county; by code) or "month" (chronological).
    Five queries: four aggregates and one for the row labels.
    """
    at = at or timezone.now()
    figures = _aggregate(units, period, group=group, at=at, channel=channel)
    figures = {key: value for key, value in figures.items() if not value.is_empty}
    if group == "unit":
        labels = {
            unit.pk: unit
            for unit in Unit.objects.filter(pk__in=list(figures)).only("pk", "name", "code", "division_id")
        }
        rows = [
            Row(
                key=pk,
                label=labels[pk].name,
                code=labels[pk].code,
                division_code=labels[pk].division_id,
                figures=value,
            )
            for pk, value in figures.items()
        ]
        return sorted(rows, key=lambda row: row.code)
    if group == "division":
        names = dict(Division.objects.filter(code__in=list(figures)).values_list("code", "name"))
        rows = [
            Row(key=code, label=names.get(code, code), code=code, division_code=code, figures=value)
            for code, value in figures.items()
        ]
        return sorted(rows, key=lambda row: row.code)
    return [
        Row(key=month, label=month.label, code=str(month), figures=figures[month])
        for month in sorted(figures)
    ]


def unit_metrics(
    user: User,
    period: ReportPeriod,
    *,
    group: str = "unit",
    at: dt.datetime | None = None,
    channel: str | None = None,
) -> list[Row]:
    """The metrics table `user` may see: the units of its scope (`org.queries.units_for`)."""
    return compute(units_for(user), period, group=group, at=at, channel=channel)


def unit_detail(
    user: User, unit: Unit, period: ReportPeriod, *, at: dt.datetime | None = None
) -> tuple[Figures, list[Row]]:
    """One unit's figures for the period and its month-by-month breakdown (the unit must be in scope)."""
    units = units_for(user).filter(pk=unit.pk)
    rows = compute(units, period, at=at)
    total = rows[0].figures if rows else Figures()
    return total, compute(units, period, group="month", at=at)


def totals(rows: Iterable[Row]) -> Figures:
    """Sum of the rows' counts (an order reassigned between two listed units is received by both)."""
    total = Figures()
    for row in rows:
        total = total + row.figures
    return total


def attach_scores(rows: list[Row], *, user: User, year: int) -> None:
    """Add each unit's assessment totals of `year` (all dimensions, and 热线办理) — one query.

    The score events themselves are written by the hotline services (overdue sign-for, late reply,
    不当退单, 虚假办结) and the alerts ladder; this only reads them.
    """
    from zhengfeng.assessment.models import Dimension
    from zhengfeng.assessment.queries import unit_totals

    if not rows:
        return
    ids = [row.key for row in rows]
    scores = {
        total.unit_id: total
        for total in unit_totals(year, user=user, units=units_for(user).filter(pk__in=ids))
    }
    for row in rows:
        score = scores.get(row.key)
        if score is not None:
            row.score_total = score.total
            row.score_hotline = score.by_dimension.get(Dimension.HOTLINE)


SORT_KEYS = frozenset({"label", "code", "score_total", *COUNT_KEYS, *(c.key for c in COLUMNS)})


def sort_rows(rows: list[Row], key: str, *, descending: bool = False) -> list[Row]:
    """Sort by a column; rows without a value (no denominator) always come last."""
    if key not in SORT_KEYS:
        key = "code"

    def value(row: Row) -> Any:
        if key in ("label", "code"):
            return getattr(row, key)
        if key == "score_total":
            return row.score_total
        return row.value(key)

    present = [row for row in rows if value(row) is not None]
    missing = [row for row in rows if value(row) is None]
    present.sort(key=lambda row: (value(row), row.code), reverse=descending)
    return present + missing


# ------------------------------------------------------------------------------- overdue lists


def overdue_orders(
    user: User, *, kind: str, at: dt.datetime | None = None, unit: Unit | None = None, limit: int = 200
) -> QuerySet[WorkOrder]:
    """Open orders overdue at `at` (kind "sign" or "reply"), of the units `user` sees, oldest deadline first."""
    at = at or timezone.now()
    orders = WorkOrder.objects.counted().filter(main_unit__in=units_for(user).order_by().values("pk"))
    if unit is not None:
        orders = orders.filter(main_unit=unit)
    if kind == "sign":
        orders = orders.sign_overdue(at=at).order_by("sign_due_at", "id")
    elif kind == "reply":
        orders = orders.reply_overdue(at=at).order_by("reply_due_at", "id")
    else:
        raise ValueError(f"未知的超期类别 {kind!r}：应为 sign 或 reply")
    return orders.select_related("main_unit").only(
        "id",
        "code",
        "title",
        "status",
        "received_at",
        "sign_due_at",
        "reply_due_at",
        "main_unit__name",
        "main_unit__code",
    )[:limit]


# ------------------------------------------------------------------------------- frozen tables


def _json_value(value: int | Decimal | None) -> int | str | None:
    if isinstance(value, Decimal):
        return str(value)
    return value


def freeze_table(
    rows: list[Row],
    period: ReportPeriod,
    *,
    columns: tuple[Column, ...] = COLUMNS,
    at: dt.datetime,
    scope_label: str,
) -> dict[str, Any]:
    """The table as plain JSON (unit names and figures only, no personal data) for publication."""
    total = totals(rows)
    return {
        "version": 1,
        "period": str(period),
        "period_label": period.label,
        "scope": scope_label,
        "generated_at": at.isoformat(),
        "columns": [{"key": c.key, "label": c.label, "rate": c.is_rate} for c in columns],
        "rows": [
            {"unit": row.label, "values": [_json_value(row.value(c.key)) for c in columns]} for row in rows
        ],
        "totals": [_json_value(total.value(c.key)) for c in columns],
        "definitions": [list(item) for item in DEFINITIONS],
    }
