"""Formula neutralisation of exported cells (OWASP CSV injection) and its exact inverse."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from zhengfeng.core.spreadsheet import restore_cell, safe_cell, safe_row


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil.example/","x")', '\'=HYPERLINK("http://evil.example/","x")'),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("'=1", "''=1"),
        ("''-1", "'''-1"),
        ("正常文本", "正常文本"),
        ("a=1", "a=1"),
        ("'引号开头", "'引号开头"),
        ("'", "'"),
        ("", ""),
    ],
)
def test_safe_cell_quotes_formula_text_and_restore_cell_undoes_it(value, written):
    assert safe_cell(value) == written
    assert restore_cell(written) == value


@pytest.mark.parametrize(
    "value",
    [
        None,
        0,
        -5,
        3.5,
        -0.25,
        Decimal("-1.5"),
        dt.date(2026, 3, 1),
        dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC),
    ],
)
def test_numbers_and_dates_pass_through(value):
    assert safe_cell(value) is value
    assert restore_cell(value) is value


def test_a_written_row_has_inert_strings_and_real_numbers():
    book = Workbook()
    book.worksheets[0].append(safe_row(["=1+1", -5, "-5", dt.date(2026, 3, 1), "市甲局"]))
    buffer = io.BytesIO()
    book.save(buffer)

    cells = load_workbook(io.BytesIO(buffer.getvalue())).worksheets[0][1]

    assert [(cell.data_type, cell.value) for cell in cells] == [
        ("s", "'=1+1"),
        ("n", -5),
        ("s", "'-5"),
        # openpyxl reads a date back as a naive midnight (Excel has no zones).
        ("d", dt.datetime.combine(dt.date(2026, 3, 1), dt.time())),
        ("s", "市甲局"),
    ]
