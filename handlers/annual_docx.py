"""The report as a Word document laid out as Vietnamese administrative documents are (Nghị định 30/2020/NĐ-CP,
Phụ lục I): A4, Times New Roman, the issuing body and the national motto side by side at the head, the place
and date ("Lào Cai, ngày 05 tháng 7 năm 2026"), the document's kind and title, numbered sections, the tables,
then the recipients and the signature block. A draft the union edits, completes and signs: the parts only it
can write (its assessment, next period's tasks) are left as headings with a line to fill.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import _Cell
from docx.text.paragraph import Paragraph

from handlers.annual_report import AnnualReport, Frac, Table, number, period_title, summary, tables

FONT = "Times New Roman"
FILL = "…………………………………………………………………………………………………………"


def document_date(place: str, day: dt.date) -> str:
    """ "Lào Cai, ngày 05 tháng 7 năm 2026": days below 10 and the months January and February take a leading
    zero (Nghị định 30/2020, Phụ lục I)."""
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"{place + ', ' if place else ''}ngày {day.day:02d} tháng {month} năm {day.year}"


def cell_text(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, Frac):
        return f"{number(value.part)}/{number(value.whole)}"
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return number(value, -exponent if isinstance(exponent, int) and exponent < 0 else 0)
    if isinstance(value, int):
        return number(value)
    return str(value)


def _run(paragraph: Paragraph, text: str, *, bold: bool = False, italic: bool = False, size: float | None = None,
         underline: bool = False) -> None:
    run = paragraph.add_run(text)
    run.bold, run.italic, run.underline = bold, italic, underline
    if size is not None:
        run.font.size = Pt(size)


def _paragraph(container: Any, text: str = "", *, align: Any = None, bold: bool = False, italic: bool = False,
               size: float | None = None, indent: bool = False, after: float = 6, underline: bool = False
               ) -> Paragraph:
    paragraph = container.add_paragraph()
    if text:
        _run(paragraph, text, bold=bold, italic=italic, size=size, underline=underline)
    if align is not None:
        paragraph.alignment = align
    fmt = paragraph.paragraph_format
    fmt.space_after, fmt.space_before = Pt(after), Pt(0)
    if indent:
        fmt.first_line_indent = Mm(10)
    return paragraph


def _in_cell(cell: _Cell, lines: list[tuple[str, dict[str, Any]]]) -> None:
    first = True
    for text, style in lines:
        paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
        first = False
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.space_after = Pt(0)
        _run(paragraph, text, **style)


def _shade(cell: _Cell, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _head(doc: Any, report: AnnualReport) -> None:
    subject = report.subject
    head = doc.add_table(rows=1, cols=2)  # the default table style draws no borders
    head.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right = head.rows[0].cells
    left.width, right.width = Mm(70), Mm(95)
    issuer = list(subject.issuer)
    lines: list[tuple[str, dict[str, Any]]] = [(line, {"size": 12}) for line in issuer[:-1]]
    lines.append((issuer[-1], {"size": 12, "bold": True}))
    lines.append(("Số:      /BC" + ("" if subject.kind == "unit" else "-LHHN"), {"size": 13}))
    _in_cell(left, lines)
    _in_cell(right, [("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", {"size": 12, "bold": True}),
                     ("Độc lập - Tự do - Hạnh phúc", {"size": 13, "bold": True, "underline": True}),
                     ("", {}),
                     (document_date(subject.place, report.made_on), {"size": 13, "italic": True})])


def _table(doc: Any, table: Table) -> None:
    _paragraph(doc, table.title, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=3, size=13)
    if table.intro:
        _paragraph(doc, table.intro, italic=True, size=11, after=3)
    size = 10 if len(table.header) <= 8 else 9
    grid = doc.add_table(rows=1, cols=len(table.header))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(grid.rows[0].cells, table.header, strict=True):
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(cell.paragraphs[0], text, bold=True, size=size)
        _shade(cell, "E7E6E6")
    for row in table.rows:
        cells = grid.add_row().cells
        for index, (cell, value) in enumerate(zip(cells, row.cells, strict=True)):
            paragraph = cell.paragraphs[0]
            text = cell_text(value)
            if index == 1 and row.style == "part":
                text = "   " + text
            numeric = isinstance(value, Decimal | int | Frac) or value is None
            paragraph.alignment = (WD_ALIGN_PARAGRAPH.RIGHT if numeric and index > 1
                                   else WD_ALIGN_PARAGRAPH.CENTER if index == 0 else WD_ALIGN_PARAGRAPH.LEFT)
            _run(paragraph, text, bold=row.style in ("total", "group"), italic=row.style == "part", size=size)
    for note in table.notes:
        _paragraph(doc, note, italic=True, size=11, after=3)
    _paragraph(doc, after=3)


def render_docx(report: AnnualReport) -> bytes:
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(13)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    doc.core_properties.title = f"Báo cáo {report.spec.title.lower()} {period_title(report.period)}"
    doc.core_properties.author = "twinbot"

    _head(doc, report)
    _paragraph(doc, after=6)
    _paragraph(doc, "BÁO CÁO", bold=True, size=14, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    _paragraph(doc, f"{report.spec.title} {period_title(report.period)}", bold=True, size=14,
               align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    _paragraph(doc, "_______________", align=WD_ALIGN_PARAGRAPH.CENTER, after=12)

    built = tables(report)
    _paragraph(doc, "I. KẾT QUẢ THỰC HIỆN", bold=True, after=6)
    _paragraph(doc, "1. Khái quát", bold=True, after=3)
    for sentence in summary(report):
        _paragraph(doc, sentence, indent=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    _paragraph(doc, f"(Số liệu tổng hợp từ các báo cáo của đơn vị gửi qua hệ thống đến ngày "
               f"{report.made_on:%d/%m/%Y}; so sánh với cùng kỳ {period_title(report.previous)}.)",
               italic=True, size=12, indent=True)
    _paragraph(doc, "2. Kết quả cụ thể", bold=True, after=3)
    for table in built:
        _table(doc, table)
    _paragraph(doc, "II. ĐÁNH GIÁ CHUNG", bold=True, after=3)
    for heading in ("1. Ưu điểm", "2. Hạn chế, nguyên nhân"):
        _paragraph(doc, heading, bold=True, after=3)
        _paragraph(doc, FILL, indent=True)
    _paragraph(doc, "III. PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI", bold=True, after=3)
    _paragraph(doc, FILL, indent=True)
    _paragraph(doc, "IV. ĐỀ XUẤT, KIẾN NGHỊ", bold=True, after=3)
    _paragraph(doc, FILL, indent=True)

    foot = doc.add_table(rows=1, cols=2)
    left, right = foot.rows[0].cells
    recipients = left.paragraphs[0]
    _run(recipients, "Nơi nhận:", bold=True, italic=True, size=12)
    for line in ("- Như trên;", "- Lưu: VT."):
        paragraph = left.add_paragraph()
        paragraph.paragraph_format.space_after = Pt(0)
        _run(paragraph, line, size=11)
    _in_cell(right, [("TM. BAN THƯỜNG TRỰC", {"size": 13, "bold": True}),
                     ("CHỦ TỊCH", {"size": 13, "bold": True})])
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
