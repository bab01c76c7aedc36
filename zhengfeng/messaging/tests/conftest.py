import datetime as dt
import zoneinfo

import pytest

from zhengfeng.messaging import transports

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
PHONE = "13812345678"


def local(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    """An aware time in Asia/Shanghai, the zone quiet hours and the UI use."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def fake_carrier():
    """The locmem gateway (SMS_BACKEND=locmem in tests) starts empty and unscripted in every test."""
    transports.reset_locmem()
    yield transports.outbox
    transports.reset_locmem()
