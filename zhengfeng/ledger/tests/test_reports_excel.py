"""The report dashboard workbook neutralises formula-like text and keeps numbers numbers."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter

from openpyxl import load_workbook

from zhengfeng.core.periods import Period
from zhengfeng.ledger.reports.excel import matrix_workbook
from zhengfeng.ledger.reports.queries import Cell, Matrix, MatrixCell, MatrixRow, PeriodColumn

EVIL = '=HYPERLINK("http://evil.example/","市甲局")'


def test_formula_text_is_an_inert_string_and_numbers_stay_numbers():
    label, css = Cell.LABELS[Cell.ON_TIME]
    matrix = Matrix(
        year=2015,
        columns=[
            PeriodColumn(
                period=Period.quarter(2015, 1),
                due=dt.date(2015, 4, 8),
                provisional=False,
                totals=Counter({Cell.ON_TIME: 1}),
            )
        ],
        rows=[
            MatrixRow(
                unit_id=1,
                unit_name=EVIL,
                unit_code="-441800-A",
                division_code="441800",
                cells=[MatrixCell(Cell.ON_TIME, label, css, None)],
            )
        ],
    )

    content = matrix_workbook(matrix, title="+清远市2015年季度报送")

    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    assert (sheet["A1"].data_type, sheet["A1"].value) == ("s", "'+清远市2015年季度报送")
    row = [(cell.data_type, cell.value) for cell in sheet[3]]
    assert row == [("n", 1), ("s", "'-441800-A"), ("s", "'" + EVIL), ("s", "按时报送")]
    assert (sheet["D4"].data_type, sheet["D4"].value) == ("n", 1)
