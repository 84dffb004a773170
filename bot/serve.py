"""Serving Telegram: long polling, or an aiohttp webhook server that answers at once and works in the background."""

from __future__ import annotations

import asyncio
import gc
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web

from bot.app import App
from bot.channels import telegram
from bot.delivery import Sender
from bot.scheduler import start_scheduler

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Updates handled at once by one process. More would only queue for the database (SQLite writes one
# at a time; PostgreSQL has a pool), and while the limit is reached polling waits, so the next
# getUpdates fetches a batch instead of one update per round trip (1 -> ~35 under load, +45% steps/s
# in bench/report_flow.py).
CONCURRENT_UPDATES = 16


def freeze_startup_objects() -> None:
    """What start-up built (modules, aiogram's and SQLAlchemy's classes, the dispatcher) lives as long as
    the process; keeping it out of the collector's full scans removes pauses that grow with it."""
    gc.collect()
    gc.freeze()


async def run_polling(app: App, bot: Bot, *, stop: asyncio.Event | None = None,
                      senders: Mapping[str, Sender] | None = None) -> None:
    dispatcher = telegram.build_dispatcher(app.core)
    await telegram.set_default_commands(bot, app.settings.default_locale)
    freeze_startup_objects()
    # A webhook left over from `twinbot webhook` would make getUpdates fail.
    await bot.delete_webhook(drop_pending_updates=False)
    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=stop is None, close_bot_session=False,
                                 allowed_updates=dispatcher.resolve_used_update_types(),
                                 tasks_concurrency_limit=CONCURRENT_UPDATES)
    )
    scheduling = start_scheduler(app, bot, senders)
    try:
        if stop is None:
            await polling
            return
        await stop.wait()
        await dispatcher.stop_polling()
        await polling
    finally:
        await scheduling.stop()


class WebhookHandler:
    def __init__(self, dispatcher: Dispatcher, bot: Bot, secret: str) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.secret = secret.encode()
        self.tasks: set[asyncio.Task[Any]] = set()
        # Telegram gets its answer at once, so only this bounds the work in hand (as polling's limit does).
        self.slots = asyncio.Semaphore(CONCURRENT_UPDATES)

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            return web.Response(status=401, text="unauthorized")
        try:
            update = Update.model_validate(await request.json(), context={"bot": self.bot})
        except ValueError:
            return web.Response(status=400, text="malformed update")
        # Answer at once: Telegram redelivers after a slow answer; the event's own transaction makes
        # a redelivery harmless anyway.
        task = asyncio.create_task(self._process(update))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return web.Response(text="ok")

    async def _process(self, update: Update) -> None:
        try:
            async with self.slots:
                await self.dispatcher.feed_update(self.bot, update)
        except Exception:
            log.exception("update %s failed", update.update_id)

    async def drain(self) -> None:
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)


def build_webhook_app(app: App, bot: Bot, secret: str) -> tuple[web.Application, WebhookHandler]:
    handler = WebhookHandler(telegram.build_dispatcher(app.core), bot, secret)
    web_app = web.Application(client_max_size=1 << 20)
    web_app.router.add_post(app.settings.webhook_path, handler.handle)
    web_app.router.add_get("/healthz", _health)
    return web_app, handler


async def _health(_request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def run_webhook(app: App, bot: Bot, *, stop: asyncio.Event | None = None,
                      routes: Callable[[web.Application], None] | None = None,
                      senders: Mapping[str, Sender] | None = None,
                      listening: Callable[[], Awaitable[None]] | None = None) -> None:
    """``routes`` adds other channels' endpoints; ``listening`` runs once the server accepts requests
    (Zalo checks a webhook URL when it is set)."""
    url, secret = app.settings.require_webhook()
    web_app, handler = build_webhook_app(app, bot, secret)
    if routes is not None:  # other channels' webhooks (Zalo) on the same server
        routes(web_app)
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, app.settings.host, app.settings.port)
    await site.start()
    if listening is not None:
        await listening()
    await telegram.set_default_commands(bot, app.settings.default_locale)
    await bot.set_webhook(url + app.settings.webhook_path, secret_token=secret,
                          allowed_updates=["message", "callback_query", "my_chat_member"])
    log.info("webhook server listening on %s:%s", app.settings.host, app.settings.port)
    scheduling = start_scheduler(app, bot, senders)
    try:
        await (stop.wait() if stop else asyncio.Event().wait())
    finally:
        await scheduling.stop()
        await runner.cleanup()
        await handler.drain()
