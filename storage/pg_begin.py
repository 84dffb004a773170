"""PostgreSQL: a conversation's lock taken with ``BEGIN``, in the same round trip.

Every chat event on PostgreSQL begins a transaction, locks the user's conversation and then reads it (with the
sender and the update taken out of the inbox). The read must come after the lock in a statement of its own:
a statement's snapshot is taken before it waits for a lock, so a read joined to the lock could miss what the
event that held it (the same user's previous message, a registration) had just committed. ``BEGIN`` and the
lock were therefore two round trips of five, each costing the bot more than the statement's own work.

Here the lock is a transaction-level advisory lock on a key of the conversation (``conversation_key``), sent
with ``BEGIN`` as one simple query (``BEGIN; SELECT pg_advisory_xact_lock(key)``): the key is an integer this
module computes, never text from a user. The next statement, the read, then runs on a snapshot taken after
the lock was granted, which is after the previous holder committed. Every place that locks a conversation on
PostgreSQL takes this same lock (``storage.conversations.take_lock``).

This leans on SQLAlchemy's asyncpg adapter (``_start_transaction``, ``_transaction``), as ``sqlite_inline``
leans on aiosqlite's: every PostgreSQL test runs through it, so a release that changes them fails the suite.
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection, AsyncAdapt_asyncpg_dbapi
from sqlalchemy.util.concurrency import await_

_BEGIN = {None: "BEGIN", "read_committed": "BEGIN ISOLATION LEVEL READ COMMITTED"}


def conversation_key(channel: str, user_id: str) -> int:
    """The advisory lock key of a conversation: 64 bits of a hash of its channel and user (a collision would
    only make two users wait for each other now and then)."""
    digest = hashlib.blake2b(f"{channel}\x00{user_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class _Begun:
    """A transaction begun by ``LockingConnection``, ended by plain statements (asyncpg's ``Transaction``
    object only ends a transaction it began itself)."""

    __slots__ = ("_connection",)

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    async def commit(self) -> None:
        await self._connection.execute("COMMIT")

    async def rollback(self) -> None:
        await self._connection.execute("ROLLBACK")


class LockingConnection(AsyncAdapt_asyncpg_connection):
    """SQLAlchemy's asyncpg connection; with ``lock_on_begin`` set, its next transaction begins holding that
    advisory lock, in the round trip of ``BEGIN``."""

    __slots__ = ("lock_on_begin",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lock_on_begin: int | None = None

    def commit(self) -> None:
        self.lock_on_begin = None  # a lock asked for and never sent must not fall on the next transaction
        super().commit()

    def rollback(self) -> None:
        self.lock_on_begin = None  # (the pool rolls back every connection handed back to it)
        super().rollback()

    @property
    def begun(self) -> bool:
        """Whether a transaction was begun on the server (by a statement of the current one)."""
        return self._transaction is not None

    async def _start_transaction(self) -> None:
        key, self.lock_on_begin = self.lock_on_begin, None
        begin = _BEGIN.get(self.isolation_level)
        connection: Any = self._connection  # asyncpg's
        if key is None:
            await super()._start_transaction()
            return
        if begin is None or self.readonly or self.deferrable:
            # Not the connection events run on (a reader's, or another isolation): the lock all the same, as a
            # statement of its own, never silently dropped.
            await super()._start_transaction()
            try:
                await connection.execute(f"SELECT pg_advisory_xact_lock({int(key)})")
            except Exception as error:
                self._handle_exception(error)  # as SQLAlchemy's errors; the transaction is rolled back on close
            return
        # Counted as begun before it is sent: if the task is cancelled meanwhile, BEGIN may have reached the
        # server, and closing the session must then send ROLLBACK (a stray one is only a warning), or the
        # pooled connection would keep the conversation locked.
        self._transaction = _Begun(connection)  # type: ignore[assignment]
        try:
            await connection.execute(f"{begin}; SELECT pg_advisory_xact_lock({int(key)})")
        except Exception as error:
            # BEGIN may have gone through and the lock failed (a lock timeout): end what was begun.
            if not connection.is_closed():
                with contextlib.suppress(Exception):  # the first error is the one to report
                    await connection.execute("ROLLBACK")
            self._transaction = None
            self._handle_exception(error)


class _DBAPI(AsyncAdapt_asyncpg_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> LockingConnection:
        # As SQLAlchemy's own connect, with the connection class above.
        creator_fn = kw.pop("async_creator_fn", self.asyncpg.connect)
        cache_size = kw.pop("prepared_statement_cache_size", 100)
        name_func = kw.pop("prepared_statement_name_func", None)
        return await_(LockingConnection.create(self, creator_fn(*arg, **kw), prepared_statement_cache_size=cache_size,
                                               prepared_statement_name_func=name_func))


def dbapi() -> AsyncAdapt_asyncpg_dbapi:
    """asyncpg as SQLAlchemy's asyncpg dialect sees it, with ``LockingConnection``."""
    return _DBAPI(asyncpg)
