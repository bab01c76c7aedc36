"""Anti-rigging rules (防刷票): each a small function over the year's records returning what to flag.

A rule returns `Hit`s (the record and the reason shown to the office); `run_rules` flags them
through `services.flag_record`, which leaves reviewed records alone and ignores a reason already
recorded, so running the rules again changes nothing. Reasons state the threshold, not a running
count, so that they stay the same from one run to the next. Thresholds live on `EvaluationYear`
(docs/evaluation.md §9).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from zhengfeng.core import audit
from zhengfeng.evaluation import services
from zhengfeng.evaluation.models import (
    ActionStaff,
    DisclosedStaff,
    EnforcementAction,
    Evaluation,
    EvaluationYear,
    OnlineVote,
)
from zhengfeng.org.models import Position, User


@dataclass(frozen=True)
class Hit:
    record: Evaluation | OnlineVote
    reason: str


def _evaluations(evaluation_year: EvaluationYear) -> QuerySet[Evaluation]:
    return Evaluation.objects.filter(action__year=evaluation_year)


def in_windows(items: Iterable[tuple[dt.datetime, int]], span: dt.timedelta, count: int) -> set[int]:
    """Ids of the items lying in some run of at least `count` items less than `span` apart (first to last)."""
    ordered = sorted(items)
    hits: set[int] = set()
    left = 0
    for right in range(len(ordered)):
        while ordered[right][0] - ordered[left][0] >= span:
            left += 1
        if right - left + 1 >= count:
            hits.update(pk for _at, pk in ordered[left : right + 1])
    return hits


def staff_phone(evaluation_year: EvaluationYear) -> list[Hit]:
    """(a) The party visited answers on the phone of someone working in the evaluated unit.

    Staff phones come from org people holding a position in the unit (not ended before the year
    began) and from the disclosed staff linked to a person; compared by blind index.
    """
    year_start = dt.date(evaluation_year.year, 1, 1)
    positions = Position.objects.filter(
        unit_id=OuterRef("action__unit_id"), person__phone_index=OuterRef("phone_index")
    ).filter(Q(ended_on__isnull=True) | Q(ended_on__gte=year_start))
    staff = DisclosedStaff.objects.filter(
        unit_id=OuterRef("action__unit_id"), person__phone_index=OuterRef("phone_index")
    )
    rows = _evaluations(evaluation_year).filter(Exists(positions) | Exists(staff))
    return [Hit(row, "(a) 执法对象的手机号码是被评议单位工作人员的号码") for row in rows]


def repeated_subject(evaluation_year: EvaluationYear) -> list[Hit]:
    """(b) One phone as the party visited by the same staff member many times within a period."""
    count, days = evaluation_year.rule_repeat_count, evaluation_year.rule_repeat_days
    groups: dict[tuple[int, str], list[tuple[dt.datetime, int]]] = defaultdict(list)
    names: dict[int, str] = {}
    for staff_id, name, phone, acted_at, evaluation_id in ActionStaff.objects.filter(
        action__year=evaluation_year, action__evaluation__isnull=False
    ).values_list(
        "staff_id", "staff__name", "action__subject_phone_index", "action__acted_at", "action__evaluation"
    ):
        groups[(staff_id, phone)].append((acted_at, evaluation_id))
        names[staff_id] = name
    flagged: dict[int, str] = {}
    for (staff_id, _phone), items in groups.items():
        for pk in in_windows(items, dt.timedelta(days=days), count):
            flagged.setdefault(
                pk, f"(b) 同一号码在 {days} 天内至少 {count} 次作为{names[staff_id]}的执法对象"
            )
    return _hits(Evaluation, flagged)


def entry_burst(evaluation_year: EvaluationYear) -> list[Hit]:
    """(c) Many actions entered by one unit within a few minutes (by the time of entry)."""
    count, minutes = evaluation_year.rule_burst_count, evaluation_year.rule_burst_minutes
    groups: dict[int, list[tuple[dt.datetime, int]]] = defaultdict(list)
    for unit_id, created_at, evaluation_id in EnforcementAction.objects.filter(
        year=evaluation_year, evaluation__isnull=False
    ).values_list("unit_id", "created_at", "evaluation"):
        groups[unit_id].append((created_at, evaluation_id))
    flagged: dict[int, str] = {}
    for items in groups.values():
        for pk in in_windows(items, dt.timedelta(minutes=minutes), count):
            flagged[pk] = f"(c) 本单位在 {minutes} 分钟内集中录入至少 {count} 条执法监督记录"
    return _hits(Evaluation, flagged)


def fast_answer(evaluation_year: EvaluationYear) -> list[Hit]:
    """(d) The counted answer arrived faster than anyone could read the SMS."""
    limit = evaluation_year.rule_fast_seconds
    rows = _evaluations(evaluation_year).filter(answer_seconds__isnull=False, answer_seconds__lt=limit)
    return [Hit(row, f"(d) 评议短信发出后 {row.answer_seconds} 秒即回复（少于 {limit} 秒）") for row in rows]


def vote_burst(evaluation_year: EvaluationYear) -> list[Hit]:
    """(e) Many online votes from one /24 network or one device within a short time."""
    count, minutes = evaluation_year.rule_vote_count, evaluation_year.rule_vote_minutes
    span = dt.timedelta(minutes=minutes)
    networks: dict[str, list[tuple[dt.datetime, int]]] = defaultdict(list)
    devices: dict[str, list[tuple[dt.datetime, int]]] = defaultdict(list)
    for pk, network, device, created_at in OnlineVote.objects.filter(year=evaluation_year).values_list(
        "pk", "ip_network", "device_id", "created_at"
    ):
        if network:
            networks[network].append((created_at, pk))
        devices[device].append((created_at, pk))
    hits: list[Hit] = []
    for network, items in networks.items():
        reason = f"(e) 同一网段 {network} 在 {minutes} 分钟内至少 {count} 票"
        hits += _hits(OnlineVote, dict.fromkeys(in_windows(items, span, count), reason))
    for items in devices.values():
        reason = f"(e) 同一设备在 {minutes} 分钟内至少 {count} 票"
        hits += _hits(OnlineVote, dict.fromkeys(in_windows(items, span, count), reason))
    return hits


def same_name_phones(evaluation_year: EvaluationYear) -> list[Hit]:
    """(f) One subject name with several phones: same unit, same quarter, ≥ N distinct numbers."""
    limit = evaluation_year.rule_name_phones
    groups: dict[tuple[int, str, int], dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for unit_id, name, phone, acted_at, evaluation_id in EnforcementAction.objects.filter(
        year=evaluation_year, evaluation__isnull=False
    ).values_list("unit_id", "subject_name_index", "subject_phone_index", "acted_at", "evaluation"):
        quarter = (timezone.localtime(acted_at).month - 1) // 3 + 1
        groups[(unit_id, name, quarter)][phone].append(evaluation_id)
    flagged: dict[int, str] = {}
    for (_unit, _name, quarter), phones in groups.items():
        if len(phones) >= limit:
            reason = f"(f) 同一执法对象名称在第{quarter}季度使用了至少 {limit} 个不同手机号码"
            for ids in phones.values():
                flagged.update(dict.fromkeys(ids, reason))
    return _hits(Evaluation, flagged)


def _hits(model: type[Evaluation] | type[OnlineVote], flagged: dict[int, str]) -> list[Hit]:
    if not flagged:
        return []
    return [Hit(row, flagged[row.pk]) for row in model.objects.filter(pk__in=list(flagged)).order_by("pk")]


RULES: dict[str, Callable[[EvaluationYear], list[Hit]]] = {
    "a_staff_phone": staff_phone,
    "b_repeated_subject": repeated_subject,
    "c_entry_burst": entry_burst,
    "d_fast_answer": fast_answer,
    "e_vote_burst": vote_burst,
    "f_same_name_phones": same_name_phones,
}


def run_rules(evaluation_year: EvaluationYear, *, by: User | None = None) -> dict[str, int]:
    """Run every rule over the year and flag what they find; returns new flags per rule.

    Idempotent: a record already flagged for the same reason, or already reviewed, is left alone.
    Side effects: flags (audit rows `evaluation.flagged` / `evaluation.vote_flagged` each) and one
    `evaluation.rules_run` audit row when anything new was flagged.
    """
    counts: dict[str, int] = {}
    for name, rule in RULES.items():
        counts[name] = sum(
            services.flag_record(hit.record, reason=hit.reason, by=by) for hit in rule(evaluation_year)
        )
    if any(counts.values()):
        with transaction.atomic():
            audit.record(
                "evaluation.rules_run",
                by=by,
                target=evaluation_year,
                division_code=evaluation_year.division_id,
                data=counts,
            )
    return counts
