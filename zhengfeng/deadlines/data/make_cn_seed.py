"""Regenerate `cn_2004_2026.csv` from the dev-only `chinesecalendar` package (run by hand, never imported).

    .venv/bin/python zhengfeng/deadlines/data/make_cn_seed.py > zhengfeng/deadlines/data/cn_2004_2026.csv

Only exceptions to the Monday–Friday rule are written. The library's known error is corrected here
(2005-12-31, a Saturday 补班 set by the 2006 notice, is an off day in chinesecalendar ≤ 1.11), and
the State Council notice numbers we have checked by hand are filled in. Review every year against
its notice on gov.cn before committing a regenerated file.
"""

from __future__ import annotations

import csv
import datetime as dt
import sys

import chinese_calendar  # type: ignore[import-untyped]  # the dev-only package ships no types

FIRST, LAST = dt.date(2004, 1, 1), dt.date(2026, 12, 31)

# The library's short Chinese names, spelled as the notices spell them.
FULL_NAMES = {"清明": "清明节", "端午": "端午节", "中秋": "中秋节"}

# Corrections to the library, checked against the notices.
CORRECTIONS = {dt.date(2005, 12, 31): ("work", "元旦")}

# (notice number, URL) per notice year; a notice may set days late in the previous December.
NOTICES = {
    2024: ("国办发明电〔2023〕7号", "https://www.gov.cn/zhengce/zhengceku/202310/content_6911528.htm"),
    2025: ("国办发明电〔2024〕12号", "https://www.gov.cn/zhengce/zhengceku/202411/content_6986383.htm"),
    2026: ("国办发明电〔2025〕7号", "https://www.gov.cn/zhengce/zhengceku/202511/content_7047091.htm"),
}


def notice_year(day: dt.date, name: str) -> int:
    # Late-December days around 元旦 belong to the next year's notice (e.g. 2005-12-31 from 2006).
    if day.month == 12 and name == "元旦":
        return day.year + 1
    return day.year


def main() -> None:
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["date", "kind", "name", "notice_no", "notice_url", "provisional"])
    day = FIRST
    while day <= LAST:
        weekday_rule = day.weekday() < 5
        is_work = chinese_calendar.is_workday(day)
        _, english = chinese_calendar.get_holiday_detail(day)
        name = chinese_calendar.Holiday(english).chinese if english else ""
        name = FULL_NAMES.get(name, name)
        kind = "work" if is_work else "off"
        if day in CORRECTIONS:
            kind, name = CORRECTIONS[day]
            is_work = kind == "work"
        if is_work != weekday_rule:
            notice_no, url = NOTICES.get(notice_year(day, name), ("", ""))
            out.writerow([day.isoformat(), kind, name, notice_no, url, ""])
        day += dt.timedelta(days=1)


if __name__ == "__main__":
    main()
