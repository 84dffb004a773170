"""Periods: ISO weeks (the rhythm of digests, reminders and reporting rates), and reporting years, halves
and quarters with a configurable cut-off.

The friendship unions report by calendar half-years by default. State statistics count their year from 15
December of the year before to 14 December (``YearStart(12, 15)``): "năm 2026" is then 15/12/2025–14/12/2026,
its first half 15/12/2025–14/6/2026 and its third quarter 15/6/2026–14/9/2026. Every period of a reporting
year starts on the cut-off day of a month, so halves and quarters of one year meet without a gap.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class YearStart:
    """The day a reporting year starts: 1 January (the calendar), or 15 December of the year before."""

    month: int = 1
    day: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1 <= self.day <= 28:
            raise ValueError("a reporting year starts on day 1 to 28 of a month")

    @property
    def calendar(self) -> bool:
        return (self.month, self.day) == (1, 1)

    def __str__(self) -> str:
        return f"{self.day:02d}/{self.month:02d}"

    @classmethod
    def parse(cls, text: str) -> YearStart:
        """``01/01`` or ``15/12``; ValueError otherwise."""
        day_text, sep, month_text = str(text).strip().partition("/")
        if not sep or not day_text.isdigit() or not month_text.isdigit():
            raise ValueError(f"{text!r} is not a day and month like 01/01 or 15/12")
        return cls(int(month_text), int(day_text))


CALENDAR = YearStart()
STATISTICS = YearStart(12, 15)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (or earlier), kept within the month: 31/8 + 6 months is 28/2 or 29/2."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def year_first_day(year: int, start: YearStart = CALENDAR) -> dt.date:
    """The first day of reporting year ``year``: it ends in ``year`` (a December start belongs to the next)."""
    if start.calendar:
        return dt.date(year, 1, 1)
    first = dt.date(year, start.month, start.day)
    return first if start.month == 1 else add_months(first, -12)


def part_bounds(year: int, months: int, index: int, start: YearStart = CALENDAR) -> tuple[dt.date, dt.date]:
    """Part ``index`` (1-based) of ``months`` months of reporting year ``year``: halves are 6, quarters 3."""
    first = add_months(year_first_day(year, start), months * (index - 1))
    return first, add_months(first, months) - dt.timedelta(days=1)


def year_bounds(year: int, start: YearStart = CALENDAR) -> tuple[dt.date, dt.date]:
    return part_bounds(year, 12, 1, start)


def reporting_year(day: dt.date, start: YearStart = CALENDAR) -> int:
    """The reporting year ``day`` belongs to."""
    for year in (day.year, day.year + 1):
        first, last = year_bounds(year, start)
        if first <= day <= last:
            return year
    return day.year - 1  # unreachable with a start within the year; kept for safety


def year_before(day: dt.date) -> dt.date:
    """The same day a year earlier; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


_WEEK_RE = re.compile(r"^\s*([0-9]{4})\s*-?\s*[Ww]\s*([0-9]{1,2})\s*$")


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def of(cls, day: dt.date) -> IsoWeek:
        year, week, _ = day.isocalendar()
        return cls(year, week)

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """``2026-W47`` (also ``2026W47``, ``2026-w7``); ValueError for anything else or a week that doesn't exist."""
        m = _WEEK_RE.match(text)
        if not m:
            raise ValueError(f"not an ISO week: {text!r}")
        year, week = int(m.group(1)), int(m.group(2))
        if not 2000 <= year <= 2100:
            raise ValueError(f"year {year} is outside 2000-2100")
        try:
            dt.date.fromisocalendar(year, week, 1)
        except ValueError:
            raise ValueError(f"week {week} does not exist in {year}") from None
        return cls(year, week)

    @property
    def start(self) -> dt.date:
        return dt.date.fromisocalendar(self.year, self.week, 1)

    @property
    def end(self) -> dt.date:
        return dt.date.fromisocalendar(self.year, self.week, 7)

    def shift(self, weeks: int) -> IsoWeek:
        return IsoWeek.of(self.start + dt.timedelta(weeks=weeks))

    @property
    def thursday(self) -> dt.date:
        """The day that decides which year, half or quarter a week belongs to (as ISO decides its year)."""
        return dt.date.fromisocalendar(self.year, self.week, 4)

    @property
    def previous(self) -> IsoWeek:
        return self.shift(-1)

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"


def weeks_of(start: dt.date, end: dt.date) -> list[IsoWeek]:
    """The ISO weeks whose Thursday lies in ``start``..``end``: consecutive periods share none."""
    first = IsoWeek.of(start)
    if first.thursday < start:
        first = first.shift(1)
    weeks = []
    week = first
    while week.thursday <= end:
        weeks.append(week)
        week = week.shift(1)
    return weeks
