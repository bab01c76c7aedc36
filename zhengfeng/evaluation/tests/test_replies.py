import datetime as dt

import pytest

from zhengfeng.core import worker
from zhengfeng.core.models import AuditLog
from zhengfeng.evaluation import services
from zhengfeng.evaluation.models import Answer, Evaluation, Reply, ReplyOutcome
from zhengfeng.evaluation.tests.conftest import (
    NOW,
    OTHER_PHONE,
    PHONE,
    invite,
    local,
    process,
    reply,
    send_due,
)
from zhengfeng.messaging import services as messaging
from zhengfeng.messaging.models import InboundSms, OptOut, OutboxMessage

pytestmark = pytest.mark.django_db

SENT = NOW + dt.timedelta(minutes=30)


def outcomes():
    return list(Reply.objects.order_by("id").values_list("outcome", "parsed", "evaluation_id"))


def test_a_valid_reply_counts_with_its_delay(year, unit_a, zhang):
    evaluation = invite(unit_a, zhang)
    inbound = reply("１", at=SENT + dt.timedelta(minutes=2, seconds=5))

    stats = process(SENT + dt.timedelta(minutes=3))

    evaluation.refresh_from_db()
    assert (evaluation.answer, evaluation.answered_at, evaluation.answer_seconds) == (
        Answer.SATISFIED,
        SENT + dt.timedelta(minutes=2, seconds=5),
        125,
    )
    assert stats.as_dict() == {
        "counted": 1,
        "later": 0,
        "unrecognised": 0,
        "reasked": 0,
        "expired": 0,
        "no_invitation": 0,
        "skipped": 0,
        "parked": 0,
    }
    inbound.refresh_from_db()
    assert (inbound.matched_type, inbound.matched_id) == ("evaluation.evaluation", str(evaluation.pk))
    assert inbound.division_code == "441800"
    assert outcomes() == [(ReplyOutcome.COUNTED, Answer.SATISFIED, evaluation.pk)]
    assert AuditLog.objects.get(action="evaluation.replies_processed").data["counted"] == 1


def test_the_first_valid_answer_counts_and_later_ones_are_kept(year, unit_a, zhang):
    evaluation = invite(unit_a, zhang)
    reply("3", at=SENT + dt.timedelta(minutes=5))
    reply("1", at=SENT + dt.timedelta(minutes=6))

    process(SENT + dt.timedelta(minutes=10))

    evaluation.refresh_from_db()
    assert evaluation.answer == Answer.UNSATISFIED
    assert outcomes() == [
        (ReplyOutcome.COUNTED, Answer.UNSATISFIED, evaluation.pk),
        (ReplyOutcome.LATER, Answer.SATISFIED, evaluation.pk),
    ]


def test_an_unrecognised_reply_is_asked_again_once(year, unit_a, zhang, fake_carrier):
    evaluation = invite(unit_a, zhang)
    reply("还行", at=SENT + dt.timedelta(minutes=5))
    reply("你们是谁", at=SENT + dt.timedelta(minutes=6))

    stats = process(SENT + dt.timedelta(minutes=10))
    send_due(SENT + dt.timedelta(minutes=10))

    assert (stats.unrecognised, stats.reasked) == (2, 1)
    assert [sms["text"] for sms in fake_carrier][1:] == [
        "【清远正风】您好！未能识别您的回复。请回复一个数字评价清远市甲局张三同志于11月20日开展的执法检查："
        "1满意 2基本满意 3不满意。感谢您的支持！"
    ]
    reask = OutboxMessage.objects.get(source_type="evaluation.evaluation")
    assert reask.source_id == str(evaluation.pk)

    reply("2", at=SENT + dt.timedelta(minutes=20))
    process(SENT + dt.timedelta(minutes=21))

    evaluation.refresh_from_db()
    assert evaluation.answer == Answer.BASIC
    assert evaluation.reasked_at == SENT + dt.timedelta(minutes=10)


def test_unrecognised_after_an_answer_is_not_asked_again(year, unit_a, zhang):
    evaluation = invite(unit_a, zhang)
    reply("1", at=SENT + dt.timedelta(minutes=5))
    reply("谢谢", at=SENT + dt.timedelta(minutes=6))

    process(SENT + dt.timedelta(minutes=10))

    assert outcomes() == [
        (ReplyOutcome.COUNTED, Answer.SATISFIED, evaluation.pk),
        (ReplyOutcome.LATER, "", evaluation.pk),
    ]
    assert OutboxMessage.objects.count() == 1


def test_the_most_recent_invitation_within_its_window_gets_the_reply(year, unit_a, zhang, li):
    older = invite(unit_a, zhang, at=local(11, 16, 10))
    newer = invite(unit_a, li, at=local(11, 18, 10))
    other = invite(unit_a, zhang, at=local(11, 19, 10), phone=OTHER_PHONE)

    reply("2", at=local(11, 19, 12))
    process(local(11, 19, 12, 1))

    assert [(e.pk, e.answer) for e in Evaluation.objects.order_by("id")] == [
        (older.pk, ""),
        (newer.pk, Answer.BASIC),
        (other.pk, ""),
    ]


def test_an_expired_window_is_not_counted_and_the_reply_is_left_for_others(year, unit_a, zhang):
    evaluation = invite(unit_a, zhang)
    late = reply("1", at=SENT + dt.timedelta(days=7))
    in_time = reply("1", at=SENT + dt.timedelta(days=7) - dt.timedelta(seconds=1), phone=OTHER_PHONE)

    stats = process(SENT + dt.timedelta(days=8))

    evaluation.refresh_from_db()
    assert evaluation.answer == ""
    assert (stats.expired, stats.no_invitation) == (1, 1)
    assert outcomes() == [
        (ReplyOutcome.NO_INVITATION, Answer.SATISFIED, None),
        (ReplyOutcome.EXPIRED, Answer.SATISFIED, evaluation.pk),
    ]
    late.refresh_from_db()
    in_time.refresh_from_db()
    assert (late.handled_at, in_time.handled_at) == (None, None)
    # Looked at once: a second pass does nothing.
    assert process(SENT + dt.timedelta(days=9)).as_dict() == dict.fromkeys(stats.as_dict(), 0)


def test_a_reply_before_the_invitation_was_sent_does_not_count(year, unit_a, zhang):
    evaluation = invite(unit_a, zhang)
    reply("1", at=SENT - dt.timedelta(minutes=1))

    process(SENT + dt.timedelta(minutes=1))

    evaluation.refresh_from_db()
    assert evaluation.answer == ""
    assert outcomes() == [(ReplyOutcome.NO_INVITATION, Answer.SATISFIED, None)]


def test_a_window_is_the_year_setting_at_invitation_time(year, unit_a, zhang):
    year.reply_window_days = 2
    year.save()
    evaluation = invite(unit_a, zhang)
    reply("1", at=SENT + dt.timedelta(days=2, minutes=1))

    process(SENT + dt.timedelta(days=3))

    evaluation.refresh_from_db()
    assert (evaluation.window_days, evaluation.answer) == (2, "")


def test_opt_out_is_messagings_and_not_an_answer(year, unit_a, zhang):
    evaluation = invite(unit_a, zhang)
    reply("ＴＤ", at=SENT + dt.timedelta(minutes=1))

    stats = process(SENT + dt.timedelta(minutes=2))

    evaluation.refresh_from_db()
    assert evaluation.answer == ""
    assert stats.as_dict() == dict.fromkeys(stats.as_dict(), 0)
    assert OptOut.objects.count() == 1
    assert Reply.objects.count() == 0


def test_a_reply_handled_by_another_module_is_skipped(year, unit_a, zhang):
    evaluation = invite(unit_a, zhang)
    inbound = reply("1", at=SENT + dt.timedelta(minutes=1))
    messaging.mark_inbound_handled(inbound)

    process(SENT + dt.timedelta(minutes=2))

    evaluation.refresh_from_db()
    assert evaluation.answer == ""


def test_the_worker_job_matches_replies(year, unit_a, zhang):
    evaluation = invite(unit_a, zhang)
    reply("满意", at=SENT + dt.timedelta(minutes=1))

    results = worker.run_due_jobs(SENT + dt.timedelta(minutes=2), only="evaluation.match_replies")

    assert results == {"evaluation.match_replies": None}
    evaluation.refresh_from_db()
    assert evaluation.answer == Answer.SATISFIED


def test_nothing_to_do_writes_no_audit_row(year):
    process(NOW)

    assert not AuditLog.objects.filter(action="evaluation.replies_processed").exists()
    assert InboundSms.objects.count() == 0


def test_reply_in_batches(year, unit_a, zhang):
    evaluations = [invite(unit_a, zhang, phone=f"139000000{i:02d}") for i in range(5)]
    for i in range(5):
        reply(str(i % 3 + 1), at=SENT + dt.timedelta(minutes=1), phone=f"139000000{i:02d}")

    stats = services.process_replies(SENT + dt.timedelta(minutes=2), batch_size=2)

    assert stats.counted == 5
    assert [Evaluation.objects.get(pk=e.pk).answer for e in evaluations] == [
        Answer.SATISFIED,
        Answer.BASIC,
        Answer.UNSATISFIED,
        Answer.SATISFIED,
        Answer.BASIC,
    ]
    assert PHONE not in str(AuditLog.objects.values_list("data", flat=True))
