"""Writes for campaign plans. Every change is atomic, writes one audit row and, when the plan's
content changed, a new PlanVersion holding a snapshot of the whole plan (so history needs no diffing
of audit rows and survives later edits)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from zhengfeng.core import audit
from zhengfeng.ledger.models import (
    Ledger,
    Level,
    Plan,
    PlanVersion,
    Responsibility,
    ResponsibilityRole,
    Section,
    Task,
)
from zhengfeng.ledger.plans.importing import PlannedResponsibility, PreparedImport
from zhengfeng.ledger.plans.queries import plan_document
from zhengfeng.org.models import Division, Role, Unit, User
from zhengfeng.org.queries import Viewer, scope_of

YEAR_MIN, YEAR_MAX = 2000, 2100
_CHINESE_NUMERALS = set("一二三四五六七八九十")


class UnmatchedNamesError(Exception):
    """An import named units the alias table cannot find; nothing was written."""

    def __init__(self, prepared: PreparedImport) -> None:
        super().__init__(f"{len(prepared.unmatched)} 个单位名称未能匹配")
        self.prepared = prepared


# --- Permissions -------------------------------------------------------------------------------


def can_create_plans(user: Viewer) -> bool:
    return bool(
        isinstance(user, User)
        and (user.is_superuser or user.role in (Role.ADMIN, Role.OFFICE))
        and not scope_of(user).empty
    )


def can_edit_plan(user: Viewer, plan: Plan) -> bool:
    """The administrator, or an office whose division covers the plan's issuing division."""
    if not isinstance(user, User):
        return False
    scope = scope_of(user)
    if scope.everything:
        return True
    return (
        user.role == Role.OFFICE
        and scope.division_prefix is not None
        and plan.division_id.startswith(scope.division_prefix)
    )


# --- Validation --------------------------------------------------------------------------------


def _text(value: Any, label: str, max_length: int | None = None, *, required: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationError(f"{label}不能为空")
    if max_length is not None and len(text) > max_length:
        raise ValidationError(f"{label}最多 {max_length} 个字符，当前 {len(text)} 个：{text[:30]}…")
    return text


def clean_year(value: Any) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"年度必须是整数：{value}") from exc
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise ValidationError(f"年度 {year} 超出范围（{YEAR_MIN}–{YEAR_MAX}）")
    return year


def clean_section_number(value: Any) -> str:
    number = _text(value, "分组序号", 10, required=True).strip("()（）、")
    if not number or not set(number) <= _CHINESE_NUMERALS:
        raise ValidationError(f"分组序号应为中文数字（如 一、二）：{value}")
    return number


def clean_task_number(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"任务序号必须是正整数：{value}") from exc
    if not 1 <= number <= 999:
        raise ValidationError(f"任务序号必须在 1–999 之间：{number}")
    return number


def clean_role(value: Any) -> str:
    if value not in ResponsibilityRole.values:
        raise ValidationError(f"未知的职责：{value}（应为 lead、responsible 或 support）")
    return str(value)


def level_for(plan: Plan, unit: Unit) -> str:
    """City level for the issuing division's own units, county level below it."""
    if unit.division_id == plan.division_id:
        return Level.CITY
    prefix = plan.division.prefix
    if not unit.division_id.startswith(prefix):
        raise ValidationError(
            f"单位 {unit.name}（{unit.code}）不在本方案的发文区划 {plan.division.name} 范围内"
        )
    return Level.COUNTY


def default_title(division: Division, year: int) -> str:
    return f"{division.name}{year}年“正风”行动实施方案"


# --- Versions ----------------------------------------------------------------------------------


def _new_version(plan: Plan, *, action: str, summary: str, by: User | None) -> PlanVersion:
    """Bump the plan's version and store a snapshot. Call inside the writing transaction."""
    locked = Plan.objects.select_for_update().get(pk=plan.pk)
    number = locked.version + 1
    now = timezone.now()
    Plan.objects.filter(pk=plan.pk).update(version=number, updated_at=now)
    plan.version, plan.updated_at = number, now
    return PlanVersion.objects.create(
        plan=plan,
        number=number,
        action=action,
        summary=summary[:300],
        snapshot=plan_document(plan, full=True),
        created_by=by if getattr(by, "pk", None) else None,
    )


def _record(action: str, plan: Plan, *, by: User | None, data: dict[str, Any], target: Any = None) -> None:
    audit.record(
        f"plan.{action}",
        by=by,
        target=target or plan,
        division_code=plan.division_id,
        data={"plan": plan.pk, "year": plan.year, "version": plan.version, **data},
    )


# --- Plans -------------------------------------------------------------------------------------


def create_plan(
    *,
    division: Division,
    year: int,
    title: str,
    preamble: str = "",
    goals: str = "",
    requirements: str = "",
    by: User | None = None,
) -> Plan:
    """Create an empty plan for `division` and `year` (one per division and year).

    Side effects: version 1 (snapshot), audit row `plan.created`.
    """
    year = clean_year(year)
    title = _text(title, "标题", 200, required=True)
    if Plan.objects.filter(division=division, year=year).exists():
        raise ValidationError(f"{division.name}已有 {year} 年度的实施方案")
    with transaction.atomic():
        plan = Plan.objects.create(
            division=division,
            year=year,
            title=title,
            preamble=_text(preamble, "引言"),
            goals=_text(goals, "工作目标"),
            requirements=_text(requirements, "有关要求"),
        )
        _new_version(plan, action="created", summary="新建方案", by=by)
        _record("created", plan, by=by, data={"title": title})
    return plan


def update_plan(
    plan: Plan,
    *,
    title: str,
    preamble: str = "",
    goals: str = "",
    requirements: str = "",
    by: User | None = None,
) -> list[str]:
    """Change the plan's texts. Returns the changed field names; nothing is written without change.

    Side effects: new version, audit row `plan.updated` with the changed fields.
    """
    new = {
        "title": _text(title, "标题", 200, required=True),
        "preamble": _text(preamble, "引言"),
        "goals": _text(goals, "工作目标"),
        "requirements": _text(requirements, "有关要求"),
    }
    changed = [name for name, value in new.items() if getattr(plan, name) != value]
    if not changed:
        return []
    with transaction.atomic():
        for name in changed:
            setattr(plan, name, new[name])
        plan.save(update_fields=changed)
        _new_version(plan, action="updated", summary="修改方案：" + "、".join(changed), by=by)
        _record("updated", plan, by=by, data={"fields": changed})
    return changed


# --- Sections ----------------------------------------------------------------------------------


def create_section(plan: Plan, *, number: str, title: str, by: User | None = None) -> Section:
    """Add a task group at the end of the plan.

    Side effects: new version, audit row `plan.section_created`.
    """
    number = clean_section_number(number)
    title = _text(title, "分组名称", 300, required=True)
    if plan.sections.filter(number=number).exists():
        raise ValidationError(f"本方案已有序号为（{number}）的任务分组")
    with transaction.atomic():
        last = plan.sections.order_by("-order").values_list("order", flat=True).first() or 0
        section = Section.objects.create(plan=plan, number=number, title=title, order=last + 1)
        _new_version(plan, action="section_created", summary=f"新增分组（{number}）", by=by)
        _record("section_created", plan, by=by, data={"number": number, "title": title}, target=section)
    return section


def update_section(
    section: Section, *, number: str, title: str, order: int, by: User | None = None
) -> list[str]:
    """Rename, renumber or move a task group. Returns the changed fields.

    Side effects: new version, audit row `plan.section_updated`.
    """
    number = clean_section_number(number)
    title = _text(title, "分组名称", 300, required=True)
    position = int(order)
    if position < 1:
        raise ValidationError(f"排序必须是正整数：{order}")
    new: dict[str, object] = {"number": number, "title": title, "order": position}
    plan = section.plan
    if number != section.number and plan.sections.filter(number=number).exists():
        raise ValidationError(f"本方案已有序号为（{number}）的任务分组")
    changed = [name for name, value in new.items() if getattr(section, name) != value]
    if not changed:
        return []
    with transaction.atomic():
        for name in changed:
            setattr(section, name, new[name])
        section.save(update_fields=changed)
        _new_version(plan, action="section_updated", summary=f"修改分组（{section.number}）", by=by)
        _record("section_updated", plan, by=by, data={"fields": changed}, target=section)
    return changed


def delete_section(section: Section, *, by: User | None = None) -> None:
    """Remove an empty task group. Side effects: new version, audit row `plan.section_deleted`."""
    if section.tasks.exists():
        raise ValidationError(f"分组（{section.number}）下还有任务，不能删除")
    plan = section.plan
    with transaction.atomic():
        data = {"number": section.number, "title": section.title}
        section.delete()
        _new_version(plan, action="section_deleted", summary=f"删除分组（{data['number']}）", by=by)
        _record("section_deleted", plan, by=by, data=data)


# --- Tasks -------------------------------------------------------------------------------------


def _task_fields(
    plan: Plan, *, section: Section, number: Any, title: str, body: str, clause: str, open_parties: str
) -> dict[str, Any]:
    if section.plan_id != plan.pk:
        raise ValidationError(f"分组（{section.number}）不属于本方案")
    return {
        "section": section,
        "number": clean_task_number(number),
        "title": _text(title, "任务名称", 200, required=True),
        "body": _text(body, "任务内容"),
        "clause": _text(clause, "责任分工原文"),
        "open_parties": _text(open_parties, "其他责任方"),
    }


def create_task(
    plan: Plan,
    *,
    section: Section,
    number: int,
    title: str,
    body: str = "",
    clause: str = "",
    open_parties: str = "",
    by: User | None = None,
) -> Task:
    """Add a task. Side effects: new version, audit row `plan.task_created`."""
    fields = _task_fields(
        plan, section=section, number=number, title=title, body=body, clause=clause, open_parties=open_parties
    )
    if plan.tasks.filter(number=fields["number"]).exists():
        raise ValidationError(f"本方案已有序号为 {fields['number']} 的任务")
    with transaction.atomic():
        task = Task.objects.create(plan=plan, **fields)
        _new_version(plan, action="task_created", summary=f"新增任务 {task.number}", by=by)
        _record("task_created", plan, by=by, data={"number": task.number, "title": task.title}, target=task)
    return task


def update_task(
    task: Task,
    *,
    section: Section,
    number: int,
    title: str,
    body: str = "",
    clause: str = "",
    open_parties: str = "",
    by: User | None = None,
) -> list[str]:
    """Change a task's group, number or texts. Returns the changed fields.

    Side effects: new version, audit row `plan.task_updated` with the changed fields.
    """
    plan = task.plan
    fields = _task_fields(
        plan, section=section, number=number, title=title, body=body, clause=clause, open_parties=open_parties
    )
    if fields["number"] != task.number and plan.tasks.filter(number=fields["number"]).exists():
        raise ValidationError(f"本方案已有序号为 {fields['number']} 的任务")
    changed = [name for name, value in fields.items() if getattr(task, name) != value]
    if not changed:
        return []
    with transaction.atomic():
        for name in changed:
            setattr(task, name, fields[name])
        task.save(update_fields=changed)
        _new_version(plan, action="task_updated", summary=f"修改任务 {task.number}", by=by)
        _record("task_updated", plan, by=by, data={"number": task.number, "fields": changed}, target=task)
    return changed


def _refuse_if_ledgers(tasks: Sequence[Task]) -> None:
    """Tasks that units already keep ledgers for are records and cannot be removed."""
    kept = sorted(set(Ledger.objects.filter(task__in=tasks).values_list("task__number", flat=True)))
    if kept:
        numbers = "、".join(str(number) for number in kept)
        raise ValidationError(f"任务 {numbers} 已有单位建立工作台帐，不能删除")


def delete_task(task: Task, *, by: User | None = None) -> None:
    """Remove a task and its responsibilities (refused once a unit keeps a ledger for it).

    Side effects: new version, audit row `plan.task_deleted`."""
    _refuse_if_ledgers([task])
    plan = task.plan
    data = {"number": task.number, "title": task.title}
    with transaction.atomic():
        task.delete()
        _new_version(plan, action="task_deleted", summary=f"删除任务 {data['number']}", by=by)
        _record("task_deleted", plan, by=by, data=data)


# --- Responsibilities --------------------------------------------------------------------------


def set_responsibility(task: Task, *, unit: Unit, role: str, by: User | None = None) -> Responsibility:
    """Make `unit` lead, responsible or supporting for `task` (adds it, or changes its role).

    The level follows from the unit's division. Side effects: new version, audit row
    `plan.responsibility_set` (nothing when the unit already has that role).
    """
    role = clean_role(role)
    plan = task.plan
    level = level_for(plan, unit)
    if not unit.is_active:
        raise ValidationError(f"单位 {unit.name}（{unit.code}）已停用")
    existing = Responsibility.objects.filter(task=task, unit=unit).first()
    if existing is not None and existing.role == role:
        return existing
    with transaction.atomic():
        if existing is None:
            row = Responsibility.objects.create(
                task=task, unit=unit, role=role, level=level, division_code=unit.division_id
            )
        else:
            row = existing
            row.role = role
            row.save(update_fields=["role"])
        label = ResponsibilityRole(role).label
        _new_version(
            plan, action="responsibility_set", summary=f"任务 {task.number}：{unit.name} {label}", by=by
        )
        _record(
            "responsibility_set",
            plan,
            by=by,
            data={"task": task.number, "unit": unit.code, "role": role, "level": level},
            target=task,
        )
    return row


def remove_responsibility(responsibility: Responsibility, *, by: User | None = None) -> None:
    """Side effects: new version, audit row `plan.responsibility_removed`."""
    task = responsibility.task
    plan = task.plan
    data = {"task": task.number, "unit": responsibility.unit.code, "role": responsibility.role}
    with transaction.atomic():
        responsibility.delete()
        _new_version(
            plan, action="responsibility_removed", summary=f"任务 {task.number}：移除 {data['unit']}", by=by
        )
        _record("responsibility_removed", plan, by=by, data=data, target=task)


# --- Import ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportSummary:
    plan: Plan
    created: bool
    sections: int
    tasks: int
    tasks_created: int
    tasks_updated: int
    tasks_deleted: int
    responsibilities: int
    unmatched: int
    version: PlanVersion | None

    def lines(self) -> list[str]:
        state = "新建" if self.created else ("已更新" if self.version else "无变化")
        return [
            f"{self.plan.year} 年度实施方案《{self.plan.title}》（{self.plan.division.name}）：{state}，版本 {self.plan.version}",
            f"任务分组 {self.sections} 个；任务 {self.tasks} 项（新增 {self.tasks_created}，"
            f"更新 {self.tasks_updated}，删除 {self.tasks_deleted}）；责任单位 {self.responsibilities} 个；"
            f"未匹配名称 {self.unmatched} 个",
        ]


def import_plan(
    prepared: PreparedImport, *, title: str = "", allow_unmatched: bool = False, by: User | None = None
) -> ImportSummary:
    """Write a prepared plan: create it, or update the year's plan in place (sections by number,
    tasks by number, responsibilities by unit), so ids stay stable and nothing is duplicated.

    Tasks and sections the file no longer has are removed (refused, with nothing written, when a
    unit keeps a ledger for one of them). Raises UnmatchedNamesError (nothing
    written) when names were not matched, unless `allow_unmatched`.
    Side effects: a new version when the content changed, audit row `plan.imported`.
    """
    if prepared.unmatched and not allow_unmatched:
        raise UnmatchedNamesError(prepared)
    year = clean_year(prepared.year)
    parsed = prepared.plan
    with transaction.atomic():
        plan = Plan.objects.select_for_update().filter(division=prepared.division, year=year).first()
        created = plan is None
        new_title = _text(
            title or parsed.title or (plan.title if plan else default_title(prepared.division, year)),
            "标题",
            200,
            required=True,
        )
        texts = {
            "title": new_title,
            "preamble": parsed.preamble,
            "goals": parsed.goals,
            "requirements": parsed.requirements,
            "source_text": parsed.source_text,
        }
        if plan is None:
            plan = Plan.objects.create(division=prepared.division, year=year, **texts)
        else:
            changed = [name for name, value in texts.items() if getattr(plan, name) != value]
            if changed:
                for name in changed:
                    setattr(plan, name, texts[name])
                plan.save(update_fields=changed)
        before = _latest_snapshot(plan)

        sections = {section.number: section for section in plan.sections.all()}
        for order, parsed_section in enumerate(parsed.sections, start=1):
            section = sections.get(parsed_section.number)
            if section is None:
                sections[parsed_section.number] = Section.objects.create(
                    plan=plan, number=parsed_section.number, title=parsed_section.title, order=order
                )
            elif (section.title, section.order) != (parsed_section.title, order):
                section.title, section.order = parsed_section.title, order
                section.save(update_fields=["title", "order"])

        tasks = {task.number: task for task in plan.tasks.all()}
        wanted_numbers = {item.parsed.number for item in prepared.tasks}
        deleted = [number for number in tasks if number not in wanted_numbers]
        _refuse_if_ledgers([tasks[number] for number in deleted])
        Task.objects.filter(plan=plan, number__in=deleted).delete()
        created_count = updated_count = 0
        for item in prepared.tasks:
            fields = {
                "section": sections[item.section_number],
                "title": item.parsed.title,
                "body": item.parsed.body,
                "clause": item.parsed.clause,
                "open_parties": item.open_parties,
            }
            task = tasks.get(item.parsed.number)
            if task is None:
                task = Task.objects.create(plan=plan, number=item.parsed.number, **fields)
                _sync_responsibilities(task, item.responsibilities)
                created_count += 1
                continue
            changed = [name for name, value in fields.items() if getattr(task, name) != value]
            if changed:
                for name in changed:
                    setattr(task, name, fields[name])
                task.save(update_fields=changed)
            if _sync_responsibilities(task, item.responsibilities) or changed:
                updated_count += 1
        wanted_sections = {parsed_section.number for parsed_section in parsed.sections}
        Section.objects.filter(plan=plan).exclude(number__in=wanted_sections).delete()

        version = None
        if created or plan_document(plan, full=True) != before:
            version = _new_version(
                plan,
                action="imported",
                summary=f"导入：任务 {len(prepared.tasks)} 项，责任单位 {prepared.responsibility_count} 个",
                by=by,
            )
        summary = ImportSummary(
            plan=plan,
            created=created,
            sections=len(parsed.sections),
            tasks=len(prepared.tasks),
            tasks_created=created_count,
            tasks_updated=updated_count,
            tasks_deleted=len(deleted),
            responsibilities=prepared.responsibility_count,
            unmatched=len(prepared.unmatched),
            version=version,
        )
        _record(
            "imported",
            plan,
            by=by,
            data={
                "created": created,
                "changed": version is not None,
                "sections": summary.sections,
                "tasks": summary.tasks,
                "tasks_deleted": summary.tasks_deleted,
                "responsibilities": summary.responsibilities,
                "unmatched": [row.describe() for row in prepared.unmatched],
            },
        )
    return summary


def _latest_snapshot(plan: Plan) -> dict[str, Any] | None:
    return plan.versions.order_by("-number").values_list("snapshot", flat=True).first()


def _sync_responsibilities(task: Task, planned: list[PlannedResponsibility]) -> bool:
    """Make the task's rows equal `planned`, keeping the rows (and ids) of units still named."""
    existing = {row.unit_id: row for row in task.responsibilities.all()}
    wanted = {row.unit.pk: row for row in planned}
    changed = False
    stale = [row.pk for unit_id, row in existing.items() if unit_id not in wanted]
    if stale:
        Responsibility.objects.filter(pk__in=stale).delete()
        changed = True
    new_rows = []
    for unit_id, row in wanted.items():
        current = existing.get(unit_id)
        if current is None:
            new_rows.append(
                Responsibility(
                    task=task,
                    unit=row.unit,
                    role=row.role,
                    level=row.level,
                    division_code=row.unit.division_id,
                )
            )
        elif (current.role, current.level) != (row.role, row.level):
            current.role, current.level = row.role, row.level
            current.save(update_fields=["role", "level"])
            changed = True
    if new_rows:
        Responsibility.objects.bulk_create(new_rows)
        changed = True
    return changed
