"""The two ways of serving Telegram, over real HTTP on loopback: long polling and the webhook server."""

from __future__ import annotations

import asyncio

from aiogram import Bot
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import App
from bot.channels import telegram
from bot.channels.telegram.service import TelegramService
from bot.runtime import Runtime
from bot.serve import SECRET_HEADER, Serving, serve
from bot.serve import webhook_app as build_webhook_app
from bot.settings import Settings
from handlers.core import Core
from handlers.events import Incoming, Outcome
from storage.db import Database
from tests.botapi_stub import BotApiStub
from tests.telegram_harness import TOKEN

SECRET = "s3cret-token_of-the-webhook-0123"


def webhook_app(runtime: Runtime, bot: Bot) -> web.Application:
    """The webhook server's application, as `twinbot webhook` builds it, around ``runtime``."""
    settings = Settings(_env_file=None, webhook_secret=SECRET, webhook_url="https://bot.example.org")  # type: ignore[call-arg]
    app = App(settings=settings, db=runtime.core.db, core=runtime.core)
    return build_webhook_app(Serving(app=app, runtime=runtime, services=[TelegramService(bot, app)]))


async def test_long_polling_answers_through_get_updates(db: Database, db_url: str) -> None:
    async with BotApiStub() as stub:
        settings = Settings(_env_file=None, telegram_token=TOKEN, telegram_api_base=stub.base_url,  # type: ignore[call-arg]
                            database_url=db_url)
        stop = asyncio.Event()
        polling = asyncio.create_task(serve(settings, "polling", stop=stop))
        try:
            stub.push_update(stub.make_message(4242, "/start", language_code="en"))
            [sent] = await stub.wait_for_calls("sendMessage", 1, timeout=10)
            assert "This bot is for border officers" in sent.params["text"]
            assert {c.params.get("language_code") for c in stub.calls_of("setMyCommands")} >= {"vi", "en"}
            assert stub.calls_of("deleteWebhook")
        finally:
            stop.set()
            assert await asyncio.wait_for(polling, 10) == 0
        assert stub.violations == []


async def test_webhook_refuses_missing_or_wrong_secret_and_serves_the_right_one(core: Core, db: Database) -> None:
    async with BotApiStub() as stub:
        bot = telegram.make_bot(TOKEN, stub.base_url)
        handler = Runtime(core, [telegram.TelegramChannel(bot, core.config.clock)])
        async with TestClient(TestServer(webhook_app(handler, bot), host="127.0.0.1")) as client:
            update = stub.make_message(4343, "/start", language_code="en")
            path = "/telegram/webhook"
            assert (await client.post(path, json=update)).status == 401
            wrong = await client.post(path, json=update, headers={SECRET_HEADER: SECRET[:-1] + "x"})
            assert wrong.status == 401
            assert stub.calls_of("sendMessage") == []
            bad = await client.post(path, data=b"{not json", headers={SECRET_HEADER: SECRET})
            assert bad.status == 400
            ok = await client.post(path, json=update, headers={SECRET_HEADER: SECRET})
            assert ok.status == 200
            again = await client.post(path, json=update, headers={SECRET_HEADER: SECRET})  # Telegram's retry
            assert again.status == 200
            await handler.settle()
            assert len(stub.calls_of("sendMessage")) == 1
            assert (await client.get("/healthz")).status == 200
        await bot.session.close()
        assert stub.violations == []


class GatedCore(Core):
    """The real core behind a gate, counting how many events are in hand at once."""

    def __init__(self, core: Core) -> None:
        super().__init__(core.db, core.config)
        self.gate = asyncio.Event()
        self.arrived = asyncio.Event()
        self.in_hand = 0
        self.most = 0

    async def handle(self, incoming: Incoming) -> Outcome:
        self.in_hand += 1
        self.most = max(self.most, self.in_hand)
        self.arrived.set()
        try:
            await self.gate.wait()
            return await super().handle(incoming)
        finally:
            self.in_hand -= 1


    async def holding(self, count: int) -> None:
        async with asyncio.timeout(10):
            while self.in_hand < count:
                self.arrived.clear()
                await self.arrived.wait()


async def test_polling_holds_a_bounded_number_of_updates_at_once(core: Core, db: Database) -> None:
    gated = GatedCore(core)
    async with BotApiStub() as stub:
        bot = telegram.make_bot(TOKEN, stub.base_url)
        stop = asyncio.Event()
        runtime = Runtime(gated, [telegram.TelegramChannel(bot, core.config.clock)], concurrency=3)
        polling = asyncio.create_task(telegram.poll(runtime, bot, stop, timeout=1))
        try:
            for user in range(8):
                stub.push_update(stub.make_message(5000 + user, "/start", language_code="en"))
            await gated.holding(3)
            await asyncio.sleep(0.2)  # time enough to take more, were it allowed to
            assert gated.most == 3
            gated.gate.set()
            sent = await stub.wait_for_calls("sendMessage", 8, timeout=10)
            assert {c.params["chat_id"] for c in sent} == {5000 + user for user in range(8)}
        finally:
            stop.set()
            await asyncio.wait_for(polling, 10)
            await runtime.stop()
            await bot.session.close()
        assert stub.violations == []


async def test_the_webhook_holds_a_bounded_number_of_updates_at_once(core: Core, db: Database) -> None:
    gated = GatedCore(core)
    async with BotApiStub() as stub:
        bot = telegram.make_bot(TOKEN, stub.base_url)
        handler = Runtime(gated, [telegram.TelegramChannel(bot, core.config.clock)], concurrency=3)
        async with TestClient(TestServer(webhook_app(handler, bot), host="127.0.0.1")) as client:
            for user in range(8):
                answer = await client.post("/telegram/webhook", headers={SECRET_HEADER: SECRET},
                                           json=stub.make_message(6000 + user, "/start", language_code="en"))
                assert answer.status == 200  # Telegram is answered at once, whatever is in hand
            await gated.holding(3)
            await asyncio.sleep(0.2)
            assert gated.most == 3
            gated.gate.set()
            await handler.settle()
            assert len(stub.calls_of("sendMessage")) == 8
        await bot.session.close()
        assert stub.violations == []
