"""What every messenger's webhook endpoint does the same way: read a JSON body without letting a hostile
one hurt the server, and answer 200 only once the update is stored."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from bot.runtime import Runtime
from storage.inbox import Received

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20


async def read_json(request: web.Request) -> Any:
    """The body as JSON, or None when it is not JSON (or nested deeper than the parser will go)."""
    try:
        raw = await request.read()
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


async def store_then_answer(runtime: Runtime, channel: str, items: list[Received], ok: web.Response) -> web.Response:
    """``ok`` once the updates are stored; 503 while stopping and 500 when they could not be stored, so that
    the messenger sends them again instead of forgetting them."""
    if not runtime.accepting:
        return web.Response(status=503, text="stopping", headers={"Retry-After": "5"})
    try:
        await runtime.receive(channel, items)
    except Exception:
        log.exception("%s update not stored; asking for it again", channel)
        return web.Response(status=500 if runtime.accepting else 503, text="not stored")
    return ok
