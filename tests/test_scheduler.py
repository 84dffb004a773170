"""Scheduling you can trust: digests go out exactly once under restarts, extra workers and downtime, within
Telegram's limits, through the real aiogram Bot against the loopback Bot API stand-in."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiogram import Bot
from sqlalchemy import func, select
from sqlalchemy.pool import NullPool

from bot.channels import telegram
from bot.channels.console import ConsoleChannel
from bot.channels.telegram import TelegramSender
from bot.delivery import CHAT_INTERVAL, GROUP_INTERVAL, DeliveryWorker, Part, RateLimiter, parts_of
from bot.scheduler import Cron, CronError, Scheduler
from handlers.core import Core
from handlers.events import Incoming, Reply
from storage import people
from storage.db import Database
from storage.models import Delivery, GroupBinding, Identity, JobRun
from tests.botapi_stub import BotApiStub, html_to_plain
from tests.conftest import TEST_DB_URL, TZ, Clock
from tests.telegram_harness import TOKEN
from tests.test_digest import add_person, add_report, known_week, many_silent_units


@dataclass
class FakeTime:
    """The rate limiter's clock and sleep: waits are recorded and pass at once."""

    now: float = 1000.0
    slept: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds
        await asyncio.sleep(0)


@dataclass
class Api:
    stub: BotApiStub
    bot: Bot
    time: FakeTime

    def sends(self, *, ok: bool = True) -> Counter[tuple[str, str]]:
        """(chat, method) of every send the stand-in accepted (or, with ok=False, refused)."""
        return Counter((str(c.params.get("chat_id")), c.method) for c in self.stub.calls
                       if c.method in ("sendMessage", "sendPhoto", "sendDocument") and (c.status == 200) == ok)


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async with BotApiStub() as stub:
        bot = telegram.make_bot(TOKEN, stub.base_url)
        try:
            yield Api(stub, bot, FakeTime())
        finally:
            await bot.session.close()


def scheduler(db: Database, api: Api, clock: Clock, bot: Bot | None = None, **kwargs: object) -> Scheduler:
    limiter = RateLimiter(clock=api.time.clock, sleep=api.time.sleep)
    worker = DeliveryWorker(db, {"telegram": TelegramSender(bot or api.bot, limiter)}, tz=TZ, clock=clock)
    return Scheduler(db, worker, tz=TZ, clock=clock, **kwargs)  # type: ignore[arg-type]


async def rows(db: Database) -> list[Delivery]:
    async with db.unit_of_work() as uow:
        return list((await uow.session.scalars(select(Delivery).order_by(Delivery.id))).all())


async def digest_audience(db: Database) -> None:
    await known_week(db)
    await add_person(db, "coordinator", "401", cluster=4, locale="en")
    await add_person(db, "coordinator", "402", cluster=4, locale="vi")
    await add_person(db, "coordinator", "403", cluster=4, channel="console")  # no sender: not planned
    await add_person(db, "coordinator", "501", cluster=5, locale="en")
    await add_person(db, "officer", "601", unit="TNI-LHHN")
    async with db.unit_of_work() as uow:
        cluster = await people.cluster_by_number(uow.session, 4)
        assert cluster is not None
        uow.session.add(GroupBinding(cluster_id=cluster.id, channel="telegram", chat_id="-100200"))
        await uow.commit()


ONE_DIGEST = {"sendMessage": 1, "sendPhoto": 1, "sendDocument": 1}


def per_chat(sends: Counter[tuple[str, str]], chat: str) -> dict[str, int]:
    return {method: n for (c, method), n in sends.items() if c == chat}


# --- the schedule ---------------------------------------------------------------------------------


def test_cron_subset() -> None:
    monday = Cron.parse("30 7 * * 1")
    at = dt.datetime(2026, 11, 23, 10, 0, tzinfo=TZ)
    assert monday.latest(at) == dt.datetime(2026, 11, 23, 7, 30, tzinfo=TZ)
    assert monday.latest(at.replace(hour=7, minute=29)) == dt.datetime(2026, 11, 16, 7, 30, tzinfo=TZ)
    assert Cron.parse("0 16 * * fri").latest(at) == dt.datetime(2026, 11, 20, 16, 0, tzinfo=TZ)
    assert Cron.parse("*/15 8-9 1,15 * *").latest(at) == dt.datetime(2026, 11, 15, 9, 45, tzinfo=TZ)
    assert Cron.parse("0 12 * * 7").latest(at) == dt.datetime(2026, 11, 22, 12, 0, tzinfo=TZ)  # 7 is Sunday
    for bad in ("30 7 * *", "61 * * * *", "0 0 * * funday", "*/0 * * * *"):
        with pytest.raises(CronError):
            Cron.parse(bad)


async def test_rate_limits_overall_per_chat_and_per_group() -> None:
    fake = FakeTime()
    limiter = RateLimiter(clock=fake.clock, sleep=fake.sleep)
    start = fake.now
    for _ in range(3):
        await limiter.wait("42")
    assert fake.now - start == pytest.approx(2 * CHAT_INTERVAL)  # one a second in a chat, and a margin
    start = fake.now
    for chat in range(60):
        await limiter.wait(str(1000 + chat))
    assert fake.now - start == pytest.approx(59 / 30, abs=0.05)  # thirty a second overall
    await limiter.wait("-100200")
    start = fake.now
    await limiter.wait("-100200")
    assert fake.now - start == pytest.approx(GROUP_INTERVAL)  # twenty a minute in a group, and a margin
    limiter.pause(7)
    start = fake.now
    await limiter.wait("77")
    assert fake.now - start == pytest.approx(7.0)


# --- digests -------------------------------------------------------------------------------------


async def test_digest_goes_once_to_each_coordinator_and_bound_group(db: Database, api: Api, clock: Clock) -> None:
    await digest_audience(db)
    s = scheduler(db, api, clock)
    assert await s.tick() == {"digest:2026-W47": 4}  # 401, 402, the group, and cluster 5's coordinator
    sends = api.sends()
    for chat in ("401", "402", "-100200", "501"):
        assert per_chat(sends, chat) == ONE_DIGEST, chat
    assert not per_chat(sends, "601") and api.stub.violations == []
    english = api.stub.sent_texts("401")[0]
    vietnamese = api.stub.sent_texts("402")[0]
    assert "Reports: 3 (+1)" in english and "₫350,000,000" in english
    assert "350.000.000\xa0₫" in vietnamese
    documents = {str(c.params["chat_id"]): c for c in api.stub.calls_of("sendDocument")}
    assert len(documents["401"].params["caption"]) <= 1024
    assert all(r.status == "sent" and r.sent_at == clock() for r in await rows(db))

    clock.advance(minutes=10)
    await s.tick()
    assert api.sends() == sends  # nothing twice
    async with db.unit_of_work() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(JobRun)) == 1


async def test_long_digest_is_split_cleanly(db: Database, api: Api, clock: Clock) -> None:
    await add_person(db, "coordinator", "401", cluster=4)
    await many_silent_units(db)
    await scheduler(db, api, clock).tick()
    texts = api.stub.sent_texts("401")
    assert len(texts) >= 2 and all(len(html_to_plain(t)) <= 4096 for t in texts)
    assert api.stub.violations == []  # every piece is valid HTML on its own
    joined = "\n".join(texts)
    assert joined.count("Ấp số") == 150 and "&lt;Bến Cầu&gt; &amp; Tân Biên" in joined


async def test_restart_during_sending_resumes_without_repeating(db: Database, db_url: str, api: Api,
                                                                clock: Clock) -> None:
    await known_week(db)
    await add_person(db, "coordinator", "401", cluster=4)

    class Crash(BaseException):
        pass

    class CrashingSender(TelegramSender):
        sent = 0

        async def send(self, chat_id: str, part: Part) -> None:
            if self.sent == 2:
                raise Crash  # the process dies before the third part
            await super().send(chat_id, part)
            self.sent += 1

    limiter = RateLimiter(clock=api.time.clock, sleep=api.time.sleep)
    worker = DeliveryWorker(db, {"telegram": CrashingSender(api.bot, limiter)}, tz=TZ, clock=clock)
    with pytest.raises(Crash):
        await Scheduler(db, worker, tz=TZ, clock=clock).tick()
    assert per_chat(api.sends(), "401") == {"sendMessage": 1, "sendPhoto": 1}
    [row] = await rows(db)
    assert row.status == "sending"

    restarted = Database(db_url, poolclass=NullPool) if TEST_DB_URL else Database(db_url)
    try:
        s = scheduler(restarted, api, clock)
        await s.tick()  # the dead worker's lease still holds
        assert per_chat(api.sends(), "401") == {"sendMessage": 1, "sendPhoto": 1}
        clock.advance(minutes=6)
        await s.tick()
        assert per_chat(api.sends(), "401") == ONE_DIGEST
        [row] = await rows(restarted)
        assert (row.status, row.attempts) == ("sent", 2)
    finally:
        await restarted.dispose()


async def test_two_schedulers_at_once_send_each_digest_once(db: Database, db_url: str, api: Api,
                                                            clock: Clock) -> None:
    await digest_audience(db)
    other_db = Database(db_url, poolclass=NullPool) if TEST_DB_URL else Database(db_url)
    other_bot = telegram.make_bot(TOKEN, api.stub.base_url)
    try:
        first = scheduler(db, api, clock)
        second = scheduler(other_db, api, clock, bot=other_bot)
        for s in (first, second):
            s.worker.batch = 1  # interleave as much as possible
        await asyncio.gather(first.tick(), second.tick(), first.tick())
    finally:
        await other_bot.session.close()
        await other_db.dispose()
    sends = api.sends()
    for chat in ("401", "402", "-100200", "501"):
        assert per_chat(sends, chat) == ONE_DIGEST, chat
    async with db.unit_of_work() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(JobRun)) == 1
    assert len(await rows(db)) == 4


async def test_catch_up_after_downtime_happens_once(db: Database, api: Api, clock: Clock) -> None:
    await digest_audience(db)
    clock.now = dt.datetime(2026, 11, 26, 9, tzinfo=dt.UTC)  # Thursday: Monday's digest was missed
    s = scheduler(db, api, clock)
    assert await s.tick() == {"digest:2026-W47": 4}
    clock.advance(hours=2)
    assert await s.tick() == {}
    clock.now = dt.datetime(2026, 12, 9, 9, tzinfo=dt.UTC)  # down over two Mondays: only the latest week
    await add_report(db, "TNI-DBP-SONG-TRANG", dt.date(2026, 12, 2))
    planned = await s.tick()
    assert planned == {"digest:2026-W49": 4}
    async with db.unit_of_work() as uow:
        periods = (await uow.session.scalars(select(JobRun.period).order_by(JobRun.id))).all()
    assert periods == ["2026-W47", "2026-W49"]
    assert per_chat(api.sends(), "401") == {"sendMessage": 2, "sendPhoto": 2, "sendDocument": 2}


async def test_a_recipient_added_during_sending_is_served_once(db: Database, api: Api, clock: Clock) -> None:
    await digest_audience(db)
    s = scheduler(db, api, clock)
    await s.plan_due()
    first = (await rows(db))[0]
    # One delivery went out; then a new coordinator registers before the rest are sent.
    async with db.unit_of_work() as uow:
        from storage import deliveries
        [claim] = [c for c in await deliveries.claim(uow.session, now=clock(), lease=dt.timedelta(minutes=5),
                                                     channels=["telegram"], limit=1)]
        await uow.commit()
    assert claim.id == first.id
    assert await s.worker.deliver(claim) == "sent"
    await add_person(db, "coordinator", "404", cluster=4, locale="vi")
    clock.advance(minutes=5)
    await s.tick()
    clock.advance(minutes=5)
    await s.tick()
    sends = api.sends()
    for chat in ("401", "402", "404", "-100200", "501"):
        assert per_chat(sends, chat) == ONE_DIGEST, chat
    clock.advance(hours=2)  # long after the sending: no longer planned for the new one
    await add_person(db, "coordinator", "405", cluster=4)
    await s.tick()
    assert not per_chat(api.sends(), "405")


async def test_flood_control_is_honoured(db: Database, api: Api, clock: Clock) -> None:
    await known_week(db)
    await add_person(db, "coordinator", "401", cluster=4)
    api.stub.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    await scheduler(db, api, clock).tick()
    assert per_chat(api.sends(), "401") == ONE_DIGEST
    assert per_chat(api.sends(ok=False), "401") == {"sendMessage": 1}
    assert max(api.time.slept) >= 7
    [row] = await rows(db)
    assert (row.status, row.attempts) == ("sent", 1)


async def test_a_blocked_recipient_is_recorded_skipped_and_shown_to_admins(db: Database, api: Api, clock: Clock,
                                                                           core: Core) -> None:
    await digest_audience(db)
    api.stub.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    s = scheduler(db, api, clock)
    s.worker.batch = 1  # one at a time, in the order planned: 401 first
    await s.tick()
    sends = api.sends()
    assert not per_chat(sends, "401")  # the first in line blocked the bot …
    for chat in ("402", "-100200", "501"):
        assert per_chat(sends, chat) == ONE_DIGEST  # … nobody else misses out
    async with db.unit_of_work() as uow:
        identity = await people.identity(uow.session, "telegram", "401")
        assert identity is not None and identity.blocked_at == clock()
    statuses = {r.recipient: r.status for r in await rows(db)}
    assert statuses["telegram:401"] == "blocked" and statuses["telegram:402"] == "sent"

    admin = await add_person(db, "admin", "900", channel="console")
    assert admin
    replies, _ = await ConsoleChannel(core, user_id="900", clock=clock).answer("/digest 4 last")
    shown = "\n".join(r.text for r in replies)
    assert "<b>Delivery</b>: sent to 2 of 3." in shown and "⛔ Coordinator 401 has blocked the bot" in shown

    # Next week the blocked coordinator is not even tried.
    clock.advance(days=7)
    api.stub.clear()
    await s.tick()
    assert not per_chat(api.sends(), "401") and not per_chat(api.sends(ok=False), "401")
    assert per_chat(api.sends(), "402") == ONE_DIGEST
    # Until they write to the bot again.
    await core.handle(Incoming(channel="telegram", user_id="401", chat_id="401", sent_at=clock(), text="/help"))
    clock.advance(days=7)
    await s.tick()
    assert per_chat(api.sends(), "401") == ONE_DIGEST
    async with db.unit_of_work() as uow:
        identity = await uow.session.scalar(select(Identity).where(Identity.external_id == "401"))
        assert identity is not None and identity.blocked_at is None


async def test_other_failures_are_retried_later_not_dropped(db: Database, api: Api, clock: Clock) -> None:
    await known_week(db)
    await add_person(db, "coordinator", "401", cluster=4)
    api.stub.fail_next("sendPhoto", 502, "Bad Gateway")
    s = scheduler(db, api, clock)
    await s.tick()
    [row] = await rows(db)
    assert (row.status, row.error) == ("pending", "Bad Gateway")
    assert per_chat(api.sends(), "401") == {"sendMessage": 1}
    clock.advance(minutes=1)
    await s.tick()
    assert per_chat(api.sends(), "401") == ONE_DIGEST  # the text is not sent again
    [row] = await rows(db)
    assert (row.status, row.attempts) == ("sent", 2)


def test_parts_are_cut_within_limits() -> None:
    from handlers.events import OutFile

    text = "\n".join(f"<b>line {n}</b> " + "x" * 90 for n in range(100))
    long_caption = "y " * 700
    parts = parts_of([Reply(text=text), Reply(text="", files=(OutFile("c.png", b"png", "image/png", long_caption),
                                                              OutFile("d.xlsx", b"xl", "application/x", "ok")))])
    kinds = [p.kind for p in parts]
    assert kinds[-2:] == ["photo", "document"] and set(kinds[:-2]) == {"text"} and len(kinds) > 3
    assert all(len(html_to_plain(p.text)) <= 4096 for p in parts) and len(parts[-2].text) <= 1024


async def test_scheduler_loop_stops_cleanly(db: Database, api: Api, clock: Clock) -> None:
    s = scheduler(db, api, clock, interval=0.01)
    stop = asyncio.Event()
    task = asyncio.create_task(s.run(stop))
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 2)


async def test_two_workers_share_one_send_budget_through_the_database(db: Database) -> None:
    """Two processes' limiters together keep the one rate: their reservations never fall closer together
    than the spacing, whichever worker made them."""
    from bot.delivery import RateLimiter, SharedBudget

    now = [1_000_000.0]
    slept: list[tuple[str, float]] = []

    def clock() -> float:
        return now[0]

    def sleeper(name: str):  # type: ignore[no-untyped-def]
        async def sleep(seconds: float) -> None:
            slept.append((name, clock() + seconds))
            await asyncio.sleep(0)
        return sleep

    first = RateLimiter(per_second=10.0, clock=clock, sleep=sleeper("a"), budget=SharedBudget(db, "telegram"))
    second = RateLimiter(per_second=10.0, clock=clock, sleep=sleeper("b"), budget=SharedBudget(db, "telegram"))
    for n in range(5):
        await first.wait(f"{n}")
        await second.wait(f"{100 + n}")
    starts = sorted(at for _, at in slept)
    assert len(starts) == 9  # the very first send goes at once
    assert all(round(b - a, 6) >= 0.1 for a, b in itertools.pairwise(starts))
    assert {name for name, _ in slept} == {"a", "b"}
    # A 429 seen by one worker holds back the other too.
    first.pause(30)
    await asyncio.gather(*first._holding)
    slept.clear()
    await second.wait("200")
    assert slept and slept[0][1] >= clock() + 30
