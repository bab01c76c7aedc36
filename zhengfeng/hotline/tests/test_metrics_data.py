"""The hand-computed fixture of the metrics tests: March 2026, units A (市甲局) and B (市乙局).

Every order goes through the hotline services. Figures are taken at `AT` (2026-03-31 18:00).
Working days: sign-for 1, reply 10 (求助), 行风热线 5; a limit ends at close of business of the N-th
working day after the start day.

| order | unit | story |
|---|---|---|
| o1 | A | dispatched 03-02, signed on time, replied 03-05, callback 满意 + resolved → closed 03-06 |
| o2 | A | dispatched 03-02, signed 03-04 (late), replied 03-10, callback 基本满意, not resolved → closed 03-11 |
| o3 | A | dispatched 03-03, return asked 03-03, overruled 03-04 (不当退单, forced), never replied (due 03-18) |
| o4 | A→B | dispatched to A 03-05, return accepted 03-06 → B signs 03-06, replies 03-09, callback 不满意 → reopened 03-10, replies 03-20, callback 满意 + resolved → closed 03-23 |
| o5 | A | anonymous: dispatched 03-09, signed, replied 03-12, review passed → closed without callback |
| o6 | A | dispatched 03-10, never signed (sign-for overdue since 03-11) |
| o7 | A | dispatched 03-11, merged into o6 (counts once: not at all by itself) |
| o8 | B | 行风热线: dispatched 03-02, signed, replied 03-10 (late: due 03-09), callback 满意 + resolved → closed 03-11 |

Expected figures (March 2026, at AT):

unit A: dispatched 6 (o1 o2 o3 o4 o5 o6), received 6; sign_base 5 (o4's accepted return leaves it),
signed_on_time 2 (o1 o5) → 40.0 %; signed_late 1 (o2); returned 2 (o3 o4) → 33.3 %; improper 1 (o3);
reply_due 4 (o1 o2 o3 o5), on time 3 → 75.0 %; replied_late 0; sign_overdue_now 1 (o6);
reply_overdue_now 1 (o3); closed 3 (o1 o2 o5), callback_expected 2 (o5 anonymous), called_back 2 →
100.0 %; rated 2, satisfied 2 → 100.0 %; resolved 1 → 50.0 %; reopened 0 → 0.0 %.

unit B: dispatched 2 (o4 reassigned, o8), received 2, sign_base 2, on time 2 → 100.0 %; returned 0 → 0.0 %;
reply_due 3 (o4 round 1, o4 reopen round, o8), on time 2, late 1 → 66.7 %; closed 2, expected 2,
called back 2, rated 2, satisfied 2, resolved 2 → 100.0 %; reopened 1 → 50.0 %.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from zhengfeng.hotline import services
from zhengfeng.hotline.models import WorkOrder

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
AT = dt.datetime(2026, 3, 31, 18, 0, tzinfo=SHANGHAI)
REQUESTER_NAME = "王小明"
REQUESTER_PHONE = "13800138000"


def day(d: int, hour: int = 10, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, d, hour, 0, tzinfo=SHANGHAI)


@dataclass
class March:
    orders: dict[str, WorkOrder]
    operator: object
    liaison_a: object
    liaison_b: object


def _receive(operator, when, *, anonymous=False, channel="phone", title="路灯不亮"):
    values = {
        "channel": channel,
        "request_type": "help",
        "title": title,
        "content": "小区门口路灯已坏一周，夜间出行不便。",
        "division": "441800",
    }
    if anonymous:
        values["is_anonymous"] = True
    else:
        values.update(requester_name=REQUESTER_NAME, requester_phone=REQUESTER_PHONE)
    return services.receive_work_order(by=operator, at=when, **values).order


def _evidence() -> SimpleUploadedFile:
    return SimpleUploadedFile("三定方案.pdf", b"%PDF-1.4 evidence", content_type="application/pdf")


def build_march(
    operator, unit_a, unit_b, liaison_a, liaison_b, handler_a, head_a, handler_b, head_b
) -> March:
    go = services.transition

    def reply(order, handler, head, when):
        go(order, "draft_reply", by=handler, at=when, text="已安排维修，路灯恢复正常。")
        go(order, "approve_reply", by=head, at=when, approve=True)

    def passed(order, when):
        go(order, "review_reply", by=operator, at=when, approve=True)

    def callback(order, when, satisfaction, resolved, reopen=False):
        go(
            order,
            "callback",
            by=operator,
            at=when,
            satisfaction=satisfaction,
            resolved=resolved,
            reopen=reopen,
        )

    def dispatch(order, unit, when):
        go(order, "dispatch", by=operator, at=when, main_unit=unit)

    o1 = _receive(operator, day(2))
    dispatch(o1, unit_a, day(2))
    go(o1, "sign", by=liaison_a, at=day(2, 11))
    reply(o1, handler_a, head_a, day(5))
    passed(o1, day(5, 15))
    callback(o1, day(6), "satisfied", True)

    o2 = _receive(operator, day(2))
    dispatch(o2, unit_a, day(2))
    go(o2, "sign", by=liaison_a, at=day(4))
    reply(o2, handler_a, head_a, day(10))
    passed(o2, day(10, 15))
    callback(o2, day(11), "basically", False)

    o3 = _receive(operator, day(3))
    dispatch(o3, unit_a, day(3))
    go(o3, "request_return", by=liaison_a, at=day(3, 11), reason="不属本单位职责", evidence=_evidence())
    go(o3, "review_return", by=operator, at=day(4), decision="overrule", note="属本单位职责")

    o4 = _receive(operator, day(5))
    dispatch(o4, unit_a, day(5))
    go(o4, "request_return", by=liaison_a, at=day(5, 11), reason="不属本单位职责", evidence=_evidence())
    go(o4, "review_return", by=operator, at=day(6), decision="reassign", main_unit=unit_b)
    go(o4, "sign", by=liaison_b, at=day(6, 11))
    reply(o4, handler_b, head_b, day(9))
    passed(o4, day(9, 15))
    callback(o4, day(10), "dissatisfied", False, reopen=True)
    reply(o4, handler_b, head_b, day(20))
    passed(o4, day(20, 15))
    callback(o4, day(23), "satisfied", True)

    o5 = _receive(operator, day(9), anonymous=True)
    dispatch(o5, unit_a, day(9))
    go(o5, "sign", by=liaison_a, at=day(9, 11))
    reply(o5, handler_a, head_a, day(12))
    passed(o5, day(12, 15))

    o6 = _receive(operator, day(10), title="井盖缺失")
    dispatch(o6, unit_a, day(10))

    o7 = _receive(operator, day(11), title="井盖缺失")
    dispatch(o7, unit_a, day(11))
    go(o7, "merge", by=operator, at=day(11, 11), into=o6)

    o8 = _receive(operator, day(2), channel="radio", title="办证难")
    dispatch(o8, unit_b, day(2))
    go(o8, "sign", by=liaison_b, at=day(2, 11))
    reply(o8, handler_b, head_b, day(10))
    passed(o8, day(10, 15))
    callback(o8, day(11), "satisfied", True)

    orders = {
        name: WorkOrder.objects.get(pk=o.pk)
        for name, o in locals().items()
        if name[:1] == "o" and name[1:].isdigit()
    }
    return March(orders=orders, operator=operator, liaison_a=liaison_a, liaison_b=liaison_b)


@pytest.fixture(name="march")
def march_fixture(
    operator, unit_a, unit_b, liaison_a, liaison_b, handler_a, head_a, handler_b, head_b
) -> March:
    return build_march(operator, unit_a, unit_b, liaison_a, liaison_b, handler_a, head_a, handler_b, head_b)
