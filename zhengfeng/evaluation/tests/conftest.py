"""Fixtures for 公述民评 tests: the 2015 year with units A and B (personas), their staff, and helpers
that drive the real outbox and inbound SMS (only the carrier is fake: the locmem gateway)."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo

import pytest
import time_machine

from zhengfeng.evaluation import services
from zhengfeng.evaluation.models import ActionSource, ActionType
from zhengfeng.messaging import services as messaging
from zhengfeng.messaging import transports
from zhengfeng.messaging.sending import drain_outbox

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# A Friday morning, outside the quiet hours (21:00-08:00).
NOW = dt.datetime(2015, 11, 20, 10, 0, tzinfo=SHANGHAI)
PHONE = "13812345678"
OTHER_PHONE = "13987654321"

_inbound_ids = itertools.count(1)


def local(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2015, month, day, hour, minute, second, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def fake_carrier():
    transports.reset_locmem()
    yield transports.outbox
    transports.reset_locmem()


@pytest.fixture
def year(city, unit_a, unit_b):
    return services.create_year(division=city, year=2015, key_units=[unit_a, unit_b])


@pytest.fixture
def zhang(unit_a):
    return services.create_staff(unit=unit_a, name="张三", title="执法大队队长", is_disclosed=True)


@pytest.fixture
def li(unit_a):
    return services.create_staff(unit=unit_a, name="李四", title="科员", department="法规科")


@pytest.fixture
def wang(unit_b):
    return services.create_staff(unit=unit_b, name="王五", title="监督员", is_disclosed=True)


def record(unit, staff, *, at=NOW, phone=PHONE, name="某某餐饮店", kind=ActionType.INSPECTION, **kwargs):
    """Record an action at `at` (the time of entry = the time of the visit)."""
    with time_machine.travel(at, tick=False):
        return services.record_action(
            unit=unit,
            staff=staff if isinstance(staff, list) else [staff],
            action_type=kind,
            acted_at=at,
            subject_name=name,
            subject_phone=phone,
            source=kwargs.pop("source", ActionSource.MANUAL),
            **kwargs,
        )


def send_due(at):
    """The worker's outbox pass at `at`."""
    with time_machine.travel(at, tick=False):
        return drain_outbox(at)


def invite(unit, staff, *, at=NOW, **kwargs):
    """Record an action and let the worker send its invitation 30 minutes later; returns the evaluation."""
    action = record(unit, staff, at=at, **kwargs)
    send_due(at + dt.timedelta(minutes=30))
    evaluation = action.evaluation
    evaluation.message.refresh_from_db()
    return evaluation


def reply(text, *, at, phone=PHONE):
    """An inbound SMS as the gateway's webhook stores it."""
    inbound, _ = messaging.receive_inbound_sms(
        provider_id=f"gw-{next(_inbound_ids)}", phone=phone, to_number="10690000", text=text, received_at=at
    )
    return inbound


def process(at):
    with time_machine.travel(at, tick=False):
        return services.process_replies(at)
