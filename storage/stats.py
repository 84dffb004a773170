"""The figures the friendship unions put in their reports, from two grouped queries over a period.

Values are kept per currency and never summed across currencies. Withdrawn and voided reports
do not count. Reports linked as one event count once (``storage.events``, which every total goes through):
``reports`` is the number of reports, ``events`` the number of events, and the breakdowns count events.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import func, literal_column
from sqlalchemy.ext.asyncio import AsyncSession

from storage import events
from storage.events import Group, Tally
from storage.events import exact as exact  # where it was first defined; many import it from here
from storage.models import Report, Unit
from storage.scope import Scope

K = TypeVar("K", bound=Hashable)


@dataclass
class Figures:
    reports: int = 0
    events: int = 0  # reports linked as one event count once; the same as ``reports`` when none are linked
    by_kind: Counter[str] = field(default_factory=Counter)  # events
    venue: Counter[str] = field(default_factory=Counter)  # events: ours | partner | both | border
    # Every measure's total: (measure, currency) -> sum; currency is "" but for values, never summed across.
    measures: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    approx: set[str] = field(default_factory=set)  # measures whose total includes an approximate figure

    def add(self, other: Figures) -> None:
        """Add the figures of reports that share no event with these (an event in both would count twice)."""
        self.reports += other.reports
        self.events += other.events
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


async def figures(session: AsyncSession, *, start: dt.date, end: dt.date, scope: Scope) -> Breakdown:
    """Everything counted for reports with ``start <= activity_date <= end`` within ``scope``."""
    # A literal, not a bound parameter: PostgreSQL must see the same expression in SELECT and GROUP BY.
    partner_province = func.coalesce(Report.partner_province, literal_column("''"))
    counted = await events.tally(session, events.reports_in(start=start, end=end, scope=scope), Unit.province_code,
                                 Report.partner_country, partner_province, Report.kind, Report.venue, measures=False)
    result = Breakdown(start=start, end=end)
    result.total = _figures(counted, lambda group: ()).get((), Figures())
    result.by_province = _figures(counted, lambda group: group[0])
    result.by_partner = _figures(counted, lambda group: (group[1], group[2]))
    result.total.measures, result.total.approx = await measure_totals(session, start=start, end=end, scope=scope)
    return result


def _figures(counted: Tally, key: Callable[[Group], K]) -> dict[K, Figures]:
    """Events and reports per ``key`` of the groups (province, country, partner province, kind, venue), with
    their events by kind and by venue."""
    found = {k: Figures(reports=t.reports, events=t.events) for k, t in counted.by(key).items()}
    for (k, kind), t in counted.by(lambda group: (key(group), group[3])).items():
        found[k].by_kind[kind] = t.events
    for (k, venue), t in counted.by(lambda group: (key(group), group[4])).items():
        found[k].venue[venue] = t.events
    return found


async def measure_totals(session: AsyncSession, *, start: dt.date, end: dt.date, scope: Scope
                         ) -> tuple[dict[tuple[str, str], Decimal], set[str]]:
    """Each measure's total over the period (values per currency), and the measures with an estimate in it;
    an event's figure is the largest of its reports'."""
    total = (await events.tally(session, events.reports_in(start=start, end=end, scope=scope), counts=False)).total
    return total.measures, total.approx
