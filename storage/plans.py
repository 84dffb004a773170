"""A year's plan: targets per province or cluster for indicators of the annual tables (``twinbot plan import``).

A scope is ``province:15`` (the QĐ 19/2025 code) or ``cluster:2`` (the cluster's number). Importing a plan
replaces, for each year and scope the file names, all of that scope's targets of that year; scopes the file
does not name keep theirs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Cluster, PlanTarget
from storage.rates import percent
from storage.stats import exact

Targets = dict[str, dict[str, Decimal]]  # scope -> indicator -> target


def province_scope(code: str) -> str:
    return f"province:{code}"


def cluster_scope(number: int) -> str:
    return f"cluster:{number}"


@dataclass
class PlanSummary:
    scopes: int = 0
    targets: int = 0
    replaced: int = 0  # targets the file's scopes had before


async def replace(session: AsyncSession, year: int, targets: Targets, *, now: dt.datetime) -> PlanSummary:
    summary = PlanSummary(scopes=len(targets))
    for scope, values in targets.items():
        old = await session.execute(delete(PlanTarget).where(PlanTarget.year == year, PlanTarget.scope == scope))
        summary.replaced += int(old.rowcount or 0)  # type: ignore[attr-defined]
        for indicator, target in values.items():
            session.add(PlanTarget(year=year, scope=scope, indicator=indicator, target=target, imported_at=now))
            summary.targets += 1
    await session.flush()
    return summary


async def of_year(session: AsyncSession, year: int) -> Targets:
    found: Targets = {}
    for scope, indicator, target in await session.execute(
            select(PlanTarget.scope, PlanTarget.indicator, PlanTarget.target).where(PlanTarget.year == year)):
        found.setdefault(scope, {})[indicator] = exact(target)
    return found


async def cluster_numbers(session: AsyncSession) -> set[int]:
    return set((await session.scalars(select(Cluster.number))).all())


@dataclass(frozen=True)
class Progress:
    """One target of a year's plan, and how far the year has come towards it by a given day."""

    scope: str  # "province:15" | "cluster:2" | "total" (what a report or digest is about)
    name: str  # the province or cluster as a table names it
    indicator: str
    label: str  # the indicator's label (Vietnamese), and in English
    label_en: str
    unit: str
    target: Decimal
    done: Decimal  # from the start of the reporting year to the day
    expected: Decimal  # the share of the target the days gone by call for

    @property
    def percent(self) -> Decimal | None:
        return percent(self.done, self.target)

    @property
    def on_pace(self) -> bool:
        return self.done >= self.expected
