"""The report's tables as an XLSX workbook: one sheet each, the same rows and columns as the document, figures
as numbers (a total row holds the figure the rows above add up to). A column of "x/y" figures (pairs with
activity out of all pairs) becomes two: the part, and the whole."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from handlers.annual_report import AnnualReport, Frac, Table, period_title, tables

WHOLE = "trên tổng số"
_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="E7E6E6")


def sheet_name(text: str) -> str:
    return "".join(ch for ch in text if ch not in "[]:*?/\\")[:31]


def _format(value: Decimal) -> str:
    exponent = value.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return "#,##0" + ("." + "0" * places if places else "")


def _write(sheet: Any, table: Table, heading: list[str]) -> None:
    fractions = {i for i, _ in enumerate(table.header) if any(isinstance(r.cells[i], Frac) for r in table.rows)}
    header: list[str] = []
    for index, name in enumerate(table.header):
        header.append(name)
        if index in fractions:
            header.append(f"{name} – {WHOLE}")
    for line in heading:
        sheet.append([line])
    sheet.append([table.title])
    sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True, size=13)
    if table.intro:
        sheet.append([table.intro])
    sheet.append(header)
    header_row = sheet.max_row
    for column, _ in enumerate(header, start=1):
        cell = sheet.cell(row=header_row, column=column)
        cell.font, cell.fill = _BOLD, _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for row in table.rows:
        values: list[Any] = []
        for index, value in enumerate(row.cells):
            if index in fractions:
                values += [value.part, value.whole] if isinstance(value, Frac) else [value, None]
            else:
                values.append(value)
        if row.style == "part" and isinstance(values[1], str):
            values[1] = "   " + values[1]
        sheet.append(values)
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=sheet.max_row, column=column)
            if isinstance(value, Decimal):
                cell.number_format = _format(value)
            elif isinstance(value, int) and not isinstance(value, bool):
                cell.number_format = "#,##0"
            if row.style in ("total", "group"):
                cell.font = _BOLD
    for note in table.notes:
        sheet.append([note])
    sheet.column_dimensions["A"].width = 6
    sheet.column_dimensions["B"].width = 44
    for column in range(3, len(header) + 1):
        sheet.column_dimensions[get_column_letter(column)].width = 15
    sheet.row_dimensions[header_row].height = 48
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=3)


def render_xlsx(report: AnnualReport) -> bytes:
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    heading = [" – ".join(report.subject.issuer),
               f"{report.spec.title} {period_title(report.period)} ({report.period.start:%d/%m/%Y} – "
               f"{report.period.end:%d/%m/%Y}); số liệu đến ngày {report.made_on:%d/%m/%Y}"]
    for table in tables(report):
        _write(book.create_sheet(sheet_name(table.key)), table, heading)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
