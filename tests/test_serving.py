"""The two ways of serving Telegram, over real HTTP on loopback: long polling and the webhook server."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient, TestServer

from bot.app import App
from bot.channels import telegram
from bot.serve import SECRET_HEADER, build_webhook_app, run_polling
from bot.settings import Settings
from handlers.core import Core
from storage.db import Database
from tests.botapi_stub import BotApiStub
from tests.telegram_harness import TOKEN

SECRET = "s3cret-token_of-the-webhook-0123"


def app_for(core: Core, db: Database) -> App:
    settings = Settings(_env_file=None, webhook_secret=SECRET, webhook_url="https://bot.example.org")  # type: ignore[call-arg]
    return App(settings=settings, db=db, core=core)


async def test_long_polling_answers_through_get_updates(core: Core, db: Database) -> None:
    async with BotApiStub() as stub:
        bot = telegram.make_bot(TOKEN, stub.base_url)
        stop = asyncio.Event()
        polling = asyncio.create_task(run_polling(app_for(core, db), bot, stop=stop))
        try:
            stub.push_update(stub.make_message(4242, "/start", language_code="en"))
            [sent] = await stub.wait_for_calls("sendMessage", 1, timeout=10)
            assert "This bot is for border officers" in sent.params["text"]
            assert {c.params.get("language_code") for c in stub.calls_of("setMyCommands")} >= {"vi", "en"}
            assert stub.calls_of("deleteWebhook")
        finally:
            stop.set()
            await asyncio.wait_for(polling, 10)
            await bot.session.close()
        assert stub.violations == []


async def test_webhook_refuses_missing_or_wrong_secret_and_serves_the_right_one(core: Core, db: Database) -> None:
    async with BotApiStub() as stub:
        bot = telegram.make_bot(TOKEN, stub.base_url)
        web_app, handler = build_webhook_app(app_for(core, db), bot, SECRET)
        async with TestClient(TestServer(web_app, host="127.0.0.1")) as client:
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
            await handler.drain()
            assert len(stub.calls_of("sendMessage")) == 1
            assert (await client.get("/healthz")).status == 200
        await bot.session.close()
        assert stub.violations == []
