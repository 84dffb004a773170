"""``twinbot run`` and ``twinbot webhook``: every configured messenger (``bot.channels``) through one runtime,
with one scheduler.

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
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from bot.app import App, build_app
from bot.channels import plugins
from bot.channels.plugin import Connection, Plugin, Service
from bot.channels.telegram import SECRET_HEADER
from bot.delivery import Sender
from bot.runtime import GRACE, Runtime
from bot.scheduler import start_scheduler
from bot.settings import Settings
from handlers import offload

log = logging.getLogger(__name__)

__all__ = ["SECRET_HEADER", "Serving", "serve", "webhook_app", "worker_id"]


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


def configured(settings: Settings, mode: str) -> list[Plugin]:
    """The messengers the settings ask for, each checked for what ``mode`` needs (one line if not)."""
    chosen = [plugin for plugin in plugins() if plugin.configured(settings)]
    if not chosen:
        settings.require_telegram_token()  # names the setting that is missing
    for plugin in chosen:
        plugin.check(settings, mode)
    return chosen


@dataclass
class Serving:
    """What one serving process runs: the app, each messenger's service, and the runtime they share."""

    app: App
    runtime: Runtime
    services: list[Service]

    @property
    def senders(self) -> dict[str, Sender]:
        return {name: sender for service in self.services for name, sender in service.senders.items()}


@contextlib.asynccontextmanager
async def connected(settings: Settings, mode: str) -> AsyncIterator[Serving]:
    """Every configured messenger connected, the app built around them; closed again on leaving."""
    connections: list[Connection] = []
    app = None
    try:
        for plugin in configured(settings, mode):
            connections.append(await plugin.connect(settings))
        username = next((c.username for c in connections if c.username), None)
        app = await build_app(settings, bot_username=username, worker=worker_id(settings, mode))
        services = [connection.service(app) for connection in connections]
        runtime = Runtime(app.core, [service.channel for service in services], concurrency=settings.concurrency)
        yield Serving(app=app, runtime=runtime, services=services)
    finally:
        for connection in reversed(connections):
            await connection.close()
        if app is not None:
            await app.close()


async def serve(settings: Settings, mode: str, *, stop: asyncio.Event | None = None,
                listening: Callable[[], Awaitable[None]] | None = None) -> int:
    """``mode``: ``polling`` or ``webhook``. Without ``stop``, SIGINT and SIGTERM stop it."""
    async with connected(settings, mode) as serving, _stopping(stop) as stopped:
        await _serve(serving, mode, stopped, listening)
    return 0


@contextlib.asynccontextmanager
async def _stopping(stop: asyncio.Event | None) -> AsyncIterator[asyncio.Event]:
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
    runtime = serving.runtime
    for service in serving.services:
        await service.ready()
    await runtime.start()
    freeze_startup_objects()
    scheduling = start_scheduler(serving.app, serving.senders)
    receivers: list[asyncio.Task[None]] = []
    runner: web.AppRunner | None = None
    try:
        if mode == "polling":
            receivers = [asyncio.create_task(service.poll(runtime, stop)) for service in serving.services]
            if serving.app.file_links() is not None:
                runner = await _start_server(serving, webhooks=False)  # the file links need an address
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
        offload.shutdown()  # a drawing cut short is owed again, and done after the restart
        if runner is not None:
            await runner.cleanup()
    log.info("stopped")


def webhook_app(serving: Serving, *, webhooks: bool = True) -> web.Application:
    """The aiohttp application: each messenger's endpoint, the file links, and ``GET /healthz``."""
    web_app = web.Application(client_max_size=1 << 20)
    if webhooks:
        for service in serving.services:
            service.routes(web_app, serving.runtime)
    links = serving.app.file_links()
    if links is not None:
        links.add_route(web_app)
    web_app.router.add_get("/healthz", _health)
    return web_app


async def _start_server(serving: Serving, *, webhooks: bool) -> web.AppRunner:
    settings = serving.app.settings
    # No access log: a line per update costs more than the update's own handling is worth logging.
    runner = web.AppRunner(webhook_app(serving, webhooks=webhooks), handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port, reuse_port=settings.reuse_port).start()
    log.info("%s listening on %s:%s", "webhook server" if webhooks else "file links", settings.host, settings.port)
    return runner


async def _start_webhooks(serving: Serving, listening: Callable[[], Awaitable[None]] | None) -> web.AppRunner:
    runner = await _start_server(serving, webhooks=True)
    # Messengers check the URL when it is set, so the server listens first.
    for service in serving.services:
        await service.listening()
    if listening is not None:
        await listening()
    return runner


async def _health(_request: web.Request) -> web.Response:
    return web.Response(text="ok")
