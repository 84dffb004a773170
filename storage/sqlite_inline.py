"""aiosqlite without the thread hop: SQLite calls run on the event loop's own thread.

aiosqlite sends every call (execute, fetch, commit, close) to a worker thread and waits for the answer
on the loop: about twenty round trips for one chat event. On a local file a statement takes
microseconds, so the round trips cost more than the work itself; running the calls in place halved the
time of an event (bench/report_flow.py). What this gives up, and how it is made up for:

* a slow statement holds up the loop. Long reads (exports) go through ``Database.reader()``, which keeps
  aiosqlite's thread; chat events are short.
* waiting for SQLite's write lock would hold up the loop too. The busy timeout is therefore short, and
  ``Database.unit_of_work`` waits for the lock asynchronously when another process has it.

The connection is still opened by aiosqlite's thread (SQLAlchemy sets the isolation level through it),
so it is shared across threads; only one coroutine uses it at a time (the pool hands it out).
"""

from __future__ import annotations

import sqlite3
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi

# Long enough to ride out a checkpoint or another process's short commit, short enough not to stall
# the loop; longer waits happen in Database.unit_of_work, asynchronously.
BUSY_TIMEOUT_S = 0.02


class InlineConnection(aiosqlite.Connection):
    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    def execute_now(self, sql: str) -> None:
        """A statement without parameters or rows (``BEGIN IMMEDIATE``), called from SQLAlchemy's synchronous
        side without the round of wrappers an ``exec_driver_sql`` costs."""
        self._conn.execute(sql)


def connect(database: str | bytes | Path, *, iter_chunk_size: int = 64, **kwargs: Any) -> InlineConnection:
    location = database.decode() if isinstance(database, bytes) else str(database)
    kwargs["check_same_thread"] = False

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(location, **kwargs)

    return InlineConnection(connector, iter_chunk_size)


def dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """aiosqlite's module as SQLAlchemy's aiosqlite dialect sees it, with the inline connection."""
    module = types.ModuleType("twinbot_aiosqlite_inline")
    module.__dict__.update(vars(aiosqlite))
    module.connect = connect  # type: ignore[attr-defined]
    module.Connection = InlineConnection  # type: ignore[attr-defined]
    return AsyncAdapt_aiosqlite_dbapi(module, sqlite3)


def is_busy(error: BaseException | None) -> bool:
    """SQLite's "database is locked": another connection holds the write lock."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(error).lower()
