"""Writes for work ledgers (台帐). Every function is atomic and writes one audit row (`ledger.*`).

Steps with a due date own a deadline clock (`deadlines.start_clock`, kind `ledger_step`, source
`ledger.ledgerstep`): a fixed-date clock (`BudgetUnit.FIXED_DATE`), so its deadline is the close
of business of the due date (or of the next working day when the due date is a day off); a step
recorded on or after its due date is overdue from the start. Completing a
step stops its clock; the deadline stays frozen, so a late step stays late.

Status transitions: `set_ledger_status` for ledgers and `set_step_status` for steps own every state
change; the other services call them (a first progress entry or a completed step starts a ledger).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from zhengfeng.core import audit, uploads
from zhengfeng.deadlines import services as deadlines
from zhengfeng.deadlines.models import BudgetUnit, Clock
from zhengfeng.deadlines.queries import calendar_index
from zhengfeng.ledger.models import (
    Ledger,
    LedgerStatus,
    LedgerStep,
    ProgressAttachment,
    ProgressEntry,
    Responsibility,
    StepStatus,
    Task,
)
from zhengfeng.org.models import Person, Unit, User

CLOCK_KIND = "ledger_step"
CLOCK_SOURCE = "ledger.ledgerstep"
# A reminder this many natural days before a step's deadline (the alerts ladder's 提醒).
STEP_WARN_DAYS = 3

_LEDGER_TEXTS = {
    "goals": ("工作目标", None),
    "measures": ("工作措施", None),
    "time_requirements": ("时间要求", None),
    "responsible_persons": ("责任人", 200),
}

# Allowed ledger transitions (from → to). Reopening a finished ledger needs a reason.
_LEDGER_TRANSITIONS = {
    LedgerStatus.NOT_STARTED: {LedgerStatus.IN_PROGRESS, LedgerStatus.DONE},
    LedgerStatus.IN_PROGRESS: {LedgerStatus.DONE},
    LedgerStatus.DONE: {LedgerStatus.IN_PROGRESS},
}


# --- Validation --------------------------------------------------------------------------------


def _text(value: Any, label: str, max_length: int | None = None, *, required: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationError(f"{label}不能为空")
    if max_length is not None and len(text) > max_length:
        raise ValidationError(f"{label}最多 {max_length} 个字符，当前 {len(text)} 个：{text[:30]}…")
    return text


def local_today(now: dt.datetime | None = None) -> dt.date:
    """Today in the working calendar's time zone (the zone due dates are meant in)."""
    return (now or timezone.now()).astimezone(calendar_index().tz).date()


def _record(
    action: str, ledger: Ledger, *, by: User | None, data: dict[str, Any], target: Any = None
) -> None:
    audit.record(
        f"ledger.{action}",
        by=by,
        target=target or ledger,
        division_code=ledger.division_code,
        data={"ledger": ledger.pk, "unit": ledger.unit.code, "task": ledger.task.number, **data},
    )


def _touch(ledger: Ledger, now: dt.datetime) -> None:
    Ledger.objects.filter(pk=ledger.pk).update(updated_at=now)
    ledger.updated_at = now


# --- Ledgers -----------------------------------------------------------------------------------


def _person_of_unit(person: Person | None, unit: Unit) -> Person | None:
    if person is not None and not person.positions.filter(unit=unit, ended_on__isnull=True).exists():
        raise ValidationError(f"{person.name} 不在 {unit.name} 任职，不能作为责任人")
    return person


def create_ledger(
    *,
    task: Task,
    unit: Unit,
    goals: str = "",
    measures: str = "",
    time_requirements: str = "",
    responsible_persons: str = "",
    responsible_person: Person | None = None,
    by: User | None = None,
) -> Ledger:
    """Set up the ledger of `unit` for `task` (once per task and unit; the unit must carry the task).

    Side effects: the Ledger row; audit row `ledger.created`.
    """
    if not Responsibility.objects.filter(task=task, unit=unit).exists():
        raise ValidationError(f"{unit.name}不承担任务 {task.number}（{task.title}），不能建立台帐")
    if Ledger.objects.filter(task=task, unit=unit).exists():
        raise ValidationError(f"{unit.name}已有任务 {task.number} 的台帐")
    values = {
        "goals": _text(goals, "工作目标"),
        "measures": _text(measures, "工作措施"),
        "time_requirements": _text(time_requirements, "时间要求"),
        "responsible_persons": _text(responsible_persons, "责任人", 200),
    }
    person = _person_of_unit(responsible_person, unit)
    with transaction.atomic():
        ledger = Ledger.objects.create(
            task=task, unit=unit, division_code=unit.division_id, responsible_person=person, **values
        )
        _record("created", ledger, by=by, data={"plan": task.plan_id})
    return ledger


def update_ledger(
    ledger: Ledger,
    *,
    goals: str,
    measures: str,
    time_requirements: str,
    responsible_persons: str,
    responsible_person: Person | None = None,
    by: User | None = None,
) -> list[str]:
    """Change the ledger's texts and 责任人. Returns the changed fields; nothing is written without change.

    Side effects: audit row `ledger.updated` with the changed fields.
    """
    new: dict[str, Any] = {
        name: _text(value, *_LEDGER_TEXTS[name])
        for name, value in {
            "goals": goals,
            "measures": measures,
            "time_requirements": time_requirements,
            "responsible_persons": responsible_persons,
        }.items()
    }
    new["responsible_person"] = _person_of_unit(responsible_person, ledger.unit)
    changed = [name for name, value in new.items() if getattr(ledger, name) != value]
    if not changed:
        return []
    now = timezone.now()
    with transaction.atomic():
        for name in changed:
            setattr(ledger, name, new[name])
        ledger.updated_at = now
        ledger.save(update_fields=[*changed, "updated_at"])
        _record("updated", ledger, by=by, data={"fields": changed})
    return changed


def set_ledger_status(ledger: Ledger, status: str, *, by: User | None = None, reason: str = "") -> Ledger:
    """The one transition function of a ledger: not_started → in_progress → done, done → in_progress.

    Finishing needs every step done; reopening a finished ledger needs a reason.
    Side effects: status and completed_at saved; audit row `ledger.status_changed`.
    """
    if status not in LedgerStatus.values:
        raise ValidationError(f"未知的台帐状态：{status}")
    old = ledger.status
    if status == old:
        return ledger
    if status not in _LEDGER_TRANSITIONS[LedgerStatus(old)]:
        raise ValidationError(f"台帐状态不能从“{LedgerStatus(old).label}”改为“{LedgerStatus(status).label}”")
    reason = _text(reason, "原因", 200)
    if old == LedgerStatus.DONE and not reason:
        raise ValidationError("重新打开已完成的台帐须说明原因")
    if status == LedgerStatus.DONE:
        open_steps = list(ledger.steps.filter(status=StepStatus.OPEN).values_list("text", flat=True)[:3])
        if open_steps:
            raise ValidationError(f"还有未完成的工作步骤（{'；'.join(open_steps)}），不能标记台帐已完成")
    now = timezone.now()
    with transaction.atomic():
        updated = Ledger.objects.filter(pk=ledger.pk, status=old).update(
            status=status, completed_at=now if status == LedgerStatus.DONE else None, updated_at=now
        )
        if updated != 1:
            raise ValidationError("台帐状态已被他人修改，请刷新后重试")
        ledger.status = status
        ledger.completed_at = now if status == LedgerStatus.DONE else None
        ledger.updated_at = now
        _record("status_changed", ledger, by=by, data={"from": old, "to": status, "reason": reason})
    return ledger


def _start(ledger: Ledger, *, by: User | None) -> None:
    """A ledger that sees its first progress or completed step is under way."""
    if ledger.status == LedgerStatus.NOT_STARTED:
        set_ledger_status(ledger, LedgerStatus.IN_PROGRESS, by=by)


# --- Steps -------------------------------------------------------------------------------------


def _restart_data(clock: Clock, due_on: dt.date, now: dt.datetime) -> dict[str, Any]:
    """The restart to a new due date. Clocks started before the fixed-date kind existed count natural
    days up to the date: they restart with the days from today, which ends on the same date."""
    if clock.budget_unit == BudgetUnit.NATURAL_DAYS:
        return {"budget": (due_on - local_today(now)).days}
    return {"due_on": due_on}


def _start_step_clock(step: LedgerStep, ledger: Ledger, *, by: User | None, now: dt.datetime) -> Clock:
    assert step.due_on is not None  # noqa: S101 - callers start clocks only for dated steps
    try:
        return deadlines.start_clock(
            source_type=CLOCK_SOURCE,
            source_id=step.pk,
            kind=CLOCK_KIND,
            label=f"{ledger.unit.name} 任务 {ledger.task.number}：{step.text}"[:200],
            unit=ledger.unit,
            division_code=ledger.division_code,
            budget_unit=BudgetUnit.FIXED_DATE,
            due_on=step.due_on,
            warn_before=STEP_WARN_DAYS,
            started_at=now,
            by=by,
        )
    except ValueError as exc:  # ClockEventError, CalendarCoverageError
        raise ValidationError(f"完成时限 {step.due_on:%Y-%m-%d} 无法计时：{exc}") from exc


def clean_step_text(value: Any) -> str:
    return _text(value, "工作步骤", 500, required=True)


def add_step(
    ledger: Ledger,
    *,
    text: str,
    due_on: dt.date | None = None,
    by: User | None = None,
    now: dt.datetime | None = None,
) -> LedgerStep:
    """Add a step at the end of the ledger.

    Side effects: the step; with a due date, a deadline clock (audit row `clock.started`);
    audit row `ledger.step_added`.
    """
    text = clean_step_text(text)
    if ledger.status == LedgerStatus.DONE:
        raise ValidationError("台帐已完成，不能新增工作步骤；请先重新打开台帐")
    if ledger.steps.filter(text=text).exists():
        raise ValidationError(f"本台帐已有工作步骤“{text}”")
    now = now or timezone.now()
    with transaction.atomic():
        last = ledger.steps.order_by("-order").values_list("order", flat=True).first() or 0
        step = LedgerStep.objects.create(
            ledger=ledger, division_code=ledger.division_code, order=last + 1, text=text, due_on=due_on
        )
        if due_on is not None:
            step.clock = _start_step_clock(step, ledger, by=by, now=now)
            step.save(update_fields=["clock"])
        _touch(ledger, now)
        _record(
            "step_added",
            ledger,
            by=by,
            target=step,
            data={"step": step.pk, "text": text, "due_on": due_on.isoformat() if due_on else None},
        )
    return step


def update_step(
    step: LedgerStep,
    *,
    text: str,
    due_on: dt.date | None,
    by: User | None = None,
    now: dt.datetime | None = None,
) -> list[str]:
    """Reword a step or move its due date. Returns the changed fields.

    A new due date restarts the step's clock from now (it must lie after today); a due date once
    set cannot be cleared, and a finished step's due date is frozen.
    Side effects: the step saved; on a new due date a clock restart or start (audited by deadlines);
    audit row `ledger.step_updated`.
    """
    text = clean_step_text(text)
    ledger = step.ledger
    now = now or timezone.now()
    changed = [name for name, value in (("text", text), ("due_on", due_on)) if getattr(step, name) != value]
    if not changed:
        return []
    if "text" in changed and ledger.steps.exclude(pk=step.pk).filter(text=text).exists():
        raise ValidationError(f"本台帐已有工作步骤“{text}”")
    if "due_on" in changed:
        if step.status == StepStatus.DONE:
            raise ValidationError(f"工作步骤“{step.text}”已完成，完成时限不能再修改")
        if due_on is None:
            raise ValidationError(f"工作步骤“{step.text}”的完成时限已设定，不能清除")
        if step.clock_id is not None and due_on <= local_today(now):
            raise ValidationError(f"调整后的完成时限 {due_on:%Y-%m-%d} 须晚于今天")
    old_due = step.due_on
    with transaction.atomic():
        step.text, step.due_on = text, due_on
        step.save(update_fields=changed)
        if "due_on" in changed and due_on is not None:
            if step.clock is None:
                step.clock = _start_step_clock(step, ledger, by=by, now=now)
                step.save(update_fields=["clock"])
            else:
                try:
                    deadlines.apply_clock_event(
                        step.clock,
                        "restart",
                        at=now,
                        by=by,
                        reason=f"完成时限调整为 {due_on:%Y-%m-%d}",
                        data=_restart_data(step.clock, due_on, now),
                    )
                except ValueError as exc:
                    raise ValidationError(f"完成时限 {due_on:%Y-%m-%d} 无法计时：{exc}") from exc
        _touch(ledger, now)
        _record(
            "step_updated",
            ledger,
            by=by,
            target=step,
            data={
                "step": step.pk,
                "fields": changed,
                "text": text,
                "due_on": due_on.isoformat() if due_on else None,
                "old_due_on": old_due.isoformat() if old_due else None,
            },
        )
    return changed


def remove_step(step: LedgerStep, *, by: User | None = None, now: dt.datetime | None = None) -> None:
    """Remove an open step that has no progress. Its clock is stopped (and kept, with its events).

    Side effects: clock stop event; the step deleted; audit row `ledger.step_removed`.
    """
    if step.status == StepStatus.DONE:
        raise ValidationError(f"工作步骤“{step.text}”已完成，不能删除")
    if step.progress_entries.exists():
        raise ValidationError(f"工作步骤“{step.text}”已有工作进展，不能删除")
    ledger = step.ledger
    now = now or timezone.now()
    with transaction.atomic():
        clock = step.clock
        if clock is not None and clock.state != "stopped":
            deadlines.apply_clock_event(clock, "stop", at=now, by=by, reason="工作步骤已删除")
        data = {
            "step": step.pk,
            "text": step.text,
            "due_on": step.due_on.isoformat() if step.due_on else None,
        }
        step.delete()
        _touch(ledger, now)
        _record("step_removed", ledger, by=by, data=data)


def set_step_status(
    step: LedgerStep, status: str, *, by: User | None = None, at: dt.datetime | None = None
) -> LedgerStep:
    """The one transition function of a step: open → done. A finished step stays finished (its
    clock is stopped and a late step stays late).

    Side effects: status and completed_at saved; the clock stopped at `at`; a not-started ledger
    moves to in progress; audit row `ledger.step_done`.
    """
    if status not in StepStatus.values:
        raise ValidationError(f"未知的步骤状态：{status}")
    if status == step.status:
        return step
    if status == StepStatus.OPEN:
        raise ValidationError(f"工作步骤“{step.text}”已完成，不能重新打开；请新增一个步骤")
    ledger = step.ledger
    at = at or timezone.now()
    with transaction.atomic():
        updated = LedgerStep.objects.filter(pk=step.pk, status=StepStatus.OPEN).update(
            status=StepStatus.DONE, completed_at=at
        )
        if updated != 1:
            raise ValidationError("工作步骤状态已被他人修改，请刷新后重试")
        step.status, step.completed_at = StepStatus.DONE, at
        late = False
        if step.clock is not None:
            try:
                clock = deadlines.apply_clock_event(step.clock, "stop", at=at, by=by, reason="工作步骤已完成")
            except ValueError as exc:
                raise ValidationError(f"工作步骤“{step.text}”无法停止计时：{exc}") from exc
            step.clock = clock
            late = clock.is_late
        _start(ledger, by=by)
        _touch(ledger, at)
        _record(
            "step_done", ledger, by=by, target=step, data={"step": step.pk, "text": step.text, "late": late}
        )
    return step


# --- Progress ----------------------------------------------------------------------------------


def add_progress(
    ledger: Ledger,
    *,
    text: str,
    noted_on: dt.date | None = None,
    step: LedgerStep | None = None,
    files: Sequence[UploadedFile] = (),
    author_name: str = "",
    by: User | None = None,
    now: dt.datetime | None = None,
) -> ProgressEntry:
    """Record progress (进展), dated and by whom, with attachments stored under MEDIA_ROOT/ledger/.

    Every file is checked before anything is written (`core.uploads.ATTACHMENT`: type by extension
    and content, size per kind).
    Side effects: the entry and its attachments (files saved); a not-started ledger moves to in
    progress; audit row `ledger.progress_added`.
    """
    text = _text(text, "进展情况", required=True)
    now = now or timezone.now()
    today = local_today(now)
    noted_on = noted_on or today
    if noted_on > today:
        raise ValidationError(f"进展日期 {noted_on:%Y-%m-%d} 晚于今天")
    if step is not None and step.ledger_id != ledger.pk:
        raise ValidationError(f"工作步骤“{step.text}”不属于本台帐")
    checked = [uploads.check_upload(upload, uploads.ATTACHMENT) for upload in files]
    names = [upload.name for upload in checked]
    author = _text(author_name, "填报人", 60) or (getattr(by, "label", "") if by is not None else "")
    saved: list[ProgressAttachment] = []
    try:
        with transaction.atomic():
            entry = ProgressEntry.objects.create(
                ledger=ledger,
                step=step,
                division_code=ledger.division_code,
                noted_on=noted_on,
                text=text,
                author_name=author[:60],
                created_by=by if getattr(by, "pk", None) else None,
            )
            for upload in checked:
                attachment = ProgressAttachment(
                    entry=entry, name=upload.name, size=upload.size, sha256=upload.sha256
                )
                attachment.file.save(upload.name, upload.file, save=False)
                saved.append(attachment)
                attachment.save()
            _start(ledger, by=by)
            _touch(ledger, now)
            _record(
                "progress_added",
                ledger,
                by=by,
                target=entry,
                data={
                    "entry": entry.pk,
                    "step": step.pk if step else None,
                    "noted_on": noted_on.isoformat(),
                    "attachments": names,
                },
            )
    except Exception:
        # The rows rolled back; the files already written must not stay behind as orphans.
        for attachment in saved:
            attachment.file.delete(save=False)
        raise
    return entry
