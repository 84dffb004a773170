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

from sqlalchemy import func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Report, Unit
from storage.scope import Scope

CENT = Decimal("0.01")


@dataclass
class Figures:
    reports: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    venue: Counter[str] = field(default_factory=Counter)  # ours | partner | both | border
    participants_ours: int = 0
    participants_partner: int = 0
    gift_packages: int = 0
    delegations: int = 0
    delegation_people: int = 0
    values: dict[str, Decimal] = field(default_factory=dict)

    def add(self, other: Figures) -> None:
        self.reports += other.reports
        self.by_kind.update(other.by_kind)
        self.venue.update(other.venue)
        self.participants_ours += other.participants_ours
        self.participants_partner += other.participants_partner
        self.gift_packages += other.gift_packages
        self.delegations += other.delegations
        self.delegation_people += other.delegation_people
        for currency, amount in other.values.items():
            self.values[currency] = self.values.get(currency, Decimal(0)) + amount


@dataclass
class Breakdown:
    start: dt.date
    end: dt.date
    total: Figures = field(default_factory=Figures)
    by_province: dict[str, Figures] = field(default_factory=dict)  # province code
    by_partner: dict[tuple[str, str], Figures] = field(default_factory=dict)  # (country, partner province or "")


async def figures(session: AsyncSession, *, start: dt.date, end: dt.date, scope: Scope) -> Breakdown:
    """Everything counted for reports with ``start <= activity_date <= end`` within ``scope``."""
    count = func.count(Report.id)
    # A literal, not a bound parameter: PostgreSQL must see the same expression in SELECT and GROUP BY.
    partner_province = func.coalesce(Report.partner_province, literal_column("''"))
    query = (
        select(
            Unit.province_code, Report.partner_country, partner_province,
            Report.kind, Report.venue, Report.currency, count,
            func.coalesce(func.sum(Report.participants_ours), 0),
            func.coalesce(func.sum(Report.participants_partner), 0),
            func.coalesce(func.sum(Report.gift_packages), 0),
            func.coalesce(func.sum(Report.delegations), 0),
            func.coalesce(func.sum(Report.delegation_people), 0),
            func.sum(Report.amount),
        )
        .join(Unit, Unit.id == Report.unit_id)
        .where(Report.status == "submitted", Report.activity_date >= start, Report.activity_date <= end)
        .group_by(Unit.province_code, Report.partner_country, partner_province,
                  Report.kind, Report.venue, Report.currency)
    )
    result = Breakdown(start=start, end=end)
    rows: Any = (await session.execute(scope.reports(query))).all()  # type: ignore[arg-type]
    for (province, country, partner_province, kind, venue, currency, n, ours, theirs, packages, delegations,
         delegation_people, amount) in rows:
        group = Figures(
            reports=n, by_kind=Counter({kind: n}), venue=Counter({venue: n}), participants_ours=int(ours),
            participants_partner=int(theirs), gift_packages=int(packages), delegations=int(delegations),
            delegation_people=int(delegation_people),
            # SQLite sums NUMERIC as floating point: back to cents.
            values={currency: Decimal(str(amount)).quantize(CENT)} if currency and amount is not None else {},
        )
        result.total.add(group)
        result.by_province.setdefault(province, Figures()).add(group)
        result.by_partner.setdefault((country, partner_province), Figures()).add(group)
    return result
