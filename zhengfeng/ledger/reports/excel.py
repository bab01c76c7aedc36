"""Excel export of the quarterly report dashboard: one row per unit, one column per period."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from zhengfeng.core.spreadsheet import safe_cell, safe_row
from zhengfeng.ledger.reports.queries import Cell, Matrix

# Cell fills by status, as offices colour such sheets (green on time … red missing).
FILLS = {
    Cell.ON_TIME: "C8E6C9",
    Cell.LATE: "FFE0B2",
    Cell.RETURNED: "FFF3C4",
    Cell.PENDING: "E3F2FD",
    Cell.OVERDUE: "FFCDD2",
    Cell.MISSING: "EF9A9A",
}


def matrix_workbook(matrix: Matrix, *, title: str) -> bytes:
    """Title row, header (序号, 单位编码, 单位, one column per period with its due date), one row
    per unit with the status label (a returned report first submitted late reads 退回修改（迟报）),
    then one summary row per status."""
    book = Workbook(write_only=False)
    sheet = book.worksheets[0]  # the one sheet of a new workbook (its `active`)
    sheet.title = f"{matrix.year}年季度报送"
    sheet.append([safe_cell(title)])
    sheet["A1"].font = Font(bold=True, size=14)
    header = ["序号", "单位编码", "单位"] + [
        # A period no report has reached yet has no deadline clock, so no due date (was a 500).
        f"{column.period.label}（{column.due:%m-%d}截止）" if column.due else column.period.label
        for column in matrix.columns
    ]
    sheet.append(safe_row(header))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    fills = {status: PatternFill("solid", fgColor=colour) for status, colour in FILLS.items()}
    for number, row in enumerate(matrix.rows, start=1):
        labels = [f"{c.label}（迟报）" if c.late else c.label for c in row.cells]
        sheet.append(safe_row([number, row.unit_code, row.unit_name, *labels]))
        excel_row = sheet.max_row
        for offset, status_cell in enumerate(row.cells):
            if status_cell.status in fills:
                sheet.cell(row=excel_row, column=4 + offset).fill = fills[status_cell.status]
    for status in Cell.ORDER:
        label = Cell.LABELS[status][0]
        totals = [column.totals.get(status, 0) for column in matrix.columns]
        sheet.append(safe_row(["", "", f"合计：{label}", *totals]))
    sheet.column_dimensions["B"].width = 16
    sheet.column_dimensions["C"].width = 30
    for letter in "DEFG":
        sheet.column_dimensions[letter].width = 20
    sheet.freeze_panes = "D3"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
