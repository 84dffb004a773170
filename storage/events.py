"""One event, counted once.

When a border post and a village twinned with the same partner both report one New Year visit, their two
reports are linked as one event: ``Report.event_id`` holds the event's number (the id of its first report)
on each of them, and is NULL on a report that stands alone. ``event_key()`` names the event of any report.

**Every total goes through ``tally``.** A total is a selection of reports (``Selection``: the WHERE clauses
that make it, ``reports_in(start=…, end=…, scope=…)`` for a period and a scope) and the columns it is broken
down by. ``tally`` reads the selection grouped by those columns *and by event* (one statement for the
counts, one for the measures), and ``Tally.by`` rolls the groups up to whatever the total shows: an event
counts once in each group it appears in, and for each measure (per currency for money) it contributes the
largest figure of its reports, never their sum; the events are then added up. A report standing alone is
its own event, so nothing changes where nothing is linked (and that, the usual case, stays one grouped
aggregate in SQL).

    tally = await events.tally(session, events.reports_in(start=…, end=…, scope=scope), Report.kind)
    for (kind,), total in tally.by(lambda group: group).items():
        total.events, total.reports, total.measures[("gift_packages", "")], "gift_packages" in total.approx

``Tally.regroup`` gathers the groups into fewer, events still apart, when many totals are rolled up from the
same coarser groups (the annual tables: indicator × unit × partner, then each province, cluster, country …).

**Scopes and periods.** An event counts in a total when any of its reports is in the selection, with the
largest figures among *those* reports: a coordinator's cluster total counts an event once even when its
other report was filed in another cluster, and takes its figures from the reports of the cluster only, so
it can be checked against the cluster's own export and tells nothing of the other cluster's report. Across
all clusters the same event counts once, with the largest figures of all its reports. Likewise a period
counts the reports dated within it.

Reports are linked at submission (the second reporter says "same event") or afterwards by a coordinator or
an admin (``link``, ``unlink``); each change is kept as a version of every report whose event changed
(action ``linked`` or ``unlinked``, who and when, the other report's number as the note), as voids are.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection, Hashable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute, aliased

from storage.models import Person, Report, ReportMeasure, TwinningPair, Unit
from storage.scope import Scope
from storage.senders import Sender

Selection = Callable[[Select[Any]], Select[Any]]
"""Adds a total's WHERE clauses to a query over ``reports`` (joined with ``units`` when its columns need it);
it must not add joins of its own (use subqueries, as ``Scope.reports`` does)."""

K = TypeVar("K", bound=Hashable)
Column = ColumnElement[Any] | QueryableAttribute[Any]
Group = tuple[Any, ...]
MeasureKey = tuple[str, str]  # (measure, currency); currency is "" but for values


def event_key() -> ColumnElement[int]:
    """The event a report belongs to: its ``event_id``, or its own id when it stands alone."""
    return func.coalesce(Report.event_id, Report.id)


def reports_in(*, start: dt.date, end: dt.date, scope: Scope) -> Selection:
    """What the totals of a period count: submitted reports dated ``start``..``end`` within ``scope``
    (withdrawn and voided ones never count)."""

    def where(query: Select[Any]) -> Select[Any]:
        return scope.reports(query.where(Report.status == "submitted", Report.activity_date >= start,
                                         Report.activity_date <= end))

    return where


# --- totals -------------------------------------------------------------------------------------


@dataclass
class Total:
    """One group of a total: its events and reports, and each measure's total over its events."""

    events: int = 0
    reports: int = 0
    measures: dict[MeasureKey, Decimal] = field(default_factory=dict)
    approx: set[str] = field(default_factory=set)  # measures whose total includes an approximate figure


@dataclass
class _Largest:
    """One event's figure of one measure: the largest of its reports, and the largest given exactly (the
    total is approximate when the figure taken was an estimate)."""

    amount: Decimal
    exact: Decimal | None

    def merge(self, other: _Largest) -> None:
        self.amount = max(self.amount, other.amount)
        if other.exact is not None and (self.exact is None or other.exact > self.exact):
            self.exact = other.exact


@dataclass
class Tally:
    """A selection of reports grouped by some columns, with the events of each group kept apart."""

    alone: dict[Group, int] = field(default_factory=dict)  # reports linked to none: each is its own event
    linked: dict[Group, dict[int, int]] = field(default_factory=dict)  # group -> event -> its reports there
    alone_figures: dict[Group, dict[MeasureKey, tuple[Decimal, bool]]] = field(default_factory=dict)  # sum, ~
    linked_figures: dict[Group, dict[int, dict[MeasureKey, _Largest]]] = field(default_factory=dict)

    def by(self, key: Callable[[Group], K]) -> dict[K, Total]:
        """The groups rolled up by ``key`` (a function of a group's column values): each event counted once
        per rolled-up group, with its largest figures there."""
        rolled = self.regroup(lambda group: (key(group),))
        totals: dict[Any, Total] = defaultdict(Total)  # keyed by what ``key`` returns
        for group, n in rolled.alone.items():
            totals[group].events += n
            totals[group].reports += n
        for group, per_event in rolled.linked.items():
            totals[group].events += len(per_event)
            totals[group].reports += sum(per_event.values())
        for group, sums in rolled.alone_figures.items():
            total = totals[group]
            for measure, (amount, approx) in sums.items():
                total.measures[measure] = amount
                if approx:
                    total.approx.add(measure[0])
        for group, figures_per_event in rolled.linked_figures.items():
            total = totals[group]
            for figures in figures_per_event.values():
                for measure, figure in figures.items():
                    total.measures[measure] = total.measures.get(measure, Decimal(0)) + figure.amount
                    if figure.exact is None or figure.exact < figure.amount:
                        total.approx.add(measure[0])
        return dict(totals)

    def regroup(self, keys: Callable[[Group], Iterable[Any]]) -> Tally:
        """The groups gathered into the groups ``keys`` names for each (none: left out; several: counted in
        each), the events still kept apart: ``regroup(f).by(g)`` is ``by(g∘f)``. Rolling a large tally up
        once to the few groups several totals share is cheaper than rolling it up for each of them."""
        rolled = Tally()
        targets: dict[Group, list[Any]] = {}

        def into(group: Group) -> list[Any]:
            found = targets.get(group)
            if found is None:
                found = targets[group] = list(keys(group))
            return found

        for group, n in self.alone.items():
            for target in into(group):
                rolled.alone[target] = rolled.alone.get(target, 0) + n
        for group, per_event in self.linked.items():
            for target in into(group):
                events = rolled.linked.setdefault(target, {})
                for event, n in per_event.items():
                    events[event] = events.get(event, 0) + n
        for group, sums in self.alone_figures.items():
            for target in into(group):
                summed = rolled.alone_figures.setdefault(target, {})
                for measure, (amount, approx) in sums.items():
                    if measure in summed:
                        before, estimated = summed[measure]
                        summed[measure] = (before + amount, estimated or approx)
                    else:
                        summed[measure] = (amount, approx)
        for group, figures_per_event in self.linked_figures.items():
            for target in into(group):
                largest = rolled.linked_figures.setdefault(target, {})
                for event, figures in figures_per_event.items():
                    into_event = largest.setdefault(event, {})
                    for measure, figure in figures.items():
                        if measure in into_event:
                            into_event[measure].merge(figure)
                        else:
                            into_event[measure] = _Largest(figure.amount, figure.exact)
        return rolled

    @property
    def total(self) -> Total:
        """Everything in the selection, each event once."""
        return self.by(lambda _group: ()).get((), Total())


async def tally(session: AsyncSession, selection: Selection, *columns: Column, counts: bool = True,
                measures: bool | Collection[str] = True, in_report_order: bool = False) -> Tally:
    """The reports of ``selection`` grouped by ``columns`` (of ``reports``, or of ``units``, joined then) and
    by event: their number (``counts``) and their figures (``measures``: all of them, or only those named),
    one grouped statement each. ``in_report_order``: on SQLite, put the selection's reports in order before
    reading their figures, which pays when they are many (a year of them)."""
    result = Tally()
    query: Any
    if counts:
        query = _from(select(*columns, Report.event_id, func.count(Report.id)).select_from(Report), columns)
        for row in (await session.execute(selection(query).group_by(*columns, Report.event_id))).all():
            *values, event, n = list(row)
            group = tuple(values)
            if event is None:
                result.alone[group] = n
            else:
                result.linked.setdefault(group, {})[event] = n
    if measures:
        amount = ReportMeasure.amount
        figures = (ReportMeasure.measure, ReportMeasure.currency, func.sum(amount), func.max(amount),
                   func.max(case((~ReportMeasure.approx, amount))), func.max(case((ReportMeasure.approx, 1), else_=0)))
        grouped: tuple[Column, ...]
        if in_report_order and session.bind.dialect.name == "sqlite":  # type: ignore[union-attr]
            # The selection's reports, numbered in order first: their figures are then looked up one report
            # after the next in ix_report_measures_cover, pages read in turn, not jumping about the index.
            numbered: Any = select(Report.id.label("report_id"), Report.event_id.label("event_id"),
                                   *(column.label(f"g{n}") for n, column in enumerate(columns))).select_from(Report)
            chosen = selection(_from(numbered, columns)).order_by(Report.id).cte("chosen").prefix_with("MATERIALIZED")
            grouped = (*(chosen.c[f"g{n}"] for n in range(len(columns))), chosen.c.event_id)
            query = (select(*grouped, *figures).select_from(chosen)
                     .join(ReportMeasure, ReportMeasure.report_id == chosen.c.report_id))
        else:
            grouped = (*columns, Report.event_id)
            query = selection(_from(select(*grouped, *figures).select_from(ReportMeasure)
                                    .join(Report, Report.id == ReportMeasure.report_id), columns))
        if not isinstance(measures, bool):
            # lower() keeps the planner from seeking the index once per measure for every report: one seek per
            # report, the measures not needed skipped as they are read (keys are lower case already).
            query = query.where(func.lower(ReportMeasure.measure).in_(sorted(set(measures))))
        query = query.group_by(*grouped, ReportMeasure.measure, ReportMeasure.currency)
        for row in (await session.execute(query)).all():
            *values, event, measure, currency, total, largest, largest_exact, estimated = list(row)
            group = tuple(values)
            key = (measure, currency or "")
            if event is None:
                result.alone_figures.setdefault(group, {})[key] = (exact(total), bool(estimated))
            else:
                figure = _Largest(exact(largest), None if largest_exact is None else exact(largest_exact))
                result.linked_figures.setdefault(group, {}).setdefault(event, {})[key] = figure
    return result


def _from(query: Select[Any], columns: tuple[Column, ...]) -> Select[Any]:
    if Unit.__table__ in select(*columns).get_final_froms():
        return query.join(Unit, Unit.id == Report.unit_id)
    return query


def exact(value: Any) -> Decimal:
    """A stored figure as a Decimal with no trailing zeros and no exponent (1000, not 1E+3)."""
    if value is None:
        return Decimal(0)
    number = Decimal(str(value)).quantize(Decimal("0.001"))
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number.normalize()


# --- which reports may be one event -------------------------------------------------------------

LOOK_ALIKES = 5


@dataclass(frozen=True)
class LookAlike:
    id: int
    unit_id: int
    unit_name: str
    activity_date: dt.date
    event_id: int | None


@dataclass(frozen=True)
class LookAlikes:
    duplicate: LookAlike | None = None  # the same unit, kind, date and partner: entered twice?
    same_event: LookAlike | None = None  # perhaps the same event, filed by another unit or on another day


async def look_alikes(session: AsyncSession, values: dict[str, Any]) -> LookAlikes:
    """Submitted reports that look like the draft ``values``: the same kind, dates within a day, and the
    same partner (pair or partner name), or units twinned with each other or with the same partner, in any
    cluster. One query over three days of one kind (``ix_reports_kind_date``); only what the review card
    shows is read."""
    if not values.get("unit") or not values.get("date") or not values.get("kind"):
        return LookAlikes()
    unit_id = int(values["unit"])
    day = dt.date.fromisoformat(values["date"])
    pair_id: int | None = None
    if values.get("pair") not in (None, "other"):
        pair_id = int(values["pair"])
        partner = values.get("partner") or {}
        name, country = partner.get("name"), partner.get("country")
    else:
        name, country = values.get("partner_name"), values.get("partner_country")
    params = {"unit": unit_id, "kind": values["kind"], "day": day, "since": day - dt.timedelta(days=1),
              "until": day + dt.timedelta(days=1), "pair": pair_id,
              # A partner is compared only when both its name and country are known (NULL matches nothing).
              "partner_name": name if name and country else None,
              "partner_country": country if name and country else None}
    duplicate = same_event = None
    for row in (await session.execute(_LOOK_ALIKES, params)).all():
        found = LookAlike(*row)
        if found.unit_id == unit_id and found.activity_date == day:
            duplicate = duplicate or found
        else:
            same_event = same_event or found
    return LookAlikes(duplicate, same_event)


# Made once: an alias adapts its columns when first used, which costs more than the query itself.
_MINE, _THEIRS, _UNIT = aliased(TwinningPair, name="mine"), aliased(TwinningPair, name="theirs"), aliased(Unit)


def twinned_units(unit_id: BindParameter[int]) -> CompoundSelect:
    """Units twinned with the same partner as the unit ``unit_id`` stands for (its own pairs' partner name and
    country), or with it: a pair of one naming the other as its partner."""
    mine, theirs, unit = _MINE, _THEIRS, _UNIT
    return union(
        select(theirs.unit_id).join(mine, and_(mine.partner_name == theirs.partner_name,
                                               mine.partner_country == theirs.partner_country))
        .where(mine.unit_id == unit_id, mine.active, theirs.active),
        select(theirs.unit_id).join(unit, unit.name == theirs.partner_name).where(unit.id == unit_id, theirs.active),
        select(unit.id).join(mine, mine.partner_name == unit.name).where(mine.unit_id == unit_id, mine.active),
    )


def _look_alikes_statement() -> Select[int, int, str, dt.date, int | None]:
    # Built once with parameters: every review card runs it, and building it (with the union of twinned
    # units) cost more than running it. A parameter left NULL (no pair, no partner name) matches nothing.
    unit_id, day = bindparam("unit", type_=Integer), bindparam("day", type_=Report.activity_date.type)
    return (select(Report.id, Report.unit_id, Unit.name, Report.activity_date, Report.event_id)
            .join(Unit, Unit.id == Report.unit_id)
            .where(Report.status == "submitted", Report.kind == bindparam("kind"),
                   Report.activity_date >= bindparam("since"), Report.activity_date <= bindparam("until"),
                   or_(Report.pair_id == bindparam("pair"),
                       and_(Report.partner_name == bindparam("partner_name"),
                            Report.partner_country == bindparam("partner_country")),
                       and_(Report.unit_id != unit_id, Report.unit_id.in_(twinned_units(unit_id)))))
            .order_by(case((Report.activity_date == day, 0), else_=1), case((Report.unit_id == unit_id, 0), else_=1),
                      Report.id)
            .limit(LOOK_ALIKES))


_LOOK_ALIKES = _look_alikes_statement()


# --- linking and unlinking ----------------------------------------------------------------------


@dataclass(frozen=True)
class Twin:
    id: int
    unit_name: str
    status: str


async def twins(session: AsyncSession, report: Report) -> list[Twin]:
    """The other reports of ``report``'s event, oldest first."""
    if report.event_id is None:
        return []
    rows = await session.execute(
        select(Report.id, Unit.name, Report.status).join(Unit, Unit.id == Report.unit_id)
        .where(Report.event_id == report.event_id, Report.id != report.id).order_by(Report.id))
    return [Twin(*row) for row in rows.all()]


async def _event_of(session: AsyncSession, *keys: int) -> list[Report]:
    """Every report of the events ``keys``, locked."""
    query = select(Report).where(or_(Report.id.in_(keys), Report.event_id.in_(keys))).order_by(Report.id)
    return list((await session.scalars(query.with_for_update(of=Report))).unique().all())


async def link(session: AsyncSession, first: Report, second: Report, *, by: Person | Sender, now: dt.datetime,
               submitting: Report | None = None) -> bool:
    """Make ``first`` and ``second`` (and the reports already linked to either) one event; False when they
    were one already. Every report whose event changed gets a version, but ``submitting``: a report being
    submitted, whose first version records its event."""
    from storage.reports import record_change

    keys = {first.event_id or first.id, second.event_id or second.id}
    if len(keys) == 1:
        return False
    rows = await _event_of(session, *keys)
    event = min(r.id for r in rows)
    first_key = first.event_id or first.id
    changed: list[tuple[Report, int]] = []
    for report in rows:
        other = second.id if (report.event_id or report.id) == first_key else first.id
        if report.event_id != event:
            report.event_id = event
            changed.append((report, other))
        elif report.id in (first.id, second.id):
            changed.append((report, other))  # the report named keeps its event number, but gains a twin
    for report, other in changed:
        if report is not submitting:
            await record_change(session, report, action="linked", by=by, now=now, note=str(other))
    return True


async def unlink(session: AsyncSession, report: Report, *, by: Person | Sender, now: dt.datetime) -> bool:
    """Take ``report`` out of its event; False when it stood alone. The last report left alone stands alone
    too; the event keeps the number of its first report left."""
    from storage.reports import record_change

    if report.event_id is None:
        return False
    rest = [r for r in await _event_of(session, report.event_id) if r.id != report.id]
    changed: list[tuple[Report, int]] = [(report, min((r.id for r in rest), default=report.id))]
    report.event_id = None
    event = None if len(rest) <= 1 else min(r.id for r in rest)
    for other in rest:
        if other.event_id != event:
            other.event_id = event
            changed.append((other, report.id))
    for changed_report, note in changed:
        await record_change(session, changed_report, action="unlinked", by=by, now=now, note=str(note))
    return True
