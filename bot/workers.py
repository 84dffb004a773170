"""``twinbot webhook --workers N``: N worker processes sharing one port, for several cores on one host.

Each worker is ``twinbot webhook`` itself, with SO_REUSEPORT (the kernel spreads the connections among
them, no load balancer needed) and a worker id of its own (``TWINBOT_WORKER_ID``: ``<base>:<n>``), so a
worker that is restarted resumes its own unfinished work at once. They share everything else through the
database (PostgreSQL): the inbox and outbox, the scheduler's plans, the send budget. This process only
supervises: SIGTERM or SIGINT is passed on to every worker, and it exits 0 once they all stopped cleanly; a
worker that dies is started again after a pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys

from bot.serve import worker_id
from bot.settings import Settings

log = logging.getLogger(__name__)

RESTART_PAUSE = 2.0
STOP_WITHIN = 30.0  # a worker's own grace period (bot.runtime.GRACE) and then some


async def supervise(settings: Settings, workers: int, *, stop: asyncio.Event | None = None) -> int:
    if settings.database_url.startswith("sqlite"):
        log.warning("several workers on SQLite take turns at its one write lock; PostgreSQL is the database "
                    "for several workers")
    base = worker_id(settings, "webhook")
    stop = stop or _stop_on_signals()
    running = [asyncio.create_task(_keep_running(settings, f"{base}:{n}", stop)) for n in range(1, workers + 1)]
    codes = await asyncio.gather(*running)
    return 0 if all(code == 0 for code in codes) else 1


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def _keep_running(settings: Settings, name: str, stop: asyncio.Event) -> int:
    """One worker: started, started again if it dies, stopped with SIGTERM when ``stop`` is set."""
    env = {**os.environ, "TWINBOT_WORKER_ID": name, "TWINBOT_REUSE_PORT": "true"}
    while True:
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "webhook", env=env)
        log.info("worker %s started (pid %s)", name, process.pid)
        exited = asyncio.ensure_future(process.wait())
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({exited, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if stop.is_set():
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            try:
                code = await asyncio.wait_for(exited, STOP_WITHIN)
            except TimeoutError:
                log.error("worker %s did not stop within %.0f s; killed", name, STOP_WITHIN)
                process.kill()
                code = await exited
            log.info("worker %s stopped (exit %s)", name, code)
            return code
        stopping.cancel()
        log.error("worker %s exited with %s; starting it again in %.0f s", name, process.returncode, RESTART_PAUSE)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RESTART_PAUSE)
        if stop.is_set():
            return 0
