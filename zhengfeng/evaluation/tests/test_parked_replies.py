"""A bad inbound row already in the table never stops `evaluation.match_replies`: it is parked with its
reason and the good replies go on (core.moments, messaging.services.park_inbound)."""

import datetime as dt

import pytest

from zhengfeng.core.models import AuditLog
from zhengfeng.evaluation.models import Answer, Reply, ReplyOutcome
from zhengfeng.evaluation.tests.conftest import NOW, OTHER_PHONE, invite, process, reply
from zhengfeng.messaging.models import InboundSms
from zhengfeng.messaging.tests.test_plausible_times import write_unreadable_row

pytestmark = pytest.mark.django_db

SENT = NOW + dt.timedelta(minutes=30)


def test_a_bad_row_is_parked_with_its_reason_and_the_good_replies_go_on(year, unit_a, zhang, li):
    first = invite(unit_a, zhang)
    second = invite(unit_a, li, phone=OTHER_PHONE)
    good = reply("1", at=SENT + dt.timedelta(minutes=2))
    unreadable = write_unreadable_row()
    # Readable but implausible: stored directly, as the webhook stored such rows before the window.
    implausible = reply("2", at=SENT + dt.timedelta(minutes=3), phone=OTHER_PHONE)
    InboundSms.objects.filter(pk=implausible.pk).update(received_at=dt.datetime(1999, 12, 31, tzinfo=dt.UTC))
    later = reply("2", at=SENT + dt.timedelta(minutes=4), phone=OTHER_PHONE)

    stats = process(SENT + dt.timedelta(minutes=10))

    assert (stats.counted, stats.parked, stats.skipped) == (2, 2, 0)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.answer, second.answer) == (Answer.SATISFIED, Answer.BASIC)
    assert sorted(Reply.objects.values_list("inbound_id", "outcome")) == sorted(
        [(good.pk, ReplyOutcome.COUNTED), (later.pk, ReplyOutcome.COUNTED)]
    )
    parked = dict(InboundSms.objects.exclude(parked_reason="").values_list("pk", "parked_reason"))
    assert parked == {
        unreadable: "接收时间无法读取（超出可表示的日期范围），请核对短信网关送来的时间",
        implausible.pk: "接收时间 1999-12-31 00:00:00 不在合理范围内（2000-01-01 至 2015-11-21 10:40）",
    }
    assert InboundSms.objects.filter(pk__in=parked, handled_at__isnull=True).count() == 2
    assert AuditLog.objects.filter(action="messaging.inbound_parked").count() == 2

    before = (Reply.objects.count(), AuditLog.objects.count())
    again = process(SENT + dt.timedelta(minutes=11))

    assert again.as_dict() == dict.fromkeys(again.as_dict(), 0)
    assert (Reply.objects.count(), AuditLog.objects.count()) == before
