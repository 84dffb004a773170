"""Measures added up, as /stats, the digest and the spreadsheets show them: every measure that has a figure,
in the order ``handlers.measures`` declares them, values per currency and never across currencies."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from handlers.i18n import Translator
from handlers.measures import MEASURES, MONEY, ORDER
from storage.stats import Figures

# Currencies in the order values are listed: đồng first, then the neighbours' and the dollar.
CURRENCY_ORDER = ("VND", "CNY", "LAK", "KHR", "USD")


def currencies(found: Iterable[str]) -> list[str]:
    return sorted(set(found), key=lambda c: (CURRENCY_ORDER.index(c) if c in CURRENCY_ORDER else 99, c))


def amount_text(t: Translator, measure: str, currency: str, amount: Decimal) -> str:
    return t.money(amount, currency) if MEASURES[measure].kind == MONEY else t.number(amount)


def total_text(t: Translator, figures: Figures, measure: str) -> str | None:
    """One measure's total ("3.513", "500.000.000 ₫ · 5.000 CN¥"), "~" when an estimate is in it; None
    when there is none."""
    if MEASURES[measure].kind == MONEY:
        values = figures.values(measure)
        parts = [t.money(values[c], c) for c in currencies(values) if values[c]]
    else:
        amount = figures.total(measure)
        parts = [t.number(amount)] if amount else []
    if not parts:
        return None
    text = " · ".join(parts)
    return f"~{text}" if measure in figures.approx else text


def present(*figures: Figures) -> list[str]:
    """The measures with a figure in any of ``figures``, in their declared order."""
    found = {measure for f in figures for (measure, _), amount in f.measures.items() if amount}
    return [measure for measure in ORDER if measure in found]


def total_lines(t: Translator, figures: Figures) -> list[tuple[str, str]]:
    """(label, total) of every measure with a figure."""
    lines: list[tuple[str, str]] = []
    for measure in present(figures):
        text = total_text(t, figures, measure)
        if text is not None:
            lines.append((t(MEASURES[measure].label), text))
    return lines


def summary_rows(t: Translator, figures: Figures) -> list[tuple[str, object]]:
    """Every measure's total as spreadsheet rows: values one row per currency, as numbers."""
    rows: list[tuple[str, object]] = []
    for measure in present(figures):
        label = t(MEASURES[measure].label)
        if MEASURES[measure].kind == MONEY:
            values = figures.values(measure)
            rows += [(f"{label} ({currency})", values[currency]) for currency in currencies(values)]
        else:
            rows.append((label, figures.total(measure)))
    return rows


def count_text(t: Translator, figures: Figures, *, events: bool = False) -> str:
    """"4 reports", or "3 events (4 reports)" where reports are linked as one event (``events`` says so even
    when each report is its own event)."""
    reports = t.plural("{n} report", "{n} reports", figures.reports)
    if figures.events == figures.reports and not events:
        return reports
    return t("{events} ({reports})", events=t.plural("{n} event", "{n} events", figures.events), reports=reports)


def count_rows(t: Translator, figures: Figures) -> list[tuple[str, object]]:
    """The number of reports as a spreadsheet row, after the number of events where reports are linked."""
    events = [(t("Events"), figures.events)] if figures.events != figures.reports else []
    return [*events, (t("Reports"), figures.reports)]


def key_figure(t: Translator, measures: dict[tuple[str, str], Decimal]) -> str:
    """The one figure that says most about one report: its largest value in đồng (or its first value),
    else its gift packages, else the people who took part."""
    money = [(measure, currency, amount) for (measure, currency), amount in measures.items()
             if measure in MEASURES and MEASURES[measure].kind == MONEY and amount]
    if money:
        _, currency, amount = max(money, key=lambda m: (m[1] == "VND", m[2]))
        return t.money(amount, currency)
    packages = measures.get(("gift_packages", ""))
    if packages:
        return t.plural("{n} package", "{n} packages", int(packages))
    people = sum(measures.get((side, ""), Decimal(0)) for side in ("participants_ours", "participants_partner"))
    if people:
        return t.plural("{n} person", "{n} people", int(people))
    return ""
