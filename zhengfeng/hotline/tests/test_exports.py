"""The metrics workbook neutralises formula-like text (a unit named like a formula) and keeps numbers."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import load_workbook

from zhengfeng.hotline.exports import metrics_workbook
from zhengfeng.hotline.metrics import Figures, Month, Row

EVIL = '=HYPERLINK("http://evil.example/","市甲局")'


def test_formula_text_is_an_inert_string_and_numbers_stay_numbers():
    rows = [
        Row(
            key=1,
            label=EVIL,
            figures=Figures(received=6),
            score_total=Decimal("-1.5"),
            score_hotline=Decimal("-1.5"),
        )
    ]

    content = metrics_workbook(rows, Month(2026, 3), scope_label="@清远市", with_scores=True)

    sheet = load_workbook(io.BytesIO(content))["办理情况"]
    assert (sheet["A1"].data_type, sheet["A1"].value) == ("s", "'@清远市12345热线办理情况统计表（2026年3月）")
    assert (sheet["A3"].data_type, sheet["A3"].value) == ("s", "'" + EVIL)
    assert (sheet["B3"].data_type, sheet["B3"].value) == ("n", 6)
    scores = [sheet.cell(row=3, column=sheet.max_column - offset) for offset in (1, 0)]
    assert [(cell.data_type, cell.value) for cell in scores] == [("n", -1.5), ("n", -1.5)]
    assert (sheet["A4"].data_type, sheet["A4"].value) == ("s", "合计")
