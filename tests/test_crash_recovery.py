"""Nothing acknowledged is lost: the bot is killed at each boundary between the messenger and the database,
then started again on the same database, and what the officer finally sees and what is stored is checked.

A kill is every task of the serving runtime cancelled where it stands, with no clean-up of its own: what
was not committed is rolled back, what was committed stays, as after SIGKILL.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.channels import telegram
from bot.runtime import Runtime
from handlers.context import CoreConfig
from handlers.core import Core
from handlers.events import Incoming, Outcome, Reply
from storage import inbox
from storage.db import Database
from storage.models import Conversation, InboxEntry, OutboxEntry, Report, ReportPhoto
from tests.conftest import Clock
from tests.telegram_harness import TelegramHarness, TelegramUser, notices, text
from tests.test_onboarding import make_invite
from tests.test_telegram import fill_to_review, reports_count


async def kill(runtime: Runtime) -> None:
    """SIGKILL, as near as one process can play it: every task stops where it is, nothing is tidied up."""
    tasks = [*runtime._in_hand.values(), *runtime._sending]
    if runtime._sweeper is not None:
        tasks.append(runtime._sweeper)
    if runtime.acks._flushing is not None:
        tasks.append(runtime.acks._flushing)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    runtime.acks._pending.clear()  # deletions not yet written die with the process


async def count(db: Database, model: type) -> int:
    async with db.unit_of_work() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


class Blocked(Core):
    """The real core, except that events after the first ``let_through`` never finish (the process dies
    while handling them)."""

    def __init__(self, core: Core, let_through: int = 0) -> None:
        super().__init__(core.db, core.config)
        self.let_through = let_through
        self.started = asyncio.Event()

    async def handle(self, incoming: Incoming) -> Outcome:
        if self.let_through <= 0:
            self.started.set()
            await asyncio.Event().wait()
        self.let_through -= 1
        return await super().handle(incoming)


@pytest.fixture
async def tg(core: Core) -> AsyncIterator[TelegramHarness]:
    async with TelegramHarness(core) as harness:
        yield harness
        assert harness.stub.violations == []


async def registered(tg: TelegramHarness, db: Database, clock: Clock) -> TelegramUser:
    user = tg.user(1001)
    await user.send(f"/start {await make_invite(db, clock)}")
    return user


async def restart(tg: TelegramHarness, db: Database, config: CoreConfig, *, worker: str | None = None) -> Runtime:
    """A new process on the same database (the same worker, unless named), started as `twinbot` starts it."""
    core = Core(db, dataclasses.replace(config, worker=worker) if worker else config)
    tg.use_core(core)
    await tg.runtime.start()
    await tg.runtime.settle()
    return tg.runtime


async def test_an_update_stored_but_not_handled_is_handled_after_the_restart(
        tg: TelegramHarness, db: Database, clock: Clock, config: CoreConfig) -> None:
    user = await registered(tg, db, clock)
    blocked = Blocked(tg.core)
    tg.runtime = Runtime(blocked, [telegram.TelegramChannel(tg.bot, config.clock)])
    before = len(tg.stub.calls)
    # Stored (and so acknowledged to Telegram), then the process dies before the core commits.
    await tg.runtime.receive(telegram.CHANNEL, [telegram.received(user.message("/report"))])  # type: ignore[list-item]
    await blocked.started.wait()
    await kill(tg.runtime)
    assert await count(db, InboxEntry) == 1 and text(tg.stub.calls[before:]) == ""

    runtime = await restart(tg, db, config)
    await runtime.stop()
    assert "What kind of activity was it?" in text(tg.stub.calls[before:])
    assert await count(db, InboxEntry) == 0
    async with db.unit_of_work() as uow:
        assert await uow.session.scalar(select(Conversation.flow).where(Conversation.user_external_id == "1001")) \
            == "report"


async def test_an_update_the_worker_dies_on_each_time_is_given_up_with_an_apology_and_the_next_is_answered(
        tg: TelegramHarness, db: Database, clock: Clock, config: CoreConfig) -> None:
    user = await registered(tg, db, clock)
    before = len(tg.stub.calls)
    # Both stored (acknowledged) at once; the worker dies on the first each time it begins it, and the
    # second waits behind it through every restart without ever beginning.
    for run in range(inbox.MAX_ATTEMPTS):
        blocked = Blocked(Core(db, config))
        tg.runtime = Runtime(blocked, [telegram.TelegramChannel(tg.bot, config.clock)])
        if run == 0:
            await tg.runtime.receive(telegram.CHANNEL, [telegram.received(user.message("/export")),  # type: ignore[list-item]
                                                        telegram.received(user.message("/help"))])
        else:
            await tg.runtime.start()
        await blocked.started.wait()
        await kill(tg.runtime)
    async with db.unit_of_work() as uow:
        attempts = (await uow.session.execute(select(InboxEntry.attempts).order_by(InboxEntry.id))).scalars().all()
    assert attempts == [inbox.MAX_ATTEMPTS, 1]  # a restart's claim is not an attempt; only beginning is

    # Not given up yet: a burst of restarts is not a verdict, only minutes of them are.
    blocked = Blocked(Core(db, config))
    tg.runtime = Runtime(blocked, [telegram.TelegramChannel(tg.bot, config.clock)])
    await tg.runtime.start()
    await blocked.started.wait()
    await kill(tg.runtime)
    assert "Sorry" not in text(tg.stub.calls[before:])
    clock.advance(seconds=inbox.GIVE_UP_AFTER.total_seconds())
    runtime = await restart(tg, db, config)
    await runtime.stop()
    said = text(tg.stub.calls[before:])
    assert "Sorry, that did not work. Please try again later." in said  # the one given up is not lost unsaid
    assert "/report" in said and "/help" in said  # the next one was answered
    assert await count(db, InboxEntry) == 0


async def test_an_update_handled_elsewhere_meanwhile_is_not_given_up_with_an_apology(
        core: Core, db: Database, clock: Clock) -> None:
    """The give-up comes after minutes of failed attempts; if another worker handled the update meanwhile (it is
    gone from the inbox), its answer went out, and an apology would contradict it."""
    gone = Incoming("telegram", "1001", "1001", clock(), text="/help", event_key="4242", inbox_id=4242)
    outcome = await core.give_up(gone)
    assert outcome.duplicate and not outcome.outgoing
    assert await count(db, OutboxEntry) == 0


async def test_another_worker_takes_over_once_the_lease_ran_out(
        tg: TelegramHarness, db: Database, clock: Clock, config: CoreConfig) -> None:
    user = await registered(tg, db, clock)
    blocked = Blocked(tg.core)
    tg.runtime = Runtime(blocked, [telegram.TelegramChannel(tg.bot, config.clock)])
    before = len(tg.stub.calls)
    await tg.runtime.receive(telegram.CHANNEL, [telegram.received(user.message("/help"))])  # type: ignore[list-item]
    await blocked.started.wait()
    await kill(tg.runtime)
    # Another worker sees the update as held until the dead worker's lease runs out …
    other = await restart(tg, db, config, worker="other-host")
    assert text(tg.stub.calls[before:]) == ""
    clock.advance(seconds=config.lease.total_seconds() + 1)
    # … then takes it over on its next sweep.
    assert await other.sweep() == 1
    await other.settle()
    await other.stop()
    assert "/report" in text(tg.stub.calls[before:])
    assert await count(db, InboxEntry) == 0


class Unsent(telegram.TelegramChannel):
    """The process dies the moment it would send an answer: after the commit, before Telegram hears it."""

    died = asyncio.Event()

    async def send(self, chat_id: str, reply: Reply, locale: str) -> None:
        type(self).died.set()
        await asyncio.Event().wait()


async def test_an_answer_committed_but_not_sent_is_sent_after_the_restart(
        tg: TelegramHarness, db: Database, clock: Clock, config: CoreConfig) -> None:
    user = await fill_to_review(await registered(tg, db, clock))
    submit = user.callback("Submit")
    Unsent.died = asyncio.Event()
    tg.runtime = Runtime(tg.core, [Unsent(tg.bot, config.clock)])
    before = len(tg.stub.calls)
    await tg.runtime.receive(telegram.CHANNEL, [telegram.received(submit)])  # type: ignore[list-item]
    await Unsent.died.wait()
    await kill(tg.runtime)
    assert await reports_count(db) == 1 and await count(db, OutboxEntry) == 1
    assert text(tg.stub.calls[before:]) == ""

    runtime = await restart(tg, db, config)
    assert "✅ Report #1 submitted" in text(tg.stub.calls[before:])
    # The officer, not sure, taps Submit again: told which report it made, and nothing new is filed.
    again = await tg.feed(user.h.stub.make_callback(user.id, submit["callback_query"]["data"],
                                                    message_id=submit["callback_query"]["message"]["message_id"]))
    assert notices(again) == ["Report #1 was already submitted."]
    await runtime.stop()
    assert await reports_count(db) == 1 and await count(db, OutboxEntry) == 0


async def test_a_killed_album_keeps_every_photo_and_counts_them_all(
        tg: TelegramHarness, db: Database, clock: Clock, config: CoreConfig) -> None:
    user = await registered(tg, db, clock)
    for label in ("Report an activity", "Visit", "Today", "Hà Khẩu", "On our side", "Skip", "Skip", "Skip"):
        await user.tap(label)
    await user.send("Thăm hỏi")
    album = [telegram.received(user.photo_update(f"AgAC-{n}", media_group_id="album-9")) for n in range(3)]
    blocked = Blocked(tg.core, let_through=1)
    tg.runtime = Runtime(blocked, [telegram.TelegramChannel(tg.bot, config.clock)])
    before = len(tg.stub.calls)
    await tg.runtime.receive(telegram.CHANNEL, album)  # type: ignore[arg-type]
    await blocked.started.wait()  # the first photo is in the draft; the process dies on the second
    await kill(tg.runtime)
    assert await count(db, InboxEntry) == 2

    runtime = await restart(tg, db, config)
    answers = [c for c in tg.stub.calls[before:] if c.method == "sendMessage"]
    assert [a.params["text"] for a in answers] == ["3 photos received. Send more, or choose Done."]
    await user.tap("Done")
    await user.tap("Skip")
    await user.tap("Submit")
    await runtime.stop()
    async with db.unit_of_work() as uow:
        photos = (await uow.session.scalars(select(ReportPhoto.file_id).order_by(ReportPhoto.position))).all()
    assert photos == ["AgAC-0", "AgAC-1", "AgAC-2"]


async def test_a_stop_hands_back_what_it_could_not_finish(
        tg: TelegramHarness, db: Database, clock: Clock, config: CoreConfig) -> None:
    user = await registered(tg, db, clock)
    blocked = Blocked(tg.core)
    tg.runtime = Runtime(blocked, [telegram.TelegramChannel(tg.bot, config.clock)])
    before = len(tg.stub.calls)
    await tg.runtime.receive(telegram.CHANNEL, [telegram.received(user.message("/help"))])  # type: ignore[list-item]
    await blocked.started.wait()
    await tg.runtime.stop(grace=0.1)  # SIGTERM: what is in hand after the grace period is handed back
    async with db.unit_of_work() as uow:
        [(owner, until)] = (await uow.session.execute(select(InboxEntry.owner, InboxEntry.claimed_until))).all()
    assert owner is None and until is None
    with pytest.raises(RuntimeError):
        await tg.runtime.receive(telegram.CHANNEL, [telegram.received(user.message("/help"))])  # type: ignore[list-item]

    # Any worker takes what was handed back at once, without waiting for a lease: here, as it starts.
    other = await restart(tg, db, config, worker="other-host")
    await other.stop()
    assert "/report" in text(tg.stub.calls[before:])
    assert await count(db, InboxEntry) == 0


async def test_updates_of_one_officer_are_handled_in_the_order_they_came_across_workers(
        tg: TelegramHarness, db: Database, clock: Clock, config: CoreConfig) -> None:
    user = await registered(tg, db, clock)
    await user.tap("Report an activity")
    # Worker A stored the officer's first answer and died; worker B receives the second one.
    first, second = user.message("2"), user.message("hôm qua")  # "2": Donation; then the date
    async with db.unit_of_work() as uow:
        await inbox.store(uow.session, telegram.CHANNEL, [telegram.received(first)],  # type: ignore[list-item]
                          owner="host-a", now=clock(), lease=config.lease)
        await uow.commit()
    other = Core(db, dataclasses.replace(config, worker="host-b"))
    tg.use_core(other)
    before = len(tg.stub.calls)
    waiting = asyncio.create_task(tg.feed(second))
    await asyncio.sleep(0.3)
    assert not waiting.done()  # B does not answer the second before the first …
    clock.advance(seconds=config.lease.total_seconds() + 1)  # … and takes the first over once A's lease ran out
    await asyncio.wait_for(waiting, 10)
    said = text(tg.stub.calls[before:])
    assert said.index("When did it take place?") < said.index("Which twinned partner")
    async with db.unit_of_work() as uow:
        data = await uow.session.scalar(select(Conversation.data).where(Conversation.user_external_id == "1001"))
    assert data is not None and data["draft"]["values"]["kind"] == "donation"
    assert data["draft"]["values"]["date"] == "2026-11-22"
    assert await count(db, Report) == 0


async def test_an_update_held_up_for_minutes_by_an_older_one_is_answered_all_the_same(
        tg: TelegramHarness, db: Database, clock: Clock, config: CoreConfig) -> None:
    """An older update of the conversation stays claimed by a worker that never finishes it (its lease renewed
    for ever): after twice the lease the newer one is handled anyway, answered, and taken out of the inbox."""
    user = await registered(tg, db, clock)
    await user.tap("Report an activity")
    stuck, newer = user.message("2"), user.message("/help")
    async with db.unit_of_work() as uow:
        await inbox.store(uow.session, telegram.CHANNEL, [telegram.received(stuck)],  # type: ignore[list-item]
                          owner="host-a", now=clock(), lease=dt.timedelta(days=1))
        await uow.commit()
    tg.use_core(Core(db, dataclasses.replace(config, worker="host-b", lease=dt.timedelta(seconds=0.1))))
    before = len(tg.stub.calls)
    said = text(await asyncio.wait_for(tg.feed(newer), 10))
    assert "/report" in said, tg.stub.calls[before:]  # the help, not silence
    async with db.unit_of_work() as uow:
        left = (await uow.session.execute(select(InboxEntry.owner))).scalars().all()
    assert left == ["host-a"]  # the stuck one waits for its worker; the newer one is gone, handled


# --- digests: a worker killed between the messenger's answer and its record -------------------------


class DiesAfterSending:
    """Sends through the real sender; after the ``nth`` part reached Telegram, the process dies before it
    can record it."""

    channel = "telegram"

    def __init__(self, real: object, nth: int) -> None:
        self.real, self.nth, self.sent = real, nth, 0
        self.died = asyncio.Event()

    async def send(self, chat_id: str, part: object) -> None:
        await self.real.send(chat_id, part)  # type: ignore[attr-defined]
        self.sent += 1
        if self.sent == self.nth:
            self.died.set()
            await asyncio.Event().wait()


async def test_a_digest_killed_between_send_and_record_resumes_at_once_repeating_one_part_at_most(
        db: Database, clock: Clock) -> None:
    from bot.channels.telegram import TelegramSender
    from bot.delivery import DeliveryWorker, RateLimiter
    from bot.scheduler import Scheduler
    from storage.models import Delivery
    from tests.botapi_stub import BotApiStub
    from tests.conftest import TZ
    from tests.telegram_harness import TOKEN
    from tests.test_digest import add_person, known_week
    from tests.test_scheduler import FakeTime

    await known_week(db)
    await add_person(db, "coordinator", "401", cluster=4, locale="en")
    async with BotApiStub() as stub:
        bot = telegram.make_bot(TOKEN, stub.base_url)
        time = FakeTime()
        real = TelegramSender(bot, RateLimiter(clock=time.clock, sleep=time.sleep))
        dying = DiesAfterSending(real, nth=2)
        worker = DeliveryWorker(db, {"telegram": dying}, tz=TZ, clock=clock, owner="host-a")  # type: ignore[dict-item]
        ticking = asyncio.create_task(Scheduler(db, worker, tz=TZ, clock=clock).tick())
        await asyncio.wait_for(dying.died.wait(), 20)
        ticking.cancel()  # killed: the second part reached the coordinator, its record never written
        await asyncio.gather(ticking, return_exceptions=True)
        parts = [c.method for c in stub.calls if c.method.startswith("send")]
        assert parts == ["sendMessage", "sendPhoto"]

        # The same worker starts again: it takes its own claim back at once, not after the 5-minute lease.
        again = DeliveryWorker(db, {"telegram": real}, tz=TZ, clock=clock, owner="host-a")
        await again.resume()
        await asyncio.wait_for(again.drain(), 20)
        await bot.session.close()
        parts = [c.method for c in stub.calls if c.method.startswith("send")]
    # Only the part inside the window (sent, not yet recorded) is sent twice; nothing is missing.
    assert parts == ["sendMessage", "sendPhoto", "sendPhoto", "sendDocument"]
    async with db.unit_of_work() as uow:
        [delivery] = (await uow.session.scalars(select(Delivery))).all()
    assert (delivery.status, delivery.parts_done) == ("sent", 2)


async def test_after_an_update_given_up_at_the_place_question_continue_asks_it_again_in_the_same_words(
        tg: TelegramHarness, db: Database, clock: Clock, config: CoreConfig, caplog: pytest.LogCaptureFixture) -> None:
    # The crash benchmark's "no answer to tap rs:continue": the answer is owed and sent, and it is the very
    # message the officer saw before (no inline buttons, so no sequence number tells the two apart).
    user = await registered(tg, db, clock)
    for label in ("Report an activity", "Visit", "Yesterday", "Hà Khẩu", "On the partner's side"):
        await user.tap(label)
    await user.send("5")
    await user.send("8")
    await user.tap("New Year")
    await user.send("Chúc Tết Trạm KSBP Hà Khẩu")
    [asked] = [c for c in await user.tap("Skip") if c.method == "sendMessage"]
    assert "Where exactly?" in asked.params["text"] and "keyboard" in asked.params["reply_markup"]
    skip = user.message(next(label for label in user.reply_keyboard() if "Skip" in label))
    # The worker dies on the officer's "⏭ Skip" each time it begins it, until it is given up.
    for run in range(inbox.MAX_ATTEMPTS):
        blocked = Blocked(Core(db, config))
        tg.runtime = Runtime(blocked, [telegram.TelegramChannel(tg.bot, config.clock)])
        if run == 0:
            await tg.runtime.receive(telegram.CHANNEL, [telegram.received(skip)])  # type: ignore[list-item]
        else:
            await tg.runtime.start()
        await blocked.started.wait()
        await kill(tg.runtime)
    before = len(tg.stub.calls)
    clock.advance(seconds=inbox.GIVE_UP_AFTER.total_seconds())
    await restart(tg, db, config)
    assert text(tg.stub.calls[before:]) == "Sorry, that did not work. Please try again later."
    # The log says which update was given up: its row in the inbox is gone.
    assert f"(event {skip['update_id']}) given up after {inbox.MAX_ATTEMPTS + 1} attempts" in caplog.text

    assert "You have an unfinished report" in text(await user.send("/report"))
    [again] = [c for c in await user.tap("Continue") if c.method == "sendMessage"]
    assert (again.params["text"], again.params["reply_markup"]) == (asked.params["text"], asked.params["reply_markup"])
    await tg.runtime.stop()
    assert await count(db, InboxEntry) == 0 and await count(db, OutboxEntry) == 0
