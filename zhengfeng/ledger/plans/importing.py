"""Prepare a plan import: parse the file and find every named unit, without writing anything.

`prepare_import` returns everything `services.import_plan` needs, plus the names no unit answers
to, so the command can list them and stop before a single row is written. A text with gaps (a task
or group number skipped, a text cut off mid-paragraph: `planfile.sequence_problems`) is refused
unless `allow_gaps`; then the gaps travel with the result for the command to print.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from zhengfeng.ledger.models import ResponsibilityRole
from zhengfeng.ledger.plans.aliases import Miss, UnitResolver
from zhengfeng.ledger.plans.clauses import parse_clause
from zhengfeng.ledger.plans.planfile import (
    ParsedPlan,
    ParsedTask,
    PlanFileError,
    parse_plan_text,
    sequence_problems,
)
from zhengfeng.org.models import Division, Unit


class GapsError(PlanFileError):
    """The text has gaps (`errors`) though it follows the layout; `plan` is what was found."""

    def __init__(self, errors: list[str], plan: ParsedPlan) -> None:
        super().__init__(errors)
        self.plan = plan


@dataclass(frozen=True)
class PlannedResponsibility:
    unit: Unit
    role: str
    level: str


@dataclass
class PreparedTask:
    parsed: ParsedTask
    section_number: str
    responsibilities: list[PlannedResponsibility]
    open_parties: str


@dataclass
class Unmatched:
    phrase: str
    division: Division
    reason: str
    tasks: list[int] = field(default_factory=list)

    def describe(self) -> str:
        numbers = "、".join(str(number) for number in self.tasks)
        return (
            f"{self.division.name}（{self.division.code}）：“{self.phrase}” — {self.reason}（任务 {numbers}）"
        )


@dataclass
class PreparedImport:
    division: Division
    year: int
    plan: ParsedPlan
    tasks: list[PreparedTask]
    unmatched: list[Unmatched]
    # The gaps found and allowed (`allow_gaps`); empty for a complete text.
    gaps: list[str] = field(default_factory=list)

    @property
    def responsibility_count(self) -> int:
        return sum(len(task.responsibilities) for task in self.tasks)


def _strongest(rows: list[PlannedResponsibility]) -> list[PlannedResponsibility]:
    """One row per unit: a unit named twice in a clause keeps its strongest role."""
    best: dict[int, PlannedResponsibility] = {}
    for row in rows:
        current = best.get(row.unit.pk)
        if current is None or ResponsibilityRole.ORDER[row.role] < ResponsibilityRole.ORDER[current.role]:
            best[row.unit.pk] = row
    return list(best.values())


def prepare_import(text: str, *, division: Division, year: int, allow_gaps: bool = False) -> PreparedImport:
    """Parse `text` and resolve every clause against the org units of `division` and its counties.

    Raises PlanFileError listing every line that does not follow the layout or whose clause cannot be
    read, and (unless `allow_gaps`) every gap in the numbering or a text ending mid-paragraph: a
    truncated copy would otherwise be imported as a shorter plan without a word.
    """
    plan = parse_plan_text(text)
    gaps = sequence_problems(plan)
    if gaps and not allow_gaps:
        raise GapsError(gaps, plan)
    resolver = UnitResolver(division)
    errors: list[str] = []
    unmatched: dict[tuple[str, str], Unmatched] = {}
    prepared: list[PreparedTask] = []
    for section in plan.sections:
        for task in section.tasks:
            rows: list[PlannedResponsibility] = []
            open_parties: list[str] = []
            try:
                parties = parse_clause(task.clause, known=resolver.known) if task.clause else []
            except ValidationError as exc:
                errors.append(f"第 {task.line} 行：任务 {task.number}：{'；'.join(exc.messages)}")
                continue
            for party in parties:
                if party.open_ended:
                    open_parties.append(party.open_text)
                    continue
                for level in party.levels:
                    for target in resolver.divisions(level):
                        found = resolver.find(party.phrase, target)
                        if isinstance(found, Miss):
                            key = (found.phrase, target.code)
                            entry = unmatched.setdefault(key, Unmatched(found.phrase, target, found.reason))
                            if task.number not in entry.tasks:
                                entry.tasks.append(task.number)
                        else:
                            rows.append(PlannedResponsibility(unit=found, role=party.role, level=level))
            prepared.append(
                PreparedTask(
                    parsed=task,
                    section_number=section.number,
                    responsibilities=_strongest(rows),
                    open_parties="\n".join(dict.fromkeys(open_parties)),
                )
            )
    if errors:
        raise PlanFileError(errors)
    return PreparedImport(
        division=division,
        year=year,
        plan=plan,
        tasks=prepared,
        unmatched=sorted(unmatched.values(), key=lambda row: (row.division.code, row.tasks[0], row.phrase)),
        gaps=gaps,
    )
