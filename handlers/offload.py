"""Drawing charts, spreadsheets and documents in processes of their own.

A chart or a workbook is seconds of pure-Python CPU (matplotlib, openpyxl). On a worker thread it would
still hold the interpreter lock most of that time, and every officer's step would wait behind it; in a
separate process it only shares the machine's cores. ``run`` sends a module-level function and its
(picklable) arguments to a small pool of such processes, started on first use and kept for the next.

``use_threads()`` runs the same functions on a thread instead: for tests that hold a drawing half-way to
show what goes on meanwhile, which a patch in another process could not do.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

WORKERS = 2  # a digest's chart need not wait behind a year's export
# Drawing yields the cores to the conversations: at nice 19 the kernel gives a drawing process what the bot and
# the database leave over. At the same priority, on two cores, one busy drawing process alone tripled the
# other officers' p99 step (bench/contention.py, phases D and E: 2.9x at nice 0, 1.6x at nice 19).
NICENESS = 19
# A fresh process now and then: matplotlib and openpyxl keep caches that only grow.
TASKS_PER_WORKER = 50

_pool: concurrent.futures.ProcessPoolExecutor | None = None
_lock = threading.Lock()
_threads = False


def _executor() -> concurrent.futures.ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            # "spawn": a fork of the bot would copy its event loop, its database connections and their threads.
            _pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=WORKERS, mp_context=multiprocessing.get_context("spawn"),
                max_tasks_per_child=TASKS_PER_WORKER, initializer=_step_aside)
        return _pool


def _step_aside() -> None:
    """In each drawing process as it starts: the lowest priority (where the system allows it)."""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(NICENESS - os.nice(0))


async def run(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a drawing process (or on a thread, see ``use_threads``)."""
    if _threads:
        return await asyncio.to_thread(function, *args)
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(_executor(), function, *args)
    except BrokenProcessPool:
        # A drawing process died (killed, out of memory): a new pool, and one more try.
        log.warning("a drawing process died; starting new ones")
        shutdown()
        return await loop.run_in_executor(_executor(), function, *args)


def shutdown() -> None:
    """Stop the drawing processes, not waiting for what they are drawing (it is owed again after a restart)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            with contextlib.suppress(Exception):
                process.terminate()


@contextlib.contextmanager
def use_threads() -> Iterator[None]:
    global _threads
    before, _threads = _threads, True
    try:
        yield
    finally:
        _threads = before
