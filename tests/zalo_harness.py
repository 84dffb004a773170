"""Drive the Zalo channel (our client, the adapter, the media store) against the loopback Zalo stand-in."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from bot.channels.zalo import CHANNEL, MediaStore, ZaloChannel, ZaloClient, parse_update, received
from bot.runtime import Runtime
from handlers.core import Core
from tests.zalo_stub import BOT_ID, TOKEN, ApiCall, ZaloApiStub


class ZaloHarness:
    """``feed`` hands one update straight to the channel (as the webhook's background task does) and returns
    what the bot sent; ``polling()`` runs the real long-polling loop instead."""

    def __init__(self, core: Core, media_dir: Path) -> None:
        self.core = core
        self.media_dir = media_dir
        self.stub = ZaloApiStub()
        self.client: ZaloClient
        self.media: MediaStore
        self.channel: ZaloChannel
        self.quota_sleeps: list[float] = []

    async def __aenter__(self) -> ZaloHarness:
        await self.stub.start()
        self.client = ZaloClient(TOKEN, self.stub.base_url)
        self.media = MediaStore(self.media_dir, retry_delays=(0.0,), allow_private_hosts=True)
        self.channel = ZaloChannel(self.core, self.client, self.media, bot_id=BOT_ID, quota_delays=(1.0, 5.0),
                                   sleep=self._sleep)
        self.runtime = Runtime(self.core, [self.channel])
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.runtime.settle()
        await self.client.close()
        await self.media.close()
        await self.stub.close()

    async def _sleep(self, seconds: float) -> None:
        self.quota_sleeps.append(seconds)
        await asyncio.sleep(0)

    def use_core(self, core: Core) -> None:
        self.core = core
        self.channel.core = core
        self.runtime = Runtime(core, [self.channel])

    async def feed(self, update: dict[str, Any]) -> list[ApiCall]:
        """Hand an update over as the webhook does (stored, then handled) and wait for every answer."""
        before = len(self.stub.calls)
        item = received(parse_update(update))
        if item is not None:
            await self.runtime.receive(CHANNEL, [item])
            await self.runtime.settle()
        return self.stub.calls[before:]

    def user(self, user_id: str, display_name: str = "Vàng A Chứ") -> ZaloUserDriver:
        return ZaloUserDriver(self, user_id, display_name)


class ZaloUserDriver:
    def __init__(self, harness: ZaloHarness, user_id: str, display_name: str) -> None:
        self.h = harness
        self.id = user_id
        self.display_name = display_name

    def message(self, text: str, **kw: Any) -> dict[str, Any]:
        kw.setdefault("date", int(self.h.core.config.clock().timestamp() * 1000))
        return self.h.stub.text(self.id, text, display_name=self.display_name, **kw)

    async def send(self, text: str, **kw: Any) -> str:
        return said(await self.h.feed(self.message(text, **kw)))

    async def photo(self, name: str, **kw: Any) -> str:
        kw.setdefault("date", int(self.h.core.config.clock().timestamp() * 1000))
        update = self.h.stub.image(self.id, self.h.stub.photo_url(name), display_name=self.display_name, **kw)
        return said(await self.h.feed(update))

    async def choose(self, shown: str, label: str) -> str:
        """Answer a numbered list by the number of the option that reads ``label``."""
        return await self.send(option_number(shown, label))


def texts(calls: list[ApiCall]) -> list[str]:
    return [c.params["text"] for c in calls if c.method == "sendMessage" and c.status == 200]


def said(calls: list[ApiCall]) -> str:
    return "\n".join(texts(calls))


def option_number(shown: str, label: str) -> str:
    for line in reversed(shown.splitlines()):
        m = re.match(r"^(\d+)\. (.*)$", line)
        if m and label in m.group(2):
            return m.group(1)
    raise AssertionError(f"no option {label!r} in:\n{shown}")


class Polling:
    """The real long-polling loop over the stand-in; ``say`` queues an update and waits until it was handled."""

    def __init__(self, harness: ZaloHarness, *, timeout: int = 1, backoff: float = 0.01) -> None:
        self.h = harness
        self.timeout = timeout
        self.backoff = backoff
        self.stop = asyncio.Event()
        self.handled: asyncio.Queue[str] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Polling:
        from bot.channels.zalo import poll

        client = self.h.client
        fetch = client.get_updates
        self.asked = 0
        self.asked_again = asyncio.Event()

        async def instrumented(timeout: int = 30) -> Any:  # noqa: ASYNC109 - the API's own
            # The loop asks for the next update only once the last one is stored (or was dropped).
            self.asked += 1
            self.asked_again.set()
            update = await fetch(timeout)
            if update is not None:
                self.handled.put_nowait(update.message.message_id if update.message else "")
            return update

        client.get_updates = instrumented  # type: ignore[method-assign]
        self.task = asyncio.create_task(poll(self.h.runtime, client, self.stop, poll_timeout=self.timeout,
                                             first_backoff=self.backoff, longest_backoff=self.backoff * 4,
                                             quota_backoff=self.backoff * 2))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        assert self.task is not None
        await asyncio.wait_for(self.task, 10)
        await self.h.runtime.settle()
        del self.h.client.get_updates  # type: ignore[method-assign]

    async def say(self, update: dict[str, Any], *, handled: int = 1) -> str:
        """Queue an update, wait until the loop took it (and ``handled - 1`` queued before it) and stored it,
        then until everything it owes was sent."""
        before = len(self.h.stub.calls)
        self.h.stub.push(update)
        for _ in range(handled):
            await asyncio.wait_for(self.handled.get(), 10)
        asked = self.asked
        async with asyncio.timeout(10):
            while self.asked <= asked:
                self.asked_again.clear()
                await self.asked_again.wait()
        await self.h.runtime.settle()
        return said(self.h.stub.calls[before:])
