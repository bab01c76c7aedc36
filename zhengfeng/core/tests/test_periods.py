import datetime as dt

import pytest

from zhengfeng.core.periods import Period, quarter_of, quarters_of


def test_quarters_of_a_year():
    assert [(str(p), p.first, p.last) for p in quarters_of(2015)] == [
        ("2015Q1", dt.date(2015, 1, 1), dt.date(2015, 3, 31)),
        ("2015Q2", dt.date(2015, 4, 1), dt.date(2015, 6, 30)),
        ("2015Q3", dt.date(2015, 7, 1), dt.date(2015, 9, 30)),
        ("2015Q4", dt.date(2015, 10, 1), dt.date(2015, 12, 31)),
    ]


def test_parse_and_labels():
    assert Period.parse("2026q3") == Period(2026, "Q", 3)
    assert Period.parse("2026Q3").label == "2026年第三季度"
    assert Period.parse("2016H1").last == dt.date(2016, 6, 30)
    assert Period.parse("2016").first == dt.date(2016, 1, 1)
    assert quarter_of(dt.date(2024, 2, 29)) == Period(2024, "Q", 1)


@pytest.mark.parametrize("text", ["2015Q5", "15Q1", "2015-Q1", ""])
def test_parse_rejects_bad_periods(text):
    with pytest.raises(ValueError, match="无法识别的期间"):
        Period.parse(text)
