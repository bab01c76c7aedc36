"""Working-day arithmetic over a precomputed cumulative index (pure Python + numpy, no database).

The index covers every day from `min(BUSINESS_EPOCH, coverage_start)` to the end of the year
`PROVISIONAL_YEARS` after `coverage_end`. Days inside the calendar's coverage follow its table
(Monday–Friday rule plus dated exceptions); days outside follow the bare Monday–Friday rule and are
*provisional*: strict calls raise `CalendarCoverageError`, calls with `provisional=True` compute on.

Arrays, for day index i (day = base + i):
- `is_work[i]`; `cum[i]` = working days in [base, day]; `wd` = indices of the working days;
- `P[i]` working minutes of the day (0 off), `C[i]` business minutes before day i (len n + 1).

Conventions (民法典 §201: the start day is not counted):
- `add_workdays(d, n)`: the n-th working day strictly after d (n < 0: strictly before; n = 0: d);
- `count_workdays(a, b)`: working days d with a < d <= b;
- `business_ordinal(t)` (B): working minutes from BUSINESS_EPOCH to t, lunch break excluded;
  `from_business_ordinal(x)` is the earliest instant at which B reaches x, so a budget that runs out
  exactly at 12:00 ends at 12:00, not at 14:30.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

# Origin of business ordinals. Fixed so that stored `due_b` values survive coverage extensions.
BUSINESS_EPOCH = dt.date(2000, 1, 1)
# How far past the covered range provisional (Monday–Friday rule) arithmetic may go.
PROVISIONAL_YEARS = 10
# 08:30–12:00 and 14:30–17:30, in minutes since midnight.
DEFAULT_INTERVALS: tuple[tuple[int, int], ...] = ((8 * 60 + 30, 12 * 60), (14 * 60 + 30, 17 * 60 + 30))

_UNIX_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


class CalendarCoverageError(ValueError):
    """A date outside the calendar's covered range was used without `provisional=True`."""

    def __init__(self, message: str, *, coverage_start: dt.date, coverage_end: dt.date) -> None:
        super().__init__(message)
        self.coverage_start = coverage_start
        self.coverage_end = coverage_end


@dataclass(frozen=True)
class DayException:
    date: dt.date
    is_off_day: bool
    name: str = ""
    notice_no: str = ""
    notice_url: str = ""
    provisional: bool = False


@dataclass(frozen=True)
class Schedule:
    """Working intervals (minutes since midnight, sorted, disjoint) on the dates it covers."""

    intervals: tuple[tuple[int, int], ...] = DEFAULT_INTERVALS
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    name: str = ""

    def __post_init__(self) -> None:
        previous_end = -1
        for start, end in self.intervals:
            if not 0 <= start < end <= 24 * 60 or start < previous_end:
                raise ValueError(
                    f"作息时间 {self.name or ''} 的时段 {start}–{end} 无效：须在一天之内、按顺序且不重叠"
                )
            previous_end = end
        if not self.intervals:
            raise ValueError(f"作息时间 {self.name or ''} 没有工作时段")


@dataclass(frozen=True)
class DayInfo:
    """What the CLI and UI say about one date."""

    date: dt.date
    is_workday: bool
    exception: DayException | None
    provisional: bool

    @property
    def label(self) -> str:
        if self.exception is None:
            return _WEEKDAY_NAMES[self.date.weekday()]
        name = self.exception.name or "调整"
        return name if self.exception.is_off_day else f"补班（{name}）"


class CalendarIndex:
    """Immutable once built; safe to share between threads and cache per calendar version."""

    def __init__(
        self,
        *,
        coverage_start: dt.date,
        coverage_end: dt.date,
        exceptions: Iterable[DayException] = (),
        schedules: Sequence[Schedule] = (),
        tz: str = "Asia/Shanghai",
        code: str = "",
        version: int = 0,
    ) -> None:
        if coverage_end < coverage_start:
            raise ValueError(f"覆盖范围 {coverage_start} 至 {coverage_end} 无效")
        self.code = code
        self.version = version
        self.tz = zoneinfo.ZoneInfo(tz)
        self.coverage_start = coverage_start
        self.coverage_end = coverage_end
        first = min(BUSINESS_EPOCH, coverage_start)
        last = dt.date(coverage_end.year + PROVISIONAL_YEARS, 12, 31)
        self.first_day, self.last_day = first, last
        self._base = first.toordinal()
        n = last.toordinal() - self._base + 1
        self._n = n
        self._lo = coverage_start.toordinal() - self._base
        self._hi = coverage_end.toordinal() - self._base

        ordinals = np.arange(self._base, self._base + n, dtype=np.int64)
        is_work = ((ordinals + 6) % 7) < 5  # date(1, 1, 1), ordinal 1, is a Monday
        provisional_day = np.zeros(n, dtype=bool)
        provisional_day[: self._lo] = True
        provisional_day[self._hi + 1 :] = True
        self._exceptions: dict[dt.date, DayException] = {}
        for exc in exceptions:
            i = exc.date.toordinal() - self._base
            if 0 <= i < n:
                is_work[i] = not exc.is_off_day
                self._exceptions[exc.date] = exc
                if exc.provisional:
                    provisional_day[i] = True

        # Schedules: the default (undated) first, then dated ones by effective_from; later ones win.
        ordered = sorted(
            schedules or (Schedule(),),
            key=lambda s: (s.effective_from is not None, s.effective_from or dt.date.min),
        )
        if ordered[0].effective_from is not None or ordered[0].effective_to is not None:
            ordered.insert(0, Schedule())
        self._schedules: list[tuple[tuple[int, int], ...]] = [s.intervals for s in ordered]
        sched_of_day = np.zeros(n, dtype=np.int64)
        for k, schedule in enumerate(ordered):
            a = (
                0
                if schedule.effective_from is None
                else max(schedule.effective_from.toordinal() - self._base, 0)
            )
            b = (
                n - 1
                if schedule.effective_to is None
                else min(schedule.effective_to.toordinal() - self._base, n - 1)
            )
            if a <= b:
                sched_of_day[a : b + 1] = k
        totals = np.array([sum(e - s for s, e in ivs) for ivs in self._schedules], dtype=np.int64)
        width = max(len(ivs) for ivs in self._schedules)
        starts = np.zeros((len(self._schedules), width), dtype=np.int64)
        lengths = np.zeros((len(self._schedules), width), dtype=np.int64)
        for k, ivs in enumerate(self._schedules):
            for j, (s, e) in enumerate(ivs):
                starts[k, j], lengths[k, j] = s, e - s
            for j in range(len(ivs), width):  # padding: empty intervals at the day's end
                starts[k, j] = ivs[-1][1]

        minutes = np.where(is_work, totals[sched_of_day], 0).astype(np.int64)
        cum_minutes = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(minutes, out=cum_minutes[1:])
        cum = np.cumsum(is_work, dtype=np.int64)
        workday_indices = np.flatnonzero(is_work).astype(np.int64)
        self._b0 = int(cum_minutes[BUSINESS_EPOCH.toordinal() - self._base])

        # numpy arrays for batches.
        self.is_work_array = is_work
        self.cum_array = cum
        self.workday_array = workday_indices
        self.minutes_array = minutes
        self.cum_minutes_array = cum_minutes
        self._sched_of_day_array = sched_of_day
        self._starts_by_sched = starts
        self._lengths_by_sched = lengths
        self._provisional_cum = np.concatenate(([0], np.cumsum(provisional_day, dtype=np.int64)))
        # Python lists for scalars: list indexing is several times faster than numpy scalar access.
        self._is_work = is_work.astype(np.int64).tolist()
        self._cum = cum.tolist()
        self._wd = workday_indices.tolist()
        self._nwd = len(self._wd)
        self._C = cum_minutes.tolist()
        self._P = minutes.tolist()
        self._sched_of_day = sched_of_day.tolist()
        self._prov_cum = self._provisional_cum.tolist()

    # ------------------------------------------------------------------ coverage

    @property
    def coverage_label(self) -> str:
        return f"{self.coverage_start:%Y-%m-%d} 至 {self.coverage_end:%Y-%m-%d}"

    def _outside(self, day: dt.date | int) -> CalendarCoverageError:
        if isinstance(day, int):
            day = self._date(day) if 0 <= day < self._n else None  # type: ignore[assignment]
        shown = f"日期 {day:%Y-%m-%d}" if isinstance(day, dt.date) else "计算结果"
        calendar = f"工作日历 {self.code} " if self.code else "工作日历"
        return CalendarCoverageError(
            f"{shown} 超出{calendar}的覆盖范围（{self.coverage_label}）；"
            "请先导入该年度国务院办公厅节假日安排，或按暂定（周一至周五）计算",
            coverage_start=self.coverage_start,
            coverage_end=self.coverage_end,
        )

    def _beyond(self) -> CalendarCoverageError:
        return CalendarCoverageError(
            f"计算结果超出可计算范围（{self.first_day:%Y-%m-%d} 至 {self.last_day:%Y-%m-%d}）；"
            f"工作日历覆盖 {self.coverage_label}",
            coverage_start=self.coverage_start,
            coverage_end=self.coverage_end,
        )

    def _index(self, day: dt.date, provisional: bool) -> int:
        i = day.toordinal() - self._base
        if provisional:
            if not 0 <= i < self._n:
                raise self._beyond()
        elif not self._lo <= i <= self._hi:
            raise self._outside(day)
        return i

    def _date(self, i: int) -> dt.date:
        return dt.date.fromordinal(i + self._base)

    def is_settled(self, first: dt.date, last: dt.date | None = None) -> bool:
        """True when every day of [first, last] is covered and none is a provisional exception."""
        a = first.toordinal() - self._base
        b = (last or first).toordinal() - self._base
        if a > b:
            a, b = b, a
        if a < 0 or b >= self._n:
            return False
        return self._prov_cum[b + 1] - self._prov_cum[a] == 0

    # ------------------------------------------------------------------ days (scalar)

    def is_workday(self, day: dt.date, *, provisional: bool = False) -> bool:
        return bool(self._is_work[self._index(day, provisional)])

    def add_workdays(self, day: dt.date, n: int, *, provisional: bool = False) -> dt.date:
        """The n-th working day strictly after `day` (n < 0: strictly before; n = 0: `day` itself)."""
        i = day.toordinal() - self._base
        if not 0 <= i < self._n:
            raise self._beyond() if provisional else self._outside(day)
        if n > 0:
            k = self._cum[i] + n - 1
        elif n < 0:
            k = self._cum[i] - self._is_work[i] + n
        else:
            k = 0  # n = 0 returns `day` itself
        if not 0 <= k < self._nwd:
            raise self._beyond()
        j = i if n == 0 else self._wd[k]
        if not provisional and (i < self._lo or i > self._hi or j < self._lo or j > self._hi):
            raise self._outside(day if i < self._lo or i > self._hi else j)
        return dt.date.fromordinal(j + self._base)

    def count_workdays(self, a: dt.date, b: dt.date, *, provisional: bool = False) -> int:
        """Working days d with a < d <= b (negative when b < a)."""
        return self._cum[self._index(b, provisional)] - self._cum[self._index(a, provisional)]

    def add_natural_days(self, day: dt.date, n: int, *, provisional: bool = False) -> dt.date:
        """民法典 §201/§203: `day` + n calendar days; if that is a day off, the next working day."""
        target = day + dt.timedelta(days=n)
        self._index(day, provisional)
        i = self._index(target, provisional)
        if self._is_work[i]:
            return target
        return self.add_workdays(target, 1, provisional=provisional)

    def day_info(self, day: dt.date, *, provisional: bool = False) -> DayInfo:
        i = self._index(day, provisional)
        return DayInfo(
            date=day,
            is_workday=bool(self._is_work[i]),
            exception=self._exceptions.get(day),
            provisional=not self.is_settled(day),
        )

    # ------------------------------------------------------------------ minutes (scalar)

    def _local(self, t: dt.datetime) -> dt.datetime:
        if t.tzinfo is None or t.utcoffset() is None:
            raise ValueError(f"时间 {t.isoformat()} 缺少时区")
        return t.astimezone(self.tz)

    def _within(self, i: int, minute: int) -> int:
        if not self._is_work[i]:
            return 0
        total = 0
        for start, end in self._schedules[self._sched_of_day[i]]:
            if minute <= start:
                break
            total += min(minute, end) - start
        return total

    def business_ordinal(self, t: dt.datetime, *, ceil: bool = False, provisional: bool = False) -> int:
        """B(t): working minutes from BUSINESS_EPOCH to t. Partial minutes round down (`ceil`: up)."""
        local = self._local(t)
        i = self._index(local.date(), provisional)
        minute = local.hour * 60 + local.minute
        if ceil and (local.second or local.microsecond):
            minute += 1
        return self._C[i] + self._within(i, minute) - self._b0

    def from_business_ordinal(self, x: int, *, provisional: bool = False) -> dt.datetime:
        """The earliest instant t with B(t) = x (a deadline at x ends exactly there)."""
        target = x + self._b0
        i = bisect.bisect_left(self._C, target) - 1
        if not 0 <= i < self._n:
            raise self._beyond()
        if not provisional and not self._lo <= i <= self._hi:
            raise self._outside(i)
        rest = target - self._C[i]
        minute = 0
        for start, end in self._schedules[self._sched_of_day[i]]:
            if rest <= end - start:
                minute = start + rest
                break
            rest -= end - start
        day = self._date(i)
        return dt.datetime.combine(day, dt.time(0), tzinfo=self.tz) + dt.timedelta(minutes=minute)

    def add_work_minutes(self, t: dt.datetime, minutes: int, *, provisional: bool = False) -> dt.datetime:
        """The instant when `minutes` working minutes after t have been used (t out of hours: from the next opening)."""
        return self.from_business_ordinal(
            self.business_ordinal(t, ceil=True, provisional=provisional) + minutes, provisional=provisional
        )

    def elapsed_work_minutes(self, t1: dt.datetime, t2: dt.datetime, *, provisional: bool = False) -> int:
        return self.business_ordinal(t2, provisional=provisional) - self.business_ordinal(
            t1, provisional=provisional
        )

    def day_of_ordinal(self, x: int) -> dt.date:
        """The working day whose business contains minute x, i.e. C[d] < x <= C[d + 1]."""
        i = bisect.bisect_left(self._C, x + self._b0) - 1
        if not 0 <= i < self._n:
            raise self._beyond()
        return self._date(i)

    def close_of_business_ordinal(self, day: dt.date, *, provisional: bool = False) -> int:
        """B at the end of `day`'s business (the previous working day's close when `day` is off)."""
        return self._C[self._index(day, provisional) + 1] - self._b0

    def day_minutes(self, day: dt.date, *, provisional: bool = False) -> int:
        return self._P[self._index(day, provisional)]

    def local_midnight(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0), tzinfo=self.tz)

    # ------------------------------------------------------------------ batches (numpy)

    def _day_indices(self, dates: np.ndarray) -> np.ndarray:
        days = np.asarray(dates, dtype="datetime64[D]").astype(np.int64)
        return days + (_UNIX_EPOCH_ORDINAL - self._base)

    def _check_batch(self, *index_arrays: np.ndarray, provisional: bool) -> None:
        lo, hi = (0, self._n - 1) if provisional else (self._lo, self._hi)
        for indices in index_arrays:
            if indices.size and (int(indices.min()) < lo or int(indices.max()) > hi):
                bad = int(indices[(indices < lo) | (indices > hi)][0])
                raise self._beyond() if provisional else self._outside(bad)

    def _to_dates(self, indices: np.ndarray) -> np.ndarray:
        return (indices + (self._base - _UNIX_EPOCH_ORDINAL)).astype("datetime64[D]")

    def is_workday_batch(self, dates: np.ndarray, *, provisional: bool = False) -> np.ndarray:
        i = self._day_indices(dates)
        self._check_batch(i, provisional=provisional)
        return self.is_work_array[i]

    def add_workdays_batch(
        self, dates: np.ndarray, n: np.ndarray | int, *, provisional: bool = False
    ) -> np.ndarray:
        i = self._day_indices(dates)
        self._check_batch(i, provisional=True)
        n = np.broadcast_to(np.asarray(n, dtype=np.int64), i.shape)
        k = np.where(n >= 0, self.cum_array[i] + n - 1, self.cum_array[i] - self.is_work_array[i] + n)
        if not bool(((n == 0) | ((k >= 0) & (k < self._nwd))).all()):
            raise self._beyond()
        j = np.where(n == 0, i, self.workday_array[np.clip(k, 0, self._nwd - 1)])
        if not provisional:
            self._check_batch(i, j, provisional=False)
        return self._to_dates(j)

    def count_workdays_batch(self, a: np.ndarray, b: np.ndarray, *, provisional: bool = False) -> np.ndarray:
        ia, ib = self._day_indices(a), self._day_indices(b)
        self._check_batch(ia, ib, provisional=provisional)
        return self.cum_array[ib] - self.cum_array[ia]

    def business_ordinal_batch(self, local_minutes: np.ndarray, *, provisional: bool = False) -> np.ndarray:
        """B for naive local times given as datetime64 (minute resolution; seconds are dropped)."""
        m = np.asarray(local_minutes, dtype="datetime64[m]").astype(np.int64)
        days = np.floor_divide(m, 1440)
        minute = m - days * 1440
        i = days + (_UNIX_EPOCH_ORDINAL - self._base)
        self._check_batch(i, provisional=provisional)
        k = self._sched_of_day_array[i]
        starts, lengths = self._starts_by_sched[k], self._lengths_by_sched[k]
        within = np.clip(minute[:, None] - starts, 0, lengths).sum(axis=1)
        within = np.where(self.is_work_array[i], within, 0)
        return self.cum_minutes_array[i] + within - self._b0

    def from_business_ordinal_batch(self, x: np.ndarray, *, provisional: bool = False) -> np.ndarray:
        """Earliest local instants (naive datetime64[m]) at which B reaches x."""
        target = np.asarray(x, dtype=np.int64) + self._b0
        i = np.searchsorted(self.cum_minutes_array, target, side="left") - 1
        if i.size and (int(i.min()) < 0 or int(i.max()) >= self._n):
            raise self._beyond()
        if not provisional:
            self._check_batch(i, provisional=False)
        rest = target - self.cum_minutes_array[i]
        k = self._sched_of_day_array[i]
        starts, lengths = self._starts_by_sched[k], self._lengths_by_sched[k]
        before = np.cumsum(lengths, axis=1) - lengths  # minutes in earlier intervals of the day
        # The interval where the remaining minutes run out: the first whose cumulative end reaches rest.
        slot = (rest[:, None] > before + lengths).sum(axis=1)
        slot = np.minimum(slot, lengths.shape[1] - 1)
        rows = np.arange(len(i))
        minute = starts[rows, slot] + rest - before[rows, slot]
        days = i + (self._base - _UNIX_EPOCH_ORDINAL)
        return (days * 1440 + minute).astype("datetime64[m]")

    def add_work_minutes_batch(
        self, local_starts: np.ndarray, minutes: np.ndarray | int, *, provisional: bool = False
    ) -> np.ndarray:
        b = self.business_ordinal_batch(local_starts, provisional=provisional)
        return self.from_business_ordinal_batch(
            b + np.asarray(minutes, dtype=np.int64), provisional=provisional
        )


def first_difference(old: CalendarIndex, new: CalendarIndex) -> dt.date | None:
    """The first day on which two indices disagree (working or not, working minutes, settled or not)."""
    first = max(old.first_day, new.first_day)
    last = min(old.last_day, new.last_day)
    oa, na = first.toordinal() - old._base, first.toordinal() - new._base
    length = last.toordinal() - first.toordinal() + 1
    differs = (
        (old.is_work_array[oa : oa + length] != new.is_work_array[na : na + length])
        | (old.minutes_array[oa : oa + length] != new.minutes_array[na : na + length])
        | (
            np.diff(old._provisional_cum[oa : oa + length + 1])
            != np.diff(new._provisional_cum[na : na + length + 1])
        )
    )
    hits = np.flatnonzero(differs)
    if hits.size:
        return first + dt.timedelta(days=int(hits[0]))
    if old.first_day != new.first_day:
        return min(old.first_day, new.first_day)
    return None


def ceil_days(delta: dt.timedelta) -> int:
    return math.ceil(delta.total_seconds() / 86400)
