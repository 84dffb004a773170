"""What the half-year and annual tables are computed from: reports of a period grouped into cells (unit, pair,
partner, kind, where held, direction of a delegation) and by event (``storage.events``), with their figures,
and the organisation the cells belong to (units, pairs, provinces, clusters).

Two grouped statements read a period, however long: one counts reports, one reads their measures. Which
indicator a cell counts towards, and how cells roll up to the rows and columns of a table, is decided
afterwards (``handlers.indicators``, through ``Tally.regroup`` and ``Tally.by``, so that an event counts once
in each table cell, with its largest figures), and an admin's edited indicator file needs no new query.
Withdrawn and voided reports do not count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Date, Select, String, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import events
from storage.models import Cluster, Province, Report, TwinningPair, Unit
from storage.scope import Scope


class Cell(NamedTuple):
    """The group of a tally of ``cells``, as its values come."""

    unit_id: int
    pair_id: int | None
    country: str
    partner_province: str  # "" when the report names none
    kind: str
    venue: str
    direction: str  # "in" | "out" | "" (a delegation's direction, ``details["direction"]``)


@dataclass(frozen=True)
class UnitInfo:
    id: int
    code: str
    name: str
    kind: str
    province_code: str
    active: bool


@dataclass(frozen=True)
class PairInfo:
    id: int
    unit_id: int
    country: str
    partner_province: str
    kind: str


@dataclass(frozen=True)
class ProvinceInfo:
    code: str
    name: str
    cluster_number: int | None


@dataclass(frozen=True)
class ClusterInfo:
    number: int
    name: str
    leader_province_code: str | None


@dataclass
class Organisation:
    """The units (active or not: an inactive unit's reports still count), the active pairs of active units,
    the provinces and the clusters of a scope."""

    units: dict[int, UnitInfo] = field(default_factory=dict)
    pairs: dict[int, PairInfo] = field(default_factory=dict)
    provinces: dict[str, ProvinceInfo] = field(default_factory=dict)
    clusters: dict[int, ClusterInfo] = field(default_factory=dict)  # by number


def _direction(session: AsyncSession) -> Any:
    # Literal JSON paths, not bound parameters: PostgreSQL must see the same expression in SELECT and GROUP BY.
    found: Any
    if session.bind.dialect.name == "postgresql":  # type: ignore[union-attr]
        found = Report.details.op("->>")(literal_column("'direction'"))
    else:
        found = func.json_extract(Report.details, literal_column("'$.direction'"))
    return func.coalesce(found, literal_column("''"))


async def cells(session: AsyncSession, *, start: dt.date, end: dt.date, scope: Scope,
                measures: Iterable[str] | None = None) -> events.Tally:
    """The submitted reports dated ``start``..``end`` in ``scope``, grouped into cells (each group a ``Cell``'s
    values) and by event, with the figures of ``measures`` (all of them by default)."""
    partner_province = func.coalesce(Report.partner_province, literal_column("''"))
    columns = (Report.unit_id, Report.pair_id, Report.partner_country, partner_province, Report.kind, Report.venue,
               _direction(session))
    counted = await events.tally(session, _in_cell_order(session, start=start, end=end, scope=scope), *columns,
                                 measures=False)
    figures = await events.tally(session, events.reports_in(start=start, end=end, scope=scope), *columns,
                                 counts=False, measures=True if measures is None else frozenset(measures),
                                 in_report_order=True)
    counted.alone_figures, counted.linked_figures = figures.alone_figures, figures.linked_figures
    return counted


def _in_cell_order(session: AsyncSession, *, start: dt.date, end: dt.date, scope: Scope) -> events.Selection:
    """``events.reports_in``, read on SQLite in the order of the cells (``ix_reports_groups``, migration 0012)
    rather than by date: the counts come out grouped as they are read, where sorting a year of reports into
    cells took twice as long as reading every year of the index. The unary plus leaves the planner no status and
    no date to seek by (in ``ix_reports_cells``), so it reads the index that needs no sorting; the figures are
    still read by date, each report's looked up."""
    if session.bind.dialect.name != "sqlite":  # type: ignore[union-attr]
        return events.reports_in(start=start, end=end, scope=scope)
    status = literal_column(f"+{Report.__tablename__}.status", String)
    day = literal_column(f"+{Report.__tablename__}.activity_date", Date)

    def where(query: Select[Any]) -> Select[Any]:
        return scope.reports(query.where(status == "submitted", day >= start, day <= end))

    return where


async def organisation(session: AsyncSession, scope: Scope) -> Organisation:
    org = Organisation()
    units: Any = select(Unit.id, Unit.code, Unit.name, Unit.kind, Unit.province_code, Unit.active)
    for row in await session.execute(scope.units(units)):
        org.units[row[0]] = UnitInfo(*row)
    pairs: Any = (select(TwinningPair.id, TwinningPair.unit_id, TwinningPair.partner_country,
                         func.coalesce(TwinningPair.partner_province, literal_column("''")), TwinningPair.kind)
                  .join(Unit, Unit.id == TwinningPair.unit_id).where(TwinningPair.active, Unit.active))
    for row in await session.execute(scope.units(pairs)):
        org.pairs[row[0]] = PairInfo(*row)
    for code, name, number in await session.execute(
            select(Province.code, Province.name, Cluster.number).outerjoin(Cluster, Cluster.id == Province.cluster_id)):
        org.provinces[code] = ProvinceInfo(code, name, number)
    for number, name, leader in await session.execute(
            select(Cluster.number, Cluster.name, Cluster.leader_province_code)):
        org.clusters[number] = ClusterInfo(number, name, leader)
    return org
