"""Serving Zalo: a long-polling loop, or a webhook route that answers at once and works in the background.

Updates of one user are handled in the order they came, updates of different users side by side. A
redelivered update is harmless either way: the core records each message id once.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.channels.zalo import MalformedUpdate, ZaloApiError, ZaloClient, ZaloError, ZaloUpdate, parse_update
from bot.channels.zalo_adapter import ZaloChannel, ZaloSender
from bot.media import MediaStore

if TYPE_CHECKING:
    from bot.app import App
    from bot.settings import Settings

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Bot-Api-Secret-Token"
POLL_TIMEOUT = 30
# Backoff after a failed poll: doubling from FIRST to LONGEST; a 429 "quota exceeded" starts at QUOTA.
FIRST_BACKOFF = 1.0
LONGEST_BACKOFF = 60.0
QUOTA_BACKOFF = 30.0


class Sequencer:
    """Runs each update in a task of its own, after the previous task of the same user has ended."""

    def __init__(self, work: Callable[[ZaloUpdate], Awaitable[None]]) -> None:
        self.work = work
        self.tasks: set[asyncio.Task[None]] = set()
        self._last: dict[str, asyncio.Task[None]] = {}

    def submit(self, update: ZaloUpdate) -> asyncio.Task[None]:
        user = update.message.sender.id if update.message else ""
        previous = self._last.get(user)
        task = asyncio.create_task(self._run(previous, update))
        self._last[user] = task
        self.tasks.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self.tasks.discard(finished)
            if self._last.get(user) is finished:
                del self._last[user]

        task.add_done_callback(done)
        return task

    async def _run(self, previous: asyncio.Task[None] | None, update: ZaloUpdate) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        try:
            await self.work(update)
        except Exception:
            log.exception("zalo update %s failed", update.message.message_id if update.message else "?")

    async def drain(self) -> None:
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)


def backoff_after(error: Exception, previous: float, *, first: float = FIRST_BACKOFF,
                  longest: float = LONGEST_BACKOFF, quota: float = QUOTA_BACKOFF) -> float:
    if isinstance(error, ZaloApiError) and error.quota_exceeded:
        return min(longest, max(quota, previous * 2))
    return min(longest, max(first, previous * 2))


async def poll(channel: ZaloChannel, stop: asyncio.Event, *, poll_timeout: int = POLL_TIMEOUT,
               first_backoff: float = FIRST_BACKOFF, longest_backoff: float = LONGEST_BACKOFF,
               quota_backoff: float = QUOTA_BACKOFF) -> None:
    """Long-poll ``getUpdates`` until ``stop`` is set. A quiet poll (408) polls again at once; errors wait,
    doubling up to ``longest_backoff``, and never end the loop. Setting ``stop`` ends it within moments."""
    client = channel.client
    sequencer = Sequencer(channel.process)
    # getUpdates does not work while a webhook is set (one left by `twinbot webhook`, say).
    try:
        await client.delete_webhook()
    except ZaloError as exc:
        log.warning("zalo deleteWebhook failed: %s", exc)
    delay = 0.0
    stopping = asyncio.ensure_future(stop.wait())
    try:
        while not stop.is_set():
            request = asyncio.ensure_future(client.get_updates(poll_timeout))
            await asyncio.wait({request, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not request.done():
                request.cancel()
                await asyncio.gather(request, return_exceptions=True)
                break
            try:
                update = request.result()
            except MalformedUpdate as exc:
                log.warning("zalo poll returned something that is not an update: %s", exc)
                continue
            except Exception as exc:  # ZaloError, or anything unforeseen: the loop must go on
                if not isinstance(exc, ZaloError):
                    log.exception("zalo poll failed unexpectedly")
                delay = backoff_after(exc, delay, first=first_backoff, longest=longest_backoff, quota=quota_backoff)
                # A little jitter, so that a restarted poller and a recovering server do not fall into step.
                wait = delay * (0.8 + 0.4 * random.random())
                log.warning("zalo poll failed (%s); polling again in %.1f s", exc, wait)
                try:
                    await asyncio.wait_for(asyncio.shield(stopping), timeout=wait)
                except TimeoutError:
                    pass
                continue
            delay = 0.0
            if update is not None:
                sequencer.submit(update)
    finally:
        stopping.cancel()
        await asyncio.gather(stopping, return_exceptions=True)
        await sequencer.drain()


# --- webhook ---------------------------------------------------------------------------------------


class ZaloWebhookHandler:
    def __init__(self, channel: ZaloChannel, secret: str) -> None:
        if len(secret) < 8:
            raise ValueError("the Zalo webhook secret must have 8 to 256 characters")
        self.channel = channel
        self.secret = secret.encode()
        self.sequencer = Sequencer(channel.process)

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            return web.Response(status=401, text="unauthorized")
        try:
            update = parse_update(json.loads(await request.read()))
        except (ValueError, MalformedUpdate, UnicodeDecodeError):
            return web.Response(status=400, text="malformed update")
        if update.message is not None:
            # Answer at once; the work goes on in the background, and a redelivery finds it done.
            self.sequencer.submit(update)
        else:
            log.info("zalo event %r without a message acknowledged", update.event_name)
        return web.json_response({"ok": True})

    async def drain(self) -> None:
        await self.sequencer.drain()


def add_routes(web_app: web.Application, handler: ZaloWebhookHandler, path: str) -> None:
    web_app.router.add_post(path, handler.handle)


async def register_webhook(channel: ZaloChannel, url: str, secret: str) -> None:
    info = await channel.client.set_webhook(url, secret)
    log.info("zalo webhook set to %s", info.url or url)


async def run_until_stopped(work: Callable[[asyncio.Event], Awaitable[Any]], stop: asyncio.Event | None = None) -> None:
    """Run ``work(stop)``; without a ``stop`` given, SIGINT and SIGTERM set one."""
    import signal

    if stop is not None:
        await work(stop)
        return
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):
            pass
    try:
        await work(stop)
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


# --- wiring: `twinbot run` and `twinbot webhook` -------------------------------------------------------------


class ZaloService:
    """The client, media store and channel for one Zalo bot, built from the settings."""

    def __init__(self, app: App, token: str) -> None:
        self.app = app
        settings = app.settings
        self.client = ZaloClient(token, settings.zalo_api_base)
        self.media = MediaStore(settings.media_dir)
        self.channel = ZaloChannel(app.core, self.client, self.media)

    async def start(self) -> None:
        me = await self.client.get_me()
        self.channel.bot_id = me.id  # so that our own messages echoed back are not answered
        log.info("zalo bot %s (%s) ready", me.account_name or me.display_name, me.id)

    async def close(self) -> None:
        await self.client.close()
        await self.media.close()

    def senders(self) -> dict[str, ZaloSender]:
        """What the digest and reminder scheduler sends Zalo recipients through."""
        settings = self.app.settings
        return {"zalo": ZaloSender(self.client, self.app.db, tz=settings.tz, default_locale=settings.default_locale)}


async def _with_scheduler(app: App, zalo: ZaloService, serving: Awaitable[Any]) -> None:
    """Zalo alone (no Telegram token): digests and reminders still go out, through Zalo."""
    from bot.scheduler import start_scheduler

    scheduling = start_scheduler(app, None, zalo.senders())
    try:
        await serving
    finally:
        await scheduling.stop()


async def run(settings: Settings, *, stop: asyncio.Event | None = None) -> int:
    """``twinbot run`` with a Zalo token: Zalo by long polling, beside Telegram when its token is set too."""
    from bot.app import build_app
    from bot.channels.telegram import make_bot
    from bot.serve import run_polling

    token = settings.require_zalo_token()
    bot = make_bot(settings.require_telegram_token(), settings.telegram_api_base) if settings.telegram_token else None
    try:
        me = await bot.get_me() if bot else None
        app = await build_app(settings, bot_username=me.username if me else None)
        zalo = ZaloService(app, token)
        try:
            await zalo.start()
            if bot is None:
                await run_until_stopped(lambda event: _with_scheduler(app, zalo, poll(zalo.channel, event)), stop)
                return 0
            zalo_stop = asyncio.Event()
            polling = asyncio.create_task(poll(zalo.channel, zalo_stop))
            try:
                # without a stop, it returns on SIGINT or SIGTERM
                await run_polling(app, bot, stop=stop, senders=zalo.senders())
            finally:
                zalo_stop.set()
                await polling
        finally:
            await zalo.close()
            await app.close()
    finally:
        if bot is not None:
            await bot.session.close()
    return 0


async def webhook(settings: Settings, *, stop: asyncio.Event | None = None) -> int:
    """``twinbot webhook`` with a Zalo token: the Zalo route on the webhook server, beside Telegram's."""
    from bot.app import build_app
    from bot.channels.telegram import make_bot
    from bot.serve import run_webhook

    token = settings.require_zalo_token()
    url, secret = settings.require_zalo_webhook()
    bot = None
    if settings.telegram_token:
        settings.require_webhook()
        bot = make_bot(settings.require_telegram_token(), settings.telegram_api_base)
    try:
        me = await bot.get_me() if bot else None
        app = await build_app(settings, bot_username=me.username if me else None)
        zalo = ZaloService(app, token)
        handler = ZaloWebhookHandler(zalo.channel, secret)
        try:
            await zalo.start()
            if bot is not None:
                await run_webhook(app, bot, stop=stop, routes=lambda web_app: add_routes(
                    web_app, handler, settings.zalo_webhook_path), senders=zalo.senders(),
                    listening=lambda: register_webhook(zalo.channel, url, secret))
            else:
                await run_until_stopped(lambda event: _with_scheduler(
                    app, zalo, _serve_zalo_webhook(app, zalo, handler, url, secret, event)), stop)
        finally:
            await handler.drain()
            await zalo.close()
            await app.close()
    finally:
        if bot is not None:
            await bot.session.close()
    return 0


async def _serve_zalo_webhook(app: App, zalo: ZaloService, handler: ZaloWebhookHandler, url: str, secret: str,
                              stop: asyncio.Event) -> None:
    web_app = web.Application(client_max_size=1 << 20)
    add_routes(web_app, handler, app.settings.zalo_webhook_path)
    web_app.router.add_get("/healthz", _health)
    runner = web.AppRunner(web_app)
    await runner.setup()
    await web.TCPSite(runner, app.settings.host, app.settings.port).start()
    try:
        # Zalo checks the URL when it is set, so the server listens first.
        await register_webhook(zalo.channel, url, secret)
        log.info("zalo webhook server listening on %s:%s", app.settings.host, app.settings.port)
        await stop.wait()
    finally:
        await runner.cleanup()


async def _health(_request: web.Request) -> web.Response:
    return web.Response(text="ok")
