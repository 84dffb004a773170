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
so it is shared across threads; only one coroutine uses it at a time (the pool hands it out). Statements,
commits and rollbacks then go to sqlite3's own connection and cursors, past aiosqlite's coroutines and most of
SQLAlchemy's await adapter (``_InlineCursor``). That leans on the internals of both (aiosqlite's ``_conn``,
SQLAlchemy's adapter classes): every test runs through it, so a release that changes them fails the suite.
"""

from __future__ import annotations

import collections
import sqlite3
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_

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


class _InlineCursor(AsyncAdapt_aiosqlite_cursor):
    """SQLAlchemy's cursor for aiosqlite, calling sqlite3's own cursor in place. SQLAlchemy's adapter awaits
    each call (open, execute and fetch, close) through a greenlet switch and aiosqlite's coroutines, and
    serialises them with a lock: for calls that never wait, that machinery costs more than the statements."""

    __slots__ = ()
    _awaitable_cursor_close = False

    def _make_new_cursor(self, connection: Any) -> Any:
        return connection._conn.cursor()

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            # One turn through the greenlet bridge, which SQLAlchemy's async connection requires of a statement.
            return await_(self._execute_in_place(operation, parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _execute_in_place(self, operation: Any, parameters: Any) -> None:
        cursor: Any = self._cursor  # sqlite3's own (``_make_new_cursor``)
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        if cursor.description:
            self._rows = collections.deque(cursor.fetchall())

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            return await_(self._executemany_in_place(operation, seq_of_parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _executemany_in_place(self, operation: Any, seq_of_parameters: Any) -> None:
        cursor: Any = self._cursor
        cursor.executemany(operation, seq_of_parameters)


class _InlineAdaptedConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = _InlineCursor

    def commit(self) -> None:
        self._in_place("commit")

    def rollback(self) -> None:
        self._in_place("rollback")

    def _in_place(self, method: str) -> None:
        # As aiosqlite's adapter does: nothing to end on a connection already closed.
        if self._connection._connection:
            try:
                getattr(self._connection._conn, method)()
            except Exception as error:
                self._handle_exception(error)


class _InlineDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> _InlineAdaptedConnection:
        # Opened as SQLAlchemy opens an aiosqlite connection (on aiosqlite's thread), then used in place.
        return _InlineAdaptedConnection(self, super().connect(*arg, **kw)._connection)


def dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """aiosqlite's module as SQLAlchemy's aiosqlite dialect sees it, with the inline connection."""
    module = types.ModuleType("twinbot_aiosqlite_inline")
    module.__dict__.update(vars(aiosqlite))
    module.connect = connect  # type: ignore[attr-defined]
    module.Connection = InlineConnection  # type: ignore[attr-defined]
    return _InlineDBAPI(module, sqlite3)


def is_busy(error: BaseException | None) -> bool:
    """SQLite's "database is locked": another connection holds the write lock."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(error).lower()
