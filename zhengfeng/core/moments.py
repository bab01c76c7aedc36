"""The one plausibility check of a time that has already happened (docs/security.md, "Plausible times").

A fact's time (an order received, an SMS sent to us, an action taken) comes from outside: a form, the
JSON API, an import file, a gateway webhook. A clock error or a crafted value (year 1, 9999-12-31)
is accepted by the database on SQLite and breaks reads on PostgreSQL (timestamptz out of Python's
range after the shift to UTC), so every boundary refuses it here, before anything is stored.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils import timezone

# The window is in the platform's local time whatever TIME_ZONE says: the oldest records migrated
# are from 2000, and one day of slack absorbs a sender's clock running ahead.
LOCAL = ZoneInfo("Asia/Shanghai")
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=LOCAL)
SLACK = dt.timedelta(days=1)


def plausible_window(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The earliest and latest plausible time of a fact that already happened, at `now`."""
    return EARLIEST, (now or timezone.now()) + SLACK


def plausible_moment(value: dt.datetime, *, field: str, now: dt.datetime | None = None) -> dt.datetime:
    """Return `value` when it lies between 2000-01-01 and now + 1 day (Asia/Shanghai), inclusive.

    `field` is the field's Chinese label, named in the message. Raises ValidationError (code
    "implausible_time") for a time outside the window, and (code "naive_time") for a naive one.
    No side effects.
    """
    if not isinstance(value, dt.datetime) or timezone.is_naive(value):
        raise ValidationError(
            "%(field)s必须是带时区的日期时间：%(value)s",
            code="naive_time",
            params={"field": field, "value": value},
        )
    earliest, latest = plausible_window(now)
    if not earliest <= value <= latest:
        raise ValidationError(
            "%(field)s %(value)s 不在合理范围内（%(earliest)s 至 %(latest)s）",
            code="implausible_time",
            params={
                "field": field,
                # The wall time as sent, unconverted: shifting year 1 or 9999 to another zone
                # can overflow, and the sender recognises its own value.
                "value": value.replace(tzinfo=None).isoformat(sep=" "),
                "earliest": f"{earliest:%Y-%m-%d}",
                "latest": f"{latest.astimezone(LOCAL):%Y-%m-%d %H:%M}",
            },
        )
    return value


def plausible_day(value: dt.date, *, field: str, now: dt.datetime | None = None) -> dt.date:
    """Return `value` when it lies between 2000-01-01 and tomorrow (Asia/Shanghai), inclusive.

    For date filters and date fields of past facts. Raises ValidationError (code "implausible_time").
    No side effects.
    """
    earliest, latest = plausible_window(now)
    if not earliest.date() <= value <= latest.astimezone(LOCAL).date():
        raise ValidationError(
            "%(field)s %(value)s 不在合理范围内（%(earliest)s 至 %(latest)s）",
            code="implausible_time",
            params={
                "field": field,
                "value": value.isoformat(),
                "earliest": f"{earliest:%Y-%m-%d}",
                "latest": f"{latest.astimezone(LOCAL):%Y-%m-%d}",
            },
        )
    return value
