"""Receiving from Telegram: long polling that confirms an update only once it is stored, and the webhook route."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging

from aiogram import Bot
from aiohttp import web

from bot.channels.telegram.adapter import received
from bot.channels.telegram.client import CHANNEL, parse_update, updates_as_sent
from bot.channels.webhooks import read_json, store_then_answer
from bot.runtime import Runtime

log = logging.getLogger(__name__)


ALLOWED_UPDATES = ["message", "callback_query"]
POLL_TIMEOUT = 25


async def poll(runtime: Runtime, bot: Bot, stop: asyncio.Event, *, timeout: int = POLL_TIMEOUT,  # noqa: ASYNC109
               backoff: float = 1.0) -> None:
    """Long polling that never confirms an update before it is stored: ``getUpdates`` is asked for the next
    offset only once the batch before it is in the inbox. Stops taking updates when ``stop`` is set."""
    # A webhook left over from `twinbot webhook` would make getUpdates fail.
    await bot.delete_webhook(drop_pending_updates=False)
    offset: int | None = None
    delay = 0.0
    stopping = asyncio.ensure_future(stop.wait())
    try:
        while not stop.is_set():
            room = asyncio.ensure_future(runtime.room())
            await asyncio.wait({room, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not room.done():
                room.cancel()
                break
            request = asyncio.ensure_future(updates_as_sent(bot, offset=offset, timeout=timeout,
                                                            allowed_updates=ALLOWED_UPDATES))
            await asyncio.wait({request, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not request.done():
                request.cancel()
                await asyncio.gather(request, return_exceptions=True)
                break
            try:
                updates = request.result()
                batch = [r for r in (received(raw, update) for raw, update in updates) if r is not None]
                await runtime.receive(CHANNEL, batch)
            except Exception as exc:
                delay = min(30.0, max(backoff, delay * 2))
                log.warning("telegram polling failed (%s); polling again in %.1f s", exc, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(stopping), timeout=delay)
                continue
            delay = 0.0
            if updates:
                # Only now: the next getUpdates confirms this batch to Telegram.
                offset = updates[-1][1].update_id + 1
    finally:
        stopping.cancel()
        await asyncio.gather(stopping, return_exceptions=True)


SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookRoute:
    """``POST`` of Telegram's webhook: the secret checked in constant time, the update stored, then 200."""

    def __init__(self, runtime: Runtime, secret: str, bot: Bot) -> None:
        self.runtime = runtime
        self.secret = secret.encode()
        self.bot = bot

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            return web.Response(status=401, text="unauthorized")
        body = await read_json(request)
        if not isinstance(body, dict):
            return web.Response(status=400, text="malformed update")
        try:
            parsed = parse_update(body, self.bot)
        except ValueError:
            return web.Response(status=400, text="malformed update")
        item = received(body, parsed)
        if item is None:
            return web.Response(status=400, text="malformed update")
        return await store_then_answer(self.runtime, CHANNEL, [item], web.Response(text="ok"))


