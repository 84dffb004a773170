"""Receiving from Zalo: a long-polling loop, or a webhook route; either stores each update (``bot.runtime``)
before it asks for the next one or answers 200. A redelivered update is harmless: it is stored and
handled once."""

from __future__ import annotations

import asyncio
import hmac
import logging
import random

from aiohttp import web

from bot.channels.webhooks import read_json, store_then_answer
from bot.channels.zalo.adapter import CHANNEL, ZaloChannel, received
from bot.channels.zalo.client import MalformedUpdate, ZaloApiError, ZaloClient, ZaloError, parse_update
from bot.runtime import Runtime

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Bot-Api-Secret-Token"
POLL_TIMEOUT = 30
# Backoff after a failed poll: doubling from FIRST to LONGEST; a 429 "quota exceeded" starts at QUOTA.
FIRST_BACKOFF = 1.0
LONGEST_BACKOFF = 60.0
QUOTA_BACKOFF = 30.0


def backoff_after(error: Exception, previous: float, *, first: float = FIRST_BACKOFF,
                  longest: float = LONGEST_BACKOFF, quota: float = QUOTA_BACKOFF) -> float:
    if isinstance(error, ZaloApiError) and error.quota_exceeded:
        return min(longest, max(quota, previous * 2))
    return min(longest, max(first, previous * 2))


async def poll(runtime: Runtime, client: ZaloClient, stop: asyncio.Event, *, poll_timeout: int = POLL_TIMEOUT,
               first_backoff: float = FIRST_BACKOFF, longest_backoff: float = LONGEST_BACKOFF,
               quota_backoff: float = QUOTA_BACKOFF) -> None:
    """Long-poll ``getUpdates`` until ``stop`` is set, storing each update before asking for the next. A quiet
    poll (408) polls again at once; errors wait, doubling up to ``longest_backoff``, and never end the loop.
    Setting ``stop`` ends it within moments."""
    # getUpdates does not work while a webhook is set (one left by `twinbot webhook`, say).
    try:
        await client.delete_webhook()
    except ZaloError as exc:
        log.warning("zalo deleteWebhook failed: %s", exc)
    delay = 0.0
    stopping = asyncio.ensure_future(stop.wait())
    try:
        while not stop.is_set():
            room = asyncio.ensure_future(runtime.room())
            await asyncio.wait({room, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not room.done():
                room.cancel()
                break
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
            item = received(update) if update is not None else None
            if item is not None:
                try:
                    await runtime.receive(CHANNEL, [item])
                except Exception:
                    # Zalo does not send an update twice: this one is lost, and the log must say so.
                    log.exception("zalo update %s could not be stored and is lost", item.event_key)
    finally:
        stopping.cancel()
        await asyncio.gather(stopping, return_exceptions=True)


# --- webhook ---------------------------------------------------------------------------------------


class ZaloWebhookRoute:
    """``POST`` of Zalo's webhook: the secret checked in constant time, the update stored, then 200."""

    def __init__(self, runtime: Runtime, secret: str) -> None:
        if len(secret) < 8:
            raise ValueError("the Zalo webhook secret must have 8 to 256 characters")
        self.runtime = runtime
        self.secret = secret.encode()

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            return web.Response(status=401, text="unauthorized")
        try:
            update = parse_update(await read_json(request))
        except MalformedUpdate:
            return web.Response(status=400, text="malformed update")
        item = received(update)
        if item is None:
            return web.json_response({"ok": True})
        return await store_then_answer(self.runtime, CHANNEL, [item], web.json_response({"ok": True}))


def add_routes(web_app: web.Application, route: ZaloWebhookRoute, path: str) -> None:
    web_app.router.add_post(path, route.handle)


async def register_webhook(channel: ZaloChannel, url: str, secret: str) -> None:
    info = await channel.client.set_webhook(url, secret)
    log.info("zalo webhook set to %s", info.url or url)
