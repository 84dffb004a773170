"""Reading one typed answer to one question of the report form: a figure is read right or asked about.

``read_figure`` turns what was typed at a measure's question into its draft value, or raises ``Invalid``
(say why, ask again) or ``Unsure`` (the text reads two ways, or one reading deserves a yes: ask, offering
the readings). Navigation words (``bỏ qua``, ``quay lại``, ``xong``, ``hủy`` and their English) are found
by ``navigation``, so that they are understood at every step and never stored as an answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from handlers.amounts import read_count, read_decimal, read_money
from handlers.i18n import N_, Translator
from handlers.measures import COUNT, DECIMAL, MONEY, Measure
from handlers.parsing import Invalid
from storage.folding import fold

# Folded words that move through the form rather than answer it, on every channel and in both languages.
NAVIGATION = {
    "skip": ("bo qua", "skip", "bo", "khong co", "none", "qua buoc nay"),
    "back": ("quay lai", "back", "tro lai", "lui lai", "go back"),
    "done": ("xong", "done", "het", "xong roi", "finish", "finished", "da xong", "ok xong"),
    "cancel": ("huy", "cancel", "huy bo", "huy bao cao"),
}
_NAVIGATION = {word: verb for verb, words in NAVIGATION.items() for word in words}


def navigation(text: str | None) -> str | None:
    """``skip``, ``back``, ``done`` or ``cancel`` when the whole answer is one of their words."""
    return _NAVIGATION.get(fold(text or "")) if text else None


@dataclass
class Unsure(Exception):
    """The answer reads more than one way, or its one reading is worth a "yes" first: ``readings`` are draft
    values to offer, ``why`` a message id saying why it is asked (with ``values``)."""

    readings: list[Any]
    why: str
    values: dict[str, Any] = field(default_factory=dict)
    approx: bool = False


def read_figure(measure: Measure, text: str, t: Translator, values: dict[str, Any]) -> tuple[Any, bool]:
    """(draft value, estimate?) of a measure's answer. May also fill the other side's participants when
    the officer said "mỗi bên 30" (thirty on each side)."""
    if measure.kind == MONEY:
        return _money(measure, text, t)
    if measure.kind == DECIMAL:
        number, approx = read_decimal(text)
        _check_range(measure, number, t.number(number), [str(number)], approx)
        return str(number), approx
    return _count(measure, text, t, values)


def _count(measure: Measure, text: str, t: Translator, values: dict[str, Any]) -> tuple[int, bool]:
    folded = fold(text)
    try:
        reading = read_count(text)
    except Invalid:
        for unit, why in measure.refused_units.items():
            if re.search(rf"\b{re.escape(unit)}\b", folded):
                raise Invalid(why) from None
        raise
    if reading.unit is not None and reading.unit in measure.refused_units:
        raise Invalid(measure.refused_units[reading.unit])
    sides = ("participants_ours", "participants_partner")
    if reading.both_sides:
        if measure.key in sides:
            raise Invalid(N_("{n} is both sides together. How many on this side alone?"),
                          n=t.number(reading.value))
        raise Invalid(N_("Please send one number (the total), e.g. 45."))
    if reading.each_side:
        if measure.key not in sides:
            raise Invalid(N_("Please send one number (the total), e.g. 45."))
        other = sides[1] if measure.key == sides[0] else sides[0]
        if values.get(other) not in (None, reading.value):
            # The other side was given already, as another number: which one is right is asked, not guessed.
            raise Invalid(N_("The other side was already given as {given}. How many on this side alone?"),
                          given=t.number(values[other]))
        values[other] = reading.value  # thirty on each side: the other side is answered too
        if reading.approx:
            values["approx"] = sorted({*values.get("approx", ()), other})
    _check_range(measure, Decimal(reading.value), t.number(reading.value), [reading.value], reading.approx)
    return reading.value, reading.approx


def _money(measure: Measure, text: str, t: Translator) -> tuple[list[dict[str, str]], bool]:
    reading = read_money(text)
    readings = [[{"amount": str(m.amount), "currency": m.currency} for m in option] for option in reading.options]
    approx = any(m.approx for option in reading.options for m in option)
    if len(readings) > 1:
        raise Unsure(readings, N_("“{text}” can be read in more than one way. Which did you mean?"),
                     {"text": text.strip()[:60]}, approx)
    if reading.confirm:
        raise Unsure(readings, reading.confirm, {}, approx)
    [option] = reading.options
    for money in option:
        if money.currency == "VND":
            _check_range(measure, money.amount, t.money(money.amount, "VND"), readings, approx)
    return readings[0], approx


def _check_range(measure: Measure, number: Decimal, shown: str, readings: list[Any], approx: bool) -> None:
    if measure.low is not None and number < measure.low:
        raise Unsure(readings, N_("{value} is less than such a figure usually is. Is it right?"),
                     {"value": shown}, approx)
    if measure.high is not None and number > measure.high:
        raise Unsure(readings, N_("{value} is more than such a figure usually is. Is it right?"),
                     {"value": shown}, approx)


def shown(t: Translator, measure: Measure, value: Any, approx: bool = False) -> str:
    """A measure's draft value as the reader sees it ("~150", "20.000.000 ₫ · 5.000 CN¥")."""
    if measure.kind == MONEY:
        text = " · ".join(t.money(Decimal(v["amount"]), v["currency"]) for v in value)
    elif measure.kind == COUNT:
        text = t.number(int(value))
    else:
        text = t.number(Decimal(value))
    return f"~{text}" if approx else text
