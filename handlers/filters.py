"""Reading what a coordinator asks, in English or in Vietnamese: ``/recent 20 loại:tặng quà đối tác:Lào``,
``/stats quý III tỉnh:Lào Cai``, ``/recent kind:donation province:"Lào Cai" since:01/11/2026``.

Filters are ``key:value``; keys, kinds and countries are matched without accents (``loai:tang qua``), and a
value may run over several words without quotes (``nước:Trung Quốc``): it takes as many of the words after it
as still make a known kind, province or country, and what follows is read as the period (``tháng này``,
``quý III``, ``6 tháng đầu năm``, ``năm 2025``, ``2026-W47``, ``11/2026``, ``01/10/2026-31/10/2026`` …) or,
for /recent, as the number of reports.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from handlers.i18n import N_, Translator
from handlers.parsing import Invalid, small_int
from handlers.report_form import COUNTRIES, KINDS
from storage.folding import fold
from storage.periods import CALENDAR, YearStart, part_bounds, reporting_year, year_bounds
from storage.registry import partner_province_by_name, province_by_name

MAX_PERIOD_DAYS = 3 * 366

# Every way of writing a filter's key (folded) → the key. Vietnamese first: that is what officers type.
KEYWORDS: dict[str, str] = {
    "loai": "kind", "loai hinh": "kind", "kind": "kind",
    "tinh": "province", "province": "province",
    "doi tac": "partner", "partner": "partner",
    "nuoc": "country", "quoc gia": "country", "country": "country",
    "don vi": "unit", "unit": "unit",
    "cum": "cluster", "cluster": "cluster",
    "tu": "since", "tu ngay": "since", "since": "since", "from": "since",
    "den": "until", "den ngay": "until", "until": "until", "to": "until",
}
# How each key is shown in a reader's language, in the order they are listed.
KEY_NAMES: dict[str, dict[str, str]] = {
    "vi": {"kind": "loại", "province": "tỉnh", "partner": "đối tác", "country": "nước", "unit": "đơn vị",
           "cluster": "cụm", "since": "từ", "until": "đến"},
    "en": {"kind": "kind", "province": "province", "partner": "partner", "country": "country", "unit": "unit",
           "cluster": "cluster", "since": "since", "until": "until"},
}
# Words people use for a kind besides its label, folded.
KIND_WORDS: dict[str, tuple[str, ...]] = {
    "exchange": ("giao luu", "van nghe", "the thao", "exchange"),
    "donation": ("tang qua", "trao qua", "ho tro", "qua", "gifts", "gift", "donation"),
    "visit": ("tham hoi", "chuc mung", "chuc tet", "visit", "greetings"),
    "delegation": ("doan", "doan vao", "doan ra", "delegation"),
    "patrol": ("tuan tra", "tuan tra song phuong", "tuan tra chung", "patrol"),
    "medical": ("kham benh", "cap thuoc", "kham chua benh", "y te", "medical"),
    "outreach": ("tuyen truyen", "pho bien phap luat", "outreach"),
    "twinning_signing": ("ky ket", "ky ket nghia", "signing"),
    "twinning_review": ("so ket", "tong ket", "review"),
    "other": ("khac", "other"),
}
COUNTRY_WORDS: dict[str, tuple[str, ...]] = {
    "CN": ("cn", "china", "trung quoc", "tq", "trung hoa"),
    "LA": ("la", "laos", "lao", "cong hoa dan chu nhan dan lao", "ctdcnd lao"),
    "KH": ("kh", "cambodia", "campuchia", "cam pu chia", "cam bot", "kampuchea"),
}
_COUNTRY_KEYS = {word: code for code, words in COUNTRY_WORDS.items() for word in words}
# Keys written in two words, joined before anything else is read ("đối tác:Lào" → one filter).
_TWO_WORD_KEYS = {key for key in KEYWORDS if " " in key}


@dataclass(frozen=True)
class Filters:
    limit: int = 10
    kind: str | None = None
    province: str | None = None  # province code
    country: str | None = None
    partner: str | None = None  # folded partner name or partner province
    since: dt.date | None = None
    until: dt.date | None = None
    unit: str | None = None  # a unit code, or part of a unit's name (resolved by the handler)
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


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    label: str
    # How an administrative report names it: "6 tháng đầu năm 2026", "quý III năm 2026", "năm 2026".
    title: str = ""


@dataclass(frozen=True)
class Query:
    filters: Filters
    period: Period | None  # the period named, if any


def split_args(args: str) -> list[str]:
    try:
        return shlex.split(args.replace("“", '"').replace("”", '"'))
    except ValueError:
        raise Invalid(N_("A quote is not closed. Write names with spaces in quotes: province:\"Lào Cai\".")) from None


def key_names(locale: str, allowed: tuple[str, ...]) -> str:
    """``loại:…, tỉnh:…`` for the keys a command accepts, in the reader's language."""
    names = KEY_NAMES.get(locale, KEY_NAMES["en"])
    return ", ".join(f"{names[key]}:…" for key in names if key in allowed)


def kind_by_name(text: str) -> str | None:
    """A kind by its key, its label in either language or a common word for it, without accents."""
    key = fold(text)
    if not key:
        return None
    if key in KINDS:
        return key
    names = _kind_names()
    for test in (lambda name: name == key, lambda name: name.startswith(key), lambda name: key in name):
        matches = {kind for kind, words in names.items() if any(test(word) for word in words)}
        if len(matches) == 1:
            return matches.pop()
        if matches:
            return None
    return None


@cache
def _kind_names() -> dict[str, set[str]]:
    return {kind: {fold(k.label), *(fold(Translator(locale, dt.UTC)(k.label)) for locale in ("vi", "en")),
                   *KIND_WORDS.get(kind, ())} for kind, k in KINDS.items()}


def country_by_name(text: str) -> str | None:
    return _COUNTRY_KEYS.get(fold(text))


def _day(text: str, today: dt.date | None = None) -> dt.date:
    m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}))?", text.strip())
    if not m or (m.group(3) is None and today is None):
        raise Invalid(N_("Write dates as dd/mm/yyyy, e.g. 01/11/2026."))
    year = int(m.group(3)) if m.group(3) else today.year  # type: ignore[union-attr]
    try:
        return dt.date(year, int(m.group(2)), int(m.group(1)))
    except ValueError:
        raise Invalid(N_("{text} is not a date in the calendar."), text=text) from None


def _join_two_word_keys(tokens: list[str]) -> list[str]:
    """``đối`` ``tác:Lào`` → ``đối tác:Lào``."""
    joined: list[str] = []
    for token in tokens:
        head = token.partition(":")[0]
        if joined and ":" not in joined[-1] and f"{fold(joined[-1])} {fold(head)}" in _TWO_WORD_KEYS and ":" in token:
            joined[-1] = f"{joined[-1]} {token}"
        else:
            joined.append(token)
    return joined


def _key_of(token: str) -> str | None:
    name, sep, _ = token.partition(":")
    return KEYWORDS.get(fold(name)) if sep and name.strip() else None


def parse_query(args: str, *, allowed: tuple[str, ...], today: dt.date, locale: str = "en",
                limit: bool = False, default_limit: int = 10, max_limit: int = 50,
                period: bool = True) -> Query:
    """Filters (``allowed`` keys), the period named (``period``) and, with ``limit``, the number of reports.

    Raises ``Invalid`` naming what is accepted, in the reader's language where it lists words."""
    tokens = _join_two_word_keys(split_args(args))
    groups: list[tuple[str, str, list[str]]] = []  # (key, the token as typed, its words)
    loose: list[str] = []
    for token in tokens:
        key = _key_of(token)
        if key is not None:
            value = token.partition(":")[2].strip()
            groups.append((key, token, value.split() if value else []))
        elif ":" in token and not re.fullmatch(r"[\d/.\-:]+", token):
            raise _unknown(token, allowed, locale, period)
        elif groups:
            groups[-1][2].append(token)  # a value of several words written without quotes, or what follows it
        else:
            loose.append(token)

    def rest_is_loose(words: list[str]) -> bool:
        if not words:
            return True
        try:
            _loose(words, limit=limit, period=period, today=today, max_limit=max_limit, allowed=allowed,
                   locale=locale)
        except Invalid:
            return False
        return True

    values: dict[str, object] = {"limit": default_limit}
    for key, token, words in groups:
        if key not in allowed:
            raise _unknown(token, allowed, locale, period)
        if not words:
            raise Invalid(N_("Write a value after “{token}”, e.g. {example}."), token=token,
                          example=_example(key, locale))
        taken, found = _resolve(key, words, rest_is_loose, today)
        if found is None:
            if key in ("since", "until") and len(words) == 1:
                _day(words[0], today)  # says why
            raise _bad_value(key, " ".join(words), locale, allowed, period)
        if key == "partner" and isinstance(found, tuple):
            values["country"] = found[1]
        else:
            values[key] = found
        loose += words[taken:]
    named = None
    if loose:
        number, named = _loose(loose, limit=limit, period=period, today=today, max_limit=max_limit,
                               allowed=allowed, locale=locale)
        if number is not None:
            values["limit"] = number
    filters = Filters(**values)  # type: ignore[arg-type]
    if filters.since and filters.until and filters.since > filters.until:
        raise Invalid(N_("“since” is after “until”."))
    return Query(filters, named)


def _loose(words: list[str], *, limit: bool, period: bool, today: dt.date, max_limit: int,
           allowed: tuple[str, ...], locale: str) -> tuple[int | None, Period | None]:
    """Words that are no filter: the number of reports (with ``limit``) and the period (with ``period``)."""
    text = " ".join(words)

    def count(word: str) -> int:
        n = int(word)
        if not 1 <= n <= max_limit:
            raise Invalid(N_("Ask for 1 to {max} reports at a time."), max=max_limit)
        return n

    alone = len(words) == 1 and small_int(words[0]) is not None
    if limit and alone and (small_int(words[0], digits=2) is not None or not period or not _is_period(text, today)):
        return count(words[0]), None
    if period and _is_period(text, today):
        return None, parse_period(text, today)
    if limit and period and len(words) > 1:
        for number, rest in ((words[0], words[1:]), (words[-1], words[:-1])):
            if small_int(number) is not None and len(rest) > 1 and _is_period(" ".join(rest), today):
                return count(number), parse_period(" ".join(rest), today)
    if period and (not limit or any(ch.isdigit() for ch in text) or (fold(text).split() or [""])[0] in _PERIOD_WORDS):
        parse_period(text, today)  # says what periods look like
    raise _unknown(text, allowed, locale, period)


def _is_period(text: str, today: dt.date) -> bool:
    try:
        parse_period(text, today)
    except Invalid:
        return False
    return True


def _resolve(key: str, words: list[str], rest_ok: Callable[[list[str]], bool],
             today: dt.date) -> tuple[int, object]:
    """(how many of ``words`` the value takes, the value); (0, None) when no reading works.

    A name (a partner, a unit) takes the fewest words after which the rest is a period or a number, else all
    of them; a kind, a province or a country the most words that still name one."""
    for taken in range(len(words), 0, -1):
        if not rest_ok(words[taken:]):
            continue
        value = _value(key, " ".join(words[:taken]), today)
        if value is not None:
            return taken, value
    if key in ("partner", "unit"):
        for taken in range(1, len(words) + 1):
            if rest_ok(words[taken:]):
                return taken, _name(key, " ".join(words[:taken]))
    return 0, None


def _name(key: str, text: str) -> str | None:
    if key == "partner":
        return fold(text) or None
    return text.strip() or None


def _value(key: str, text: str, today: dt.date) -> object:
    if key == "kind":
        return kind_by_name(text)
    if key == "province":
        return province_by_name(text)
    if key == "country":
        return country_by_name(text)
    if key == "partner":
        country = country_by_name(text)
        if country is not None:
            return ("country", country)
        province = partner_province_by_name(text)
        return fold(province) if province else None
    if key in ("since", "until"):
        try:
            return _day(text, today)
        except Invalid:
            return None
    if key == "cluster":
        return small_int(fold(text).removeprefix("so ").strip(), digits=4)
    return None


def _example(key: str, locale: str) -> str:
    names = KEY_NAMES.get(locale, KEY_NAMES["en"])
    examples = {"kind": "tặng quà" if locale == "vi" else "donation", "province": "Lào Cai",
                "partner": "Lào" if locale == "vi" else "LA", "country": "Lào" if locale == "vi" else "LA",
                "unit": "Pha Long", "cluster": "2", "since": "01/11/2026", "until": "30/11/2026"}
    return f"{names[key]}:{examples[key]}"


def _unknown(token: str, allowed: tuple[str, ...], locale: str, period: bool = False) -> Invalid:
    if period:
        return Invalid(N_("I don't understand “{token}”. Filters: {filters}; periods: this week, last week, "
                          "this month, Q3, first half, this year, 2025, 11/2026."), token=token,
                       filters=key_names(locale, allowed))
    return Invalid(N_("I don't understand “{token}”. Filters: {filters}."), token=token,
                   filters=key_names(locale, allowed))


def _bad_value(key: str, value: str, locale: str, allowed: tuple[str, ...], period: bool) -> Invalid:
    t = Translator(locale, dt.UTC)
    if key == "kind":
        return Invalid(N_("Unknown kind “{value}”. Kinds: {kinds}."), value=value,
                       kinds="; ".join(t(kind.label) for kind in KINDS.values()))
    if key == "province":
        return Invalid(N_("Unknown province “{value}”."), value=value)
    if key == "country":
        return Invalid(N_("Unknown country “{value}”. Countries: {countries}."), value=value,
                       countries="; ".join(t(label) for _, label in COUNTRIES))
    if key == "cluster":
        return Invalid(N_("A cluster is a number, e.g. {example}."), example=_example("cluster", locale))
    return _unknown(value, allowed, locale, period)


# --- periods ---------------------------------------------------------------------------------------

_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}
# Words that start a period (folded): a loose word after a filter that is one of these is not its value.
_PERIOD_WORDS = {"tuan", "thang", "quy", "nam", "week", "month", "quarter", "year", "this", "last", "6", "nua",
                 "first", "second", "h1", "h2", "q1", "q2", "q3", "q4"}
_YEAR = r"(?:\s+(?:nam\s+)?(\d{4}))?"


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


def _month_end(start: dt.date) -> dt.date:
    return (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def _quarter(year: int, number: int) -> Period:
    start = dt.date(year, 3 * (number - 1) + 1, 1)
    return Period(start, _month_end(start.replace(month=start.month + 2)), f"Q{number}/{year}")


def _parse_period(text: str, today: dt.date, default: str) -> Period:
    raw = (text or default).strip().lower()
    key = fold(raw)
    week_start = today - dt.timedelta(days=today.weekday())
    if key in ("week", "tuan", "tuan nay", "this week"):
        return Period(week_start, today, iso_week(today))
    if key in ("last", "lastweek", "last week", "tuan truoc", "tuan qua"):
        end = week_start - dt.timedelta(days=1)
        return Period(end - dt.timedelta(days=6), end, iso_week(end))
    if key in ("month", "thang", "thang nay", "this month"):
        return Period(today.replace(day=1), today, f"{today.month:02d}/{today.year}")
    if key in ("last month", "thang truoc", "thang qua"):
        end = today.replace(day=1) - dt.timedelta(days=1)
        return Period(end.replace(day=1), end, f"{end.month:02d}/{end.year}")
    quarter = (today.month - 1) // 3 + 1
    if key in ("quarter", "quy", "quy nay", "this quarter"):
        first_month = 3 * (quarter - 1) + 1
        return Period(today.replace(month=first_month, day=1), today, f"Q{quarter}/{today.year}")
    if key in ("last quarter", "quy truoc"):
        year, number = (today.year, quarter - 1) if quarter > 1 else (today.year - 1, 4)
        return _quarter(year, number)
    m = re.fullmatch(r"(?:quy|quarter|q)\s*(iv|iii|ii|i|[1-4])" + _YEAR, key)
    if m:
        return _quarter(int(m.group(2) or today.year), _ROMAN[m.group(1)])
    m = re.fullmatch(r"(?:6 thang dau nam|nua dau nam|first half|h1)" + _YEAR, key)
    if m:
        year = int(m.group(1) or today.year)
        return Period(dt.date(year, 1, 1), dt.date(year, 6, 30), f"H1/{year}")
    m = re.fullmatch(r"(?:6 thang cuoi nam|nua cuoi nam|second half|h2)" + _YEAR, key)
    if m:
        year = int(m.group(1) or today.year)
        return Period(dt.date(year, 7, 1), dt.date(year, 12, 31), f"H2/{year}")
    if key in ("year", "nam", "nam nay", "this year"):
        return Period(today.replace(month=1, day=1), today, str(today.year))
    if key in ("last year", "nam truoc", "nam ngoai", "nam qua"):
        year = today.year - 1
        return Period(dt.date(year, 1, 1), dt.date(year, 12, 31), str(year))
    m = re.fullmatch(r"(?:nam|year)?\s*(\d{4})", key)
    if m:
        year = int(m.group(1))
        return Period(dt.date(year, 1, 1), dt.date(year, 12, 31), str(year))
    m = re.fullmatch(r"(?:thang|month)\s+(\d{1,2})" + _YEAR, key)
    if m:
        raw = f"{m.group(1)}/{m.group(2) or today.year}"
    m = re.fullmatch(r"(?:tuan|week)\s+(\d{1,2})" + _YEAR, key)
    if m:
        raw = f"{m.group(2) or today.isocalendar()[0]}-w{m.group(1)}"
    if re.fullmatch(r"\d{4}-?w\d{1,2}", raw):
        start, end = week_bounds(raw)
        return Period(start, end, iso_week(start))
    m = re.fullmatch(r"(\d{1,2})/(\d{4})", raw)
    if m:
        month, year = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12 or not 2000 <= year <= 2100:
            raise Invalid(N_("{text} is not a month."), text=text)
        start = dt.date(year, month, 1)
        return Period(start, _month_end(start), f"{month:02d}/{year}", f"tháng {month} năm {year}")
    m = re.fullmatch(r"(?:tu\s+)?(\S+)\s*(?:-|–|den)\s*(\S+)", fold_dashes(raw))
    if m:
        start, end = _day(m.group(1), today), _day(m.group(2), today)
        if start > end:
            raise Invalid(N_("The period starts after it ends."))
        if (end - start).days > MAX_PERIOD_DAYS:
            raise Invalid(N_("A period can be at most three years."))
        return Period(start, end, f"{start:%d/%m/%Y}–{end:%d/%m/%Y}",
                      f"từ ngày {start:%d/%m/%Y} đến ngày {end:%d/%m/%Y}")
    raise Invalid(N_("I don't understand the period “{text}”. Use this week, last week, this month, last month, "
                     "this quarter, Q3, first half, this year, 2025, 2026-W47, 11/2026 or "
                     "01/10/2026-31/10/2026."), text=text)


def fold_dashes(text: str) -> str:
    """``từ 01/10/2026 đến 31/10/2026`` with its words folded and its dates kept."""
    return " ".join(word if re.search(r"\d", word) else fold(word) or word for word in text.split())


# --- halves, quarters and years of a reporting year (which may start in December) ----------------

ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
ROMAN_OF = {n: r.upper() for r, n in ROMAN.items()}
_NAMED_YEAR = r"(?:nam\s+)?(\d{4})"
_HALF_PATTERNS = (
    (re.compile(rf"^(?:6|sau) thang (dau|cuoi)(?: nam)?(?: {_NAMED_YEAR})?$"), {"dau": 1, "cuoi": 2}),
    (re.compile(r"^(\d{4}) h([12])$"), None),
    (re.compile(r"^h([12])(?: nam)? (\d{4})$"), None),
    (re.compile(r"^(first|second) half(?: of)?(?: (\d{4}))?$"), {"first": 1, "second": 2}),
)
_QUARTER_PATTERNS = (
    re.compile(rf"^(?:quy|quarter|q)\s*([1-4]|i|ii|iii|iv)(?: {_NAMED_YEAR})?$"),
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
