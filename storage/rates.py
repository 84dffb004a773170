"""Reporting rates, the figure official statistics live by: of the weeks each unit was expected to answer,
how many it answered (a report dated in the week, or "nothing to report") and how many of those came in on
time, before the week's Friday reminder.

Every active unit is expected to answer every week that is over (``due_weeks``). A week belongs to the period
that holds its Thursday, so the weeks of two consecutive periods never overlap. On time means the week's
first report was filed, or its "nothing to report" recorded, before Friday 16:00 of that week in the bot's
time zone: when the reminder goes out to units that have not answered (``TWINBOT_REMINDER_SCHEDULE``'s
default). A "nothing to report" given from the reminder's own button therefore counts as received, not on
time: the unit needed the reminder.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Report, Unit, UnitWeek
from storage.periods import IsoWeek, weeks_of
from storage.scope import Scope

DEADLINE_WEEKDAY = 4  # Friday
DEADLINE_TIME = dt.time(16, 0)


@dataclass
class Rate:
    expected: int = 0
    received: int = 0
    on_time: int = 0

    def add(self, other: Rate) -> None:
        self.expected += other.expected
        self.received += other.received
        self.on_time += other.on_time

    @property
    def received_percent(self) -> Decimal | None:
        return percent(self.received, self.expected)

    @property
    def on_time_percent(self) -> Decimal | None:
        return percent(self.on_time, self.expected)


def percent(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """``part`` of ``whole`` in per cent, one decimal, rounded half up; None when ``whole`` is zero."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def due_weeks(start: dt.date, end: dt.date, *, until: dt.date) -> list[IsoWeek]:
    """The weeks of ``start``..``end`` that are over by ``until`` (their Sunday is before it)."""
    return [week for week in weeks_of(start, end) if week.end < until]


def deadline(week: IsoWeek, tz: dt.tzinfo) -> dt.datetime:
    day = week.start + dt.timedelta(days=DEADLINE_WEEKDAY)
    return dt.datetime.combine(day, DEADLINE_TIME, tzinfo=tz).astimezone(dt.UTC)


# unit_rates goes through its rows on the event loop; it pauses after this many (about 5 ms of work each time).
ROWS_BETWEEN_PAUSES = 1000


@dataclass(frozen=True)
class UnitRate:
    id: int
    code: str
    name: str
    kind: str
    province_code: str
    rate: Rate
    silent_weeks: int  # the latest weeks in a row it did not answer, up to the last week asked about
    last_report: dt.date | None  # the latest report dated in the weeks asked about


async def unit_rates(session: AsyncSession, scope: Scope, weeks: list[IsoWeek], tz: dt.tzinfo) -> list[UnitRate]:
    """Each active unit in ``scope`` with its rate over ``weeks`` (in order, oldest first), by province and name."""
    units: Any = select(Unit.id, Unit.code, Unit.name, Unit.kind, Unit.province_code).where(Unit.active)
    unit_rows = (await session.execute(scope.units(units).order_by(Unit.province_code, Unit.name))).all()
    if not weeks:
        return [UnitRate(unit_id, code, name, kind, province, Rate(), 0, None)
                for unit_id, code, name, kind, province in unit_rows]
    first_filed: dict[tuple[int, IsoWeek], dt.datetime] = {}
    last_report: dict[int, dt.date] = {}
    query: Any = (select(Report.unit_id, Report.activity_date, func.min(Report.created_at))
                  .where(Report.status == "submitted", Report.activity_date >= weeks[0].start,
                         Report.activity_date <= weeks[-1].end)
                  .group_by(Report.unit_id, Report.activity_date))
    week_of_day = {week.start + dt.timedelta(days=n): week for week in weeks for n in range(7)}
    for row, (unit_id, day, filed) in enumerate(await session.execute(scope.reports(query)), 1):
        if row % ROWS_BETWEEN_PAUSES == 0:
            # A year of a cluster is a row per unit and day, thousands: let the conversations through meanwhile.
            await asyncio.sleep(0)
        week = week_of_day.get(day)
        if week is None:
            continue
        key = (unit_id, week)
        if key not in first_filed or filed < first_filed[key]:
            first_filed[key] = filed
        if unit_id not in last_report or day > last_report[unit_id]:
            last_report[unit_id] = day
    nothing: dict[tuple[int, IsoWeek], dt.datetime] = {}
    answers: Any = (select(UnitWeek.unit_id, UnitWeek.week, UnitWeek.nothing_to_report_at)
                    .join(Unit, Unit.id == UnitWeek.unit_id)
                    .where(UnitWeek.week.in_([str(w) for w in weeks]), UnitWeek.nothing_to_report_at.is_not(None)))
    for unit_id, label, at in await session.execute(scope.units(answers)):
        nothing[(unit_id, IsoWeek.parse(label))] = at
    deadlines = {week: deadline(week, tz) for week in weeks}
    answered: dict[int, set[IsoWeek]] = defaultdict(set)
    result = []
    for unit_id, code, name, kind, province in unit_rows:
        rate = Rate(expected=len(weeks))
        for week in weeks:
            times = [at for at in (first_filed.get((unit_id, week)), nothing.get((unit_id, week))) if at is not None]
            if times:
                rate.received += 1
                answered[unit_id].add(week)
                if min(times) <= deadlines[week]:
                    rate.on_time += 1
        silent = 0
        for week in reversed(weeks):
            if week in answered[unit_id]:
                break
            silent += 1
        result.append(UnitRate(unit_id, code, name, kind, province, rate, silent, last_report.get(unit_id)))
    return result
