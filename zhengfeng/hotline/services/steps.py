"""The inputs of each work-order action: one small frozen dataclass per action (`transition`'s data).

`transition(order, "dispatch", by=…, main_unit=unit)` builds `DispatchInput(main_unit=unit)`;
`perform(order, DispatchInput(main_unit=unit), by=…)` is the same call, typed. The values are checked
by the action itself (a bad one raises ValidationError naming it), so the types here say what each
field is meant to hold, not what a caller may have sent. Fields and defaults: docs/hotline.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

from django.core.files import File

from zhengfeng.hotline.models import WorkOrder
from zhengfeng.org.models import Unit

# A unit is given as the Unit row or its code.
UnitRef: TypeAlias = Unit | str


@dataclass(frozen=True)
class AnswerInput:
    text: str = ""


@dataclass(frozen=True)
class DispatchInput:
    # None: the 派单目录 chooses (services.dispatch_target).
    main_unit: UnitRef | None = None
    co_units: Sequence[UnitRef] = ()


@dataclass(frozen=True)
class SignInput:
    pass


@dataclass(frozen=True)
class RequestReturnInput:
    reason: str = ""
    evidence: File | None = None


@dataclass(frozen=True)
class ReviewReturnInput:
    decision: str = ""  # "reassign" | "overrule"
    note: str = ""
    main_unit: UnitRef | None = None
    co_units: Sequence[UnitRef] = ()


@dataclass(frozen=True)
class NoteInput:
    text: str = ""


@dataclass(frozen=True)
class RequestExtensionInput:
    days: int | None = None  # working days
    reason: str = ""


@dataclass(frozen=True)
class DecisionInput:
    """decide_extension, approve_reply and review_reply: yes or no, with a note (required for no)."""

    approve: bool | None = None
    note: str = ""


@dataclass(frozen=True)
class DraftReplyInput:
    text: str = ""


@dataclass(frozen=True)
class CallbackInput:
    reached: bool = True
    satisfaction: str = ""
    resolved: bool | None = None
    note: str = ""
    false_completion: bool = False
    reopen: bool = False


@dataclass(frozen=True)
class MergeInput:
    into: WorkOrder | None = None


@dataclass(frozen=True)
class VoidInput:
    reason: str = ""


@dataclass(frozen=True)
class ReferInput:
    to_unit: UnitRef | None = None
    reason: str = ""


# The input of any action: what `perform` takes.
Step: TypeAlias = (
    AnswerInput
    | DispatchInput
    | SignInput
    | RequestReturnInput
    | ReviewReturnInput
    | NoteInput
    | RequestExtensionInput
    | DecisionInput
    | DraftReplyInput
    | CallbackInput
    | MergeInput
    | VoidInput
    | ReferInput
)
