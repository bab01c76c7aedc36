"""Evaluation years and the disclosed staff of the key units."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from zhengfeng.core import audit, uploads
from zhengfeng.evaluation.models import DisclosedStaff, EvaluationYear
from zhengfeng.evaluation.parsing import normalise
from zhengfeng.evaluation.services.common import _clean_points, clean_template
from zhengfeng.org.models import Division, Person, Unit, User

# --- Years and staff ---------------------------------------------------------------------------


def check_key_units(year: int, units: Iterable[Unit], *, exclude: int | None) -> list[Unit]:
    """The units, once each; a unit already key in another evaluation year of `year` → error."""
    units = list(dict.fromkeys(units))
    taken = EvaluationYear.key_units.through.objects.filter(
        evaluationyear__year=year, unit__in=units
    ).select_related("unit", "evaluationyear")
    if exclude is not None:
        taken = taken.exclude(evaluationyear_id=exclude)
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
    points_satisfied: Decimal | int | str = 100,
    points_basic: Decimal | int | str = 60,
    points_unsatisfied: Decimal | int | str = 0,
    reply_window_days: int = 7,
    by: User | None = None,
    **settings: Any,
) -> EvaluationYear:
    """Open a year of 公述民评 for `division` with its key evaluated units.

    `settings` are the year's other fields (`YEAR_FIELDS`: the online vote window and weight, the
    assessment points, the anti-rigging thresholds), checked as `update_year` checks them.
    Side effects: the EvaluationYear and its key units; audit row `evaluation.year_created`.
    """
    extra = _clean_year_settings(settings, current=None)
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
        **extra,
    }
    units = check_key_units(int(year), key_units, exclude=None)
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
                **({"settings": sorted(extra)} if extra else {}),
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


def _clean_year_settings(changes: dict[str, Any], *, current: EvaluationYear | None) -> dict[str, Any]:
    """Checked values of YEAR_FIELDS (`current`: the year being changed, None for a new one)."""
    unknown = sorted(set(changes) - set(YEAR_FIELDS))
    if unknown:
        raise ValidationError(f"不能修改的字段：{'、'.join(unknown)}")
    cleaners: dict[str, Callable[[Any], Any]] = {
        "title": lambda v: (v or "").strip()[:100] or (current.title if current else ""),
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
        rule_field = EvaluationYear._meta.get_field(field)
        if not isinstance(rule_field, models.Field):  # never: the rule fields are the year's columns
            raise TypeError(f"{field} is not a column of EvaluationYear")
        label = str(rule_field.verbose_name)
        cleaners[field] = functools.partial(_clean_int, label=label, minimum=RULE_MINIMUM.get(field, 2))
    new = {name: cleaners[name](value) for name, value in changes.items()}
    if new.get("reply_window_days", 1) < 1:
        raise ValidationError(f"回复有效天数至少为 1 天，而不是 {new['reply_window_days']}")
    opens = new.get("vote_opens_at", (current.vote_opens_at if current else None))
    closes = new.get("vote_closes_at", (current.vote_closes_at if current else None))
    if (opens is None) != (closes is None) or (opens and closes and closes <= opens):
        raise ValidationError(f"网上评议时间无效：开始 {opens}，结束 {closes}（须同时设置，且结束晚于开始）")
    return new


def update_year(
    evaluation_year: EvaluationYear,
    *,
    key_units: Iterable[Unit] | None = None,
    by: User | None = None,
    **changes: Any,
) -> list[str]:
    """Change a year's settings (templates, formula, window) and/or its key units. Returns changed fields.

    A new formula applies to every score computed afterwards; a new window or template only to
    invitations made afterwards. Side effects: audit row `evaluation.year_updated`.
    """
    new = _clean_year_settings(changes, current=evaluation_year)
    changed = [name for name, value in new.items() if getattr(evaluation_year, name) != value]
    units = None
    if key_units is not None:
        units = check_key_units(evaluation_year.year, key_units, exclude=evaluation_year.pk)
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
    photo: File | None = None,
    by: User | None = None,
) -> DisclosedStaff:
    """Add an enforcement or supervision staff member of `unit` (disclosed on the portal if asked).

    Side effects: audit row `evaluation.staff_created`; the photo (checked by core.uploads.PHOTO)
    stored under a random name.
    """
    if photo:
        uploads.check_upload(photo, uploads.PHOTO)
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
            photo=photo or "",
        )
        audit.record(
            "evaluation.staff_created",
            by=by,
            target=staff,
            division_code=staff.division_code,
            data={"unit": unit.code, "name": staff.name, "title": staff.title, "disclosed": is_disclosed},
        )
    return staff


STAFF_FIELDS = (
    "name",
    "title",
    "department",
    "duties",
    "is_disclosed",
    "is_active",
    "sort_order",
    "person",
    "photo",
)


def update_staff(staff: DisclosedStaff, *, by: User | None = None, **changes: Any) -> list[str]:
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
    if "photo" in changes and not changes["photo"]:
        changes["photo"] = ""  # the admin's "clear" box gives False: no photo
    elif isinstance(changes.get("photo"), File) and not isinstance(changes["photo"], FieldFile):
        uploads.check_upload(changes["photo"], uploads.PHOTO)
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
