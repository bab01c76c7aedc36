"""Anti-rigging: flags, the office's review and the clues handed on."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from zhengfeng.core import audit
from zhengfeng.core.crypto import mask_phone
from zhengfeng.evaluation.models import Clue, EnforcementAction, Evaluation, FlagState, OnlineVote
from zhengfeng.evaluation.services.years import _clean_text
from zhengfeng.org.models import Division, Unit, UnitKind, User

# --- Anti-rigging: flags and the office's review -------------------------------------------------


def _flag_label(record: Evaluation | OnlineVote) -> str:
    return f"评议 #{record.pk}" if isinstance(record, Evaluation) else f"网上评议 #{record.pk}"


def _audit_name(record: Evaluation | OnlineVote, suffix: str) -> str:
    """evaluation.flagged for SMS evaluations, evaluation.vote_flagged for online votes."""
    return f"evaluation.{suffix}" if isinstance(record, Evaluation) else f"evaluation.vote_{suffix}"


def flag_record(record: Evaluation | OnlineVote, *, reason: str, by: User | None = None) -> bool:
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


def flag_evaluation(evaluation: Evaluation, *, reason: str, by: User | None = None) -> bool:
    """`flag_record` for an SMS evaluation (the part 1 hook)."""
    return flag_record(evaluation, reason=reason, by=by)


def review_record(
    record: Evaluation | OnlineVote,
    *,
    confirm: bool,
    reason: str,
    by: User,
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
    evaluation: Evaluation, *, confirm: bool, reason: str, by: User, refer: bool = False
) -> Evaluation:
    """`review_record` for an SMS evaluation (the part 1 hook)."""
    # The record given is the one returned, refreshed.
    review_record(evaluation, confirm=confirm, reason=reason, by=by, refer=refer)
    return evaluation


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


def create_clue(record: Evaluation | OnlineVote, *, by: User) -> Clue:
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
