"""Excel export of the scores (openpyxl): one sheet per unit, one per staff member, in the user's scope."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from zhengfeng.core.periods import Period
from zhengfeng.core.spreadsheet import safe_row
from zhengfeng.evaluation import queries
from zhengfeng.org.queries import Viewer

UNIT_HEADER = [
    "单位编码",
    "单位名称",
    "发出短信",
    "回复评价",
    "满意",
    "基本满意",
    "不满意",
    "待复核/违规",
    "短信评议得分",
    "网上评议票数",
    "网上满意",
    "网上基本满意",
    "网上不满意",
    "网上待复核/违规",
    "网上评议得分",
    "单位总分",
]
STAFF_HEADER = [
    "单位编码",
    "单位名称",
    "执法人员",
    "发出短信",
    "回复评价",
    "满意",
    "基本满意",
    "不满意",
    "待复核/违规",
    "得分",
]


def _number(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def scores_workbook(year: int, *, user: Viewer, period: Period | None = None) -> bytes:
    """The workbook bytes: sheet 按单位 (SMS, votes, total) and sheet 按执法人员."""
    book = Workbook()
    units = book.worksheets[0]  # the sheet a new workbook starts with (`book.active`)
    units.title = "按单位"
    units.append(safe_row(UNIT_HEADER))
    for row in queries.unit_results(year, user=user, period=period):
        sms = row.sms
        units.append(
            safe_row(
                [
                    row.unit_code,
                    row.unit_name,
                    sms.invited,
                    sms.answered,
                    sms.satisfied,
                    sms.basic,
                    sms.unsatisfied,
                    sms.flagged,
                    _number(sms.score),
                    row.votes,
                    row.vote_satisfied,
                    row.vote_basic,
                    row.vote_unsatisfied,
                    row.vote_flagged,
                    _number(row.vote_score),
                    _number(row.total),
                ]
            )
        )
    staff = book.create_sheet("按执法人员")
    staff.append(safe_row(STAFF_HEADER))
    for score_row in queries.scores(year, user=user, by="staff", period=period):
        staff.append(
            safe_row(
                [
                    score_row.unit_code,
                    score_row.unit_name,
                    score_row.staff_name,
                    score_row.invited,
                    score_row.answered,
                    score_row.satisfied,
                    score_row.basic,
                    score_row.unsatisfied,
                    score_row.flagged,
                    _number(score_row.score),
                ]
            )
        )
    for sheet in (units, staff):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
