"""Friday reminders to units with nothing this week: who gets one, the two buttons, exactly once, and units that
ignore two in a row listed to their coordinators."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.channels.telegram import TelegramSender
from bot.delivery import DeliveryWorker, RateLimiter
from bot.scheduler import Scheduler
from handlers.core import Core
from handlers.digest import build_text
from handlers.i18n import Translator
from storage import digests, people
from storage.db import Database
from storage.digests import IsoWeek
from storage.models import Conversation, Delivery, UnitWeek
from tests.conftest import TZ, Clock
from tests.telegram_harness import TelegramHarness, text
from tests.test_digest import add_person, add_report, collect, nothing_to_report
from tests.test_scheduler import FakeTime

FRIDAY = dt.datetime(2026, 11, 27, 9, 5, tzinfo=dt.UTC)  # 16:05 in Hà Nội, week 48
W48 = IsoWeek(2026, 48)


@pytest.fixture
async def tg(core: Core) -> AsyncIterator[TelegramHarness]:
    async with TelegramHarness(core) as harness:
        yield harness


def scheduler(db: Database, tg: TelegramHarness, clock: Clock) -> Scheduler:
    fake = FakeTime()
    limiter = RateLimiter(clock=fake.clock, sleep=fake.sleep)
    worker = DeliveryWorker(db, {"telegram": TelegramSender(tg.bot, limiter)}, tz=TZ, clock=clock)
    return Scheduler(db, worker, tz=TZ, clock=clock)


async def officers(db: Database) -> None:
    await add_person(db, "officer", "701", unit="TNI-LHHN", locale="en")
    await add_person(db, "officer", "702", unit="TNI-DBP-SONG-TRANG", locale="en")
    await add_person(db, "officer", "703", unit="TNI-XA-MY-QUY-DONG", locale="vi")
    await add_person(db, "officer", "704", unit="TNI-LHHN", locale="vi")  # a second officer of the unit
    await add_person(db, "officer", "705", unit="DNI-LHHN", channel="console")  # no way to remind: not planned
    await add_report(db, "TNI-DBP-SONG-TRANG", dt.date(2026, 11, 24))
    await nothing_to_report(db, "TNI-XA-MY-QUY-DONG", W48)


async def reminder_rows(db: Database) -> list[Delivery]:
    async with db.unit_of_work() as uow:
        return list((await uow.session.scalars(
            select(Delivery).where(Delivery.key.like("reminder:%")).order_by(Delivery.id))).all())


async def test_units_without_a_report_are_reminded_once_with_two_buttons(db: Database, tg: TelegramHarness,
                                                                         clock: Clock) -> None:
    await officers(db)
    clock.now = FRIDAY
    s = scheduler(db, tg, clock)
    planned = await s.tick()
    assert planned["reminder:2026-W48"] == 2  # both officers of TNI-LHHN, nobody else
    assert tg.stub.sent_texts(702) == [] and tg.stub.sent_texts(703) == []
    [english] = tg.stub.sent_texts(701)
    assert "Weekly reminder" in english and "(23/11/2026 – 29/11/2026)" in english
    assert "Liên hiệp các tổ chức hữu nghị tỉnh Tây Ninh has no report for this week" in english
    assert tg.user(701).buttons() == ["📝 Start a report", "✅ Nothing to report this week"]
    assert tg.user(704).buttons() and tg.stub.violations == []
    async with db.unit_of_work() as uow:
        unit = await people.unit_by_code(uow.session, "TNI-LHHN")
        assert unit is not None
        week = await digests.unit_week(uow.session, unit.id, W48)
        assert week is not None and week.reminded_at == FRIDAY and week.nothing_to_report_at is None

    clock.advance(hours=1)
    await s.tick()
    assert len(tg.stub.sent_texts(701)) == 1  # exactly once
    clock.now = FRIDAY + dt.timedelta(days=3)  # Monday: the week is over, its reminders are not replayed
    await s.tick()
    assert len(tg.stub.sent_texts(701)) == 1


async def test_nothing_to_report_counts_as_answered_not_as_an_activity(db: Database, tg: TelegramHarness,
                                                                       clock: Clock) -> None:
    await officers(db)
    clock.now = FRIDAY
    await scheduler(db, tg, clock).tick()
    user = tg.user(701)
    said = text(await user.tap("Nothing to report this week"))
    assert "✅ Noted: nothing to report for Liên hiệp các tổ chức hữu nghị tỉnh Tây Ninh in the week " \
           "23/11/2026 – 29/11/2026. Thank you!" in said
    async with db.unit_of_work() as uow:
        week = (await uow.session.scalars(select(UnitWeek).where(UnitWeek.week == "2026-W48",
                                                                 UnitWeek.nothing_to_report_at.is_not(None)))).all()
        assert len(week) == 2 and [w.nothing_to_report_by is not None for w in week] == [False, True]
    # The other officer's reminder button now just says so.
    await tg.user(704, language_code="vi").tap("Tuần này không có hoạt động")  # a Vietnamese officer
    data = await collect(db, week=W48)
    status = {u.code: u for u in data.units}
    assert status["TNI-LHHN"].silent_weeks == 0 and status["TNI-LHHN"].answered_nothing
    assert data.current.total.reports == 1  # only the real report
    assert "2 units answered “nothing to report” for the week." in build_text(data, Translator("en", TZ))


async def test_start_a_report_from_the_reminder(db: Database, tg: TelegramHarness, clock: Clock) -> None:
    await officers(db)
    clock.now = FRIDAY
    await scheduler(db, tg, clock).tick()
    said = text(await tg.user(701).tap("Start a report"))
    assert "What kind of activity was it?" in said
    async with db.unit_of_work() as uow:
        conversation = await uow.session.scalar(select(Conversation).where(Conversation.user_external_id == "701"))
        assert conversation is not None and conversation.flow == "report"


async def test_a_unit_that_answers_before_its_reminder_goes_out_is_not_reminded(db: Database, tg: TelegramHarness,
                                                                                clock: Clock) -> None:
    await officers(db)
    clock.now = FRIDAY
    s = scheduler(db, tg, clock)
    await s.plan_due()
    await add_report(db, "TNI-LHHN", dt.date(2026, 11, 26))
    await s.worker.drain()
    assert tg.stub.sent_texts(701) == []
    assert {r.status for r in await reminder_rows(db)} == {"skipped"}


async def test_units_ignoring_two_reminders_are_listed_to_coordinators(db: Database, tg: TelegramHarness,
                                                                       clock: Clock) -> None:
    await officers(db)
    await add_person(db, "coordinator", "401", cluster=4)
    s = scheduler(db, tg, clock)
    clock.now = FRIDAY - dt.timedelta(days=7)
    await s.tick()
    clock.now = FRIDAY
    await s.tick()
    assert len(tg.stub.sent_texts(701)) == 2
    clock.now = FRIDAY + dt.timedelta(days=3, hours=1)  # Monday 08:05: the week-48 digest
    tg.stub.clear()
    await s.tick()
    [digest] = [t for t in tg.stub.sent_texts(401) if "Cluster 4" in t]
    ignored = digest.split("<b>Ignored the last two reminders</b> (1)\n", 1)[1].split("\n\n", 1)[0].splitlines()
    # Đồng Nai's officer was never reachable, so never reminded: silent, but not ignoring reminders.
    assert ignored == ["• Liên hiệp các tổ chức hữu nghị tỉnh Tây Ninh (Tây Ninh)"]


async def test_a_blocked_officer_is_recorded_and_not_tried_next_week(db: Database, tg: TelegramHarness,
                                                                     clock: Clock) -> None:
    await officers(db)
    clock.now = FRIDAY
    tg.stub.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    await scheduler(db, tg, clock).tick()
    rows = await reminder_rows(db)
    assert sorted(r.status for r in rows) == ["blocked", "sent"]
    [blocked] = [r.recipient for r in rows if r.status == "blocked"]
    clock.now = FRIDAY + dt.timedelta(days=7)
    tg.stub.clear()
    await scheduler(db, tg, clock).tick()
    chats = {f"telegram:{c.params['chat_id']}" for c in tg.stub.calls_of("sendMessage")}
    assert blocked not in chats and len(chats) == 3  # the other officer, and two units silent this week
    rows = await reminder_rows(db)
    assert [r.status for r in rows if r.key.endswith("W49") and r.recipient == blocked] == ["blocked"]
