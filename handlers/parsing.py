"""Reading what people type: dates, whole numbers, amounts of money, free text.

Each parser returns a value or raises ``Invalid`` with a message id (and values) that says
what is accepted, so the step can ask again with a specific hint.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from handlers.i18n import N_
from storage.folding import fold


class Invalid(ValueError):
    def __init__(self, msgid: str, **values: object) -> None:
        super().__init__(msgid)
        self.msgid = msgid
        self.values = values


def small_int(text: str | None, *, digits: int = 9) -> int | None:
    """An ASCII whole number of at most ``digits`` digits, else None ("²".isdigit() is true, and
    twenty digits overflow the database's integers)."""
    if text is None or not re.fullmatch(rf"[0-9]{{1,{digits}}}", text.strip()):
        return None
    return int(text.strip())


# --- text -----------------------------------------------------------------------------------

# Zero-width and bidirectional controls: invisible, and able to reorder what a coordinator reads.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad\u061c]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_name(name: str, *, limit: int = 200) -> str:
    """A display name as the messenger gave it, without invisible or reordering characters (a name is shown
    to coordinators beside others' text, where a right-to-left override would scramble the line)."""
    name = _CONTROL.sub(" ", _INVISIBLE.sub("", unicodedata.normalize("NFC", name)))
    return " ".join(name.split())[:limit]


def clean_text(text: str | None, *, limit: int, multiline: bool = False) -> str:
    if text is None:
        raise Invalid(N_("Please type your answer as text."))
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", _INVISIBLE.sub("", text))
    if multiline:
        lines = [" ".join(line.split()) for line in text.splitlines()]
        text = "\n".join(lines).strip()
        text = re.sub(r"\n{3,}", "\n\n", text)
    else:
        text = " ".join(text.split())
    if not text:
        raise Invalid(N_("The answer is empty. Please type a few words."))
    if len(text) > limit:
        raise Invalid(N_("That is {length} characters; please keep it to {limit} or fewer."), length=len(text),
                      limit=limit)
    return text


# --- dates ----------------------------------------------------------------------------------

_RELATIVE = {
    "hom nay": 0, "today": 0, "nay": 0,
    "hom qua": 1, "qua": 1, "yesterday": 1,
    "hom kia": 2, "day before yesterday": 2,
}
_DATE = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})(?:\s*[/.\-]\s*(\d{2}|\d{4}))?$")


def parse_date(text: str, *, today: dt.date, max_age_days: int) -> dt.date:
    key = fold(text).removeprefix("ngay ").strip()
    if key in _RELATIVE:
        day = today - dt.timedelta(days=_RELATIVE[key])
    else:
        m = _DATE.match(text.strip().removeprefix("ngày").removeprefix("Ngày").strip())
        if not m:
            raise Invalid(N_("I could not read that date. Write it as day/month, e.g. 24/1 or 24/01/2026, "
                             "or “hôm qua”."))
        d, mth, y = int(m.group(1)), int(m.group(2)), m.group(3)
        year = today.year if y is None else (2000 + int(y) if len(y) == 2 else int(y))
        try:
            day = dt.date(year, mth, d)
        except ValueError:
            raise Invalid(N_("{text} is not a date in the calendar. Check the day and the month "
                             "(day first, then month)."), text=text.strip()) from None
        if y is None and day > today:
            # "24/12" typed in January means last December, but "5/12" typed on 1 December is a date to
            # come, not one of last year: last year only when that is recent enough to be reported.
            try:
                last_year = day.replace(year=year - 1)
            except ValueError:
                last_year = None
            if last_year is not None and (today - last_year).days <= max_age_days:
                day = last_year
            else:
                raise Invalid(N_("{date} has not come yet. Report an activity once it has taken place."),
                              date=day.strftime("%d/%m/%Y"))
    if day > today:
        raise Invalid(N_("The date cannot be in the future."))
    if (today - day).days > max_age_days:
        raise Invalid(N_("That is more than {days} days ago; such old activities are reported to the "
                         "provincial union directly."), days=max_age_days)
    return day


# --- numbers --------------------------------------------------------------------------------

_SCALES = {
    "k": 3, "nghin": 3, "ngan": 3, "ng": 3,
    "tr": 6, "trieu": 6, "m": 6, "million": 6, "millions": 6, "cu": 6,
    "ty": 9, "ti": 9, "b": 9, "billion": 9, "billions": 9,
}
# Matched on accent-free lowercase text, longest first.
_CURRENCY_WORDS = {
    "nhan dan te": "CNY", "do la my": "USD", "do la": "USD", "us$": "USD", "usd": "USD", "$": "USD",
    "dollars": "USD", "dollar": "USD", "do": "USD",
    "cny": "CNY", "rmb": "CNY", "yuan": "CNY", "te": "CNY", "¥": "CNY",
    "lak": "LAK", "kip": "LAK", "khr": "KHR", "riel": "KHR", "rien": "KHR",
    "vnd": "VND", "dong": "VND", "d": "VND", "₫": "VND",
}
CURRENCIES = ("VND", "CNY", "LAK", "KHR", "USD")
_MAX_MONEY = Decimal(10) ** 15
_MAX_COUNT = 1_000_000
_QUALIFIERS = re.compile(r"^(khoang|hon|tren|gan|uoc|about|over|nearly|approx\.?)\s+")
_UNIT_WORDS = re.compile(
    r"\s*(luot nguoi|nguoi|luot|suat qua|suat|phan qua|people|persons|doan|cot moc|moc|km)$")
_AMOUNT_PART = re.compile(r"(\d+(?:[.,]\d+)*)\s*([a-z]+)?")


def _plain(text: str) -> str:
    """Lowercase without accents, keeping digits and punctuation (``fold`` would drop the separators)."""
    decomposed = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower().strip()


def _number(token: str, scaled: bool) -> Decimal:
    dots, commas = token.count("."), token.count(",")
    if dots and commas:
        decimal_sep = "." if token.rfind(".") > token.rfind(",") else ","
        thousands = "," if decimal_sep == "." else "."
        token = token.replace(thousands, "").replace(decimal_sep, ".")
    elif dots or commas:
        sep = "." if dots else ","
        groups = token.split(sep)
        all_thousands = all(len(g) == 3 for g in groups[1:]) and 1 <= len(groups[0]) <= 3
        if len(groups) > 2:
            if not all_thousands:
                raise Invalid(N_("I could not read that number. Write thousands with dots, e.g. 1.500.000."))
            token = "".join(groups)
        elif all_thousands and sep == "." and not scaled:
            token = "".join(groups)
        elif all_thousands and sep == "," and not scaled:
            raise Invalid(N_("Is {text} a decimal number or thousands? Write thousands with dots (1.500) and "
                             "decimals with a comma (1,5)."), text=token)
        else:
            token = token.replace(sep, ".")
    try:
        return Decimal(token)
    except InvalidOperation:
        raise Invalid(N_("I could not read that number.")) from None


def _bare_number(text: str) -> str:
    plain = _UNIT_WORDS.sub("", _QUALIFIERS.sub("", _plain(text))).strip()
    return plain.replace(" ", "") if re.fullmatch(r"\d{1,3}(?: \d{3})+", plain) else plain


def parse_count(text: str, *, limit: int = _MAX_COUNT) -> int:
    """A whole number of people, packages, delegations: ``45``, ``1.200``, ``khoảng 300 người``."""
    if text.strip().startswith(("-", "−")):
        raise Invalid(N_("A count cannot be negative."))
    bare = _bare_number(text)
    if not re.fullmatch(r"\d+(?:[.,]\d+)*", bare):
        raise Invalid(N_("Please send a whole number, e.g. 45."))
    value = _number(bare, scaled=False)
    if value != value.to_integral_value():
        raise Invalid(N_("Please send a whole number, e.g. 45."))
    if value > limit:
        raise Invalid(N_("{value} is more than I can accept here (at most {limit})."), value=text.strip(),
                      limit=limit)
    return int(value)


def parse_money(text: str, default_currency: str = "VND") -> tuple[Decimal, str]:
    """``1.500.000``, ``1,5tr``, ``2 tỷ 500 triệu``, ``500k``, ``350 triệu đồng``, ``200 USD``, ``5.000 tệ``."""
    raw = text.strip()
    if raw.startswith(("-", "−")):
        raise Invalid(N_("An amount cannot be negative."))
    if re.search(r"\d\s*e\s*[+-]?\d", raw, re.IGNORECASE):
        raise Invalid(N_("Please write the amount in full, e.g. 1.500.000 or 1,5 triệu."))
    plain = _QUALIFIERS.sub("", _plain(raw))
    currency = None
    for word in sorted(_CURRENCY_WORDS, key=len, reverse=True):
        edge = r"(?<![a-z])" + re.escape(word) + r"(?![a-z])" if word[0].isalpha() else re.escape(word)
        if re.search(edge, plain):
            currency = _CURRENCY_WORDS[word]
            plain = re.sub(edge, " ", plain, count=1).strip()
            break
    parts = list(_AMOUNT_PART.finditer(plain))
    leftover = _AMOUNT_PART.sub("", plain).strip()
    if not parts or leftover:
        raise Invalid(N_("I could not read that amount. Examples: 1.500.000, 1,5tr, 2 tỷ, 500k, 200 USD."))
    total = Decimal(0)
    last_scale: int | None = None
    for part in parts:
        number, word = part.group(1), part.group(2)
        scale = _SCALES.get(word) if word else None
        if word and scale is None:
            raise Invalid(N_("I could not read that amount. Examples: 1.500.000, 1,5tr, 2 tỷ, 500k, 200 USD."))
        if scale is None and last_scale:
            scale = last_scale - 3  # "3 triệu 500" is 3 million 500 thousand
        total += _number(number, scaled=scale is not None) * (Decimal(10) ** (scale or 0))
        last_scale = scale
    if total <= 0:
        raise Invalid(N_("The amount must be more than zero."))
    if total >= _MAX_MONEY:
        raise Invalid(N_("That amount is too large to be right; please check it."))
    currency = currency or default_currency
    digits = 0 if currency in ("VND", "LAK", "KHR") else 2
    amount = total.quantize(Decimal(1).scaleb(-digits))
    if amount <= 0:
        raise Invalid(N_("The amount must be more than zero."))
    return amount, currency


def parse_decimal(text: str, *, limit: Decimal = Decimal(100_000)) -> Decimal:
    raw = _bare_number(text)
    if text.strip().startswith(("-", "−")):
        raise Invalid(N_("The number cannot be negative."))
    if not re.fullmatch(r"[\d.,]+", raw):
        raise Invalid(N_("Please send a number, e.g. 15,3."))
    value = _number(raw, scaled=True)
    if value > limit:
        raise Invalid(N_("{value} is more than I can accept here (at most {limit})."), value=text.strip(),
                      limit=limit)
    return value.quantize(Decimal("0.001")).normalize()
