"""SMS quiet hours (免打扰时段): no SMS reaches a citizen's phone at night.

`settings.SMS_QUIET_HOURS` is ((start_h, start_m), (end_h, end_m)) in settings.TIME_ZONE, possibly
wrapping midnight (21:00-08:00), or None when disabled. Read on every call so tests can override it.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone


def quiet_window_end(at: dt.datetime) -> dt.datetime | None:
    """The end of the quiet window `at` falls in, or None when `at` is outside it (or it is disabled)."""
    window = settings.SMS_QUIET_HOURS
    if not window:
        return None
    (start_h, start_m), (end_h, end_m) = window
    start, end = dt.time(start_h, start_m), dt.time(end_h, end_m)
    if start == end:
        # A zero-length window: nothing is quiet.
        return None
    tz = timezone.get_default_timezone()
    local = at.astimezone(tz)
    day, clock = local.date(), local.time()
    if start < end:
        inside, end_day = start <= clock < end, day
    elif clock >= start:
        inside, end_day = True, day + dt.timedelta(days=1)
    else:
        inside, end_day = clock < end, day
    if not inside:
        return None
    return dt.datetime.combine(end_day, end, tzinfo=tz)


def first_allowed(at: dt.datetime) -> dt.datetime:
    """`at`, or the end of the quiet window when `at` falls inside one."""
    return quiet_window_end(at) or at
