"""Reading amounts of money, counts and measures the way Vietnamese officers type them.

A figure is read right or asked about, never guessed: where a text can mean two amounts both are
returned as options for the user to choose from (counts, which carry one value, are refused with an
example instead), and a word that is not part of an amount makes the whole answer refused rather than
skipped. The conventions are those of ``/work/shared/amounts.md``: dots group thousands, the comma is
the decimal mark, scale words (``tr``, ``tỷ``, ``k``...) are followed by digits that fill the places
below them (``2tr5`` is 2.500.000), numbers may be written in words (``hai triệu rưỡi``).

Words are matched without accents (officers often type without them), except where two words differ
only by their accents and mean different things here: ``tám`` (eight) and ``tầm`` (about), ``đô``
(dollar) and ``độ`` (about), ``tư`` (four) and ``từ`` (from), ``tỉ`` (billion) and ``tí`` (a little).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from itertools import product
from typing import Literal

from handlers.i18n import N_
from handlers.parsing import Invalid

CURRENCIES = ("VND", "CNY", "LAK", "KHR", "USD")
# A unit of these is worth too little to be counted alone: amounts are whole, and a bare "50" is
# thousands or millions, never fifty.
_WHOLE_CURRENCIES = ("VND", "LAK", "KHR")
_MAX_AMOUNT = Decimal(10) ** 15
_MAX_DIGITS = 15
# Long enough for "khoảng 5.000 nhân dân tệ và 20 triệu đồng"; bounds the work done on pasted text.
_MAX_LENGTH = 200
_TEN = Decimal(10)

_Mode = Literal["money", "count", "decimal"]


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Money:
    amount: Decimal  # VND, LAK, KHR: whole; CNY, USD: two decimals
    currency: str  # one of CURRENCIES
    approx: bool = False


@dataclass(frozen=True)
class MoneyReading:
    """Each option is one reading of the answer: one Money per currency named, in the order written
    (amounts in different currencies are never added)."""

    options: tuple[tuple[Money, ...], ...]
    confirm: str | None = None  # msgid saying why a single reading still deserves a "yes, that's right"

    @property
    def certain(self) -> bool:
        return len(self.options) == 1 and self.confirm is None


@dataclass(frozen=True)
class CountReading:
    value: int
    approx: bool = False
    unit: str | None = None  # the unit word after the number, folded without accents ("luot nguoi")
    each_side: bool = False  # "mỗi bên 30": thirty on each side
    both_sides: bool = False  # "hai bên 60": the total of both sides; the caller asks for the split


# --- messages ---------------------------------------------------------------------------------


def _unreadable(mode: _Mode) -> Invalid:
    if mode == "money":
        return Invalid(N_("I could not read that amount. Examples: 1.500.000, 1,5tr, 2 tỷ, 500k, 200 USD."))
    if mode == "count":
        return Invalid(N_("Please send a whole number, e.g. 45."))
    return Invalid(N_("Please send a number, e.g. 15,3."))


def _negative(mode: _Mode) -> Invalid:
    if mode == "money":
        return Invalid(N_("An amount cannot be negative. Type it without a minus sign, e.g. 1.500.000."))
    if mode == "count":
        return Invalid(N_("A count cannot be negative. Type it without a minus sign, e.g. 45."))
    return Invalid(N_("The number cannot be negative. Type it without a minus sign, e.g. 15,3."))


def _vague(word: str) -> Invalid:
    return Invalid(N_("Please give a figure instead of “{word}”, e.g. 3 triệu or 30; add “khoảng” if it is an "
                      "estimate."), word=word)


def _does_not_fit(part: str, scale: str) -> Invalid:
    return Invalid(N_("I cannot tell what “{part}” means after “{scale}”. Write it in full, "
                      "e.g. 2.500.000.000 or 2 tỷ 500 triệu."), part=part, scale=scale)


def _too_large() -> Invalid:
    return Invalid(N_("That amount is too large to be right. Check it and type it again, e.g. 1.500.000.000 "
                      "or 1,5 tỷ."))


# --- from text to tokens ----------------------------------------------------------------------

# Zero-width and bidirectional controls are invisible to the user and must not split a number.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]")
_TOKEN = re.compile(r"(?P<num>[0-9]+(?:[.,][0-9]+)*)|(?P<word>[a-z]+)|(?P<sym>\S)")
_EXPONENT = re.compile(r"[0-9]e[+-]?[0-9]")
_SPACED_GROUPS = re.compile(r"[1-9][0-9]{0,2}")


def _prepare(text: str) -> tuple[str, str]:
    """The text lowercased (``raw``, accents kept) and folded (``key``: accents dropped, đ → d), aligned
    character for character so a word found in ``key`` can be shown or checked as typed."""
    raw: list[str] = []
    key: list[str] = []
    for ch in _INVISIBLE.sub("", unicodedata.normalize("NFC", text)):
        if ch.isspace():  # non-breaking and narrow spaces too
            raw.append(" ")
            key.append(" ")
            continue
        low = ch.lower() if len(ch.lower()) == 1 else ch
        base = "d" if low == "đ" else "".join(
            c for c in unicodedata.normalize("NFD", low) if not unicodedata.combining(c))
        if not base:  # a stray combining mark
            continue
        raw.append(low)
        key.append(base if len(base) == 1 else low)
    folded = "".join(key).rstrip(" .")  # "50 triệu đồng."
    return "".join(raw)[: len(folded)], folded


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # num, word, sym
    key: str
    raw: str
    start: int
    end: int
    spaced: bool = False  # digits grouped by spaces ("1 500 000"), joined with dots


def _tokens(raw: str, key: str) -> list[_Tok]:
    found = [_Tok(m.lastgroup or "sym", m.group(), raw[m.start():m.end()], m.start(), m.end())
             for m in _TOKEN.finditer(key)]
    toks: list[_Tok] = []
    for i, tok in enumerate(found):
        # The dot of an abbreviation ("tr.đ", "approx. 200") is not a separator; "5tr.5" keeps it and is refused.
        if tok.key == "." and toks and toks[-1].kind == "word" and toks[-1].end == tok.start:
            after = found[i + 1] if i + 1 < len(found) else None
            if after is None or after.kind == "word" or after.start > tok.end:
                continue
        prev = toks[-1] if toks else None
        if (prev is not None and prev.kind == "num" and tok.kind == "num" and len(tok.key) == 3
                and tok.key.isdigit() and (prev.spaced or _SPACED_GROUPS.fullmatch(prev.key))):
            toks[-1] = _Tok("num", f"{prev.key}.{tok.key}", raw[prev.start:tok.end], prev.start, tok.end, True)
            continue
        toks.append(tok)
    return toks


# --- the words --------------------------------------------------------------------------------

_Entry = tuple[str, int, str]  # kind, value, code
_Lexicon = dict[str, list[tuple[frozenset[str] | None, _Entry]]]


def _lexicon(mode: _Mode) -> _Lexicon:
    """Folded phrase → what it is. Single words may require one of a few spellings as typed (``raws``)
    where accents alone tell two meanings apart; such entries come first."""
    lex: _Lexicon = {}

    def add(kind: str, phrases: str, value: int = 0, code: str = "", raws: str = "", modes: str = "mcd") -> None:
        if mode[0] not in modes:
            return
        for phrase in phrases.split("|"):
            lex.setdefault(phrase, []).append((frozenset(raws.split("|")) if raws else None, (kind, value, code)))

    # Accent-sensitive words first.
    add("digit", "tam", 8, raws="tám|tam")
    add("approx", "tam", raws="tầm")
    add("cur", "do", code="USD", raws="đô|do", modes="m")
    add("approx", "do", raws="độ")
    add("approx", "co", raws="cỡ")
    add("approx", "chung", raws="chừng|chung")
    add("approx", "duoi", raws="dưới|duoi")
    add("digit", "tu", 4, raws="tư|tu")
    add("range", "tu", raws="từ")
    add("range", "to", raws="to")
    add("range", "den", raws="đến|den")
    add("range", "toi", raws="tới|toi")
    add("neg", "am", raws="âm")
    add("neg", "tru", raws="trừ")
    add("vague", "vai", raws="vài|vai")
    add("vague", "may", raws="mấy|may")
    add("vague", "dam", raws="dăm|dam")
    add("sep", "va", raws="và|va")
    add("sep", "cong", raws="cộng|cong")
    add("sep", "voi", raws="với|voi")
    add("sep", "kem", raws="kèm|kem")
    add("digit", "mot", 1, raws="một|mốt|mot")
    add("digit", "ba", 3, raws="ba")
    add("digit", "hai", 2, raws="hai")
    add("digit", "bon", 4, raws="bốn|bon")
    add("digit", "nam", 5, raws="năm|nam")
    add("digit", "lam", 5, raws="lăm|lam")
    add("digit", "nham", 5, raws="nhăm|nham")
    add("digit", "sau", 6, raws="sáu|sau")
    add("digit", "bay", 7, raws="bảy|bẩy|bay")
    add("digit", "chin", 9, raws="chín|chin")
    add("digit", "khong", 0, raws="không|khong")
    add("muoi", "muoi", raws="mười|mươi|muoi")
    add("chuc", "chuc", raws="chục|chuc")
    add("tram", "tram", raws="trăm|tram")
    add("linh", "linh", raws="linh")
    add("linh", "le", raws="lẻ|le")
    add("ruoi", "ruoi", raws="rưỡi|rưởi|ruoi")
    add("nua", "nua", raws="nửa|nua")
    add("scale", "ty", 9, "full", raws="tỷ|ty", modes="mc")
    add("scale", "ti", 9, "full", raws="tỉ|ti", modes="mc")
    add("scale", "van", 4, "full", raws="vạn|van", modes="mc")
    add("scale", "cu", 6, raws="củ|cu", modes="m")

    add("approx", "hon|gan|khoang|tren|uoc|uoc tinh|uoc khoang|uoc chung|xap xi|ngot|tren duoi|khoang chung|"
        "do chung|it nhat|toi thieu|about|over|nearly|approx|approximately|around|almost|roughly|more than|"
        "at least|under|less than|circa")
    add("tilde", "~|≈")
    add("vague", "nhieu|several|few|some|many|dozens|hundreds|thousands|millions|billions|bao nhieu|"
        "hang chuc|hang tram|hang nghin|hang ngan|hang trieu|hang ty|hang ti|hang van|mot it|it nhieu")
    add("range", "hoac|or")
    add("dash", "-|−|–|—|‐|‑")
    add("sep", "and|+|&|,|;|plus")
    add("filler", "tong|tong cong|tong so|total|in total|tri gia|gia tri|tong tri gia|tong gia tri")

    add("scale", "nghin|ngan", 3, "full", modes="mc")
    add("scale", "trieu", 6, "full", modes="mc")
    add("scale", "k|thousand", 3, modes="mc")
    add("scale", "tr|million", 6, modes="mc")
    add("scale", "billion", 9, modes="mc")
    # Money only: "ng" is also short for "người", "m" for metres.
    add("scale", "ng", 3, modes="m")
    add("scale", "m", 6, modes="m")
    add("scale", "b", 9, modes="m")

    add("cur", "d", code="VND", raws="đ|d", modes="m")
    add("cur", "dong", code="VND", raws="đồng|dong", modes="m")
    add("cur", "vnd|₫|dong viet nam|viet nam dong", code="VND", modes="m")
    add("cur", "te", code="CNY", raws="tệ|te", modes="m")
    add("cur", "nhan dan te|ndt|rmb|cny|yuan|nhan dan te trung quoc", code="CNY", modes="m")
    add("cur", "¥", 1, code="CNY", modes="m")  # value 1: yen or yuan; on this border yuan, but confirmed
    add("cur", "kip", code="LAK", raws="kíp|kip", modes="m")
    add("cur", "kip lao|lak", code="LAK", modes="m")
    add("cur", "riel|rien|khr|riel campuchia|rien campuchia", code="KHR", modes="m")
    add("cur", "do la|do la my|do my|usd|us $|$|dollar|dollars|us dollar|us dollars", code="USD", modes="m")
    add("othercur", "bat", raws="bạt|bat", modes="m")
    add("othercur", "yen", raws="yên|yen", modes="m")
    add("othercur", "baht|thb|euro|euros|eur|€|yen nhat|jpy|won|krw|£|gbp|bang anh|sgd|aud|hkd|twd|dai te|"
        "rub|rup|ruble|rupee|inr|myr|ringgit|peso|chf|franc|cad|nzd|kyat|mmk|idr|rupiah|php|do la singapore|"
        "do singapore|do sing|do la sing|do la uc|do uc|do la canada|do canada|do la hong kong|do hong kong|"
        "do la dai loan|do dai loan|do la hk|do hk|s $|a $|hk $|c $|nt $|au $|sg $|nz $", modes="m")

    add("each", "moi ben|moi phia|each side|per side|each", modes="c")
    add("both", "hai ben|2 ben|ca hai ben|ca 2 ben|tong hai ben|tong 2 ben|tong ca hai ben|tong ca 2 ben|"
        "hai phia|2 phia|ca hai phia|ca 2 phia|both sides|both", modes="c")
    for word, raws in (("ho", "hộ|ho"), ("tan", "tấn|tan"), ("to", "tổ"), ("ban", "bản|ban"), ("bo", "bộ|bo"),
                       ("lan", "lần|lan"), ("cay", "cây|cay"), ("don", "đồn|don"), ("xa", "xã|xa"),
                       ("dot", "đợt|dot"), ("vu", "vụ|vu"), ("qua", "quà|qua"), ("ky", "ký|kí|ky"),
                       ("dan", "dân|dan"), ("cap", "cặp|cap"), ("nha", "nhà|nha"), ("hop", "hộp|hop"),
                       ("goi", "gói|goi"), ("tui", "túi|tui"), ("cai", "cái|cai"), ("ngay", "ngày|ngay"),
                       ("chau", "cháu|chau"), ("hang", "hàng|hang")):
        add("unit", word, code=word, raws=raws, modes="c")
    add("unit", "nguoi|luot|nhan khau|suat|xuat|phan|kg|thung|bao|chiec|km|ki lo met|kilomet|cay so|moc|cot|"
        "buoi|doan|cuoc|chuyen|thon|hoc sinh|em|can bo|chien si|dang vien|doan vien|thanh nien|nhom|"
        "truong hop|doi tuong|phuong tien|xe|people|persons|person|participants|visits|visitors|households|"
        "household|families|packages|package|gifts|gift|boxes|box|tonnes|tonne|tons|ton|items|item|sessions|"
        "times|groups|delegations|markers|trips", modes="c")
    add("dunit", "tan", raws="tấn|tan", modes="d")
    add("dunit", "met", raws="mét|met", modes="d")
    add("dunit", "ky", raws="ký|kí|ky", modes="d")
    add("dunit", "km|ki lo met|kilomet|kilometer|kilometers|kilometre|kilometres|cay so|m|ha|hecta|hec ta|kg|"
        "ki lo|ki lo gam|kilogam|lit|met vuong|met khoi", modes="d")
    return lex


_LEXICONS: dict[_Mode, _Lexicon] = {mode: _lexicon(mode) for mode in ("money", "count", "decimal")}


@dataclass(frozen=True, slots=True)
class _Lex:
    kind: str
    key: str  # folded
    raw: str  # as typed, lowercased
    value: int = 0  # a digit's value, a scale's power of ten
    code: str = ""  # currency code, unit, "full" for a scale word that may stand without "một"


def _lookup(lexicon: _Lexicon, key: str, raw: str | None) -> _Entry | None:
    for raws, entry in lexicon.get(key, ()):
        if raws is None or raw in raws:
            return entry
    return None


def _glued(tok: _Tok, lexicon: _Lexicon) -> list[_Lex] | None:
    """Scale words and currencies typed as one word: "trđ", "kvnd", "tỷđ"."""
    key = tok.key
    if len(key) > 12:
        return None

    def split(start: int) -> list[_Lex] | None:
        if start == len(key):
            return []
        for end in range(len(key), start, -1):
            entry = _lookup(lexicon, key[start:end], tok.raw[start:end])
            if entry and entry[0] in ("scale", "cur"):
                rest = split(end)
                if rest is not None:
                    return [_Lex(entry[0], key[start:end], tok.raw[start:end], entry[1], entry[2]), *rest]
        return None

    pieces = split(0)
    return pieces if pieces and len(pieces) > 1 else None


_NUMERIC = frozenset({"num", "digit", "muoi", "chuc", "tram", "linh", "ruoi", "nua", "scale"})


def _lex(text: str, mode: _Mode) -> list[_Lex]:
    if len(text) > _MAX_LENGTH:
        raise _unreadable(mode)
    raw, key = _prepare(text)
    if any(not "0" <= c <= "9" and (c.isdigit() or c.isnumeric()) for c in key):
        raise Invalid(N_("Please type the figure with the digits 0–9, e.g. 1.500.000 or 45."))
    if _EXPONENT.search(key):
        if mode == "money":
            raise Invalid(N_("Please write the amount in full, e.g. 1.500.000 or 1,5 triệu."))
        raise _unreadable(mode)
    tokens = _tokens(raw, key)
    if not tokens:
        raise _unreadable(mode)
    lexicon = _LEXICONS[mode]
    lexes: list[_Lex] = []
    i = 0
    while i < len(tokens):
        for n in (4, 3, 2):
            if i + n <= len(tokens):
                phrase = " ".join(t.key for t in tokens[i:i + n])
                entry = _lookup(lexicon, phrase, None)
                if entry:
                    lexes.append(_Lex(entry[0], phrase, raw[tokens[i].start:tokens[i + n - 1].end], *entry[1:]))
                    i += n
                    break
        else:
            tok = tokens[i]
            entry = None if tok.kind == "num" else _lookup(lexicon, tok.key, tok.raw)
            if tok.kind == "num":
                lexes.append(_Lex("num", tok.key, tok.raw))
            elif entry:
                lexes.append(_Lex(entry[0], tok.key, tok.raw, *entry[1:]))
            else:
                pieces = _glued(tok, lexicon) if tok.kind == "word" else None
                lexes.extend(pieces or [_Lex("unknown", tok.key, tok.raw)])
            i += 1

    for lx in lexes:
        if lx.kind == "vague":
            raise _vague(lx.raw)
    for lx in lexes:
        if lx.kind == "othercur":
            raise Invalid(N_("“{currency}” is not accepted here. Use đồng, nhân dân tệ, kíp, riel or USD, "
                             "e.g. 5.000 tệ or 200 USD."), currency=lx.raw)
    numbers = [i for i, lx in enumerate(lexes) if lx.kind in _NUMERIC]
    for i, lx in enumerate(lexes):
        between = bool(numbers) and numbers[0] < i < numbers[-1]
        if lx.kind == "range" or (lx.kind in ("dash", "tilde") and between):
            raise Invalid(N_("Please give one figure, not a range, e.g. “khoảng 6 triệu” or “khoảng 60”."))
    if any(lx.kind == "neg" for lx in lexes):
        raise _negative(mode)
    if any(lx.kind == "unknown" for lx in lexes):
        raise _unreadable(mode)
    return lexes


def _parts(lexes: list[_Lex], mode: _Mode) -> list[list[_Lex]]:
    parts: list[list[_Lex]] = [[]]
    for lx in lexes:
        if lx.kind == "sep":
            parts.append([])
        else:
            parts[-1].append(lx)
    if any(not part for part in parts):
        raise _unreadable(mode)
    if len(parts) > 1 and mode == "count":
        raise Invalid(N_("Please send one number (the total), e.g. 45."))
    if len(parts) > 1 and mode == "decimal":
        raise _unreadable(mode)
    return parts


# --- figures ----------------------------------------------------------------------------------


def _grouped(groups: list[str]) -> bool:
    head = groups[0]
    return 1 <= len(head) <= 3 and not head.startswith("0") and all(len(g) == 3 for g in groups[1:])


def _figure(text: str, mode: _Mode) -> tuple[Decimal, Decimal | None]:
    """A number in digits, read the Vietnamese way (dots group thousands, a comma is the decimal mark).
    The second value is the other reading of a single comma before three digits ("1,500"), when the
    digits before it can be a thousands group."""
    if sum(c.isdigit() for c in text) > _MAX_DIGITS:
        raise _too_large() if mode == "money" else _unreadable(mode)
    bad = Invalid(N_("I could not read that number. Write thousands with dots, e.g. 1.500.000."))
    if "." in text and "," in text:
        # Whichever comes last is the decimal mark: "1.234,5" and "1,234.5".
        mark = "." if text.rfind(".") > text.rfind(",") else ","
        whole, fraction = text.rsplit(mark, 1)
        if mark in whole or not _grouped(whole.split("," if mark == "." else ".")):
            raise bad
        return Decimal(whole.replace(",", "").replace(".", "") + "." + fraction), None
    if "." in text:
        groups = text.split(".")
        if len(groups) > 2 or len(groups[1]) == 3:
            if not _grouped(groups):
                raise bad
            return Decimal("".join(groups)), None
        if len(groups[1]) > 3:
            raise Invalid(N_("Is {text} a decimal number or thousands? Write thousands with dots (1.500) and "
                             "decimals with a comma (1,5)."), text=text)
        return Decimal(".".join(groups)), None  # "1.5tr": a decimal point copied from English
    if "," in text:
        groups = text.split(",")
        if len(groups) > 2:
            if not _grouped(groups):
                raise bad
            return Decimal("".join(groups)), None
        value = Decimal(".".join(groups))
        return value, Decimal("".join(groups)) if len(groups[1]) == 3 and _grouped(groups) else None
    return Decimal(text), None


@dataclass(frozen=True, slots=True)
class _Qty:
    """What stands before a scale word, or after the last one."""

    values: tuple[Decimal, ...]
    raw: str
    width: int | None = None  # places it fills as a tail: "5" 1, "05" 2, "năm trăm" 3; None: cannot be a tail
    lead_zero: bool = False
    units: bool = False  # "linh năm": the units of a thousand ("một nghìn linh năm" is 1005)


@dataclass(frozen=True, slots=True)
class _Core:
    values: tuple[Decimal, ...]  # one reading, or two to choose from
    scaled: bool  # a scale word was written
    comma_whole: bool = False  # "1,500" read as 1500


def _kind(core: list[_Lex], pos: int) -> str:
    return core[pos].kind if pos < len(core) else ""


_Role = Literal["lead", "unit", "fill"]
# "mốt", "tư" and "lăm" are one, four and five only after another number word: "hai mươi mốt",
# "triệu tư", "mười lăm". Standing first ("mốt triệu", "lăm củ") they are no number anyone says.
_NOT_LEADING = frozenset({"mốt", "tư", "tu", "lăm", "lam", "nhăm", "nham"})
_NOT_FILLING = frozenset({"lăm", "lam", "nhăm", "nham"})


def _digit(core: list[_Lex], pos: int, role: _Role, *, numeric: bool = False) -> int | None:
    """A digit word in the given place ("lead": first in a group; "unit": after mươi/mười; "fill": the
    next place after trăm or a scale word), or a lone digit 1-9 if ``numeric`` ("2 trăm")."""
    if pos >= len(core):
        return None
    lx = core[pos]
    if lx.kind == "digit":
        if (role == "lead" and lx.raw in _NOT_LEADING) or (role == "fill" and lx.raw in _NOT_FILLING):
            return None
        return lx.value
    if numeric and lx.kind == "num" and len(lx.key) == 1 and lx.key != "0":
        return int(lx.key)
    return None


def _spoken(core: list[_Lex], pos: int, mode: _Mode, *, after_scale: bool) -> tuple[_Qty, int]:
    """A number below a thousand in words, a digit allowed before trăm or chục: "ba trăm năm mươi",
    "trăm rưỡi" (150), "một trăm hai" (120), "hai mươi mốt", "2 trăm", "5 chục", "linh năm"."""
    start = pos

    def qty(value: int, end: int, width: int | None, units: bool = False) -> tuple[_Qty, int]:
        return _Qty((Decimal(value),), " ".join(lx.raw for lx in core[start:end]), width, units=units), end

    value = 0
    hundreds = False
    d = _digit(core, pos, "lead", numeric=True)
    if d is not None and _kind(core, pos + 1) == "tram":
        value, hundreds, pos = d * 100, True, pos + 2
    elif _kind(core, pos) == "tram":
        value, hundreds, pos = 100, True, pos + 1
    if hundreds:
        if _kind(core, pos) == "ruoi":
            return qty(value + 50, pos + 1, 3)
        if _kind(core, pos) == "linh":
            d = _digit(core, pos + 1, "unit", numeric=True)
            if d is None:
                raise _unreadable(mode)
            return qty(value + d, pos + 2, 3)
        d = _digit(core, pos, "fill")
        if d is not None and _kind(core, pos + 1) not in ("muoi", "chuc"):
            return qty(value + d * 10, pos + 1, 3)  # "trăm hai", like "triệu hai", fills the next place
    elif _kind(core, pos) == "linh":
        d = _digit(core, pos + 1, "unit", numeric=True)
        if d is None:
            raise _unreadable(mode)
        # "hai tỷ linh năm triệu"; as a tail only after nghìn: "hai triệu lẻ năm" could be 2.000.005 or 2.005.000.
        return qty(d, pos + 2, None, units=True)
    tens_word = ""
    d = _digit(core, pos, "lead")
    if not d or _kind(core, pos + 1) != "muoi":
        d = _digit(core, pos, "lead", numeric=True) if _kind(core, pos + 1) == "chuc" else None
    if d:
        value, tens_word, pos = value + d * 10, core[pos + 1].kind, pos + 2
    elif _kind(core, pos) in ("muoi", "chuc"):
        if core[pos].raw == "mươi":  # "mươi triệu": ten or so
            raise _vague(core[pos].raw)
        value, tens_word, pos = value + 10, core[pos].kind, pos + 1
    if tens_word == "chuc":
        if _kind(core, pos) == "ruoi":
            value, pos = value + 5, pos + 1
        return qty(value, pos, 3 if hundreds else None)  # "triệu chục" is no way to say a tail
    if tens_word:
        d = _digit(core, pos, "unit")
        if d:
            value, pos = value + d, pos + 1
        return qty(value, pos, 3 if hundreds else 2)
    if hundreds:
        return qty(value, pos, 3)
    d = _digit(core, pos, "fill" if after_scale and pos + 1 == len(core) else "lead")
    if d is None:
        raise _unreadable(mode)
    return qty(d, pos + 1, 1)


def _integral(value: Decimal) -> bool:
    return value == value.to_integral_value()


def _dedupe(values: list[Decimal]) -> tuple[Decimal, ...]:
    seen: list[Decimal] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return tuple(seen)


def _after_scale(core: list[_Lex], pos: int) -> int:
    """Where the scale word at ``pos`` ends: "nghìn tỷ" is one scale word (10¹²)."""
    if core[pos].key in ("nghin", "ngan") and _kind(core, pos + 1) == "scale" and core[pos + 1].key in ("ty", "ti"):
        return pos + 2
    return pos + 1


def _evaluate(core: list[_Lex], mode: _Mode) -> _Core:
    """The value(s) of an amount: groups each followed by a scale word, largest first, then perhaps a
    tail of digits that fills the places below the last scale word ("2tr5", "1 tỷ 2", "2 triệu 50")."""
    if not core:
        raise _unreadable(mode)
    totals = [Decimal(0)]
    last: _Lex | None = None
    last_exp = 0
    fractional = False
    comma_whole = False
    pos = 0
    n = len(core)
    while pos < n:
        lx = core[pos]
        scale_next = _kind(core, pos + 1) == "scale"
        if lx.kind == "num" and not (len(lx.key) == 1 and _kind(core, pos + 1) in ("tram", "chuc")):
            value, whole = _figure(lx.key, mode)
            plain = lx.key.isdigit()
            if whole is not None and scale_next:
                values: tuple[Decimal, ...] = (value, whole)  # "1,500 tỷ": 1,5 tỷ is as plausible as 1.500 tỷ
            elif whole is not None and last is None and mode != "decimal":
                values, comma_whole = (whole,), mode == "money"  # three decimals are implausible here
            else:
                values = (value,)
            lead_zero = plain and len(lx.key) > 1 and lx.key.startswith("0")
            qty = _Qty(values, lx.raw, len(lx.key) if plain else None, lead_zero)
            pos += 1
        elif lx.kind in ("num", "digit", "muoi", "chuc", "tram", "linh"):
            qty, pos = _spoken(core, pos, mode, after_scale=last is not None)
        elif lx.kind == "nua" and scale_next:
            qty = _Qty((Decimal("0.5"),), lx.raw)
            pos += 1
        elif lx.kind == "scale" and lx.code == "full" and last is None and _kind(core, _after_scale(core, pos)) in (
                "ruoi", "digit", "tram", "muoi", "chuc", "linh"):
            qty = _Qty((Decimal(1),), "")  # "triệu rưỡi", "tỷ hai": "một" left unsaid, as it is in speech
        else:
            raise _unreadable(mode)

        if _kind(core, pos) == "scale":
            scale = core[pos]
            end = _after_scale(core, pos)
            exp = 12 if end == pos + 2 else scale.value
            pos = end
            if last is None and all(v == 0 for v in qty.values):
                raise _unreadable(mode)  # "0 tỷ 05" is a slip, not an amount
            if last is not None:
                if exp >= last_exp:
                    raise Invalid(N_("“{scale}” comes twice or after a smaller unit. Write each unit once, "
                                     "largest first, e.g. 2 tỷ 500 triệu or 2tr5."), scale=scale.raw)
                if fractional or any(not _integral(v) or v >= _TEN ** (last_exp - exp) for v in qty.values):
                    raise _does_not_fit(qty.raw, last.raw)
            totals = [t + v * _TEN ** exp for t in totals for v in qty.values]
            fractional = any(not _integral(v) for v in qty.values)
            last, last_exp = scale, exp
            if _kind(core, pos) == "ruoi":
                if fractional:
                    raise _does_not_fit(core[pos].raw, scale.raw)
                totals = [t + _TEN ** exp / 2 for t in totals]
                pos += 1
                if pos < n:
                    raise _unreadable(mode)
            continue

        if pos < n:
            raise _unreadable(mode)
        if last is None:
            if qty.units:
                raise _unreadable(mode)
            return _Core(qty.values, scaled=False, comma_whole=comma_whole)
        width = 3 if qty.units and last_exp == 3 else qty.width
        if (width is None or fractional or len(qty.values) != 1 or width > 3 or width > last_exp
                or (last_exp == 4 and width > 1)):
            raise _does_not_fit(qty.raw, last.raw)
        tail = qty.values[0]
        readings = [tail * _TEN ** (last_exp - width)]
        if width == 2 and not qty.lead_zero:
            # "2 triệu 50": two million five hundred thousand, or two million fifty thousand.
            readings.append(tail * _TEN ** (last_exp - 3))
        totals = [t + r for t in totals for r in readings]
    return _Core(_dedupe(totals), scaled=True)


def _split_part(part: list[_Lex], prefix: frozenset[str], mode: _Mode) -> tuple[list[_Lex], list[_Lex], list[_Lex]]:
    """(words before the number, the number, words after it); a minus sign before the number refuses it."""
    i = 0
    while i < len(part) and part[i].kind in prefix:
        i += 1
    if i < len(part) and part[i].kind == "dash":
        raise _negative(mode)
    j = i
    while j < len(part) and part[j].kind in _NUMERIC:
        j += 1
    return part[:i], part[i:j], part[j:]


# --- money ------------------------------------------------------------------------------------

_MONEY_PREFIX = frozenset({"approx", "tilde", "cur", "filler"})


def _amount(value: Decimal, currency: str) -> Decimal:
    if value <= 0:
        raise Invalid(N_("The amount must be more than zero, e.g. 500.000 or 2 triệu."))
    if value >= _MAX_AMOUNT:
        raise _too_large()
    if currency in _WHOLE_CURRENCIES:
        if not _integral(value):
            raise Invalid(N_("Amounts in {currency} are whole numbers. Check the figure, e.g. 1.500.000 or "
                             "1,5 triệu."), currency=currency)
        return value.quantize(Decimal(1))
    cents = value.quantize(Decimal("0.01"))
    if cents != value:
        raise Invalid(N_("Amounts in {currency} have at most two decimals, e.g. 12,50 USD."), currency=currency)
    return cents


def _money_part(part: list[_Lex], default_currency: str) -> tuple[tuple[Money, ...], str, str | None]:
    before, core, after = _split_part(part, _MONEY_PREFIX, "money")
    approx = any(lx.kind in ("approx", "tilde") for lx in before)
    named = {lx.code for lx in (*before, *after) if lx.kind == "cur"}
    if len(named) > 1 or any(lx.kind != "cur" for lx in after):
        raise _unreadable("money")
    currency = next(iter(named), default_currency)
    reading = _evaluate(core, "money")
    values = list(reading.values)
    if not reading.scaled and not named and currency in _WHOLE_CURRENCIES and all(v < 1000 for v in values):
        # "50" is neither fifty đồng nor a figure to guess: fifty thousand or fifty million.
        values = [v * 1000 for v in values] + [v * 1_000_000 for v in values]
    money = tuple(Money(_amount(v, currency), currency, approx) for v in _dedupe(values))
    confirm = None
    if any(lx.kind == "cur" and lx.value == 1 for lx in (*before, *after)):
        confirm = N_("¥ is read as yuan (nhân dân tệ).")
    elif reading.comma_whole:
        confirm = N_("The comma before three digits is read as a thousands separator (1,500 = 1.500).")
    return money, currency, confirm


def read_money(text: str, default_currency: str = "VND") -> MoneyReading:
    """``1.500.000``, ``1,5tr``, ``2tr5``, ``2 tỷ 500 triệu``, ``hai triệu rưỡi``, ``5.000 tệ``, ``$200``,
    ``khoảng 50trđ``, ``5.000 tệ và 20 triệu đồng``."""
    if default_currency not in CURRENCIES:
        raise ValueError(f"unknown currency {default_currency!r}")
    parts = [_money_part(part, default_currency) for part in _parts(_lex(text, "money"), "money")]
    currencies = [currency for _, currency, _ in parts]
    for currency in currencies:
        if currencies.count(currency) > 1:
            raise Invalid(N_("There are two amounts in {currency}. Please type their total as one figure, "
                             "e.g. 25 triệu."), currency=currency)
    options = tuple(product(*(money for money, _, _ in parts)))
    return MoneyReading(options, next((confirm for _, _, confirm in parts if confirm), None))


# --- counts and measures ----------------------------------------------------------------------

_COUNT_PREFIX = frozenset({"approx", "tilde", "filler", "each", "both"})
_DECIMAL_PREFIX = frozenset({"approx", "tilde", "filler"})


def read_count(text: str, *, limit: int = 1_000_000) -> CountReading:
    """``45``, ``1.751 lượt người``, ``hơn 100``, ``ba mươi người``, ``mỗi bên 30``, ``hai bên 60``."""
    (part,) = _parts(_lex(text, "count"), "count")
    before, core, after = _split_part(part, _COUNT_PREFIX, "count")
    if any(lx.kind not in ("unit", "each", "both") for lx in after):
        raise _unreadable("count")
    sides = {lx.kind for lx in (*before, *after) if lx.kind in ("each", "both")}
    if len(sides) > 1:
        raise _unreadable("count")
    reading = _evaluate(core, "count")
    if len(reading.values) > 1:
        raise Invalid(N_("“{text}” can be read two ways. Please type the number in full, e.g. 2.500."),
                      text=" ".join(lx.raw for lx in core))
    value = reading.values[0]
    if not _integral(value):
        raise _unreadable("count")
    if value > limit:
        raise Invalid(N_("{value} is more than I can accept here (at most {limit})."), value=text.strip(),
                      limit=limit)
    unit = " ".join(lx.key for lx in after if lx.kind == "unit")
    return CountReading(int(value), any(lx.kind in ("approx", "tilde") for lx in before), unit or None,
                        "each" in sides, "both" in sides)


def read_decimal(text: str, *, limit: Decimal = Decimal(100_000)) -> tuple[Decimal, bool]:
    """(value, approximate): ``15,3 km``, ``22,732 km`` (twenty-two point seven three two), ``7.5``,
    ``khoảng 15 km``."""
    (part,) = _parts(_lex(text, "decimal"), "decimal")
    before, core, after = _split_part(part, _DECIMAL_PREFIX, "decimal")
    if any(lx.kind != "dunit" for lx in after):
        raise _unreadable("decimal")
    reading = _evaluate(core, "decimal")
    if len(reading.values) != 1:
        raise _unreadable("decimal")
    value = reading.values[0]
    if value > limit:
        raise Invalid(N_("{value} is more than I can accept here (at most {limit})."), value=text.strip(),
                      limit=limit)
    return value, any(lx.kind in ("approx", "tilde") for lx in before)


def spoken_number(words: str) -> int | None:
    """A whole number written in words ("ba trăm năm mươi", "hai triệu rưỡi"), else None."""
    try:
        lexes = _lex(words, "count")
    except Invalid:
        return None
    if not lexes or any(lx.kind not in _NUMERIC or lx.kind == "num" for lx in lexes):
        return None
    try:
        reading = _evaluate(lexes, "count")
    except Invalid:
        return None
    if len(reading.values) != 1 or not _integral(reading.values[0]):
        return None
    return int(reading.values[0])
