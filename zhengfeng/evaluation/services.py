"""Writes of 公述民评: years, staff, enforcement actions with their invitation SMS, replies, flags.

Every function is keyword-only, atomic and writes its audit row in the same transaction. SMS go
through the messaging outbox (`queue_sms`), which applies the quiet hours and the opt-outs.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from zhengfeng.core import audit
from zhengfeng.core.crypto import blind_index, mask_phone
from zhengfeng.evaluation.models import (
    ActionSource,
    ActionStaff,
    ActionType,
    Clue,
    DisclosedStaff,
    EnforcementAction,
    Evaluation,
    EvaluationYear,
    FlagState,
    OnlineVote,
    Reply,
    ReplyOutcome,
)
from zhengfeng.evaluation.parsing import normalise, parse_reply
from zhengfeng.messaging import queries as messaging_queries
from zhengfeng.messaging import services as messaging
from zhengfeng.messaging.models import InboundSms, OutboxStatus
from zhengfeng.messaging.services import SMS_MAX_LENGTH
from zhengfeng.org.models import Division, Person, Unit, UnitKind
from zhengfeng.org.validators import normalise_mobile

TEMPLATE_FIELDS = ("unit", "staff", "date", "action")
# A visit recorded a little "in the future" is a clock difference between systems, not an error.
CLOCK_TOLERANCE = dt.timedelta(minutes=10)
SUBJECT_NAME_MAX = 100


# --- Small helpers -----------------------------------------------------------------------------


def full_unit_name(unit: Unit) -> str:
    """清远市司法局 for 市司法局 in 清远市: SMS go to people who do not know which 市 is meant."""
    division_name = unit.division.name
    if unit.name.startswith("市") and division_name.endswith("市"):
        return division_name[:-1] + unit.name
    return unit.name


def clean_template(text: str, *, label: str = "短信模板") -> str:
    """A template may use only {unit} {staff} {date} {action}; anything else is named in the error."""
    text = (text or "").strip()
    if not text:
        raise ValidationError(f"{label}不能为空")
    try:
        names = [name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise ValidationError(f"{label}格式错误（花括号不成对）：{text}") from exc
    unknown = sorted({name for name in names if name not in TEMPLATE_FIELDS})
    if unknown:
        raise ValidationError(
            f"{label}含有未知占位符 {'、'.join('{' + n + '}' for n in unknown)}；"
            f"可用：{'、'.join('{' + n + '}' for n in TEMPLATE_FIELDS)}"
        )
    sample = text.format(
        unit="清远市食品药品监督管理局", staff="欧阳晓明、李四", date="12月31日", action="其他执法监督"
    )
    if len(settings.SMS_SIGNATURE + sample) > SMS_MAX_LENGTH:
        raise ValidationError(f"{label}过长：填入内容后超过 {SMS_MAX_LENGTH} 字")
    return text


def _clean_points(value: Any, label: str) -> Decimal:
    try:
        points = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError(f"{label} {value!r} 不是有效的数字") from exc
    if not points.is_finite() or points < 0 or points > 100 or points != points.quantize(Decimal("0.01")):
        raise ValidationError(f"{label} {value!r} 无效：应为 0–100 之间、最多两位小数的数字")
    return points


def render_sms(template: str, action: EnforcementAction, staff_names: Sequence[str]) -> str:
    local = timezone.localtime(action.acted_at)
    return template.format(
        unit=full_unit_name(action.unit),
        staff="、".join(staff_names),
        date=f"{local.month}月{local.day}日",
        action=ActionType(action.action_type).label,
    )


# --- Years and staff ---------------------------------------------------------------------------


def _check_key_units(year: int, units: Iterable[Unit], *, exclude: int | None) -> list[Unit]:
    units = list(dict.fromkeys(units))
    taken = (
        EvaluationYear.key_units.through.objects.filter(evaluationyear__year=year, unit__in=units)
        .exclude(evaluationyear_id=exclude)
        .select_related("unit", "evaluationyear")
    )
    clashes = [f"{row.unit.name}（已列入{row.evaluationyear.title}）" for row in taken]
    if clashes:
        raise ValidationError(f"一个单位每年只能列入一个公述民评年度：{'、'.join(clashes)}")
    return units


def create_year(
    *,
    division: Division,
    year: int,
    title: str = "",
    key_units: Iterable[Unit] = (),
    sms_template: str | None = None,
    reask_template: str | None = None,
    points_satisfied: Any = 100,
    points_basic: Any = 60,
    points_unsatisfied: Any = 0,
    reply_window_days: int = 7,
    by: Any = None,
) -> EvaluationYear:
    """Open a year of 公述民评 for `division` with its key evaluated units.

    Side effects: the EvaluationYear and its key units; audit row `evaluation.year_created`.
    """
    if not (2000 <= int(year) <= 2100):
        raise ValidationError(f"年度 {year} 无效")
    if EvaluationYear.objects.filter(division=division, year=year).exists():
        raise ValidationError(f"{division.name} {year} 年的公述民评已存在")
    if int(reply_window_days) < 1:
        raise ValidationError(f"回复有效天数至少为 1 天，而不是 {reply_window_days}")
    values = {
        "title": (title or f"{year}年{division.name}“公述民评”").strip()[:100],
        "sms_template": clean_template(
            sms_template or EvaluationYear._meta.get_field("sms_template").default
        ),
        "reask_template": clean_template(
            reask_template or EvaluationYear._meta.get_field("reask_template").default,
            label="再次询问短信模板",
        ),
        "points_satisfied": _clean_points(points_satisfied, "满意分值"),
        "points_basic": _clean_points(points_basic, "基本满意分值"),
        "points_unsatisfied": _clean_points(points_unsatisfied, "不满意分值"),
        "reply_window_days": int(reply_window_days),
    }
    units = _check_key_units(int(year), key_units, exclude=None)
    with transaction.atomic():
        evaluation_year = EvaluationYear.objects.create(division=division, year=year, **values)
        evaluation_year.key_units.set(units)
        audit.record(
            "evaluation.year_created",
            by=by,
            target=evaluation_year,
            division_code=division.code,
            data={
                "year": int(year),
                "key_units": [unit.code for unit in units],
                "window": values["reply_window_days"],
            },
        )
    return evaluation_year


# Anti-rigging thresholds on EvaluationYear and their smallest sensible values.
RULE_FIELDS = (
    "rule_repeat_count",
    "rule_repeat_days",
    "rule_burst_count",
    "rule_burst_minutes",
    "rule_fast_seconds",
    "rule_vote_count",
    "rule_vote_minutes",
    "rule_name_phones",
)
RULE_MINIMUM = {
    "rule_repeat_days": 1,
    "rule_burst_minutes": 1,
    "rule_fast_seconds": 1,
    "rule_vote_minutes": 1,
}

YEAR_FIELDS = (
    "title",
    "sms_template",
    "reask_template",
    "points_satisfied",
    "points_basic",
    "points_unsatisfied",
    "reply_window_days",
    "vote_opens_at",
    "vote_closes_at",
    "vote_weight",
    "assessment_points",
    *RULE_FIELDS,
)


def _clean_int(value: Any, label: str, minimum: int, maximum: int = 10_000) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{label} {value!r} 不是整数") from exc
    if not minimum <= number <= maximum:
        raise ValidationError(f"{label} {number} 无效：应在 {minimum}–{maximum} 之间")
    return number


def _clean_moment(value: Any, label: str) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime) or timezone.is_naive(value):
        raise ValidationError(f"{label}必须是带时区的日期时间：{value}")
    return value


def update_year(
    evaluation_year: EvaluationYear,
    *,
    key_units: Iterable[Unit] | None = None,
    by: Any = None,
    **changes: Any,
) -> list[str]:
    """Change a year's settings (templates, formula, window) and/or its key units. Returns changed fields.

    A new formula applies to every score computed afterwards; a new window or template only to
    invitations made afterwards. Side effects: audit row `evaluation.year_updated`.
    """
    unknown = sorted(set(changes) - set(YEAR_FIELDS))
    if unknown:
        raise ValidationError(f"不能修改的字段：{'、'.join(unknown)}")
    cleaners = {
        "title": lambda v: (v or "").strip()[:100] or evaluation_year.title,
        "sms_template": clean_template,
        "reask_template": lambda v: clean_template(v, label="再次询问短信模板"),
        "points_satisfied": lambda v: _clean_points(v, "满意分值"),
        "points_basic": lambda v: _clean_points(v, "基本满意分值"),
        "points_unsatisfied": lambda v: _clean_points(v, "不满意分值"),
        "reply_window_days": lambda v: int(v),
        "vote_opens_at": lambda v: _clean_moment(v, "网上评议开始时间"),
        "vote_closes_at": lambda v: _clean_moment(v, "网上评议结束时间"),
        "vote_weight": lambda v: _clean_int(v, "网上评议权重", 0, 100),
        "assessment_points": lambda v: _clean_points(v, "年度考核分值"),
    }
    for field in RULE_FIELDS:
        label = str(EvaluationYear._meta.get_field(field).verbose_name)
        cleaners[field] = lambda v, label=label, field=field: _clean_int(v, label, RULE_MINIMUM.get(field, 2))
    new = {name: cleaners[name](value) for name, value in changes.items()}
    if new.get("reply_window_days", 1) < 1:
        raise ValidationError(f"回复有效天数至少为 1 天，而不是 {new['reply_window_days']}")
    opens = new.get("vote_opens_at", evaluation_year.vote_opens_at)
    closes = new.get("vote_closes_at", evaluation_year.vote_closes_at)
    if (opens is None) != (closes is None) or (opens and closes and closes <= opens):
        raise ValidationError(f"网上评议时间无效：开始 {opens}，结束 {closes}（须同时设置，且结束晚于开始）")
    changed = [name for name, value in new.items() if getattr(evaluation_year, name) != value]
    units = None
    if key_units is not None:
        units = _check_key_units(evaluation_year.year, key_units, exclude=evaluation_year.pk)
        if {u.pk for u in units} != set(evaluation_year.key_units.values_list("pk", flat=True)):
            changed.append("key_units")
    if not changed:
        return []
    with transaction.atomic():
        for name in changed:
            if name != "key_units":
                setattr(evaluation_year, name, new[name])
        evaluation_year.save()
        if units is not None and "key_units" in changed:
            evaluation_year.key_units.set(units)
        audit.record(
            "evaluation.year_updated",
            by=by,
            target=evaluation_year,
            division_code=evaluation_year.division_id,
            data={"fields": changed, **({"key_units": [u.code for u in units]} if units is not None else {})},
        )
    return changed


def _clean_text(value: Any, label: str, max_length: int, *, required: bool = True) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationError(f"{label}不能为空")
    if len(text) > max_length:
        raise ValidationError(f"{label}过长（{len(text)} 字，最多 {max_length} 字）：{text[:20]}…")
    return text


def create_staff(
    *,
    unit: Unit,
    name: str,
    title: str,
    department: str = "",
    duties: str = "",
    person: Person | None = None,
    is_disclosed: bool = False,
    sort_order: int = 0,
    by: Any = None,
) -> DisclosedStaff:
    """Add an enforcement or supervision staff member of `unit` (disclosed on the portal if asked).

    Side effects: audit row `evaluation.staff_created`.
    """
    with transaction.atomic():
        staff = DisclosedStaff.objects.create(
            unit=unit,
            division_code=unit.division_id,
            person=person,
            name=_clean_text(name, "姓名", 40),
            title=_clean_text(title, "职务", 60),
            department=_clean_text(department, "科室", 60, required=False),
            duties=_clean_text(duties, "岗位职责", 2000, required=False),
            is_disclosed=is_disclosed,
            sort_order=sort_order,
        )
        audit.record(
            "evaluation.staff_created",
            by=by,
            target=staff,
            division_code=staff.division_code,
            data={"unit": unit.code, "name": staff.name, "title": staff.title, "disclosed": is_disclosed},
        )
    return staff


STAFF_FIELDS = ("name", "title", "department", "duties", "is_disclosed", "is_active", "sort_order", "person")


def update_staff(staff: DisclosedStaff, *, by: Any = None, **changes: Any) -> list[str]:
    """Change a staff member (disclosure flag, post, duties, leaving the post). Returns changed fields.

    Side effects: audit row `evaluation.staff_updated`.
    """
    unknown = sorted(set(changes) - set(STAFF_FIELDS))
    if unknown:
        raise ValidationError(f"不能修改的字段：{'、'.join(unknown)}")
    limits = {"name": ("姓名", 40, True), "title": ("职务", 60, True), "department": ("科室", 60, False)}
    limits["duties"] = ("岗位职责", 2000, False)
    for name, (label, length, required) in limits.items():
        if name in changes:
            changes[name] = _clean_text(changes[name], label, length, required=required)
    changed = [name for name, value in changes.items() if getattr(staff, name) != value]
    if not changed:
        return []
    with transaction.atomic():
        for name in changed:
            setattr(staff, name, changes[name])
        staff.save()
        audit.record(
            "evaluation.staff_updated",
            by=by,
            target=staff,
            division_code=staff.division_code,
            data={"fields": changed},
        )
    return changed


def find_staff(unit: Unit, name: str) -> DisclosedStaff:
    """The active staff member of `unit` called `name` (spaces ignored); unknown or ambiguous → error."""
    wanted = normalise(name)
    if not wanted:
        raise ValidationError("执法人员姓名不能为空")
    matches = [
        s for s in DisclosedStaff.objects.filter(unit=unit, is_active=True) if normalise(s.name) == wanted
    ]
    if not matches:
        raise ValidationError(f"{unit.name}没有名为“{name.strip()}”的在岗执法监督人员")
    if len(matches) > 1:
        raise ValidationError(
            f"{unit.name}有 {len(matches)} 名名为“{name.strip()}”的在岗执法监督人员，无法确定是哪一位"
            "（请在单位页面录入并选择人员）"
        )
    return matches[0]


# --- Enforcement actions and invitations ---------------------------------------------------------


def year_for(unit: Unit, acted_at: dt.datetime) -> EvaluationYear:
    year = timezone.localtime(acted_at).year
    evaluation_year = EvaluationYear.objects.filter(year=year, key_units=unit).first()
    if evaluation_year is None:
        raise ValidationError(f"{unit.name}不是 {year} 年公述民评的评议单位")
    return evaluation_year


def clean_action_type(value: Any) -> str:
    text = str(value or "").strip()
    for choice in ActionType:
        if text in (choice.value, choice.label):
            return choice.value
    labels = "、".join(f"{c.label}（{c.value}）" for c in ActionType)
    raise ValidationError(f"未知的执法类型“{text}”；可用：{labels}")


def clean_subject_phone(value: Any) -> str:
    try:
        return normalise_mobile(str(value or ""))
    except ValidationError as exc:
        raise ValidationError(f"执法对象的{exc.messages[0]}") from exc


@dataclass
class ActionInput:
    """A checked action, before anything is written (the importer checks every line first)."""

    unit: Unit
    staff: list[DisclosedStaff]
    action_type: str
    acted_at: dt.datetime
    subject_name: str
    subject_phone: str
    year: EvaluationYear
    external_id: str = ""


def check_action(
    *,
    unit: Unit,
    staff: Sequence[DisclosedStaff],
    action_type: str,
    acted_at: dt.datetime,
    subject_name: str,
    subject_phone: str,
    external_id: str = "",
    now: dt.datetime | None = None,
) -> ActionInput:
    """Every check of `record_action`, no writes; raises ValidationError with all problems found."""
    now = now or timezone.now()
    errors: list[str] = []

    def check(func: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ValidationError as exc:
            errors.extend(exc.messages)
            return None

    kind = check(clean_action_type, action_type)
    name = check(_clean_text, subject_name, "执法对象名称", SUBJECT_NAME_MAX)
    phone = check(clean_subject_phone, subject_phone)
    external = check(_clean_text, external_id, "外部编号", 64, required=False) or ""
    evaluation_year = None
    if not isinstance(acted_at, dt.datetime) or timezone.is_naive(acted_at):
        errors.append(f"执法时间必须是带时区的日期时间：{acted_at}")
    elif acted_at > now + CLOCK_TOLERANCE:
        errors.append(f"执法时间 {timezone.localtime(acted_at):%Y-%m-%d %H:%M} 晚于当前时间")
    else:
        evaluation_year = check(year_for, unit, acted_at)
    people = list(dict.fromkeys(staff))
    if not people:
        errors.append("至少选择一名执法人员")
    for member in people:
        if member.unit_id != unit.pk:
            errors.append(f"{member.name}不是{unit.name}的执法监督人员")
        elif not member.is_active:
            errors.append(f"{member.name}已不在执法监督岗位")
    if errors:
        raise ValidationError(errors)
    return ActionInput(
        unit=unit,
        staff=people,
        action_type=kind,
        acted_at=acted_at,
        subject_name=name,
        subject_phone=phone,
        year=evaluation_year,
        external_id=external,
    )


def record_action(
    *,
    unit: Unit,
    staff: Sequence[DisclosedStaff],
    action_type: str,
    acted_at: dt.datetime,
    subject_name: str,
    subject_phone: str,
    source: str,
    external_id: str = "",
    by: Any = None,
    api_key: Any = None,
) -> EnforcementAction:
    """Record an enforcement or supervision action and invite the party visited to evaluate it.

    The invitation SMS is due EVALUATION_SMS_DELAY_MINUTES after now (the visit has just ended);
    messaging moves it past the quiet hours and cancels it at once for a number that opted out.

    Side effects: the EnforcementAction, its staff links, one Evaluation and one outbox SMS;
    audit rows `evaluation.action_recorded` (phone masked) and messaging's `messaging.queued`.
    """
    if source not in ActionSource.values:
        raise ValidationError(f"未知的来源：{source}")
    checked = check_action(
        unit=unit,
        staff=staff,
        action_type=action_type,
        acted_at=acted_at,
        subject_name=subject_name,
        subject_phone=subject_phone,
        external_id=external_id,
    )
    return write_checked_action(checked, source=source, by=by, api_key=api_key)


def write_checked_action(
    checked: ActionInput, *, source: str, by: Any = None, api_key: Any = None
) -> EnforcementAction:
    """Write an action that `check_action` passed (the importer checks every line first).

    Side effects: see `record_action`.
    """
    now = timezone.now()
    if (
        checked.external_id
        and EnforcementAction.objects.filter(source=source, external_id=checked.external_id).exists()
    ):
        raise ValidationError(f"外部编号 {checked.external_id} 已登记")
    with transaction.atomic():
        action = EnforcementAction.objects.create(
            unit=checked.unit,
            division_code=checked.unit.division_id,
            year=checked.year,
            action_type=checked.action_type,
            acted_at=checked.acted_at,
            subject_name=checked.subject_name,
            subject_name_index=blind_index(checked.subject_name),
            subject_phone=checked.subject_phone,
            subject_phone_index=blind_index(checked.subject_phone),
            source=source,
            external_id=checked.external_id,
            created_at=now,
            created_by=by if getattr(by, "pk", None) else None,
            api_key=api_key,
        )
        ActionStaff.objects.bulk_create(
            [ActionStaff(action=action, staff=member) for member in checked.staff]
        )
        text = render_sms(checked.year.sms_template, action, [member.name for member in checked.staff])
        message = messaging.queue_sms(
            to=checked.subject_phone,
            text=text,
            source=action,
            division_code=action.division_code,
            not_before=now + dt.timedelta(minutes=settings.EVALUATION_SMS_DELAY_MINUTES),
            by=by,
        )
        evaluation = Evaluation.objects.create(
            action=action,
            division_code=action.division_code,
            phone_index=action.subject_phone_index,
            message=message,
            window_days=checked.year.reply_window_days,
            created_at=now,
        )
        audit.record(
            "evaluation.action_recorded",
            by=by,
            target=action,
            division_code=action.division_code,
            data={
                "unit": checked.unit.code,
                "staff": [member.pk for member in checked.staff],
                "type": checked.action_type,
                "acted_at": checked.acted_at.isoformat(),
                "source": source,
                "external_id": checked.external_id,
                "to": mask_phone(checked.subject_phone),
                "evaluation": evaluation.pk,
                "sms": message.status,
                "api_key": api_key.name if api_key is not None else "",
            },
        )
    return action


# --- Replies -------------------------------------------------------------------------------------


@dataclass
class ReplyStats:
    counted: int = 0
    later: int = 0
    unrecognised: int = 0
    reasked: int = 0
    expired: int = 0
    no_invitation: int = 0
    skipped: int = 0  # taken by another module or worker meanwhile

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _window_end(evaluation: Evaluation) -> dt.datetime:
    return evaluation.message.sent_at + dt.timedelta(days=evaluation.window_days)


def _match(inbound: InboundSms, candidates: list[Evaluation]) -> tuple[Evaluation | None, str]:
    """The evaluation this reply answers: the most recently sent one whose window holds the reply.

    A reply cannot say which SMS it answers; the latest is the one on top of the phone's screen, and
    sending a second reply to an older invitation would let one person evaluate twice.
    """
    sent = [
        e for e in candidates if e.message.sent_at is not None and e.message.sent_at <= inbound.received_at
    ]
    if not sent:
        return None, ReplyOutcome.NO_INVITATION
    open_ = [e for e in sent if inbound.received_at < _window_end(e)]
    if not open_:
        latest = max(sent, key=lambda e: (e.message.sent_at, e.pk))
        return latest, ReplyOutcome.EXPIRED
    return max(open_, key=lambda e: (e.message.sent_at, e.pk)), ""


def _reask(evaluation: Evaluation, now: dt.datetime) -> bool:
    """Ask once more, politely; never twice for one invitation (conditional update)."""
    if (
        Evaluation.objects.filter(pk=evaluation.pk, reasked_at__isnull=True, answer="").update(reasked_at=now)
        != 1
    ):
        return False
    action = EnforcementAction.objects.select_related("unit__division", "year").get(pk=evaluation.action_id)
    names = list(action.staff.order_by("action_links__id").values_list("name", flat=True))
    messaging.queue_sms(
        to=action.subject_phone,
        text=render_sms(action.year.reask_template, action, names),
        source=evaluation,
        division_code=evaluation.division_code,
    )
    return True


def _seconds(inbound: InboundSms, evaluation: Evaluation) -> int:
    return int((inbound.received_at - evaluation.message.sent_at).total_seconds())


def _record_answers(evaluations: list[Evaluation]) -> None:
    """First answers in one UPDATE … FROM (VALUES …) per 1,000 rows, only where none was recorded.

    Django's bulk_update builds a CASE per row and field in Python, slower than the database work at
    the benchmark's size. Portable: PostgreSQL and SQLite ≥ 3.33 name VALUES columns column1, ….
    """
    table = Evaluation._meta.db_table
    with connection.cursor() as cursor:
        for start in range(0, len(evaluations), 1000):
            chunk = evaluations[start : start + 1000]
            params: list[Any] = []
            for evaluation in chunk:
                params += [
                    evaluation.pk,
                    evaluation.answer,
                    connection.ops.adapt_datetimefield_value(evaluation.answered_at),
                    evaluation.answer_seconds,
                ]
            values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"UPDATE {table} SET answer = v.column2, answered_at = v.column3, answer_seconds = v.column4 "  # noqa: S608 (table name from the model; values are parameters)
                f"FROM (VALUES {values}) AS v WHERE {table}.id = v.column1 AND {table}.answer = ''",
                params,
            )


def _process_batch(batch: list[InboundSms], now: dt.datetime, stats: ReplyStats) -> None:
    """One batch in one transaction: match, mark handled in bulk, record answers and replies.

    The candidate evaluations are locked (PostgreSQL) so that two workers holding different replies
    of one number cannot both record a first answer.
    """
    candidates: dict[str, list[Evaluation]] = {}
    for evaluation in (
        Evaluation.objects.select_for_update(of=("self",))
        .filter(phone_index__in={row.phone_index for row in batch}, message__status=OutboxStatus.SENT)
        .select_related("message")
        .order_by("pk")
    ):
        candidates.setdefault(evaluation.phone_index, []).append(evaluation)
    replies: list[Reply] = []
    taken: list[tuple[InboundSms, Evaluation]] = []
    for inbound in batch:
        evaluation, outcome = _match(inbound, candidates.get(inbound.phone_index, []))
        if not outcome:
            taken.append((inbound, evaluation))
            continue
        replies.append(
            Reply(
                inbound=inbound,
                evaluation=evaluation,
                division_code=evaluation.division_code if evaluation else "",
                received_at=inbound.received_at,
                parsed=parse_reply(inbound.text).answer,
                outcome=outcome,
                seconds_after_sent=_seconds(inbound, evaluation) if evaluation else None,
                created_at=now,
            )
        )
        if outcome == ReplyOutcome.EXPIRED:
            stats.expired += 1
        else:
            stats.no_invitation += 1
    handled = messaging.mark_inbound_handled_bulk(list(taken))
    answered: dict[int, Evaluation] = {}
    to_reask: list[Evaluation] = []
    for inbound, evaluation in taken:
        if inbound.pk not in handled:
            stats.skipped += 1  # another module or worker took it meanwhile
            continue
        parsed = parse_reply(inbound.text)
        seconds = _seconds(inbound, evaluation)
        if parsed.valid and not evaluation.answer:
            evaluation.answer = parsed.answer
            evaluation.answered_at = inbound.received_at
            evaluation.answer_seconds = seconds
            answered[evaluation.pk] = evaluation
            outcome = ReplyOutcome.COUNTED
            stats.counted += 1
        elif evaluation.answer:
            outcome = ReplyOutcome.LATER
            stats.later += 1
        else:
            outcome = ReplyOutcome.UNRECOGNISED
            stats.unrecognised += 1
            if evaluation not in to_reask:
                to_reask.append(evaluation)
        replies.append(
            Reply(
                inbound=inbound,
                evaluation=evaluation,
                division_code=evaluation.division_code,
                received_at=inbound.received_at,
                parsed=parsed.answer,
                outcome=outcome,
                seconds_after_sent=seconds,
                created_at=now,
            )
        )
    if answered:
        _record_answers(list(answered.values()))
    Reply.objects.bulk_create(replies, batch_size=1000, ignore_conflicts=True)
    for evaluation in to_reask:
        if _reask(evaluation, now):
            stats.reasked += 1


def process_replies(
    now: dt.datetime | None = None, *, batch_size: int = 500, limit: int | None = None
) -> ReplyStats:
    """Match unhandled inbound SMS to evaluations and record the answers.

    1. Take inbound SMS no module has handled and evaluation has not looked at yet, oldest first.
    2. Load (and lock) every sent evaluation of those numbers at once (by blind index) and match each
       reply to the most recent invitation whose window holds it.
    3. A matched reply is marked handled (messaging, in bulk) and kept as a Reply: the first valid
       answer counts, later ones are kept only, an unrecognised one gets one SMS asking again.
    4. A reply from a number with no invitation, or only expired ones, is logged as a Reply and left
       unhandled for other modules (a hotline callback may be waiting for that number).

    Side effects: Reply rows, evaluation answers, re-ask SMS; messaging's audit row per batch
    (`messaging.inbound_handled_bulk`) and one `evaluation.replies_processed` audit row per run that
    did something.
    """
    now = now or timezone.now()
    stats = ReplyStats()
    done = 0
    while limit is None or done < limit:
        size = batch_size if limit is None else min(batch_size, limit - done)
        with transaction.atomic():
            batch = list(
                messaging_queries.unmatched_inbound()
                .filter(received_at__lte=now)
                .exclude(pk__in=Reply.objects.values("inbound_id"))[:size]
            )
            if not batch:
                break
            done += len(batch)
            _process_batch(batch, now, stats)
    if done:
        with transaction.atomic():
            audit.record("evaluation.replies_processed", by=None, data=stats.as_dict())
    return stats


# --- Anti-rigging: flags and the office's review -------------------------------------------------

FLAG_REVIEW_ROLES = frozenset({"office", "admin"})


def _flag_label(record: Evaluation | OnlineVote) -> str:
    return f"评议 #{record.pk}" if isinstance(record, Evaluation) else f"网上评议 #{record.pk}"


def _audit_name(record: Evaluation | OnlineVote, suffix: str) -> str:
    """evaluation.flagged for SMS evaluations, evaluation.vote_flagged for online votes."""
    return f"evaluation.{suffix}" if isinstance(record, Evaluation) else f"evaluation.vote_{suffix}"


def flag_record(record: Evaluation | OnlineVote, *, reason: str, by: Any = None) -> bool:
    """Put an evaluation or an online vote under review: it stops counting until the office clears it.

    A flag that was already reviewed stays as reviewed (returns False); a pending flag gains the new
    reason (the same reason twice changes nothing, so rules can run again and again).
    Side effects: flag fields; audit row `evaluation.flagged` / `evaluation.vote_flagged`.
    """
    reason = _clean_text(reason, "标记原因", 300)
    model = type(record)
    now = timezone.now()
    with transaction.atomic():
        current = model.objects.select_for_update().get(pk=record.pk)
        if current.flag_state in (FlagState.CONFIRMED, FlagState.CLEARED):
            return False
        if current.flag_state == FlagState.PENDING:
            if reason in current.flag_reason.split("；"):
                return False
            reason = f"{current.flag_reason}；{reason}"[:300]
        model.objects.filter(pk=record.pk).update(
            flag_state=FlagState.PENDING, flag_reason=reason, flagged_at=current.flagged_at or now
        )
        audit.record(
            _audit_name(record, "flagged"),
            by=by,
            target=record,
            division_code=current.division_code,
            data={"reason": reason},
        )
    record.refresh_from_db()
    return True


def flag_evaluation(evaluation: Evaluation, *, reason: str, by: Any = None) -> bool:
    """`flag_record` for an SMS evaluation (the part 1 hook)."""
    return flag_record(evaluation, reason=reason, by=by)


def review_record(
    record: Evaluation | OnlineVote,
    *,
    confirm: bool,
    reason: str,
    by: Any,
    refer: bool = False,
) -> Evaluation | OnlineVote:
    """The office's decision on a pending flag: confirmed (stays out of scores) or cleared (counts).

    With `refer=True` a confirmed case is also handed to the discipline office as a clue
    (`create_clue`). Side effects: review fields; audit row `evaluation.flag_confirmed` /
    `evaluation.flag_cleared` (votes: `evaluation.vote_flag_confirmed` / `…_cleared`); the clue.
    """
    reason = _clean_text(reason, "复核意见", 300)
    if refer and not confirm:
        raise ValidationError("只有确认违规的情形才能移交纪委监委")
    state = FlagState.CONFIRMED if confirm else FlagState.CLEARED
    model = type(record)
    now = timezone.now()
    with transaction.atomic():
        changed = model.objects.filter(pk=record.pk, flag_state=FlagState.PENDING).update(
            flag_state=state, reviewed_at=now, reviewed_by=by, review_reason=reason
        )
        if changed != 1:
            record.refresh_from_db()
            raise ValidationError(
                f"{_flag_label(record)} 不在待复核状态（{record.get_flag_state_display()}）"
            )
        audit.record(
            _audit_name(record, f"flag_{state}"),
            by=by,
            target=record,
            division_code=record.division_code,
            data={"reason": reason, "refer": refer},
        )
        record.refresh_from_db()
        if refer:
            create_clue(record, by=by)
    return record


def review_flag(
    evaluation: Evaluation, *, confirm: bool, reason: str, by: Any, refer: bool = False
) -> Evaluation:
    """`review_record` for an SMS evaluation (the part 1 hook)."""
    return review_record(evaluation, confirm=confirm, reason=reason, by=by, refer=refer)


def discipline_unit_for(division_code: str) -> Unit | None:
    """The 纪委监委 of the division, or of the nearest division above it that has one."""
    code = division_code
    while code:
        unit = (
            Unit.objects.filter(division_id=code, kind=UnitKind.DISCIPLINE, is_active=True)
            .order_by("pk")
            .first()
        )
        if unit is not None:
            return unit
        parent = Division.objects.filter(code=code).values_list("parent_id", flat=True).first()
        code = parent or ""
    return None


def _clue_summary(record: Evaluation | OnlineVote) -> tuple[Unit, str]:
    if isinstance(record, Evaluation):
        action = EnforcementAction.objects.select_related("unit").get(pk=record.action_id)
        names = "、".join(action.staff.order_by("action_links__id").values_list("name", flat=True))
        when = timezone.localtime(action.acted_at)
        return action.unit, (
            f"{action.unit.name}{names} {when:%Y-%m-%d %H:%M} {action.get_action_type_display()}的短信评议"
            f"（评议 #{record.pk}，对象 {mask_phone(action.subject_phone)}）经复核确认存在刷票嫌疑。"
            f"标记原因：{record.flag_reason}。复核意见：{record.review_reason}"
        )
    vote = OnlineVote.objects.select_related("unit").get(pk=record.pk)
    return vote.unit, (
        f"对{vote.unit.name}的网上评议（#{vote.pk}，{timezone.localtime(vote.created_at):%Y-%m-%d %H:%M}，"
        f"号码 {mask_phone(vote.phone)}）经复核确认存在刷票嫌疑。"
        f"标记原因：{vote.flag_reason}。复核意见：{vote.review_reason}"
    )


def create_clue(record: Evaluation | OnlineVote, *, by: Any) -> Clue:
    """Hand a confirmed rigging case to the discipline office of its division (问题线索).

    One clue per record (a second call returns the first). The inspection module takes these over.
    Side effects: one Clue; audit row `evaluation.clue_created`.
    """
    if record.flag_state != FlagState.CONFIRMED:
        raise ValidationError(
            f"{_flag_label(record)} 未确认违规（{record.get_flag_state_display()}），不能移交"
        )
    source_type = record._meta.label_lower
    existing = Clue.objects.filter(source_type=source_type, source_id=str(record.pk)).first()
    if existing is not None:
        return existing
    unit, summary = _clue_summary(record)
    with transaction.atomic():
        clue = Clue.objects.create(
            division_code=record.division_code,
            addressed_to=discipline_unit_for(record.division_code),
            unit=unit,
            source_type=source_type,
            source_id=str(record.pk),
            summary=summary,
            created_by=by,
        )
        audit.record(
            "evaluation.clue_created",
            by=by,
            target=clue,
            division_code=clue.division_code,
            data={"source": f"{source_type}:{record.pk}", "to": clue.addressed_to_id, "unit": unit.code},
        )
    return clue
