"""Reading command arguments: ``/recent 20 kind:donation province:"Lào Cai" partner:LA since:01/11/2026``
and periods such as ``week``, ``2026-W47``, ``11/2026``, ``01/10/2026-31/10/2026``."""

from __future__ import annotations

import datetime as dt
import re
import shlex
from dataclasses import dataclass

from handlers.i18n import N_
from handlers.parsing import Invalid, small_int
from handlers.report_form import KINDS
from storage.folding import fold
from storage.periods import CALENDAR, YearStart, part_bounds, reporting_year, year_bounds
from storage.registry import COUNTRIES, partner_province_by_name, province_by_name

MAX_PERIOD_DAYS = 3 * 366


@dataclass(frozen=True)
class Filters:
    limit: int = 10
    kind: str | None = None
    province: str | None = None  # province code
    country: str | None = None
    partner: str | None = None  # folded partner name or partner province
    since: dt.date | None = None
    until: dt.date | None = None
    unit: str | None = None  # unit code
    cluster: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Filters:
        values = dict(data)
        for key in ("since", "until"):
            if values.get(key):
                values[key] = dt.date.fromisoformat(str(values[key]))
        return cls(**values)  # type: ignore[arg-type]


def split_args(args: str) -> list[str]:
    try:
        return shlex.split(args.replace("“", '"').replace("”", '"'))
    except ValueError:
        raise Invalid(N_("A quote is not closed. Write names with spaces in quotes: province:\"Lào Cai\".")) from None


def _day(text: str) -> dt.date:
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if not m:
        raise Invalid(N_("Write dates as dd/mm/yyyy, e.g. 01/11/2026."))
    try:
        return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError:
        raise Invalid(N_("{text} is not a date in the calendar."), text=text) from None


def kind_by_name(text: str) -> str | None:
    key = fold(text)
    if key in KINDS:
        return key
    matches = [k for k, kind in KINDS.items() if fold(kind.label).startswith(key) or key in fold(kind.label)]
    return matches[0] if len(matches) == 1 else None


def parse_filters(args: str, *, allowed: tuple[str, ...], default_limit: int = 10, max_limit: int = 50) -> Filters:
    values: dict[str, object] = {"limit": default_limit}
    for token in split_args(args):
        if small_int(token) is not None and "limit" in allowed:
            n = int(token)
            if not 1 <= n <= max_limit:
                raise Invalid(N_("Ask for 1 to {max} reports at a time."), max=max_limit)
            values["limit"] = n
            continue
        name, sep, value = token.partition(":")
        name = name.lower()
        if not sep or name not in allowed or not value:
            raise Invalid(N_("I don't understand “{token}”. Filters: {filters}."), token=token,
                          filters=", ".join(f"{a}:…" for a in allowed if a != "limit"))
        if name == "kind":
            kind = kind_by_name(value)
            if kind is None:
                raise Invalid(N_("Unknown kind “{value}”. Kinds: {kinds}."), value=value, kinds=", ".join(KINDS))
            values["kind"] = kind
        elif name == "province":
            code = province_by_name(value)
            if code is None:
                raise Invalid(N_("Unknown province “{value}”."), value=value)
            values["province"] = code
        elif name == "partner":
            if value.upper() in COUNTRIES:
                values["country"] = value.upper()
            else:
                values["partner"] = fold(partner_province_by_name(value) or value)
        elif name in ("since", "until"):
            values[name] = _day(value)
        elif name == "unit":
            values["unit"] = value.upper()
        elif name == "cluster":
            number = small_int(value, digits=4)
            if number is None:
                raise Invalid(N_("A cluster is a number, e.g. cluster:2."))
            values["cluster"] = number
    filters = Filters(**values)  # type: ignore[arg-type]
    if filters.since and filters.until and filters.since > filters.until:
        raise Invalid(N_("“since” is after “until”."))
    return filters


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    label: str
    # How an administrative report names it: "6 tháng đầu năm 2026", "quý III năm 2026", "năm 2026".
    title: str = ""


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(label: str) -> tuple[dt.date, dt.date]:
    m = re.fullmatch(r"(\d{4})-?W(\d{1,2})", label.upper())
    if not m:
        raise Invalid(N_("Write a week as 2026-W47."))
    try:
        start = dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
        end = start + dt.timedelta(days=6)
    except (ValueError, OverflowError):
        raise Invalid(N_("{text} is not a week of that year."), text=label) from None
    return start, end


def parse_period(text: str, today: dt.date, default: str = "month", *, year_start: YearStart = CALENDAR) -> Period:
    """A period as people name it. Halves, quarters and years (``6 tháng đầu năm 2026``, ``quý III/2026``,
    ``năm 2026``, ``2026-H1``) follow ``year_start``: calendar ones by default."""
    period = _named_period(text or default, today, year_start) or _parse_period(text, today, default)
    if not (2000 <= period.start.year <= 2100 and 2000 <= period.end.year <= 2100):
        raise Invalid(N_("Choose a period between the years 2000 and 2100."))
    return period


def _parse_period(text: str, today: dt.date, default: str) -> Period:
    raw = (text or default).strip().lower()
    if raw in ("week", "tuan", "tuần"):
        start = today - dt.timedelta(days=today.weekday())
        return Period(start, today, iso_week(today))
    if raw in ("last", "lastweek", "last-week"):
        end = today - dt.timedelta(days=today.weekday() + 1)
        return Period(end - dt.timedelta(days=6), end, iso_week(end))
    if raw in ("month", "thang", "tháng"):
        return Period(today.replace(day=1), today, f"{today.month:02d}/{today.year}")
    if raw in ("quarter", "quy", "quý"):
        first_month = 3 * ((today.month - 1) // 3) + 1
        return Period(today.replace(month=first_month, day=1), today, f"Q{(today.month - 1) // 3 + 1}/{today.year}")
    if raw in ("year", "nam", "năm"):
        return Period(today.replace(month=1, day=1), today, str(today.year))
    if re.fullmatch(r"\d{4}-?w\d{1,2}", raw):
        start, end = week_bounds(raw)
        return Period(start, end, iso_week(start))
    m = re.fullmatch(r"(\d{1,2})/(\d{4})", raw)
    if m:
        month, year = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12 or not 2000 <= year <= 2100:
            raise Invalid(N_("{text} is not a month."), text=text)
        start = dt.date(year, month, 1)
        end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        return Period(start, end, f"{month:02d}/{year}", f"tháng {month} năm {year}")
    m = re.fullmatch(r"(\S+)\s*-\s*(\S+)", raw)
    if m:
        start, end = _day(m.group(1)), _day(m.group(2))
        if start > end:
            raise Invalid(N_("The period starts after it ends."))
        if (end - start).days > MAX_PERIOD_DAYS:
            raise Invalid(N_("A period can be at most three years."))
        return Period(start, end, f"{start:%d/%m/%Y}–{end:%d/%m/%Y}",
                      f"từ ngày {start:%d/%m/%Y} đến ngày {end:%d/%m/%Y}")
    raise Invalid(N_("I don't understand the period “{text}”. Use week, month, quarter, year, 2026-W47, "
                     "11/2026, 01/10/2026-31/10/2026, quý III/2026, 6 tháng đầu năm 2026 or năm 2026."), text=text)


ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
ROMAN_OF = {n: r.upper() for r, n in ROMAN.items()}
_YEAR = r"(?:nam\s+)?(\d{4})"
_HALF_PATTERNS = (
    (re.compile(rf"^(?:6|sau) thang (dau|cuoi)(?: nam)?(?: {_YEAR})?$"), {"dau": 1, "cuoi": 2}),
    (re.compile(r"^(\d{4}) h([12])$"), None),
    (re.compile(r"^h([12])(?: nam)? (\d{4})$"), None),
    (re.compile(r"^(first|second) half(?: of)?(?: (\d{4}))?$"), {"first": 1, "second": 2}),
)
_QUARTER_PATTERNS = (
    re.compile(rf"^(?:quy|quarter|q)\s*([1-4]|i|ii|iii|iv)(?: {_YEAR})?$"),
    re.compile(r"^(\d{4}) q([1-4])$"),
)
_YEAR_PATTERN = re.compile(r"^(?:nam|year)?\s*(\d{4})$")


def _named_period(text: str, today: dt.date, year_start: YearStart) -> Period | None:
    """Halves, quarters and whole years of a reporting year; None for any other words."""
    raw = text.strip().lower()
    if re.fullmatch(r"\d{1,2}/\d{4}", raw):  # 11/2026 is a month, not a quarter or a year
        return None
    words = fold(raw)
    for pattern, names in _HALF_PATTERNS:
        m = pattern.match(words)
        if not m:
            continue
        groups = m.groups()
        if names is None:  # "2026 h1" or "h1 2026"
            year_text, half_text = groups if len(groups[0]) == 4 else groups[::-1]
            half, year = int(half_text), int(year_text)
        else:
            half, year = names[groups[0]], int(groups[1]) if groups[1] else reporting_year(today, year_start)
        start, end = part_bounds(year, 6, half, year_start)
        title = f"6 tháng {'đầu' if half == 1 else 'cuối'} năm {year}"
        return Period(start, end, f"{year}-H{half}", title)
    for pattern in _QUARTER_PATTERNS:
        m = pattern.match(words)
        if not m:
            continue
        first, second = m.groups()
        if first.isdigit() and len(first) == 4:
            year, quarter = int(first), int(second)
        else:
            quarter = int(first) if first.isdigit() else ROMAN[first]
            year = int(second) if second else reporting_year(today, year_start)
        start, end = part_bounds(year, 3, quarter, year_start)
        return Period(start, end, f"{year}-Q{quarter}", f"quý {ROMAN_OF[quarter]} năm {year}")
    m = _YEAR_PATTERN.match(words)
    if m:
        year = int(m.group(1))
        start, end = year_bounds(year, year_start)
        return Period(start, end, str(year), f"năm {year}")
    return None
