"""Writes for the alerts ladder: the sweep that issues steps, acknowledgement (签收), documents.

Ladder (per `AlertRule`, see docs/alerts.md):

    提醒       warn_at <= now <= due_at                     (if the rule has reminders on)
    黄牌/催办   due_at < now                                 (first overdue working day)
    通报批评    overdue at least N working days (default 3)
    红牌       overdue at least N + M working days (default 3 + 5)

A clock found several steps late at once gets every missing escalation step (黄牌, 通报, 红牌),
all dated now, so the record shows the full ladder; it gets no 提醒 once it is already overdue.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import CharField, F, Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast
from django.utils import timezone

from zhengfeng.alerts import notify
from zhengfeng.alerts.documents import OfficialDocument, build_docx, chinese_date
from zhengfeng.alerts.models import DEFAULT_RULE_KIND, Alert, AlertLevel, AlertRule, DocumentSerial
from zhengfeng.assessment.models import ScoreEvent
from zhengfeng.assessment.services import record_score_events_in_bulk
from zhengfeng.core import audit
from zhengfeng.core.bulk import insert_rows
from zhengfeng.deadlines import queries as deadline_queries
from zhengfeng.deadlines.models import Clock
from zhengfeng.org.models import Division, Role, User
from zhengfeng.org.queries import Viewer

logger = logging.getLogger(__name__)

LADDER: tuple[int, ...] = (AlertLevel.REMINDER, AlertLevel.YELLOW, AlertLevel.NOTICE, AlertLevel.RED)
LEVEL_CODES: dict[int, str] = {
    AlertLevel.REMINDER: "reminder",
    AlertLevel.YELLOW: "yellow",
    AlertLevel.NOTICE: "notice",
    AlertLevel.RED: "red",
}
# 发文字号 series: 督 for 催办/红牌 (督办), 通 for 通报.
DOC_SERIES: dict[int, str] = {AlertLevel.YELLOW: "督", AlertLevel.NOTICE: "通", AlertLevel.RED: "督"}
# Who in the responsible unit receives the ladder's messages and may sign for an alert.
RECIPIENT_ROLES = (Role.LIAISON, Role.HEAD)
# SQLite allows 32766 bound parameters; stay well below for id lists.
CHUNK = 5000

T = TypeVar("T")


def overdue_cutoff(at: dt.datetime, workdays: int) -> dt.datetime:
    """The deadlines engine's cutoff: due_at < cutoff ⇔ overdue at least `workdays` working days."""
    return deadline_queries.overdue_cutoff(at, workdays)


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def issuer_code(division_code: str) -> str:
    """The office that issues documents for a division: towns and villages belong to their county."""
    return division_code[:6].ljust(6, "0")


def doc_abbreviation(code: str, name: str) -> str:
    # City (and province) offices use one character (清正风督), counties two (清城正风督, 英德正风督).
    return name[:1] if code[4:6] == "00" else name[:2]


def next_document_numbers(
    *, issuer_code: str, series: str, year: int, count: int = 1, issuer_name: str | None = None
) -> list[str]:
    """Take the next `count` 发文字号 of an issuing office's series and year, e.g. 清正风督〔2026〕3号.

    The one numbering of official documents (the alerts ladder's 督/通/红 documents, the ledger's
    report 通报). `issuer_name` is the issuing division's name (looked up when not given) for the
    abbreviation. Atomic; run it inside the transaction that saves the documents, so the serial
    row stays locked until they are saved and no two writers take the same number.
    Side effects: the DocumentSerial row created or advanced by `count`. No audit row of its own:
    the caller's audit row of the numbered document records the number.
    """
    if count < 1:
        raise ValueError(f"发文字号数量必须是正整数，而不是 {count!r}")
    if issuer_name is None:
        issuer_name = Division.objects.filter(code=issuer_code).values_list("name", flat=True).first() or ""
    # No savepoint: the numbers belong to the caller's transaction (the sweep takes one per issuing
    # office and level, hundreds per run), and a failure there rolls them back with it.
    with transaction.atomic(savepoint=False):
        serial, _ = DocumentSerial.objects.select_for_update().get_or_create(
            issuer_code=issuer_code, series=series, year=year
        )
        DocumentSerial.objects.filter(pk=serial.pk).update(last_number=F("last_number") + count)
    abbreviation = doc_abbreviation(issuer_code, issuer_name)
    first = serial.last_number + 1
    return [f"{abbreviation}正风{series}〔{year}〕{number}号" for number in range(first, first + count)]


def _fmt(moment: dt.datetime | None) -> str:
    if moment is None:
        return "（未定）"
    local = timezone.localtime(moment)
    return f"{chinese_date(local.date())}{local:%H:%M}"


# --- texts fixed at issue time ------------------------------------------------------------------


@dataclass
class _ClockRow:
    id: int
    unit_id: int | None
    unit_name: str | None
    division_code: str
    label: str
    due_at: dt.datetime | None


def _alert_texts(level: int, row: _ClockRow, rule: AlertRule, at: str) -> tuple[str, str]:
    """Title and body of a step; `at` is the sweep's instant, formatted once per sweep."""
    unit = row.unit_name or "有关单位"
    label = row.label[:120]
    due = _fmt(row.due_at)
    notice_days, red_days = rule.notice_after_workdays, rule.notice_after_workdays + rule.red_after_workdays
    points = -rule.points_for(level)
    deduction = f"并在年度作风建设考核中扣减 {points.normalize():f} 分，" if points else ""
    if level == AlertLevel.REMINDER:
        title = f"提醒：“{label}”将于{due}到期"
        body = f"你单位承办的“{label}”办理时限将于{due}届满，请抓紧办理，按时办结。"
    elif level == AlertLevel.YELLOW:
        title = f"关于对{unit}“{label}”逾期未办结的催办通知"
        body = (
            f"你单位承办的“{label}”办理时限已于{due}届满，截至{at}仍未办结。"
            f"根据“正风”行动工作要求，现予以催办（黄牌预警），{deduction}"
            f"请接到本通知后立即办理，并将办理情况反馈“正风”办。\n"
            f"逾期满 {notice_days} 个工作日仍未办结的，将予以通报批评。"
        )
    elif level == AlertLevel.NOTICE:
        title = f"关于对{unit}“{label}”逾期未办结问题的通报"
        body = (
            f"你单位承办的“{label}”办理时限已于{due}届满，经催办后截至{at}已逾期 {notice_days} 个工作日以上仍未办结。"
            f"经研究，决定对你单位予以通报批评，{deduction}"
            f"请你单位认真剖析原因，立即办结，并向“正风”办书面说明情况。\n"
            f"通报后再逾期满 {rule.red_after_workdays} 个工作日仍未办结的，将予以红牌警示并移送纪检监察机关问责。"
        )
    else:
        title = f"关于对{unit}“{label}”逾期未办结予以红牌警示并移送问责的通知"
        body = (
            f"你单位承办的“{label}”办理时限已于{due}届满，经催办、通报批评后截至{at}已逾期 {red_days} 个工作日以上仍未办结。"
            f"经研究，决定予以红牌警示，{deduction}"
            f"并将有关情况移送纪检监察机关，依规依纪依法追究相关人员责任，约谈单位主要负责人。"
        )
    return title[:200], body


# --- the sweep ------------------------------------------------------------------------------------


@dataclass
class SweepResult:
    counts: dict[int, int] = field(default_factory=lambda: dict.fromkeys(LADDER, 0))
    score_events: int = 0


@dataclass
class _NewAlert:
    """A step about to be issued: its Alert row's own values (the rest is the same for the batch)."""

    clock_id: int
    unit_id: int | None
    division_code: str
    title: str
    body: str
    due_at: dt.datetime | None
    doc_number: str
    # Reserved ahead of the insert on PostgreSQL (`_reserve_ids`), so the row goes in linked.
    id: int | None = None
    score_event_id: int | None = None


def _alert_columns(
    alerts: list[_NewAlert], *, level: int, rule: AlertRule, issued_at: dt.datetime, with_ids: bool
) -> dict[str, list[Any]]:
    """The new rows column by column (attnames), values adapted for the database once per batch."""
    adapt = connection.ops.adapt_datetimefield_value
    count = len(alerts)
    columns: dict[str, list[Any]] = {
        "clock_id": [a.clock_id for a in alerts],
        "level": [level] * count,
        "rule_id": [rule.pk] * count,
        "unit_id": [a.unit_id for a in alerts],
        "division_code": [a.division_code for a in alerts],
        "title": [a.title for a in alerts],
        "body": [a.body for a in alerts],
        "due_at": [adapt(a.due_at) if a.due_at is not None else None for a in alerts],
        "issued_at": [adapt(issued_at)] * count,
        "doc_number": [a.doc_number for a in alerts],
        "document": [""] * count,
    }
    if with_ids:
        columns["id"] = [a.id for a in alerts]
        columns["score_event_id"] = [a.score_event_id for a in alerts]
    return columns


def _insert_alerts(columns: dict[str, list[Any]]) -> set[int] | None:
    """INSERT … ON CONFLICT DO NOTHING of many alerts given column by column (`core.bulk`): the ids
    inserted on PostgreSQL (a clock whose level was lowered by hand keeps its first alert), else None."""
    return insert_rows(Alert, columns)


def _reserve_ids(model: type[Model], count: int) -> list[int]:
    """`count` ids taken from the table's sequence (PostgreSQL), so rows can refer to each other before
    they are inserted; unused ones are gaps, as after any rollback."""
    if not count:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


class _Sweeper:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.year = timezone.localtime(now).year
        self.now_text = _fmt(now)
        self.result = SweepResult()
        self._cutoffs: dict[int, dt.datetime] = {}
        self._divisions: dict[str, str] = {}

    def cutoff(self, workdays: int) -> dt.datetime:
        if workdays not in self._cutoffs:
            self._cutoffs[workdays] = overdue_cutoff(self.now, workdays)
        return self._cutoffs[workdays]

    def condition(self, rule: AlertRule, level: int) -> Q | None:
        now = self.now
        if level == AlertLevel.REMINDER:
            return Q(warn_at__lte=now, due_at__gte=now) if rule.remind else None
        if level == AlertLevel.YELLOW:
            return Q(due_at__lt=now)
        if level == AlertLevel.NOTICE:
            return Q(due_at__lt=self.cutoff(rule.notice_after_workdays))
        return Q(due_at__lt=self.cutoff(rule.notice_after_workdays + rule.red_after_workdays))

    def division_name(self, code: str) -> str:
        if code not in self._divisions:
            self._divisions[code] = (
                Division.objects.filter(code=code).values_list("name", flat=True).first() or ""
            )
        return self._divisions[code]

    def claim(self, clocks: QuerySet[Clock], level: int, *, one_kind: bool) -> list[_ClockRow]:
        """Take the clocks that reached `level` and raise their alert_level, so no other sweep can.

        SKIP LOCKED (PostgreSQL) leaves rows another sweep is working on to that sweep; the conditional
        update re-checks the level. SQLite serialises writers, so the second sweep sees the new level.
        """
        # A rule of one kind: the levels below as a list, so PostgreSQL reads clock_claim_idx (kind,
        # alert_level, due_at) as one short range per level, only the clocks that just crossed, not
        # every clock of the kind overdue for weeks at 红牌. The default rule (every other kind) reads
        # (due_at, alert_level), where a list would mean one pass over the range per level.
        below = Q(alert_level__in=list(range(level))) if one_kind else Q(alert_level__lt=level)
        rows = [
            _ClockRow(*values)
            for values in clocks.filter(below)
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("id", "unit_id", "unit__name", "division_code", "label", "due_at")
        ]
        for chunk in _chunks([row.id for row in rows]):
            Clock.objects.filter(id__in=chunk, alert_level__lt=level).update(alert_level=level)
        return rows

    def number_documents(self, level: int, rows: list[_ClockRow]) -> list[str]:
        """The 发文字号 of each row's document, numbered per issuing office in the order given."""
        series = DOC_SERIES[level]
        by_issuer: dict[str, list[int]] = defaultdict(list)
        for index, row in enumerate(rows):
            by_issuer[issuer_code(row.division_code)].append(index)
        numbers = [""] * len(rows)
        for code, indexes in sorted(by_issuer.items()):
            taken = next_document_numbers(
                issuer_code=code,
                series=series,
                year=self.year,
                count=len(indexes),
                issuer_name=self.division_name(code),
            )
            for index, doc_number in zip(indexes, taken, strict=True):
                numbers[index] = doc_number
        return numbers

    def issue(self, rule: AlertRule, level: int, rows: list[_ClockRow]) -> None:
        documented = level in AlertLevel.WITH_DOCUMENT
        doc_numbers = self.number_documents(level, rows) if documented else [""] * len(rows)
        alerts = [
            _NewAlert(
                row.id,
                row.unit_id,
                row.division_code,
                *_alert_texts(level, row, rule, self.now_text),
                due_at=row.due_at,
                doc_number=doc_number,
            )
            for row, doc_number in zip(rows, doc_numbers, strict=True)
        ]
        self.result.counts[level] += len(alerts)
        points = rule.points_for(level)
        if connection.vendor == "postgresql":
            self.insert_linked(rule, level, points, alerts)
            return
        # A clock whose level was lowered by hand may meet its old alert again: the first one stands.
        _insert_alerts(_alert_columns(alerts, level=level, rule=rule, issued_at=self.now, with_ids=False))
        if points:
            for chunk in _chunks([row.id for row in rows]):
                self.score(rule, level, points, chunk)

    def score_event(
        self,
        rule: AlertRule,
        level: int,
        points: Decimal,
        *,
        alert_id: int,
        unit_id: int,
        division_code: str,
        title: str,
        event_id: int | None = None,
    ) -> dict[str, Any]:
        """The score event of one new alert (its source), as `record_score_events_in_bulk` takes it;
        with `event_id` when reserved."""
        event = {
            "unit_id": unit_id,
            "division_code": division_code,
            "year": self.year,
            "dimension": rule.dimension,
            "points": points,
            "reason_code": f"alert.{LEVEL_CODES[level]}",
            "reason": f"{AlertLevel(level).label}：{title}"[:300],
            "source_type": "alerts.alert",
            "source_id": str(alert_id),
            "occurred_at": self.now,
        }
        if event_id is not None:
            event["id"] = event_id
        return event

    def insert_linked(self, rule: AlertRule, level: int, points: Decimal, alerts: list[_NewAlert]) -> None:
        """PostgreSQL: each alert row written once, already linked to its score event.

        The ids of both come from their sequences first; the alerts go in with one statement that
        returns the ids it inserted (a clock whose level was lowered by hand keeps its old alert, and
        the first one stands), and only those get their score event. The alert's foreign key to its
        event is checked at commit (Django declares them DEFERRABLE INITIALLY DEFERRED). Linking
        afterwards, as `score` does, would write every alert row a second time.
        """
        for alert, alert_id in zip(alerts, _reserve_ids(Alert, len(alerts)), strict=True):
            alert.id = alert_id
        scored = [alert for alert in alerts if points and alert.unit_id is not None]
        for alert, event_id in zip(scored, _reserve_ids(ScoreEvent, len(scored)), strict=True):
            alert.score_event_id = event_id
        inserted = _insert_alerts(
            _alert_columns(alerts, level=level, rule=rule, issued_at=self.now, with_ids=True)
        )
        assert inserted is not None  # noqa: S101 (PostgreSQL returns the ids it inserted)
        events = []
        for alert in scored:
            if alert.id not in inserted:
                continue
            # Both set above: the reserved id, and only alerts of a unit are scored.
            assert alert.id is not None  # noqa: S101
            assert alert.unit_id is not None  # noqa: S101
            events.append(
                self.score_event(
                    rule,
                    level,
                    points,
                    alert_id=alert.id,
                    unit_id=alert.unit_id,
                    division_code=alert.division_code,
                    title=alert.title,
                    event_id=alert.score_event_id,
                )
            )
        record_score_events_in_bulk(events)
        self.result.score_events += len(events)

    def score(self, rule: AlertRule, level: int, points: Decimal, clock_ids: Sequence[int]) -> None:
        """Elsewhere than PostgreSQL: one score event per new alert, then link each alert to its event."""
        reason_code = f"alert.{LEVEL_CODES[level]}"
        new = Alert.objects.filter(
            clock_id__in=clock_ids, level=level, score_event__isnull=True, unit__isnull=False
        )
        events = [
            self.score_event(
                rule,
                level,
                points,
                alert_id=alert_id,
                unit_id=unit_id,
                division_code=division_code,
                title=title,
            )
            for alert_id, unit_id, division_code, title in new.values_list(
                "id", "unit_id", "division_code", "title"
            )
        ]
        record_score_events_in_bulk(events)
        self.result.score_events += len(events)
        event_of_alert = ScoreEvent.objects.filter(
            source_type="alerts.alert",
            source_id=Cast(OuterRef("pk"), output_field=CharField()),
            dimension=rule.dimension,
            reason_code=reason_code,
        ).values("pk")[:1]
        new.update(score_event=Subquery(event_of_alert))


def sweep(now: dt.datetime | None = None) -> dict[int, int]:
    """Issue every ladder step that running clocks have reached by `now`; return new alerts per level.

    Set-based: per rule and level one indexed select of the clocks that crossed the cutoff and are
    below that level, one conditional update of their alert_level, bulk inserts of the alerts and
    their score events. Running it again changes nothing.
    Side effects: Alert rows (with 发文字号 for documented steps), Clock.alert_level raised,
    ScoreEvent rows for steps with points, and one audit row `alerts.swept` with the counts (only
    when something was issued). Messages are `notify_units`' job, in its own transaction, so this
    one stays short however many people must be told.
    """
    now = now or timezone.now()
    if timezone.is_naive(now):
        raise ValidationError(f"扫描时间 {now} 缺少时区")
    sweeper = _Sweeper(now)
    with transaction.atomic():
        rules = list(AlertRule.objects.order_by("kind"))
        specific_kinds = [rule.kind for rule in rules if rule.kind != DEFAULT_RULE_KIND]
        for rule in rules:
            if not rule.is_active:
                continue
            clocks = Clock.objects.running()
            if rule.kind == DEFAULT_RULE_KIND:
                clocks = clocks.exclude(kind__in=specific_kinds)
            else:
                clocks = clocks.filter(kind=rule.kind)
            # Lowest step first, so a clock found far overdue collects every missing step in order.
            for level in LADDER:
                condition = sweeper.condition(rule, level)
                if condition is None:
                    continue
                rows = sweeper.claim(clocks.filter(condition), level, one_kind=rule.kind != DEFAULT_RULE_KIND)
                if rows:
                    sweeper.issue(rule, level, rows)
        result = sweeper.result
        if any(result.counts.values()):
            audit.record(
                "alerts.swept",
                by=None,
                target=None,
                data={
                    "at": now.isoformat(),
                    "counts": {LEVEL_CODES[level]: n for level, n in result.counts.items()},
                    "score_events": result.score_events,
                },
            )
    return dict(result.counts)


def notify_units(now: dt.datetime | None = None) -> int:
    """Tell each responsible unit's liaison and head about its alerts not yet notified; return messages.

    One in-app message per recipient per run summing the new steps by level, plus an SMS where the
    rule of any of those steps asks for one. The alerts are claimed first (notified_at set with a
    conditional update), so two workers never message twice; alerts of units without recipients are
    marked too (nobody to tell). Side effects: Alert.notified_at; in-app messages written in bulk
    with one `messaging.queued_bulk` audit row; each SMS through `queue_sms` with its own audit row.
    """
    now = now or timezone.now()
    with transaction.atomic():
        pending = Alert.objects.filter(notified_at__isnull=True)
        ids = list(pending.select_for_update(skip_locked=True).values_list("id", flat=True))
        if not ids:
            return 0
        per_unit: dict[int, Counter[int]] = defaultdict(Counter)
        sms_units: set[int] = set()
        for chunk in _chunks(ids):
            Alert.objects.filter(id__in=chunk, notified_at__isnull=True).update(notified_at=now)
            rows = Alert.objects.filter(id__in=chunk, unit__isnull=False).values_list(
                "unit_id", "level", "rule__sms_from_level"
            )
            for unit_id, level, sms_from in rows:
                per_unit[unit_id][level] += 1
                if sms_from and level >= sms_from:
                    sms_units.add(unit_id)
        recipients = (
            User.objects.filter(unit_id__in=list(per_unit), role__in=RECIPIENT_ROLES, is_active=True)
            .select_related("unit", "person")
            .order_by("unit_id", "id")
        )
        messages = 0
        inapp = []
        for user in recipients:
            unit = user.unit
            if unit is None:  # never: they were selected by unit; this tells the type checker so
                continue
            levels = per_unit[unit.pk]
            summary = "、".join(f"{AlertLevel(level).label} {levels[level]} 条" for level in sorted(levels))
            text = f"{unit.name}有新的预警督办：{summary}。请登录正风平台查看并签收。"
            division = unit.division_id
            inapp.append(notify.InappItem(user=user, subject="预警督办", text=text, division_code=division))
            phone = user.person.phone if user.person is not None else ""
            if unit.pk in sms_units and phone:
                messages += notify.queue_sms(to=phone, text=text, division_code=division, now=now)
        messages += notify.queue_inapp_many(inapp, now=now)
    return messages


# --- acknowledgement and documents ------------------------------------------------------------


def can_acknowledge(user: Viewer, alert: Alert) -> bool:
    """The responsible unit's liaison or head signs for its alerts (the office does not sign for them)."""
    return bool(
        isinstance(user, User)
        and alert.unit_id is not None
        and user.unit_id == alert.unit_id
        and user.role in RECIPIENT_ROLES
    )


def acknowledge_alert(alert: Alert, *, by: User) -> Alert:
    """签收: record who signed for the alert and when.

    Side effects: acknowledged_at/by set; one audit row `alert.acknowledged`.
    """
    if not can_acknowledge(by, alert):
        unit = alert.unit.name if alert.unit is not None else "（无责任单位）"
        raise ValidationError(f"只有责任单位（{unit}）的联络员或单位负责人可以签收预警 #{alert.pk}")
    now = timezone.now()
    with transaction.atomic():
        changed = Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=now, acknowledged_by=by
        )
        alert.refresh_from_db(fields=["acknowledged_at", "acknowledged_by"])
        if changed != 1:
            raise ValidationError(f"预警 #{alert.pk} 已于 {_fmt(alert.acknowledged_at)} 签收，无需重复签收")
        audit.record(
            "alert.acknowledged",
            by=by,
            target=alert,
            division_code=alert.division_code,
            data={"level": alert.level, "unit": alert.unit_id},
        )
    return alert


def official_document(alert: Alert) -> OfficialDocument:
    code = issuer_code(alert.division_code)
    place = Division.objects.filter(code=code).values_list("name", flat=True).first() or ""
    office = f"{place}“正风”办公室"
    header = f"{office}督办通知" if alert.level == AlertLevel.YELLOW else f"{office}文件"
    copy_to = f"{place}纪委监委" if alert.level >= AlertLevel.NOTICE else ""
    return OfficialDocument(
        header=header,
        doc_number=alert.doc_number,
        title=alert.title,
        addressee=alert.unit.name if alert.unit is not None else "有关单位",
        paragraphs=[line for line in alert.body.splitlines() if line.strip()],
        issuer=office,
        issued_on=timezone.localtime(alert.issued_at).date(),
        copy_to=copy_to,
    )


def ensure_document(alert: Alert) -> Alert:
    """Build and store the alert's DOCX on first use; later calls return the stored file.

    The text was fixed at issue time, so building late gives the same document. Two concurrent
    first downloads may both build; the conditional update keeps one and the other file is removed.
    """
    if not alert.has_document:
        raise ValidationError(f"{alert.get_level_display()}没有文书")
    if alert.document:
        return alert
    content = build_docx(official_document(alert))
    local = timezone.localtime(alert.issued_at)
    name = f"alert-{alert.pk}-{LEVEL_CODES[alert.level]}.docx"
    storage = alert.document.storage
    stored = storage.save(f"alerts/{local:%Y}/{local:%m}/{name}", ContentFile(content))
    with transaction.atomic():
        won = Alert.objects.filter(pk=alert.pk, document="").update(document=stored)
    if not won:
        storage.delete(stored)
    alert.refresh_from_db(fields=["document"])
    return alert
