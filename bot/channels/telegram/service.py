"""Telegram plugged into serving (``bot.channels.plugin``): the bot connected, its channel and sender, polling
or the webhook route."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from aiogram import Bot
from aiohttp import web

from bot.channels.telegram.adapter import TelegramChannel
from bot.channels.telegram.client import CHANNEL, make_bot, set_default_commands
from bot.channels.telegram.receiving import ALLOWED_UPDATES, WebhookRoute, poll
from bot.channels.telegram.sender import TelegramSender

if TYPE_CHECKING:
    from bot.app import App
    from bot.runtime import Runtime
    from bot.settings import Settings


class TelegramService:
    def __init__(self, bot: Bot, app: App) -> None:
        from bot.delivery import TELEGRAM_PER_SECOND, RateLimiter, SharedBudget

        self.bot = bot
        self.settings = app.settings
        self.channel = TelegramChannel(bot, app.core.config.clock)
        # One budget for all workers: the database spaces every process's sends together.
        limiter = RateLimiter(per_second=TELEGRAM_PER_SECOND, clock=time.time, budget=SharedBudget(app.db, CHANNEL))
        self.senders = {CHANNEL: TelegramSender(bot, limiter)}

    async def ready(self) -> None:
        await set_default_commands(self.bot, self.settings.default_locale)

    async def poll(self, runtime: Runtime, stop: asyncio.Event) -> None:
        await poll(runtime, self.bot, stop)

    def routes(self, web_app: web.Application, runtime: Runtime) -> None:
        _, secret = self.settings.require_webhook()
        web_app.router.add_post(self.settings.webhook_path, WebhookRoute(runtime, secret, self.bot).handle)

    async def listening(self) -> None:
        url, secret = self.settings.require_webhook()
        await self.bot.set_webhook(url + self.settings.webhook_path, secret_token=secret,
                                   allowed_updates=ALLOWED_UPDATES)


class TelegramConnection:
    def __init__(self, bot: Bot, username: str | None) -> None:
        self.bot = bot
        self.username = username

    def service(self, app: App) -> TelegramService:
        return TelegramService(self.bot, app)

    async def close(self) -> None:
        await self.bot.session.close()


class TelegramPlugin:
    name = CHANNEL

    def configured(self, settings: Settings) -> bool:
        return settings.telegram_token is not None

    def check(self, settings: Settings, mode: str) -> None:
        settings.require_telegram_token()
        if mode == "webhook":
            settings.require_webhook()

    async def connect(self, settings: Settings) -> TelegramConnection:
        bot = make_bot(settings.require_telegram_token(), settings.telegram_api_base)
        try:
            me = await bot.get_me()
        except BaseException:
            await bot.session.close()
            raise
        return TelegramConnection(bot, me.username)


PLUGIN = TelegramPlugin()
