"""Reports as an XLSX workbook: one row per report with every field it has (and the number of its event,
shared by reports linked as one), and a summary sheet. Every XLSX the bot sends (the digest's, /export's) is
made here.

    write_reports_workbook(rows, summary_rows, locale) -> bytes

``rows`` is any iterable of ``storage.digests.ReportRow`` (stream them with ``storage.digests.report_rows``)
or ``Report`` objects; they are written as they come (openpyxl write-only mode), so memory stays flat however
many there are. For producers that are themselves asynchronous, ``ReportsWorkbook`` takes rows one at a time:

    book = ReportsWorkbook("vi")
    async for row in report_rows(...):
        book.add(row)
    data = book.finish(summary_rows)

Headers and labels are in ``locale``; dates are real dates (all dd/mm/yyyy, times dd/mm/yyyy hh:mm), figures
and amounts real numbers with thousands separators (``#,##0``), times local (``tz``) without a zone, since Excel
has none. Every sheet opens with its header frozen and an autofilter on it. Columns are those the reports have
(``Columns``): a column per measure and currency with a figure, the details of the kinds present, the position
and a map link only where there are positions. Photos are counted: Telegram's file links are private, and no
public link exists yet.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from handlers.i18n import N_, Translator
from handlers.measures import DECIMAL, FIGURE_SETS, MEASURES, MONEY
from handlers.positions import map_url, near_text
from handlers.report_form import COUNTRIES, FIELDS, KINDS
from handlers.report_values import DETAILS
from storage.digests import ReportRow
from storage.models import Report

DEFAULT_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

REPORTS_SHEET = N_("Reports")
SUMMARY_SHEET = N_("Summary")

# Fields kept in a report's details, each a column of its own (in the form's order).
DETAIL_FIELDS = DETAILS

COLUMNS: tuple[tuple[str, str, int], ...] = (  # key, header message id, width
    ("id", N_("Report no."), 9),
    ("event", N_("Event no."), 9),  # the same for reports linked as one event (storage.events)
    ("activity_date", N_("Date"), 11),
    ("province_name", N_("Province"), 14),
    ("unit_code", N_("Unit code"), 22),
    ("unit_name", N_("Unit"), 30),
    ("kind", N_("Kind"), 22),
    ("partner_name", N_("Partner"), 28),
    ("partner_country", N_("Partner country"), 12),
    ("partner_province", N_("Partner province"), 16),
    ("venue", N_("Held"), 18),
    # the measures' columns go here (see ReportsWorkbook)
    *((key, FIELDS[key].label, 16) for key in DETAIL_FIELDS),
    ("place", N_("Place"), 20),
    ("latitude", N_("Latitude"), 10),
    ("longitude", N_("Longitude"), 10),
    ("map", N_("Map"), 12),
    ("photos", N_("Photos"), 8),
    ("description", N_("Description"), 60),
    ("status", N_("Status"), 10),
    ("status_reason", N_("Status reason"), 20),
    ("author_name", N_("Filed by"), 20),
    ("channel", N_("Channel"), 9),
    ("version", N_("Version"), 8),
    ("created_at", N_("Filed at"), 17),
    ("updated_at", N_("Last changed at"), 17),
)
MEASURES_AFTER = "venue"
MONEY_FORMAT = "#,##0"
COUNT_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.###"
POSITION_FORMAT = "0.00000"

_VENUES = dict(FIELDS["venue"].choices)
_STATUSES = {"submitted": N_("submitted"), "withdrawn": N_("withdrawn"), "voided": N_("voided")}
_DATE_FORMAT = "dd/mm/yyyy"
_TIME_FORMAT = "dd/mm/yyyy hh:mm"


def sheet_title(t: Translator, msgid: str) -> str:
    """Excel refuses []:*?/\\ in sheet names and more than 31 characters."""
    title = "".join(ch for ch in t(msgid) if ch not in "[]:*?/\\").strip()
    return title[:31] or msgid[:31]


@dataclass(frozen=True)
class Columns:
    """Which of the optional columns a sheet has."""

    figures: tuple[tuple[str, str], ...]  # (measure, currency), in the measures' order
    details: tuple[str, ...] = DETAIL_FIELDS  # details (``report_values.DETAILS``) with a column
    positions: bool = True  # latitude, longitude and a map link
    statuses: bool = False  # status and its reason: only where withdrawn or voided reports are listed

    @classmethod
    def of_rows(cls, rows: Iterable[ReportRow], *, statuses: bool = False) -> Columns:
        """Exactly the columns ``rows`` have something in."""
        rows = list(rows)
        details = {key for row in rows for key, value in (row.details or {}).items() if value is not None}
        return cls(figures=tuple(measure_columns(k for row in rows for k, n in row.measures.items() if n)),
                   details=tuple(key for key in DETAIL_FIELDS if key in details),
                   positions=any(row.latitude is not None for row in rows), statuses=statuses)

    @classmethod
    def of_figures(cls, measures: Iterable[tuple[str, str]], kinds: Iterable[str], *, positions: bool,
                   statuses: bool = False) -> Columns:
        """The columns of a period known by its totals (when rows are streamed): the measures with a figure,
        and the details the kinds present and those measures' sets ask."""
        figures = measure_columns(measures)
        wanted: set[str] = set()
        for kind in kinds:
            if kind in KINDS:
                wanted.update(KINDS[kind].details)
                wanted.update(f for name in KINDS[kind].sets for f in FIGURE_SETS[name].fields)
        present = {measure for measure, _ in figures}
        wanted.update(f for figure_set in FIGURE_SETS.values() if present & set(figure_set.fields)
                      for f in figure_set.fields)
        return cls(figures=tuple(figures), details=tuple(key for key in DETAIL_FIELDS if key in wanted),
                   positions=positions, statuses=statuses)


ALL_COLUMNS = Columns(figures=tuple((key, "VND" if measure.kind == MONEY else "") for key, measure in MEASURES.items()),
                      statuses=True)


class ReportsWorkbook:
    """``columns``: which optional columns to have (``Columns.of_rows``, ``Columns.of_figures``); ``figures``
    alone names the measure columns and keeps every other one."""

    def __init__(self, locale: str, *, tz: dt.tzinfo = DEFAULT_TZ, columns: Columns | None = None,
                 figures: list[tuple[str, str]] | None = None) -> None:
        self.t = Translator(locale, tz)
        self.tz = tz
        self.count = 0
        if columns is None:
            columns = ALL_COLUMNS if figures is None else Columns(figures=tuple(figures), statuses=True)
        self.figures = list(columns.figures)
        dropped = {key for key in DETAIL_FIELDS if key not in columns.details}
        if not columns.positions:
            dropped |= {"latitude", "longitude", "map"}
        if not columns.statuses:
            dropped |= {"status", "status_reason"}
        kept = [column for column in COLUMNS if column[0] not in dropped]
        at = [key for key, _, _ in kept].index(MEASURES_AFTER) + 1
        measure_columns = [(f"{key}|{currency}", self._measure_header(key, currency), 14)
                           for key, currency in self.figures]
        self.columns = [*kept[:at], *measure_columns, *kept[at:]]
        self._book = Workbook(write_only=True)
        self._sheet: WriteOnlyWorksheet = self._book.create_sheet(sheet_title(self.t, REPORTS_SHEET))
        self._summary: WriteOnlyWorksheet = self._book.create_sheet(sheet_title(self.t, SUMMARY_SHEET))
        for index, (_, _, width) in enumerate(self.columns, start=1):
            self._sheet.column_dimensions[_letter(index)].width = width
        self._sheet.freeze_panes = "C2"
        bold = Font(bold=True)
        self._sheet.append([self._cell(self._sheet, header if "|" in key else self.t(header), font=bold)
                            for key, header, _ in self.columns])
        self._kinds = {key: self.t(kind.label) for key, kind in KINDS.items()}
        self._countries = {code: self.t(label) for code, label in COUNTRIES}
        self._venues = {key: self.t(label) for key, label in _VENUES.items()}

    def _measure_header(self, key: str, currency: str) -> str:
        label = self.t(MEASURES[key].label)
        return f"{label} ({currency})" if currency else label

    @staticmethod
    def _cell(sheet: WriteOnlyWorksheet, value: Any, *, font: Font | None = None,
              number_format: str | None = None) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)
        if font is not None:
            cell.font = font
        if number_format is not None:
            cell.number_format = number_format
        return cell

    @staticmethod
    def _text(sheet: WriteOnlyWorksheet, value: Any) -> Any:
        """Text stays text: openpyxl would store "=HYPERLINK(…)" typed by a user as a live formula."""
        if not isinstance(value, str):
            return value
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell

    def add(self, row: ReportRow | Report) -> None:
        if not isinstance(row, ReportRow):
            row = ReportRow.from_report(row)
        self._sheet.append([self._text(self._sheet, v) for v in self._values(row)])
        self.count += 1

    def add_all(self, rows: Iterable[ReportRow | Report]) -> None:
        for row in rows:
            self.add(row)

    def _values(self, row: ReportRow) -> list[Any]:
        t, sheet = self.t, self._sheet
        details = row.details or {}
        values: list[Any] = []
        for key, _, _ in self.columns:
            if "|" in key:
                measure, currency = key.split("|")
                figure = row.measures.get((measure, currency))
                number_format = MONEY_FORMAT if MEASURES[measure].kind != DECIMAL else DECIMAL_FORMAT
                values.append(None if figure is None else self._cell(sheet, figure, number_format=number_format))
            elif key == "activity_date":
                values.append(self._cell(sheet, row.activity_date, number_format=_DATE_FORMAT))
            elif key in ("latitude", "longitude"):
                position = getattr(row, key)
                values.append(None if position is None else self._cell(sheet, position,
                                                                        number_format=POSITION_FORMAT))
            elif key == "map":
                values.append(self._map(row))
            elif key in ("id", "photos", "version"):
                values.append(self._cell(sheet, getattr(row, key), number_format=COUNT_FORMAT if key == "photos"
                                         else "0"))
            elif key in ("created_at", "updated_at"):
                local = getattr(row, key).astimezone(self.tz).replace(tzinfo=None, microsecond=0)
                values.append(self._cell(sheet, local, number_format=_TIME_FORMAT))
            elif key == "kind":
                values.append(self._kinds.get(row.kind, row.kind))
            elif key == "partner_country":
                values.append(self._countries.get(row.partner_country, row.partner_country))
            elif key == "venue":
                values.append(self._venues.get(row.venue, row.venue))
            elif key == "status":
                values.append(t(_STATUSES[row.status]) if row.status in _STATUSES else row.status)
            elif key == "event":
                values.append(row.event or row.id)
            elif key == "place":
                values.append(details.get("place") or near_text(t, details.get("near")))
            elif key in DETAIL_FIELDS:
                values.append(self._detail(key, details.get(key)))
            else:
                values.append(getattr(row, key))
        return values

    def _map(self, row: ReportRow) -> Any:
        """An OpenStreetMap link to the position (the formula is ours, made of two numbers)."""
        if row.latitude is None or row.longitude is None:
            return None
        url = map_url(row.latitude, row.longitude)
        label = self.t("Map").replace('"', "")
        cell = WriteOnlyCell(self._sheet, value=f'=HYPERLINK("{url}","{label}")')
        cell.font = Font(color="0563C1", underline="single")
        return cell

    def _detail(self, key: str, value: Any) -> Any:
        if value is None:
            return None
        choices = dict(FIELDS[key].choices)
        if choices:
            return self.t(choices[value]) if value in choices else str(value)
        if isinstance(value, int | float | Decimal | str):
            return value
        return json.dumps(value, ensure_ascii=False)

    def finish(self, summary_rows: list[tuple[str, object]]) -> bytes:
        """Write the summary sheet ((label, value) rows, already in the workbook's language) and the file."""
        self._sheet.auto_filter.ref = f"A1:{_letter(len(self.columns))}{self.count + 1}"
        summary = self._summary
        summary.column_dimensions["A"].width = 48
        summary.column_dimensions["B"].width = 20
        summary.freeze_panes = "A2"
        bold = Font(bold=True)
        summary.append([self._cell(summary, self.t("Figure"), font=bold),
                        self._cell(summary, self.t("Value"), font=bold)])
        for label, value in summary_rows:
            if value is None:  # a heading
                summary.append([self._cell(summary, str(label), font=bold)])
            else:
                summary.append([self._text(summary, str(label)), self._value(summary, value)])
        summary.auto_filter.ref = f"A1:B{len(summary_rows) + 1}"
        buffer = io.BytesIO()
        self._book.save(buffer)
        return buffer.getvalue()

    def _value(self, sheet: WriteOnlyWorksheet, value: object) -> Any:
        """A summary value as a number, a date or text, formatted like the reports sheet."""
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, dt.datetime):
            local = value.astimezone(self.tz).replace(tzinfo=None, microsecond=0)
            return self._cell(sheet, local, number_format=_TIME_FORMAT)
        if isinstance(value, dt.date):
            return self._cell(sheet, value, number_format=_DATE_FORMAT)
        if isinstance(value, int | float | Decimal):
            whole = value == int(value)
            return self._cell(sheet, value, number_format=COUNT_FORMAT if whole else DECIMAL_FORMAT)
        return self._text(sheet, str(value))


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def measure_columns(found: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (measure, currency) columns a sheet needs for ``found``, in the measures' declared order."""
    from handlers.totals import currencies

    found = set(found)
    return [(measure, currency) for measure in MEASURES
            for currency in currencies(c for m, c in found if m == measure)]


def write_reports_workbook(rows: Iterable[ReportRow | Report], summary_rows: list[tuple[str, object]], locale: str,
                           *, tz: dt.tzinfo = DEFAULT_TZ, columns: Columns | None = None) -> bytes:
    """The XLSX file: a sheet with one row per report (the columns they have something in, unless ``columns``
    says otherwise), then the summary sheet.

    ``summary_rows`` are (label, value) pairs in ``locale``; a value of ``None`` makes the label a heading."""
    listed = [row if isinstance(row, ReportRow) else ReportRow.from_report(row) for row in rows]
    book = ReportsWorkbook(locale, tz=tz, columns=columns or Columns.of_rows(
        listed, statuses=any(row.status != "submitted" for row in listed)))
    book.add_all(listed)
    return book.finish(summary_rows)
