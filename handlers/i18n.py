"""Translations from the Babel catalogs in ``locales/``, and locale-aware formatting.

Message ids are English literals with named placeholders; values are formatted in
after translation and HTML-escaped unless marked ``Safe``, so a user's text can
never break the markup of a reply. Catalogs are compiled in memory from the
``.po`` files, so a fresh clone never meets "locale not compiled".
"""

from __future__ import annotations

import copy
import datetime as dt
import gettext as _gettext
import html
import io
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, get_currency_precision

import locales

LOCALES = ("vi", "en")
DOMAIN = "twinbot"
CATALOG_DIR = Path(next(iter(locales.__path__)))


class Safe(str):
    """Text that is already valid reply markup and must not be escaped again."""


def esc(value: object) -> str:
    return html.escape(str(value), quote=False)


def N_(msgid: str) -> str:
    """Marks a message id declared as data (flows, menus); translated where it is shown."""
    return msgid


@cache
def translations(locale: str) -> _gettext.NullTranslations:
    po_path = CATALOG_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
        return _gettext.NullTranslations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=locale, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def _fill(template: str, values: dict[str, object]) -> str:
    if not values:
        return template
    return template.format(**{k: v if isinstance(v, Safe) else esc(v) for k, v in values.items()})


def normalise_locale(code: str | None, default: str) -> str:
    if code:
        base = code.split("-")[0].split("_")[0].lower()
        if base in LOCALES:
            return base
    return default


class Translator:
    """Everything a handler needs to speak one user's language."""

    def __init__(self, locale: str, tz: dt.tzinfo) -> None:
        self.locale = locale
        self.tz = tz
        self._t = translations(locale)

    def __reduce__(self) -> tuple[Any, ...]:
        # Sent to a drawing process (``handlers.offload``) as its language and time zone; the catalog is
        # loaded there.
        return (Translator, (self.locale, self.tz))

    def __call__(self, msgid: str, **values: object) -> Safe:
        return Safe(_fill(self._t.gettext(msgid), values))

    def plural(self, singular: str, plural: str, n: int, **values: object) -> Safe:
        values.setdefault("n", self.number(n))
        return Safe(_fill(self._t.ngettext(singular, plural, n), values))

    def date(self, day: dt.date) -> str:
        return format_date(day, "dd/MM/yyyy", locale=_locale(self.locale))

    def number(self, value: int | float | Decimal) -> Safe:
        # The parsed locale, not its name: babel parses a name again on every call.
        return Safe(format_decimal(value, locale=_locale(self.locale)))

    def money(self, value: int | float | Decimal, currency: str) -> Safe:
        """``200 US$`` / ``$200``: the locale's currency format, without decimals that say nothing (a whole
        amount has none; others keep the currency's own, ``$200.50``)."""
        return Safe(_money(Decimal(str(value)), currency, self.locale))


@cache
def _locale(locale: str) -> Locale:
    return Locale.parse(locale)


def _money(value: Decimal, currency: str, locale: str) -> str:
    pattern = _locale(locale).currency_formats.get("standard")
    if pattern is None:
        return format_currency(value, currency, locale=locale)
    pattern = copy.copy(pattern)
    digits = 0 if value == value.to_integral_value() else get_currency_precision(currency)
    pattern.frac_prec = (digits, digits)
    return pattern.apply(value, _locale(locale), currency=currency, currency_digits=False)


LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
