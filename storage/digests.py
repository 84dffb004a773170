"""What a cluster's weekly digest and the Friday reminders rest on: recipients, the figures of a
week and the one before, highlights, silent units, the eight-week trend, and report rows for spreadsheets.

Everything here reads; nothing commits. ``collect`` returns plain data, so building the message from it is
a pure function (``handlers.digest``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import events
from storage.deliveries import Recipient, insert_ignoring_conflicts
from storage.models import (
    Cluster,
    GroupBinding,
    Identity,
    Person,
    Province,
    Report,
    ReportMeasure,
    ReportPhoto,
    Unit,
    UnitWeek,
)
from storage.pairs import PairActivity, pair_activity
from storage.periods import CALENDAR, IsoWeek, YearStart, reporting_year, weeks_of, year_first_day
from storage.plans import Progress
from storage.rates import UnitRate, unit_rates
from storage.scope import Scope
from storage.stats import Breakdown, exact, figures

TREND_WEEKS = 8
HIGHLIGHTS = 3
DEFAULT_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

# --- report rows (digest spreadsheets, exports) ----------------------------------------------------


@dataclass(frozen=True)
class ReportRow:
    """One report with everything a spreadsheet shows, read without loading ORM objects."""

    id: int
    activity_date: dt.date
    unit_code: str
    unit_name: str
    province_code: str
    province_name: str
    kind: str
    partner_name: str
    partner_country: str
    partner_province: str | None
    venue: str
    description: str
    details: dict[str, Any]
    latitude: float | None
    longitude: float | None
    status: str
    status_reason: str | None
    author_name: str
    channel: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    event: int | None = None  # the number of its event (``storage.events``); None: its own
    measures: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # (measure, currency) -> figure
    approx: frozenset[str] = frozenset()
    photos: int = 0

    @classmethod
    def from_report(cls, report: Report) -> ReportRow:
        return cls(
            id=report.id, activity_date=report.activity_date, unit_code=report.unit.code,
            unit_name=report.unit.name, province_code=report.unit.province_code,
            province_name=report.unit.province.name, kind=report.kind, partner_name=report.partner_name,
            partner_country=report.partner_country, partner_province=report.partner_province, venue=report.venue,
            description=report.description, details=dict(report.details or {}), latitude=report.latitude,
            longitude=report.longitude, status=report.status, status_reason=report.status_reason,
            author_name=report.author.display_name, channel=report.channel, version=report.version,
            created_at=report.created_at, updated_at=report.updated_at, event=report.event_id or report.id,
            measures={(m.measure, m.currency): exact(m.amount) for m in report.measures},
            approx=frozenset(m.measure for m in report.measures if m.approx), photos=len(report.photos),
        )


_ROW_COLUMNS = (
    Report.id, Report.activity_date, Unit.code, Unit.name, Unit.province_code, Province.name, Report.kind,
    Report.partner_name, Report.partner_country, Report.partner_province, Report.venue, Report.description,
    Report.details, Report.latitude, Report.longitude, Report.status, Report.status_reason, Person.display_name,
    Report.channel, Report.version, Report.created_at, Report.updated_at, events.event_key(),
)
ROWS_AT_ONCE = 500
_ROW_FIELDS = [f.name for f in fields(ReportRow)][:len(_ROW_COLUMNS)]


def report_rows_query(*, start: dt.date, end: dt.date, scope: Scope, include_withdrawn: bool = False) -> Select[Any]:
    query = (select(*_ROW_COLUMNS)
             .join(Unit, Unit.id == Report.unit_id)
             .join(Province, Province.code == Unit.province_code)
             .join(Person, Person.id == Report.author_person_id)
             .where(Report.activity_date >= start, Report.activity_date <= end))
    if not include_withdrawn:
        query = query.where(Report.status == "submitted")
    return scope.reports(query).order_by(Report.activity_date, Report.id)


async def report_rows(session: AsyncSession, *, start: dt.date, end: dt.date, scope: Scope,
                      include_withdrawn: bool = False) -> AsyncIterator[ReportRow]:
    """Reports dated ``start``..``end`` in ``scope``, oldest first, streamed in batches, each with its
    measures and its number of photos."""
    query = report_rows_query(start=start, end=end, scope=scope, include_withdrawn=include_withdrawn)
    batch: list[Any] = []
    result = await session.stream(query.execution_options(yield_per=ROWS_AT_ONCE))
    async for row in result:
        batch.append(row)
        if len(batch) >= ROWS_AT_ONCE:
            for done in await _completed(session, batch):
                yield done
            batch = []
    for done in await _completed(session, batch):
        yield done


async def _completed(session: AsyncSession, rows: list[Any]) -> list[ReportRow]:
    if not rows:
        return []
    ids = [row[0] for row in rows]
    measures: dict[int, dict[tuple[str, str], Decimal]] = defaultdict(dict)
    approx: dict[int, set[str]] = defaultdict(set)
    for report_id, measure, currency, amount, estimated in await session.execute(
            select(ReportMeasure.report_id, ReportMeasure.measure, ReportMeasure.currency, ReportMeasure.amount,
                   ReportMeasure.approx).where(ReportMeasure.report_id.in_(ids))):
        measures[report_id][(measure, currency or "")] = exact(amount)
        if estimated:
            approx[report_id].add(measure)
    photos = dict((await session.execute(
        select(ReportPhoto.report_id, func.count(ReportPhoto.id)).where(ReportPhoto.report_id.in_(ids))
        .group_by(ReportPhoto.report_id))).all())
    return [ReportRow(**{**dict(zip(_ROW_FIELDS, row, strict=True)), "details": dict(row.details or {})},
                      measures=measures[row[0]], approx=frozenset(approx[row[0]]), photos=int(photos.get(row[0], 0)))
            for row in rows]


# --- the digest's data ------------------------------------------------------------------------


@dataclass(frozen=True)
class Highlight:
    id: int
    activity_date: dt.date
    unit_name: str
    kind: str
    partner_name: str
    partner_country: str
    partner_province: str | None
    description: str
    measures: dict[tuple[str, str], Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class UnitStatus:
    id: int
    code: str
    name: str
    province_code: str
    reports_this_week: int
    answered_nothing: bool  # "nothing to report this week"
    silent_weeks: int  # consecutive weeks up to this one with neither a report nor an answer (capped)
    last_report: dt.date | None  # within the trend window
    ignored_reminders: bool  # reminded this week and the one before, and answered neither
    # The last day the unit accounted for, up to the week's end: its latest report's date, or the last day of
    # the latest week it answered "nothing to report" for. None: it never reported nor answered.
    last_heard: dt.date | None = None

    @property
    def never_reported(self) -> bool:
        return self.last_heard is None


@dataclass
class DigestData:
    cluster_id: int
    cluster_number: int
    cluster_name: str
    week: IsoWeek
    current: Breakdown
    previous: Breakdown
    province_names: dict[str, str]
    highlights: list[Highlight] = field(default_factory=list)
    units: list[UnitStatus] = field(default_factory=list)
    trend: list[tuple[IsoWeek, Counter[str]]] = field(default_factory=list)  # oldest first, ends with `week`
    # (week, people who took part, gift packages), oldest first, ends with `week`
    trend_figures: list[tuple[IsoWeek, Decimal, Decimal]] = field(default_factory=list)
    # The reporting rate of each unit from the first week of the reporting year to this one.
    rates: list[UnitRate] = field(default_factory=list)
    rates_since: dt.date | None = None
    # Pairs whose agreed rhythm called for a meeting before the week ended, with none reported.
    overdue_pairs: list[PairActivity] = field(default_factory=list)
    # The year's plan and the pace towards it by the week's end (filled by ``handlers.digest.collect``, which
    # knows the indicators).
    plan: list[Progress] = field(default_factory=list)
    plan_year: int = 0

    @property
    def silent_this_week(self) -> list[UnitStatus]:
        """Silent this week but not the week before (those are in ``silent_for_weeks``)."""
        return [u for u in self.units if u.silent_weeks == 1 and not u.never_reported]

    @property
    def silent_for_weeks(self) -> list[UnitStatus]:
        """Silent for two weeks or more, having reported before: the longest silent first."""
        return sorted((u for u in self.units if u.silent_weeks >= 2 and not u.never_reported),
                      key=lambda u: (u.last_heard or dt.date.min, u.name))

    @property
    def never_reported(self) -> list[UnitStatus]:
        return [u for u in self.units if u.never_reported]

    @property
    def ignoring_reminders(self) -> list[UnitStatus]:
        return [u for u in self.units if u.ignored_reminders]


async def cluster_by_number(session: AsyncSession, number: int) -> Cluster | None:
    return await session.scalar(select(Cluster).where(Cluster.number == number))


async def clusters(session: AsyncSession) -> list[Cluster]:
    return list((await session.scalars(select(Cluster).order_by(Cluster.number))).all())


async def trend(session: AsyncSession, scope: Scope, week: IsoWeek) -> list[tuple[IsoWeek, Counter[str]]]:
    """Events by kind in each of the ``TREND_WEEKS`` weeks ending with ``week``, oldest first."""
    first = week.shift(-(TREND_WEEKS - 1))
    window = await events.tally(session, events.reports_in(start=first.start, end=week.end, scope=scope),
                                Report.activity_date, Report.kind, measures=False)
    weeks: dict[IsoWeek, Counter[str]] = {first.shift(n): Counter() for n in range(TREND_WEEKS)}
    for (iso, kind), total in window.by(lambda group: (IsoWeek.of(group[0]), group[1])).items():
        weeks[iso][kind] = total.events
    return sorted(weeks.items())


# What the second panel of the chart follows, week by week: people who took part, and gift packages.
PEOPLE_MEASURES = ("participants_ours", "participants_partner")
GIFT_MEASURES = ("gift_packages",)


async def trend_figures(session: AsyncSession, scope: Scope, week: IsoWeek) -> list[tuple[IsoWeek, Decimal, Decimal]]:
    """(week, people who took part, gift packages) for each of the ``TREND_WEEKS`` weeks, oldest first; an
    event reported twice counts once."""
    first = week.shift(-(TREND_WEEKS - 1))
    selection = events.reports_in(start=first.start, end=week.end, scope=scope)
    window = await events.tally(
        session, lambda query: selection(query).where(ReportMeasure.measure.in_((*PEOPLE_MEASURES, *GIFT_MEASURES))),
        Report.activity_date, counts=False)
    people: dict[IsoWeek, Decimal] = {first.shift(n): Decimal(0) for n in range(TREND_WEEKS)}
    gifts = dict(people)
    for iso, total in window.by(lambda group: IsoWeek.of(group[0])).items():
        for (measure, _currency), amount in total.measures.items():
            target = people if measure in PEOPLE_MEASURES else gifts
            target[iso] += amount
    return [(w, people[w], gifts[w]) for w in sorted(people)]


async def unit_statuses(session: AsyncSession, scope: Scope, week: IsoWeek) -> list[UnitStatus]:
    """Every active unit in ``scope`` and how it stands for ``week``: its reports, its answer, how long it has
    been silent and since when. The digest and /silent both read this, so they never disagree."""
    first = week.shift(-(TREND_WEEKS - 1))
    weekly: Any = (select(Report.unit_id, Report.activity_date, func.count(Report.id))
                   .where(Report.status == "submitted", Report.activity_date >= first.start,
                          Report.activity_date <= week.end)
                   .group_by(Report.unit_id, Report.activity_date))
    unit_weeks: dict[int, Counter[IsoWeek]] = defaultdict(Counter)
    last_report: dict[int, dt.date] = {}
    for unit_id, day, n in await session.execute(scope.reports(weekly)):
        unit_weeks[unit_id][IsoWeek.of(day)] += n
        if unit_id not in last_report or day > last_report[unit_id]:
            last_report[unit_id] = day
    last_heard: dict[int, dt.date] = dict(last_report)
    # Units with no report in the window: their latest report before it, one index seek each (unit, date) rather
    # than a scan of their whole history.
    latest = (select(Report.activity_date).where(Report.unit_id == Unit.id, Report.status == "submitted",
                                                 Report.activity_date < first.start)
              .order_by(Report.activity_date.desc()).limit(1).scalar_subquery())
    earlier: Any = select(Unit.id, latest).where(Unit.active)
    if last_report:
        earlier = earlier.where(Unit.id.not_in(list(last_report)))
    for unit_id, day in await session.execute(scope.units(earlier)):
        if day is not None:
            last_heard[unit_id] = day
    answered_ever: Any = (select(UnitWeek.unit_id, func.max(UnitWeek.week)).join(Unit, Unit.id == UnitWeek.unit_id)
                          .where(UnitWeek.nothing_to_report_at.is_not(None), UnitWeek.week <= str(week))
                          .group_by(UnitWeek.unit_id))
    for unit_id, label in await session.execute(scope.units(answered_ever)):
        try:
            covered = IsoWeek.parse(label).end
        except ValueError:
            continue
        if unit_id not in last_heard or covered > last_heard[unit_id]:
            last_heard[unit_id] = covered

    unit_query: Any = select(Unit.id, Unit.code, Unit.name, Unit.province_code).where(Unit.active)
    units = (await session.execute(scope.units(unit_query).order_by(Unit.province_code, Unit.name))).all()
    labels = [str(first.shift(n)) for n in range(TREND_WEEKS)]
    answered: dict[int, set[IsoWeek]] = defaultdict(set)
    reminded: dict[int, set[IsoWeek]] = defaultdict(set)
    answers: Any = (
        select(UnitWeek.unit_id, UnitWeek.week, UnitWeek.nothing_to_report_at, UnitWeek.reminded_at)
        .join(Unit, Unit.id == UnitWeek.unit_id).where(UnitWeek.week.in_(labels)))
    for unit_id, label, nothing_at, reminded_at in await session.execute(scope.units(answers)):
        if nothing_at is not None:
            answered[unit_id].add(IsoWeek.parse(label))
        if reminded_at is not None:
            reminded[unit_id].add(IsoWeek.parse(label))
    statuses = []
    for unit_id, code, name, province in units:
        spoke = set(unit_weeks[unit_id]) | answered[unit_id]
        silent = 0
        while silent < TREND_WEEKS and week.shift(-silent) not in spoke:
            silent += 1
        ignored = all(w in reminded[unit_id] and w not in spoke for w in (week, week.previous))
        statuses.append(UnitStatus(
            id=unit_id, code=code, name=name, province_code=province,
            reports_this_week=unit_weeks[unit_id][week],
            answered_nothing=week in answered[unit_id], silent_weeks=silent,
            last_report=last_report.get(unit_id), ignored_reminders=ignored, last_heard=last_heard.get(unit_id),
        ))
    return statuses


async def collect(session: AsyncSession, cluster: Cluster, week: IsoWeek, *, tz: dt.tzinfo = DEFAULT_TZ,
                  year_start: YearStart = CALENDAR) -> DigestData:
    scope = Scope.cluster(cluster.id)
    provinces = dict((await session.execute(
        select(Province.code, Province.name).where(Province.cluster_id == cluster.id))).all())
    data = DigestData(
        cluster_id=cluster.id, cluster_number=cluster.number, cluster_name=cluster.name, week=week,
        current=await figures(session, start=week.start, end=week.end, scope=scope),
        previous=await figures(session, start=week.previous.start, end=week.previous.end, scope=scope),
        province_names=provinces,
    )
    for province in data.current.by_province:  # a unit moved to another cluster keeps its province's name
        if province not in provinces:
            provinces[province] = await session.scalar(select(Province.name).where(Province.code == province)) \
                or province

    data.trend = await trend(session, scope, week)
    data.trend_figures = await trend_figures(session, scope, week)
    data.units = await unit_statuses(session, scope, week)
    data.highlights = await highlights(session, scope, week)
    first_day = year_first_day(reporting_year(week.thursday, year_start), year_start)
    data.rates_since = first_day
    data.rates = await unit_rates(session, scope, weeks_of(first_day, week.end), tz)
    data.overdue_pairs = [p for p in await pair_activity(session, scope, until=week.end) if p.overdue(week.end)]
    return data


_HIGHLIGHT_FIELDS = [f.name for f in fields(Highlight)][:-1]
# The measures that make an activity big: people and packages, in whatever form they were counted.
SIZE_MEASURES = ("participants_ours", "participants_partner", "gift_packages", "delegation_people", "patients",
                 "households", "scholarships")


async def highlights(session: AsyncSession, scope: Scope, week: IsoWeek, limit: int = HIGHLIGHTS) -> list[Highlight]:
    """The largest reports of the week (people and gift packages), then the most recent ones; one report of
    an event at most."""
    # Summed per report of the week, by an index seek each: a grouped subquery would add up every figure of
    # every report ever filed first.
    size = func.coalesce(select(func.sum(ReportMeasure.amount))
                         .where(ReportMeasure.report_id == Report.id, ReportMeasure.measure.in_(SIZE_MEASURES))
                         .correlate(Report).scalar_subquery(), 0)
    event = events.event_key()
    base: Any = (select(Report.id, Report.activity_date, Unit.name, Report.kind, Report.partner_name,
                        Report.partner_country, Report.partner_province, Report.description, event)
                 .join(Unit, Unit.id == Report.unit_id)
                 .where(Report.status == "submitted", Report.activity_date >= week.start,
                        Report.activity_date <= week.end))
    chosen: list[Any] = []
    seen: set[int] = set()

    def take(rows: list[Any]) -> None:
        for row in rows:
            if len(chosen) < limit and row[-1] not in seen:
                seen.add(row[-1])
                chosen.append(row[:-1])

    # Twice as many as needed: two reports of one event are shown once.
    take((await session.execute(scope.reports(base).where(size > 0).order_by(
        size.desc(), Report.activity_date.desc(), Report.id.desc()).limit(2 * limit))).all())
    if len(chosen) < limit:
        latest = scope.reports(base)
        if seen:
            latest = latest.where(event.not_in(seen))
        take((await session.execute(latest.order_by(Report.activity_date.desc(), Report.id.desc())
                                    .limit(2 * (limit - len(chosen))))).all())
    figures: dict[int, dict[tuple[str, str], Decimal]] = defaultdict(dict)
    if chosen:
        for report_id, measure, currency, amount in await session.execute(
                select(ReportMeasure.report_id, ReportMeasure.measure, ReportMeasure.currency, ReportMeasure.amount)
                .where(ReportMeasure.report_id.in_([r[0] for r in chosen]))):
            figures[report_id][(measure, currency or "")] = exact(amount)
    return [Highlight(**dict(zip(_HIGHLIGHT_FIELDS, r, strict=True)), measures=figures[r[0]]) for r in chosen]


# --- who receives what ----------------------------------------------------------------------------


async def digest_recipients(session: AsyncSession, cluster_id: int, channels: Iterable[str]) -> list[Recipient]:
    """The cluster's coordinators (their private chats) and the groups bound to the cluster."""
    channels = tuple(channels)
    people = (await session.execute(
        select(Identity.channel, Identity.chat_id, Person.id, Identity.blocked_at)
        .join(Person, Person.id == Identity.person_id)
        .where(Person.role == "coordinator", Person.cluster_id == cluster_id, Identity.channel.in_(channels))
        .order_by(Person.id, Identity.id)
    )).all()
    groups = (await session.execute(
        select(GroupBinding.channel, GroupBinding.chat_id)
        .where(GroupBinding.cluster_id == cluster_id, GroupBinding.channel.in_(channels))
        .order_by(GroupBinding.id)
    )).all()
    return ([Recipient(f"{channel}:{chat}", person_id, blocked_at is not None)
             for channel, chat, person_id, blocked_at in people]
            + [Recipient(f"{channel}:{chat}", None, False) for channel, chat in groups])


def _reported_in(week: IsoWeek) -> Any:
    return (select(Report.id).where(Report.unit_id == Unit.id, Report.status == "submitted",
                                    Report.activity_date >= week.start, Report.activity_date <= week.end)
            .exists())


def _answered_in(week: IsoWeek) -> Any:
    return (select(UnitWeek.id).where(UnitWeek.unit_id == Unit.id, UnitWeek.week == str(week),
                                      UnitWeek.nothing_to_report_at.is_not(None)).exists())


async def units_to_remind(session: AsyncSession, week: IsoWeek) -> list[int]:
    """Active units with neither a report dated this week nor a "nothing to report" for it."""
    return list((await session.scalars(
        select(Unit.id).where(Unit.active, ~_reported_in(week), ~_answered_in(week)).order_by(Unit.id)
    )).all())


async def unit_has_answered(session: AsyncSession, unit_id: int, week: IsoWeek) -> bool:
    return bool(await session.scalar(
        select(Unit.id).where(Unit.id == unit_id, _reported_in(week) | _answered_in(week))))


async def officer_recipients(session: AsyncSession, unit_ids: list[int], channels: Iterable[str]
                             ) -> dict[int, list[Recipient]]:
    rows = (await session.execute(
        select(Person.unit_id, Identity.channel, Identity.chat_id, Person.id, Identity.blocked_at)
        .join(Person, Person.id == Identity.person_id)
        .where(Person.role == "officer", Person.unit_id.in_(unit_ids), Identity.channel.in_(tuple(channels)))
        .order_by(Person.id, Identity.id)
    )).all()
    found: dict[int, list[Recipient]] = defaultdict(list)
    for unit_id, channel, chat, person_id, blocked_at in rows:
        assert unit_id is not None
        found[unit_id].append(Recipient(f"{channel}:{chat}", person_id, blocked_at is not None))
    return found


async def still_owed(session: AsyncSession, key: str, address: str) -> bool:
    """Whether a planned delivery's recipient still belongs to its audience: a group unbound since, or a
    coordinator moved to another cluster, must not get this cluster's digest on a retry."""
    kind, ident, _week = parse_key(key)
    channel = address.split(":", 1)[0]
    if kind == "digest":
        audience = await digest_recipients(session, ident, [channel])
    elif kind == "reminder":
        audience = (await officer_recipients(session, [ident], [channel])).get(ident, [])
    else:
        return False
    return any(r.address == address for r in audience)


async def _unit_week(session: AsyncSession, unit_id: int, week: IsoWeek) -> None:
    await session.execute(insert_ignoring_conflicts(session, UnitWeek).values(unit_id=unit_id, week=str(week)))


async def record_reminded(session: AsyncSession, unit_id: int, week: IsoWeek, now: dt.datetime) -> None:
    await _unit_week(session, unit_id, week)
    await session.execute(update(UnitWeek).where(UnitWeek.unit_id == unit_id, UnitWeek.week == str(week),
                                                 UnitWeek.reminded_at.is_(None)).values(reminded_at=now))


async def record_nothing_to_report(session: AsyncSession, unit_id: int, week: IsoWeek, person_id: int,
                                   now: dt.datetime) -> bool:
    """Record "nothing to report" for the unit's week; False when it was recorded already."""
    await _unit_week(session, unit_id, week)
    result = await session.execute(
        update(UnitWeek).where(UnitWeek.unit_id == unit_id, UnitWeek.week == str(week),
                               UnitWeek.nothing_to_report_at.is_(None))
        .values(nothing_to_report_at=now, nothing_to_report_by=person_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def unit_week(session: AsyncSession, unit_id: int, week: IsoWeek) -> UnitWeek | None:
    return await session.scalar(select(UnitWeek).where(and_(UnitWeek.unit_id == unit_id,
                                                            UnitWeek.week == str(week))))


# --- planning (the scheduler decides when; this records what is owed) ------------------------------


def digest_key(cluster_id: int, week: IsoWeek) -> str:
    return f"digest:{cluster_id}:{week}"


def reminder_key(unit_id: int, week: IsoWeek) -> str:
    return f"reminder:{unit_id}:{week}"


def parse_key(key: str) -> tuple[str, int, IsoWeek]:
    """``("digest", cluster id, week)`` or ``("reminder", unit id, week)``."""
    kind, ident, week = key.split(":")
    return kind, int(ident), IsoWeek.parse(week)


async def plan_digest(session: AsyncSession, cluster_id: int, week: IsoWeek, channels: Iterable[str], *,
                      now: dt.datetime) -> int:
    from storage import deliveries

    recipients = await digest_recipients(session, cluster_id, channels)
    return await deliveries.plan(session, digest_key(cluster_id, week), recipients, due_at=now, now=now)


async def plan_digests(session: AsyncSession, week: IsoWeek, channels: Iterable[str], *, now: dt.datetime) -> int:
    channels = tuple(channels)
    return sum([await plan_digest(session, c.id, week, channels, now=now) for c in await clusters(session)])


async def plan_reminders(session: AsyncSession, week: IsoWeek, channels: Iterable[str], *, now: dt.datetime) -> int:
    from storage import deliveries

    units = await units_to_remind(session, week)
    planned = 0
    for unit_id, recipients in (await officer_recipients(session, units, channels)).items():
        planned += await deliveries.plan(session, reminder_key(unit_id, week), recipients, due_at=now, now=now)
    return planned


async def recipient_locale(session: AsyncSession, person_id: int | None, recipient: str) -> str | None:
    """A person's language; for a group, the language of the coordinator who bound it."""
    if person_id is not None:
        return await session.scalar(select(Person.locale).where(Person.id == person_id))
    channel, _, chat = recipient.partition(":")
    return await session.scalar(
        select(Person.locale).join(GroupBinding, GroupBinding.bound_by_person_id == Person.id)
        .where(GroupBinding.channel == channel, GroupBinding.chat_id == chat))


async def bind_group(session: AsyncSession, *, cluster_id: int, channel: str, chat_id: str, title: str | None,
                     person_id: int, now: dt.datetime) -> bool:
    """Bind a group chat to a cluster (or move it to another); False when it was bound to that cluster already."""
    existing = await session.scalar(select(GroupBinding).where(GroupBinding.channel == channel,
                                                               GroupBinding.chat_id == chat_id))
    if existing is not None:
        if existing.cluster_id == cluster_id:
            return False
        existing.cluster_id, existing.bound_by_person_id, existing.created_at = cluster_id, person_id, now
        return True
    await session.execute(insert_ignoring_conflicts(session, GroupBinding).values(
        cluster_id=cluster_id, channel=channel, chat_id=chat_id, title=title, bound_by_person_id=person_id,
        created_at=now))
    return True


async def unbind_group(session: AsyncSession, *, channel: str, chat_id: str) -> bool:
    binding = await session.scalar(select(GroupBinding).where(GroupBinding.channel == channel,
                                                              GroupBinding.chat_id == chat_id))
    if binding is None:
        return False
    await session.delete(binding)
    return True


async def unit_name(session: AsyncSession, unit_id: int) -> str | None:
    return await session.scalar(select(Unit.name).where(Unit.id == unit_id))


async def cluster_unit_ids(session: AsyncSession, cluster_id: int) -> list[int]:
    return list((await session.scalars(Scope.cluster(cluster_id).units(select(Unit.id)))).all())


async def cluster_by_id(session: AsyncSession, cluster_id: int) -> Cluster | None:
    return await session.get(Cluster, cluster_id)
