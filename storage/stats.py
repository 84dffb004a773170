"""The figures the friendship unions put in their reports, from one grouped query over a period.

Values are kept per currency and never summed across currencies. Withdrawn and voided reports
do not count.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Report, ReportMeasure, Unit
from storage.scope import Scope


@dataclass
class Figures:
    reports: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    venue: Counter[str] = field(default_factory=Counter)  # ours | partner | both | border
    # Every measure's total: (measure, currency) -> sum; currency is "" but for values, never summed across.
    measures: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    approx: set[str] = field(default_factory=set)  # measures whose total includes an approximate figure

    def add(self, other: Figures) -> None:
        self.reports += other.reports
        self.by_kind.update(other.by_kind)
        self.venue.update(other.venue)
        for key, amount in other.measures.items():
            self.measures[key] = self.measures.get(key, Decimal(0)) + amount
        self.approx |= other.approx

    def total(self, measure: str, currency: str = "") -> Decimal:
        return self.measures.get((measure, currency), Decimal(0))

    def values(self, measure: str) -> dict[str, Decimal]:
        """A value measure's totals per currency."""
        return {currency: amount for (name, currency), amount in self.measures.items() if name == measure and currency}


@dataclass
class Breakdown:
    start: dt.date
    end: dt.date
    total: Figures = field(default_factory=Figures)
    by_province: dict[str, Figures] = field(default_factory=dict)  # province code
    by_partner: dict[tuple[str, str], Figures] = field(default_factory=dict)  # (country, partner province or "")


def _in_period(query: Any, start: dt.date, end: dt.date) -> Any:
    return query.where(Report.status == "submitted", Report.activity_date >= start, Report.activity_date <= end)


async def figures(session: AsyncSession, *, start: dt.date, end: dt.date, scope: Scope) -> Breakdown:
    """Everything counted for reports with ``start <= activity_date <= end`` within ``scope``."""
    count = func.count(Report.id)
    # A literal, not a bound parameter: PostgreSQL must see the same expression in SELECT and GROUP BY.
    partner_province = func.coalesce(Report.partner_province, literal_column("''"))
    query = _in_period(
        select(Unit.province_code, Report.partner_country, partner_province, Report.kind, Report.venue, count)
        .join(Unit, Unit.id == Report.unit_id), start, end,
    ).group_by(Unit.province_code, Report.partner_country, partner_province, Report.kind, Report.venue)
    result = Breakdown(start=start, end=end)
    rows: Any = (await session.execute(scope.reports(query))).all()
    for province, country, partner_province, kind, venue, n in rows:
        group = Figures(reports=n, by_kind=Counter({kind: n}), venue=Counter({venue: n}))
        result.total.add(group)
        result.by_province.setdefault(province, Figures()).add(group)
        result.by_partner.setdefault((country, partner_province), Figures()).add(group)
    result.total.measures, result.total.approx = await measure_totals(session, start=start, end=end, scope=scope)
    return result


async def measure_totals(session: AsyncSession, *, start: dt.date, end: dt.date, scope: Scope
                         ) -> tuple[dict[tuple[str, str], Decimal], set[str]]:
    """Each measure's total over the period (values per currency), and the measures with an estimate in it."""
    query = _in_period(
        select(ReportMeasure.measure, ReportMeasure.currency, func.sum(ReportMeasure.amount),
               func.max(case((ReportMeasure.approx, 1), else_=0)))
        .join(Report, Report.id == ReportMeasure.report_id), start, end,
    ).group_by(ReportMeasure.measure, ReportMeasure.currency)
    totals: dict[tuple[str, str], Decimal] = {}
    approx: set[str] = set()
    for measure, currency, amount, estimated in (await session.execute(scope.reports(query))).all():
        # SQLite sums NUMERIC as floating point: back to the column's three places.
        totals[(measure, currency or "")] = exact(amount)
        if estimated:
            approx.add(measure)
    return totals, approx


def exact(value: Any) -> Decimal:
    """A stored figure as a Decimal with no trailing zeros and no exponent (1000, not 1E+3)."""
    if value is None:
        return Decimal(0)
    number = Decimal(str(value)).quantize(Decimal("0.001"))
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number.normalize()
