"""Enforcement actions and their invitation SMS."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from zhengfeng.core import audit
from zhengfeng.core.crypto import blind_index, mask_phone
from zhengfeng.core.moments import plausible_moment
from zhengfeng.evaluation.models import (
    ActionSource,
    ActionStaff,
    ActionType,
    DisclosedStaff,
    EnforcementAction,
    Evaluation,
    EvaluationYear,
)
from zhengfeng.evaluation.services.common import CLOCK_TOLERANCE, SUBJECT_NAME_MAX, render_sms
from zhengfeng.evaluation.services.years import _clean_text
from zhengfeng.messaging import services as messaging
from zhengfeng.org.models import ApiKey, Unit, User
from zhengfeng.org.validators import normalise_mobile

T = TypeVar("T")

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


def _implausible(acted_at: dt.datetime, now: dt.datetime) -> str:
    # The one window of past facts (core.moments): year 1 or 9999 from the API or an import.
    try:
        plausible_moment(acted_at, field="执法时间", now=now)
    except ValidationError as exc:
        return "；".join(exc.messages)
    return ""


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

    def check(func: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        try:
            return func(*args, **kwargs)
        except ValidationError as exc:
            errors.extend(exc.messages)
            return None

    # A failed check leaves "" (or None) and an error: nothing is returned then.
    kind = check(clean_action_type, action_type) or ""
    name = check(_clean_text, subject_name, "执法对象名称", SUBJECT_NAME_MAX) or ""
    phone = check(clean_subject_phone, subject_phone) or ""
    external = check(_clean_text, external_id, "外部编号", 64, required=False) or ""
    evaluation_year = None
    if not isinstance(acted_at, dt.datetime) or timezone.is_naive(acted_at):
        errors.append(f"执法时间必须是带时区的日期时间：{acted_at}")
    elif implausible := _implausible(acted_at, now):
        errors.append(implausible)
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
    if errors or evaluation_year is None:  # no year without an error: see above
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
    by: User | None = None,
    api_key: ApiKey | None = None,
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
    checked: ActionInput, *, source: str, by: User | None = None, api_key: ApiKey | None = None
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
