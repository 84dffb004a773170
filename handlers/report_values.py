"""A report as the form holds it (draft values) and as storage keeps it (columns, details, measure rows), and
the way between the two, both ways.

Draft values of measures: a count is an ``int``, a decimal a ``str``, a value a list of
``{"amount": str, "currency": str}`` (one per currency, never added up); ``values["approx"]`` lists the
measures given as estimates ("khoảng 150").
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from handlers.measures import COUNT, DECIMAL, FIGURE_SETS, MEASURES, MONEY
from handlers.report_form import FIELDS, HEAD, TAIL, figure_sets
from storage.models import Report
from storage.reports import Figure
from storage.stats import exact

# What describes a report besides its columns and its figures: kept in ``reports.details``.
DETAILS = tuple(key for key in FIELDS if key not in (*HEAD, *TAIL, *MEASURES))


def figures_of(values: dict[str, Any]) -> list[Figure]:
    approx = set(values.get("approx") or ())
    figures = []
    for key, measure in MEASURES.items():
        value = values.get(key)
        if value is None:
            continue
        if measure.kind == MONEY:
            figures += [Figure(key, Decimal(v["amount"]), v["currency"], key in approx) for v in value]
        else:
            figures.append(Figure(key, Decimal(str(value)), "", key in approx))
    return figures


def details_of(values: dict[str, Any]) -> dict[str, Any]:
    return {key: values[key] for key in DETAILS if values.get(key) is not None}


def measure_values(figures: list[Figure]) -> dict[str, Any]:
    """Measure rows back as draft values."""
    values: dict[str, Any] = {}
    approx = []
    for figure in figures:
        measure = MEASURES.get(figure.measure)
        if measure is None:
            continue
        amount = exact(figure.amount)
        if measure.kind == MONEY:
            values.setdefault(figure.measure, []).append({"amount": str(amount), "currency": figure.currency})
        elif measure.kind == COUNT:
            values[figure.measure] = int(amount)
        elif measure.kind == DECIMAL:
            values[figure.measure] = str(amount)
        if figure.approx:
            approx.append(figure.measure)
    if approx:
        values["approx"] = approx
    return values


def values_of(report: Report) -> dict[str, Any]:
    """A report as draft values, so the form's display and parsing serve corrections too."""
    figures = [Figure(m.measure, m.amount, m.currency, m.approx) for m in report.measures]
    values: dict[str, Any] = {
        "unit": report.unit_id, "unit_name": report.unit.name, "unit_fixed": True, "kind": report.kind,
        "date": report.activity_date.isoformat(), "venue": report.venue, "description": report.description,
        **measure_values(figures),
    }
    if report.pair_id:
        values["pair"] = report.pair_id
        values["partner"] = {"name": report.partner_name, "country": report.partner_country,
                             "province": report.partner_province}
    else:
        values.update(pair="other", partner_name=report.partner_name, partner_country=report.partner_country)
    details = report.details or {}
    values.update({key: details[key] for key in DETAILS if key in details})
    values["photos"] = [{"file_id": p.file_id} for p in report.photos] or None
    if report.latitude is not None and report.longitude is not None:
        values["location"] = {"lat": report.latitude, "lon": report.longitude}
        if details.get("near"):
            values["location"]["near"] = details["near"]
    elif details.get("place"):
        values["location"] = {"place": details["place"]}
    else:
        values["location"] = None
    # The sets of figures it holds beyond its kind's, so that the form shows them.
    kind_sets = set(figure_sets({"kind": report.kind}))
    values["sets"] = [name for name, figure_set in FIGURE_SETS.items()
                      if name not in kind_sets and any(values.get(k) is not None for k in figure_set.fields)]
    return values
