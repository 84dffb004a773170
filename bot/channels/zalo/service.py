"""Zalo plugged into serving (``bot.channels.plugin``): the client connected, its channel and sender, polling or
the webhook route."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from aiohttp import web

from bot.channels.zalo.adapter import CHANNEL, ZaloChannel
from bot.channels.zalo.client import ZaloClient
from bot.channels.zalo.media import MediaStore
from bot.channels.zalo.receiving import ZaloWebhookRoute, add_routes, poll, register_webhook
from bot.channels.zalo.sender import ZaloSender

if TYPE_CHECKING:
    from bot.app import App
    from bot.runtime import Runtime
    from bot.settings import Settings

log = logging.getLogger(__name__)


class ZaloService:
    def __init__(self, client: ZaloClient, media: MediaStore, bot_id: str, app: App) -> None:
        from bot.delivery import RateLimiter, SharedBudget

        self.client = client
        self.settings = app.settings
        links = app.file_links()
        self.channel = ZaloChannel(app.core, client, media, bot_id=bot_id, links=links)
        # Zalo's quota is the bot's, whatever the number of workers: spaced through the database together.
        limiter = RateLimiter(per_second=10.0, clock=time.time,
                              budget=SharedBudget(app.db, CHANNEL))
        self.senders = {CHANNEL: ZaloSender(client, app.db, tz=self.settings.tz, links=links,
                                            default_locale=self.settings.default_locale, limiter=limiter)}

    async def ready(self) -> None:
        return None

    async def poll(self, runtime: Runtime, stop: asyncio.Event) -> None:
        await poll(runtime, self.client, stop)

    def routes(self, web_app: web.Application, runtime: Runtime) -> None:
        _, secret = self.settings.require_zalo_webhook()
        add_routes(web_app, ZaloWebhookRoute(runtime, secret), self.settings.zalo.webhook_path)

    async def listening(self) -> None:
        url, secret = self.settings.require_zalo_webhook()
        await register_webhook(self.channel, url, secret)


class ZaloConnection:
    username: str | None = None  # Zalo has no link that starts a chat with a code: users type /start CODE

    def __init__(self, client: ZaloClient, media: MediaStore, bot_id: str) -> None:
        self.client, self.media, self.bot_id = client, media, bot_id

    def service(self, app: App) -> ZaloService:
        return ZaloService(self.client, self.media, self.bot_id, app)

    async def close(self) -> None:
        await self.client.close()
        await self.media.close()


class ZaloPlugin:
    name = CHANNEL

    def configured(self, settings: Settings) -> bool:
        return settings.zalo.token is not None

    def check(self, settings: Settings, mode: str) -> None:
        settings.require_zalo_token()
        if mode == "webhook":
            settings.require_zalo_webhook()

    async def connect(self, settings: Settings) -> ZaloConnection:
        client = ZaloClient(settings.require_zalo_token(), settings.zalo.api_base)
        media = MediaStore(settings.media_dir)
        try:
            me = await client.get_me()
        except BaseException:
            await client.close()
            await media.close()
            raise
        # Our own messages echoed back must not be answered: the channel knows the bot's id.
        log.info("zalo bot %s (%s) ready", me.account_name or me.display_name, me.id)
        return ZaloConnection(client, media, me.id)


PLUGIN = ZaloPlugin()
