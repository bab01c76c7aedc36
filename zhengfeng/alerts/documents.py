"""DOCX documents for the ladder (催办通知书, 通报, 红牌警示通知) in the GB/T 9704-2012 layout.

Pure builder: takes the fixed text of an alert and returns the .docx bytes. Fonts are named as
government offices have them (方正小标宋简体, 仿宋_GB2312, 黑体); Word substitutes a similar
face where one is missing, so the layout (sizes, margins, red header and rules) is what matters.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_PARAGRAPH_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph
from docx.text.run import Run

RED = RGBColor(0xE6, 0x00, 0x12)
TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
# Chinese type sizes in points: 初号 42, 2号 22, 3号 16, 4号 14.
SIZE_HEADER = Pt(36)
SIZE_TITLE = Pt(22)
SIZE_BODY = Pt(16)
SIZE_IMPRINT = Pt(14)
# 22 lines of 28 characters per page: exact 28.95 pt line pitch on an A4 type area of 156×225 mm.
LINE_PITCH = Pt(28.95)


@dataclass(frozen=True)
class OfficialDocument:
    header: str  # 发文机关标志, e.g. 清远市“正风”办公室文件
    doc_number: str  # 发文字号, e.g. 清正风督〔2026〕12号
    title: str
    addressee: str  # 主送机关
    paragraphs: list[str]
    issuer: str  # 落款 (发文机关署名)
    issued_on: dt.date
    copy_to: str = ""  # 抄送


def chinese_date(day: dt.date) -> str:
    # GB/T 9704-2012 writes the date with Arabic numerals, without leading zeros.
    return f"{day.year}年{day.month}月{day.day}日"


def _set_font(run: Run, name: str, size: Pt, *, bold: bool = False, color: RGBColor | None = None) -> None:
    run.font.name = name
    run.font.size = size
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    # python-docx sets only the Latin font; Chinese text needs the eastAsia slot as well.
    r_fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    r_fonts.set(qn("w:eastAsia"), name)


def _paragraph(
    doc: DocxDocument,
    text: str,
    *,
    font: str,
    size: Pt,
    align: WD_PARAGRAPH_ALIGNMENT | None = None,
    indent: bool = False,
    bold: bool = False,
    color: RGBColor | None = None,
) -> Paragraph:
    paragraph = doc.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = LINE_PITCH
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    if align is not None:
        paragraph.alignment = align
    if indent:
        fmt.first_line_indent = Pt(size.pt * 2)  # two characters
    if text:
        _set_font(paragraph.add_run(text), font, size, bold=bold, color=color)
    return paragraph


def _border(paragraph: Paragraph, side: str, *, color: str, size_eighths: int) -> None:
    p_pr = paragraph._p.get_or_add_pPr()
    borders = p_pr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        p_pr.append(borders)
    line = OxmlElement(f"w:{side}")
    line.set(qn("w:val"), "single")
    line.set(qn("w:sz"), str(size_eighths))
    line.set(qn("w:space"), "1")
    line.set(qn("w:color"), color)
    borders.append(line)


def build_docx(document: OfficialDocument) -> bytes:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)

    # 版头: red issuing-authority mark, the document number, then the red separator line.
    _paragraph(doc, "", font=BODY_FONT, size=SIZE_BODY)
    header = _paragraph(
        doc, document.header, font=TITLE_FONT, size=SIZE_HEADER, align=WD_ALIGN_PARAGRAPH.CENTER, color=RED
    )
    header.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    header.paragraph_format.space_after = Pt(28)
    number = _paragraph(
        doc, document.doc_number, font=BODY_FONT, size=SIZE_BODY, align=WD_ALIGN_PARAGRAPH.CENTER
    )
    _border(number, "bottom", color="E60012", size_eighths=12)
    _paragraph(doc, "", font=BODY_FONT, size=SIZE_BODY)

    # 主体: title (2号小标宋, centred), addressee, body (3号仿宋, two-character indent).
    _paragraph(doc, document.title, font=TITLE_FONT, size=SIZE_TITLE, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(doc, "", font=BODY_FONT, size=SIZE_BODY)
    _paragraph(doc, f"{document.addressee}：", font=BODY_FONT, size=SIZE_BODY)
    for text in document.paragraphs:
        _paragraph(doc, text, font=BODY_FONT, size=SIZE_BODY, indent=True)

    # 落款 and date, right-aligned with four characters of right indent.
    _paragraph(doc, "", font=BODY_FONT, size=SIZE_BODY)
    _paragraph(doc, "", font=BODY_FONT, size=SIZE_BODY)
    for text in (document.issuer, chinese_date(document.issued_on)):
        signed = _paragraph(doc, text, font=BODY_FONT, size=SIZE_BODY, align=WD_ALIGN_PARAGRAPH.RIGHT)
        signed.paragraph_format.right_indent = Pt(SIZE_BODY.pt * 4)

    # 版记: 抄送 and 印发 lines between black rules (thick first and last, thin between).
    _paragraph(doc, "", font=BODY_FONT, size=SIZE_BODY)
    first = None
    if document.copy_to:
        first = _paragraph(doc, f"抄送：{document.copy_to}。", font=BODY_FONT, size=SIZE_IMPRINT)
        first.paragraph_format.left_indent = Pt(SIZE_IMPRINT.pt)
    printed = _paragraph(
        doc,
        f"{document.issuer}\u3000\u3000{chinese_date(document.issued_on)}印发",
        font=BODY_FONT,
        size=SIZE_IMPRINT,
    )
    printed.paragraph_format.left_indent = Pt(SIZE_IMPRINT.pt)
    _border(first or printed, "top", color="000000", size_eighths=8)
    if first is not None:
        _border(first, "bottom", color="000000", size_eighths=4)
    _border(printed, "bottom", color="000000", size_eighths=8)

    core = doc.core_properties
    core.title = document.title
    core.author = document.issuer
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
