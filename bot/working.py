"""The messenger's sign that slow work is under way (Telegram's "sending a file…"), kept up while a job runs.

Telegram shows a chat action for five seconds at most, and clears it as soon as the bot's next message arrives:
sent once, before a year's export, it was gone by the time the officer read "⏳ Preparing…", and the minute that
followed showed nothing. So it is shown again whenever ``working_every`` seconds pass with nothing sent. A
channel without ``working_every`` (Zalo, whose quota is unpublished) shows it once, as the job starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def showing_work(working: Callable[[], Awaitable[None]],
                       every: float | None) -> AsyncIterator[Callable[[], None]]:
    """Shows the sign now, then every ``every`` seconds of silence until the block ends; the block calls the
    function it is given after each message it sends (which cleared the sign and restarts the wait)."""
    await _show(working)
    if every is None:
        yield lambda: None
        return
    sent = asyncio.Event()
    over = False

    async def keep_showing() -> None:
        while not over:
            sent.clear()
            try:
                # Not asyncio.wait_for: on Python 3.11 it can swallow a cancellation that meets its timeout,
                # and this loop would then outlive its block.
                async with asyncio.timeout(every):
                    await sent.wait()
            except TimeoutError:
                if not over:
                    await _show(working)

    task = asyncio.ensure_future(keep_showing())
    try:
        yield sent.set
    finally:
        over = True
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _show(working: Callable[[], Awaitable[None]]) -> None:
    try:
        await working()
    except Exception as exc:  # only a sign: the work goes on without it
        log.debug("chat action not shown: %s", exc)
