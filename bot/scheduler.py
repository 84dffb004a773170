"""When digests and reminders are due. Jobs are rows, not timers.

Each pass asks the clock which period each job's schedule last fired for (``TWINBOT_DIGEST_SCHEDULE``,
``TWINBOT_REMINDER_SCHEDULE``: five cron fields in the configured time zone), records the period as a
``JobRun`` (insert if absent) and plans its deliveries (insert if absent per recipient), then lets the
delivery worker send whatever is due. So a restart, a second worker or a late start changes nothing but the
moment: after downtime the latest missed period is planned once, and older ones are not replayed. For a
while after planning, each pass plans again, so a recipient who joins during the sending is served too,
once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from storage import deliveries, digests
from storage.db import Database
from storage.digests import IsoWeek

if TYPE_CHECKING:
    from bot.app import App
    from bot.delivery import DeliveryWorker, Sender

log = logging.getLogger(__name__)

REPLAN_WINDOW = dt.timedelta(hours=1)
INTERVAL = 30.0

_NAMES = {
    3: {n: i for i, n in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                    "dec"), start=1)},
    4: {n: i for i, n in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))},
}
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


class CronError(ValueError):
    pass


def _field(text: str, index: int) -> frozenset[int]:
    low, high = _RANGES[index]
    values: set[int] = set()
    for item in text.lower().split(","):
        body, _, step_text = item.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise CronError(f"bad step in {item!r}")
        if body == "*":
            first, last = low, high
        else:
            first_text, _, last_text = body.partition("-")
            first = _value(first_text, index)
            last = _value(last_text, index) if last_text else (high if step else first)
        if not low <= first <= last <= high:
            raise CronError(f"{item!r} is outside {low}-{high}")
        values.update(range(first, last + 1, step or 1))
    if index == 4 and 7 in values:  # Sunday is 0 or 7
        values = (values - {7}) | {0}
    return frozenset(values)


def _value(text: str, index: int) -> int:
    if text.isdigit():
        return int(text)
    if text in _NAMES.get(index, {}):
        return _NAMES[index][text]
    raise CronError(f"{text!r} is not a number{' or a name' if index in _NAMES else ''}")


@dataclass(frozen=True)
class Cron:
    """Five cron fields (minute hour day-of-month month day-of-week) with ``*``, lists, ranges, steps and
    jan…dec / sun…sat. As in cron, when both day fields are restricted a day matching either counts."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, expression: str) -> Cron:
        fields = expression.split()
        if len(fields) != 5:
            raise CronError("needs five fields: minute hour day-of-month month day-of-week, e.g. '30 7 * * 1'")
        try:
            parsed = [_field(text, index) for index, text in enumerate(fields)]
        except CronError as exc:
            raise CronError(f"{expression!r}: {exc}") from None
        minutes, hours, days, months, weekdays = parsed
        return cls(" ".join(fields), minutes, hours, days, months, weekdays, any_day=fields[2] == "*",
                   any_weekday=fields[4] == "*")

    def day_matches(self, day: dt.date) -> bool:
        if day.month not in self.months:
            return False
        by_day, by_weekday = day.day in self.days, (day.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return by_day and by_weekday
        return by_day or by_weekday

    def latest(self, now: dt.datetime) -> dt.datetime | None:
        """The last time at or before ``now`` (aware) the schedule fired, in ``now``'s zone; None within a year."""
        tz = now.tzinfo
        for back in range(367):
            day = now.date() - dt.timedelta(days=back)
            if not self.day_matches(day):
                continue
            for hour in sorted(self.hours, reverse=True):
                for minute in sorted(self.minutes, reverse=True):
                    fired = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz)
                    if fired <= now:
                        return fired
        return None


@dataclass(frozen=True)
class Job:
    name: str
    cron: Cron
    # The ISO week a firing at this (local) time is about.
    period: Callable[[dt.datetime], IsoWeek]
    # Whether a period still deserves planning at this local time (reminders expire with their week).
    relevant: Callable[[IsoWeek, dt.date], bool]
    plan: Callable[[AsyncSession, IsoWeek, tuple[str, ...], dt.datetime], Awaitable[int]]


async def _plan_digests(session: AsyncSession, week: IsoWeek, channels: tuple[str, ...], now: dt.datetime) -> int:
    return await digests.plan_digests(session, week, channels, now=now)


async def _plan_reminders(session: AsyncSession, week: IsoWeek, channels: tuple[str, ...], now: dt.datetime) -> int:
    return await digests.plan_reminders(session, week, channels, now=now)


def digest_job(schedule: str) -> Job:
    return Job("digest", Cron.parse(schedule), period=lambda fired: IsoWeek.of(fired.date()).previous,
               relevant=lambda week, today: True, plan=_plan_digests)


def reminder_job(schedule: str) -> Job:
    return Job("reminder", Cron.parse(schedule), period=lambda fired: IsoWeek.of(fired.date()),
               relevant=lambda week, today: today <= week.end, plan=_plan_reminders)


class Scheduler:
    def __init__(self, db: Database, worker: DeliveryWorker, *, tz: dt.tzinfo, digest_schedule: str = "30 7 * * 1",
                 reminder_schedule: str = "0 16 * * 5", clock: Callable[[], dt.datetime] | None = None,
                 interval: float = INTERVAL, replan_window: dt.timedelta = REPLAN_WINDOW) -> None:
        self.db = db
        self.worker = worker
        self.tz = tz
        self.jobs = (digest_job(digest_schedule), reminder_job(reminder_schedule))
        self.clock = clock or worker.clock
        self.interval = interval
        self.replan_window = replan_window

    async def plan_due(self) -> dict[str, int]:
        """Plan each job's latest due period; returns new deliveries per ``job:period``."""
        planned: dict[str, int] = {}
        now = self.clock()
        local = now.astimezone(self.tz)
        for job in self.jobs:
            fired = job.cron.latest(local)
            if fired is None:
                continue
            period = job.period(fired)
            if not job.relevant(period, local.date()):
                continue
            async with self.db.unit_of_work() as uow:
                first = await deliveries.start_job_run(uow.session, job.name, str(period), now)
                run = await deliveries.job_run(uow.session, job.name, str(period))
                if not first and (run is None or now - run.planned_at > self.replan_window):
                    continue
                count = await job.plan(uow.session, period, self.worker.channels, now)
                await uow.commit()
            if first:
                log.info("%s for %s planned: %d deliveries", job.name, period, count)
            planned[f"{job.name}:{period}"] = count
        return planned

    async def tick(self) -> dict[str, int]:
        planned = await self.plan_due()
        sent = await self.worker.drain()
        if sent:
            log.info("deliveries: %s", dict(sent))
        return planned

    async def run(self, stop: asyncio.Event) -> None:
        """Tick every ``interval`` seconds until ``stop`` is set; a failed pass is logged and retried."""
        try:
            await self.worker.resume()
        except Exception:
            log.exception("could not resume this worker's deliveries; they are taken over after their lease")
        while not stop.is_set():
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduler pass failed; trying again in %s s", self.interval)
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.interval)
            except TimeoutError:
                pass


@dataclass
class Running:
    """A scheduler loop running as a task beside the bot; ``stop()`` lets its current pass finish."""

    task: asyncio.Task[None]
    event: asyncio.Event

    async def stop(self) -> None:
        self.event.set()
        try:
            await asyncio.wait_for(asyncio.shield(self.task), timeout=30)
        except TimeoutError:
            self.task.cancel()
            log.warning("scheduler pass did not finish within 30 s; cancelled")


def start_scheduler(app: App, senders: Mapping[str, Sender]) -> Running:
    """Digests and reminders through every messenger's sender, on the app's database, clock and settings."""
    from bot.delivery import DeliveryWorker

    settings = app.settings
    worker = DeliveryWorker(app.db, senders, tz=settings.tz, default_locale=settings.default_locale,
                            clock=app.core.config.clock, owner=app.core.config.worker)
    scheduler = Scheduler(app.db, worker, tz=settings.tz, digest_schedule=settings.digest_schedule,
                          reminder_schedule=settings.reminder_schedule, clock=app.core.config.clock)
    event = asyncio.Event()
    return Running(asyncio.create_task(scheduler.run(event), name="twinbot-scheduler"), event)
