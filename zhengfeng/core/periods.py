"""Reporting periods: quarters and years, as dates in the configured time zone."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_PERIOD_RE = re.compile(r"^(\d{4})(?:Q([1-4])|H([12]))?$")


@dataclass(frozen=True, order=True)
class Period:
    """A calendar year, half-year (H1/H2) or quarter (Q1..Q4); `first` and `last` are inclusive."""

    year: int
    kind: str  # "Y", "H" or "Q"
    number: int = 0

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _PERIOD_RE.match(text.strip().upper())
        if not match:
            raise ValueError(f"无法识别的期间 {text!r}：应为 2015、2015H1 或 2015Q1 的形式")
        year = int(match.group(1))
        if match.group(2):
            return cls(year, "Q", int(match.group(2)))
        if match.group(3):
            return cls(year, "H", int(match.group(3)))
        return cls(year, "Y")

    @classmethod
    def quarter(cls, year: int, number: int) -> Period:
        if number not in (1, 2, 3, 4):
            raise ValueError(f"季度必须是 1–4，而不是 {number}")
        return cls(year, "Q", number)

    @property
    def first(self) -> dt.date:
        if self.kind == "Q":
            return dt.date(self.year, 3 * self.number - 2, 1)
        if self.kind == "H":
            return dt.date(self.year, 1 if self.number == 1 else 7, 1)
        return dt.date(self.year, 1, 1)

    @property
    def last(self) -> dt.date:
        if self.kind == "Q":
            end_month = 3 * self.number
        elif self.kind == "H":
            end_month = 6 if self.number == 1 else 12
        else:
            end_month = 12
        if end_month == 12:
            return dt.date(self.year, 12, 31)
        return dt.date(self.year, end_month + 1, 1) - dt.timedelta(days=1)

    def __str__(self) -> str:
        if self.kind == "Q":
            return f"{self.year}Q{self.number}"
        if self.kind == "H":
            return f"{self.year}H{self.number}"
        return str(self.year)

    @property
    def label(self) -> str:
        if self.kind == "Q":
            return f"{self.year}年第{'一二三四'[self.number - 1]}季度"
        if self.kind == "H":
            return f"{self.year}年{'上下'[self.number - 1]}半年"
        return f"{self.year}年"


def quarter_of(day: dt.date) -> Period:
    return Period.quarter(day.year, (day.month - 1) // 3 + 1)


def quarters_of(year: int) -> list[Period]:
    return [Period.quarter(year, number) for number in (1, 2, 3, 4)]
