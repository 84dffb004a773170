"""A coordinator's slow command, or the digest being sent, never holds anyone else up: charts and spreadsheets
are drawn after the event's transaction, off the event loop, holding no write lock. Shown by holding the
drawing half-way and checking that everyone else is served meanwhile (the figures live in bench/)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot import cli
from bot.channels import telegram
from handlers import offload
from handlers.core import Core
from storage.db import Database
from tests.conftest import Clock
from tests.reporting import report
from tests.telegram_harness import TelegramHarness, text
from tests.test_onboarding import make_invite


@pytest.fixture(autouse=True)
def drawing_on_a_thread() -> Iterator[None]:
    """The drawing is held half-way by patching it, which only works in this process; everywhere else it
    runs in a drawing process (``handlers.offload``; see ``test_drawing_happens_in_another_process``)."""
    with offload.use_threads():
        yield


async def until(found: Callable[[], list[Any]]) -> list[Any]:
    """What ``found`` finds, once it finds something (the stand-in records calls as they come)."""
    async with asyncio.timeout(10):
        while not (result := found()):  # noqa: ASYNC110 - polling the stand-in's record is simplest here
            await asyncio.sleep(0.01)
    return result


class Held:
    """Wraps a function that runs on a worker thread so that it stops half-way until ``release()``."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self.entered = threading.Event()
        self.go_on = threading.Event()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.entered.set()
        assert self.go_on.wait(20), "never released"
        return self.function(*args, **kwargs)

    def as_method(self) -> Callable[..., Any]:
        def held(*args: Any, **kwargs: Any) -> Any:
            return self(*args, **kwargs)

        return held

    async def wait_entered(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, 20)

    def release(self) -> None:
        self.go_on.set()


@pytest.mark.parametrize("command", ["/digest", "/export month"])
async def test_an_officer_is_answered_while_a_coordinators_files_are_being_drawn(
        core: Core, db: Database, clock: Clock, monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    import handlers.digest
    import handlers.spreadsheet

    for n in range(20):
        await report(db, clock, "LCA-DBP-CKQT-LAO-CAI", amount=str(1_000_000 + n), packages=n)
    if command == "/digest":
        held = Held(handlers.digest._files)
        monkeypatch.setattr(handlers.digest, "_files", held)
    else:
        held = Held(handlers.spreadsheet.ReportsWorkbook.finish)
        monkeypatch.setattr(handlers.spreadsheet.ReportsWorkbook, "finish", held.as_method())
    async with TelegramHarness(core) as tg:
        coordinator, officer = tg.user(3001), tg.user(3002)
        await coordinator.send(f"/start {await make_invite(db, clock, role='coordinator', unit=None, cluster=2)}")
        await officer.send(f"/start {await make_invite(db, clock)}")
        before = len(tg.stub.calls)
        await tg.runtime.receive(telegram.CHANNEL, [telegram.received(coordinator.message(command))])  # type: ignore[list-item]
        await held.wait_entered()
        # The coordinator's files are half drawn; the officer's report goes ahead meanwhile.
        await tg.runtime.receive(telegram.CHANNEL, [telegram.received(officer.message("/report"))])  # type: ignore[list-item]
        answered = await until(lambda: [c for c in tg.stub.calls[before:]
                                        if c.method == "sendMessage" and c.params.get("chat_id") == 3002])
        assert "What kind of activity was it?" in text(answered)
        assert not [c for c in tg.stub.calls[before:] if c.method in ("sendPhoto", "sendDocument")]
        held.release()
        await tg.runtime.settle()
        files = [c.method for c in tg.stub.calls[before:] if c.params.get("chat_id") == 3001]
        assert files.count("sendDocument") == 1 and files.count("sendPhoto") == (command == "/digest")


async def test_a_twinbot_command_succeeds_while_the_bot_is_drawing_a_digest(
        db: Database, db_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch, restore_logging: None) -> None:
    import handlers.digest
    from bot.channels.telegram import TelegramSender
    from bot.delivery import DeliveryWorker, RateLimiter
    from bot.scheduler import Scheduler
    from tests.botapi_stub import BotApiStub
    from tests.conftest import TZ
    from tests.telegram_harness import TOKEN
    from tests.test_digest import add_person, known_week
    from tests.test_scheduler import FakeTime

    await known_week(db)
    await add_person(db, "coordinator", "401", cluster=4, locale="en")
    held = Held(handlers.digest._files)
    monkeypatch.setattr(handlers.digest, "_files", held)
    monkeypatch.setenv("TWINBOT_DATABASE_URL", db_url)
    async with BotApiStub() as stub:
        bot = telegram.make_bot(TOKEN, stub.base_url)
        time = FakeTime()
        worker = DeliveryWorker(db, {"telegram": TelegramSender(bot, RateLimiter(clock=time.clock, sleep=time.sleep))},
                                tz=TZ, clock=clock)
        sending = asyncio.create_task(Scheduler(db, worker, tz=TZ, clock=clock).tick())
        await held.wait_entered()
        # The digest is being drawn for its delivery; an operator creates an invite beside the bot.
        code = await asyncio.to_thread(cli.main, ["invite", "--role", "admin", "--json"])
        held.release()
        await asyncio.wait_for(sending, 20)
        await bot.session.close()
    assert code == 0
    assert [c.method for c in stub.calls if c.method.startswith("send")] == ["sendMessage", "sendPhoto",
                                                                            "sendDocument"]
