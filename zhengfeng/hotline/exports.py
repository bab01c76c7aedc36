"""The metrics table as an Excel workbook (XLSX): the same rows and columns as the screen.

Sheet 1 "办理情况": a title row, the header (bold, shaded, bordered, wrapped), one row per unit (or
division), the 合计 row; rates are numbers formatted as percentages, so they sort and sum in Excel.
Sheet 2 "指标说明": the definition of every column.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from zhengfeng.core.spreadsheet import safe_cell, safe_row
from zhengfeng.hotline.metrics import COLUMNS, DEFINITIONS, Column, ReportPeriod, Row, totals

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="F0EEEA")
_HEADER_FONT = Font(bold=True)
_TITLE_FONT = Font(bold=True, size=14)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
RATE_FORMAT = "0.0%"


def metrics_workbook(
    rows: Sequence[Row],
    period: ReportPeriod,
    *,
    scope_label: str,
    first_header: str = "单位",
    columns: Sequence[Column] = COLUMNS,
    with_scores: bool = False,
) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    if not isinstance(sheet, Worksheet):  # never: a new workbook opens on its one worksheet
        raise TypeError(f"unexpected active sheet {sheet!r}")
    sheet.title = "办理情况"
    headers = [first_header, *(c.label for c in columns)]
    if with_scores:
        headers += ["考核计分合计", "其中热线办理"]
    sheet.append([safe_cell(f"{scope_label}12345热线办理情况统计表（{period.label}）")])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    sheet.cell(row=1, column=1).font = _TITLE_FONT
    sheet.cell(row=1, column=1).alignment = _CENTER
    sheet.append(safe_row(headers))
    for index in range(1, len(headers) + 1):
        cell = sheet.cell(row=2, column=index)
        cell.font, cell.fill, cell.border, cell.alignment = _HEADER_FONT, _HEADER_FILL, _BORDER, _CENTER
        sheet.column_dimensions[get_column_letter(index)].width = 24 if index == 1 else 11
    sheet.row_dimensions[2].height = 32

    def write(label: str, values: list[int | Decimal | None], scores: tuple[float | None, ...] = ()) -> None:
        sheet.append(safe_row([label, *values, *scores]))
        row_no = sheet.max_row
        for index, (column, value) in enumerate(zip(columns, values, strict=True), start=2):
            if column.is_rate and value is not None:
                cell = sheet.cell(row=row_no, column=index)
                # Stored as a fraction so Excel computes with it; shown as 66.7%.
                cell.value = float(value) / 100
                cell.number_format = RATE_FORMAT
        for index in range(1, len(headers) + 1):
            sheet.cell(row=row_no, column=index).border = _BORDER

    for row in rows:
        scores = (
            (
                float(row.score_total) if row.score_total is not None else None,
                float(row.score_hotline) if row.score_hotline is not None else None,
            )
            if with_scores
            else ()
        )
        write(row.label, [row.value(c.key) for c in columns], scores)
    total = totals(rows)
    write("合计", [total.value(c.key) for c in columns], (None, None) if with_scores else ())
    for index in range(1, len(headers) + 1):
        sheet.cell(row=sheet.max_row, column=index).font = _HEADER_FONT
    sheet.freeze_panes = "B3"

    notes = workbook.create_sheet("指标说明")
    notes.append(safe_row(["指标", "口径"]))
    for index in (1, 2):
        cell = notes.cell(row=1, column=index)
        cell.font, cell.fill, cell.border = _HEADER_FONT, _HEADER_FILL, _BORDER
    for name, text in DEFINITIONS:
        notes.append(safe_row([name, text]))
    notes.column_dimensions["A"].width = 22
    notes.column_dimensions["B"].width = 90

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
