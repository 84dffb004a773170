"""``twinbot run`` and ``twinbot webhook``: every configured messenger through one runtime, with one scheduler.

Long polling asks each messenger for updates; the webhook server takes them as they are posted. Either
way an update is stored before the messenger is told it arrived (see ``bot.runtime``). SIGTERM or SIGINT
stops taking updates, finishes what is in hand within ``GRACE`` seconds, hands back the rest and exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot
from aiohttp import web

from bot.app import App, build_app
from bot.channels import telegram
from bot.delivery import Sender
from bot.runtime import GRACE, Runtime
from bot.scheduler import start_scheduler
from bot.settings import Settings

log = logging.getLogger(__name__)

SECRET_HEADER = telegram.SECRET_HEADER


def freeze_startup_objects() -> None:
    """What start-up built (modules, aiogram's and SQLAlchemy's classes) lives as long as the process;
    keeping it out of the collector's full scans removes pauses that grow with it."""
    gc.collect()
    gc.freeze()


def worker_id(settings: Settings, mode: str) -> str:
    """Stable across restarts of the same worker, so that it resumes its own unfinished work at once."""
    if settings.worker_id:
        return settings.worker_id
    return f"{socket.gethostname()}:{mode}:{settings.port if mode == 'webhook' else 0}"


@dataclass
class Serving:
    """What one serving process runs: the app, its channels, the runtime and what receives updates."""

    app: App
    runtime: Runtime
    bot: Bot | None = None
    zalo: Any = None  # bot.zalo_serve.ZaloService
    senders: dict[str, Sender] = field(default_factory=dict)


async def _build(settings: Settings, mode: str) -> tuple[Serving, list[Callable[[], Awaitable[None]]]]:
    from bot.channels.telegram import TelegramChannel, make_bot

    closers: list[Callable[[], Awaitable[None]]] = []
    bot = make_bot(settings.require_telegram_token(), settings.telegram_api_base) if settings.telegram_token else None
    if bot is not None:
        closers.append(bot.session.close)
    try:
        me = await bot.get_me() if bot is not None else None
        app = await build_app(settings, bot_username=me.username if me else None, worker=worker_id(settings, mode))
        closers.append(app.close)
        channels: list[Any] = []
        zalo = None
        if bot is not None:
            channels.append(TelegramChannel(bot, app.core.config.clock))
        if settings.zalo_token is not None:
            from bot.zalo_serve import ZaloService

            zalo = ZaloService(app, settings.require_zalo_token())
            closers.append(zalo.close)
            await zalo.start()
            channels.append(zalo.channel)
        serving = Serving(app=app, runtime=Runtime(app.core, channels, concurrency=settings.concurrency),
                          bot=bot, zalo=zalo, senders=dict(zalo.senders()) if zalo is not None else {})
        return serving, closers
    except BaseException:
        for close in reversed(closers):
            await close()
        raise


async def serve(settings: Settings, mode: str, *, stop: asyncio.Event | None = None,
                listening: Callable[[], Awaitable[None]] | None = None) -> int:
    """``mode``: ``polling`` or ``webhook``. Without ``stop``, SIGINT and SIGTERM stop it."""
    if settings.telegram_token is None and settings.zalo_token is None:
        settings.require_telegram_token()  # names the setting that is missing
    if mode == "webhook":
        if settings.telegram_token is not None:
            settings.require_webhook()
        if settings.zalo_token is not None:
            settings.require_zalo_webhook()
    serving, closers = await _build(settings, mode)
    try:
        async with _stopping(stop) as stopped:
            await _serve(serving, mode, stopped, listening)
    finally:
        for close in reversed(closers):
            await close()
    return 0


@contextlib.asynccontextmanager
async def _stopping(stop: asyncio.Event | None):  # type: ignore[no-untyped-def]
    if stop is not None:
        yield stop
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
        yield stop
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def _serve(serving: Serving, mode: str, stop: asyncio.Event,
                 listening: Callable[[], Awaitable[None]] | None) -> None:
    app, runtime, bot = serving.app, serving.runtime, serving.bot
    settings = app.settings
    if bot is not None:
        await telegram.set_default_commands(bot, settings.default_locale)
    await runtime.start()
    freeze_startup_objects()
    scheduling = start_scheduler(app, bot, serving.senders)
    receivers: list[asyncio.Task[None]] = []
    runner: web.AppRunner | None = None
    try:
        if mode == "polling":
            if bot is not None:
                receivers.append(asyncio.create_task(telegram.poll(runtime, bot, stop), name="telegram-polling"))
            if serving.zalo is not None:
                from bot import zalo_serve

                receivers.append(asyncio.create_task(zalo_serve.poll(runtime, serving.zalo.client, stop),
                                                     name="zalo-polling"))
            if listening is not None:
                await listening()
        else:
            runner = await _start_webhooks(serving, listening)
        await stop.wait()
        log.info("stopping: no new updates; finishing what is in hand (at most %.0f s)", GRACE)
    finally:
        runtime.accepting = False
        await asyncio.gather(*receivers, return_exceptions=True)
        await runtime.stop()
        await scheduling.stop()
        if runner is not None:
            await runner.cleanup()
    log.info("stopped")


def webhook_app(serving: Serving) -> web.Application:
    """The aiohttp application: each channel's endpoint, and ``GET /healthz``."""
    settings = serving.app.settings
    web_app = web.Application(client_max_size=1 << 20)
    if serving.bot is not None:
        _, secret = settings.require_webhook()
        route = telegram.WebhookRoute(serving.runtime, secret, serving.bot)
        web_app.router.add_post(settings.webhook_path, route.handle)
    if serving.zalo is not None:
        from bot import zalo_serve

        _, zalo_secret = settings.require_zalo_webhook()
        zalo_serve.add_routes(web_app, zalo_serve.ZaloWebhookRoute(serving.runtime, zalo_secret),
                              settings.zalo_webhook_path)
    web_app.router.add_get("/healthz", _health)
    return web_app


async def _start_webhooks(serving: Serving, listening: Callable[[], Awaitable[None]] | None) -> web.AppRunner:
    settings = serving.app.settings
    # No access log: a line per update costs more than the update's own handling is worth logging.
    runner = web.AppRunner(webhook_app(serving), handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port, reuse_port=settings.reuse_port).start()
    log.info("webhook server listening on %s:%s", settings.host, settings.port)
    # Messengers check the URL when it is set, so the server listens first.
    if serving.zalo is not None:
        from bot import zalo_serve

        url, secret = settings.require_zalo_webhook()
        await zalo_serve.register_webhook(serving.zalo.channel, url, secret)
    if serving.bot is not None:
        url, secret = settings.require_webhook()
        await serving.bot.set_webhook(url + settings.webhook_path, secret_token=secret,
                                      allowed_updates=telegram.ALLOWED_UPDATES)
    if listening is not None:
        await listening()
    return runner


async def _health(_request: web.Request) -> web.Response:
    return web.Response(text="ok")
