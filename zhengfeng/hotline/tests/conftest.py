"""Hotline personas and helpers (on top of the shared ones in zhengfeng/conftest.py).

- `operator`: 12345 operator of the city (unit 市12345热线); `county_operator` of 清城区.
- unit A (市甲局): `liaison_a`, `handler_a`, `head_a`; unit B (市乙局): `liaison_b`, `handler_b`, `head_b`.
- `discipline`: the city 纪委监委 unit. `category`: 城乡建设/市政设施/路灯故障 with a dispatch rule
  → unit A (co: none); `other_category`: 教育文体/教育/招生 without a rule.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from zhengfeng.hotline import services
from zhengfeng.hotline.category_import import import_categories
from zhengfeng.hotline.models import Category, DispatchRule
from zhengfeng.org.models import Role, UnitKind
from zhengfeng.testing.factories import UnitFactory, UserFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# Wednesday 2026-09-30 10:00, the last working day before the National Day holiday (10-01 to 10-07;
# 10-10 is a 补班 Saturday).
EVE = dt.datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)
# A Wednesday in an ordinary working week.
WED = dt.datetime(2026, 3, 11, 10, 0, tzinfo=SHANGHAI)
PHONE = "13800138000"


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    # Staff logins are not under test: a fast hasher for the personas (argon2 stays for query passwords).
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]


@pytest.fixture
def categories(db):
    import_categories([("城乡建设", "市政设施", "路灯故障"), ("教育文体", "教育", "招生")])
    return Category.objects.get(path="城乡建设/市政设施/路灯故障"), Category.objects.get(
        path="教育文体/教育/招生"
    )


@pytest.fixture
def category(categories, unit_a):
    leaf = categories[0]
    DispatchRule.objects.create(category=leaf.parent.parent, unit=unit_a)
    return leaf


@pytest.fixture
def other_category(categories):
    return categories[1]


@pytest.fixture
def hotline_unit(city):
    return UnitFactory(code="441800-RX", name="市12345热线", kind=UnitKind.SERVICE_CENTER, division=city)


@pytest.fixture
def operator(hotline_unit):
    return UserFactory(username="operator", role=Role.OPERATOR, unit=hotline_unit)


@pytest.fixture
def county_operator(qingcheng):
    unit = UnitFactory(
        code="441802-RX", name="清城区12345热线", kind=UnitKind.SERVICE_CENTER, division=qingcheng
    )
    return UserFactory(username="county_operator", role=Role.OPERATOR, unit=unit)


@pytest.fixture
def handler_a(unit_a):
    return UserFactory(username="handler_a", role=Role.HANDLER, unit=unit_a)


@pytest.fixture
def head_a(unit_a):
    return UserFactory(username="head_a", role=Role.HEAD, unit=unit_a)


@pytest.fixture
def handler_b(unit_b):
    return UserFactory(username="handler_b", role=Role.HANDLER, unit=unit_b)


@pytest.fixture
def head_b(unit_b):
    return UserFactory(username="head_b", role=Role.HEAD, unit=unit_b)


@pytest.fixture
def discipline(city):
    return UnitFactory(code="441800-JW", name="市纪委监委机关", kind=UnitKind.DISCIPLINE, division=city)


def evidence(name: str = "三定方案.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 evidence", content_type="application/pdf")


def receive(operator, *, at=EVE, **overrides):
    """A 求助 by phone in 清远市 with a named requester; returns the order."""
    values: dict[str, Any] = {
        "channel": "phone",
        "request_type": "help",
        "title": "路灯不亮",
        "content": "小区门口路灯已坏一周，夜间出行不便。",
        "division": "441800",
        "requester_name": "王小明",
        "requester_phone": PHONE,
    }
    values.update(overrides)
    return services.receive_work_order(by=operator, at=at, **values).order


def dispatched(operator, unit, *, at=EVE, **overrides):
    order = receive(operator, at=at, **overrides)
    return services.transition(order, "dispatch", by=operator, at=at, main_unit=unit)


def handling(operator, liaison, *, at=EVE, sign_at=None, **overrides):
    order = dispatched(operator, liaison.unit, at=at, **overrides)
    return services.transition(order, "sign", by=liaison, at=sign_at or at)


def replied(operator, liaison, handler, head, *, at=EVE, reply_at=None, **overrides):
    order = handling(operator, liaison, at=at, **overrides)
    when = reply_at or at
    services.transition(order, "draft_reply", by=handler, at=when, text="已安排维修，路灯恢复正常。")
    return services.transition(order, "approve_reply", by=head, at=when, approve=True)
