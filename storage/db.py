"""Engine, sessions and the unit of work: one per incoming event or job.

SQLite (the embedded default) runs in WAL mode and takes the write lock when a
transaction begins (``BEGIN IMMEDIATE``), so two events for one user are
serialised by the database itself rather than interleaved. PostgreSQL takes an
advisory lock on the conversation instead, sent with BEGIN (``pg_begin``,
``conversations.take_lock``).

On SQLite, statements run on the event loop's thread (``sqlite_inline``); long
reads use a second engine that keeps aiosqlite's worker thread.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage import pg_begin, sqlite_inline

SQLITE_BUSY_TIMEOUT_MS = 15_000
# Connections PostgreSQL keeps open: more than the updates one process handles at once (16), with room for
# the scheduler and deferred work, so that none is opened and closed per update.
POSTGRES_POOL = 20
READ_ONLY = "twinbot_read_only"
# A PostgreSQL connection used less than this many seconds ago is taken as alive; one idle longer is checked
# first (see ``_check_when_idle``).
PING_AFTER_IDLE_S = 5.0
_USED_AT = "twinbot_used_at"
READER_MMAP_BYTES = 1 << 30


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, inline: bool = True, pool_size: int | None = None, **kwargs: Any) -> AsyncEngine:
    """``inline``: on SQLite, run statements on the loop's thread (see ``sqlite_inline``). ``pool_size``: the
    PostgreSQL connections kept open (default: as many as updates are handled at once, and then some)."""
    if not is_sqlite(url):
        # A dead host must not hang start-up for a minute.
        kwargs.setdefault("connect_args", {"timeout": 10})
        # The conversation's lock taken with BEGIN (``pg_begin``).
        kwargs.setdefault("module", pg_begin.dbapi())
        # Whatever the server's default: an event reads after its conversation's lock what the previous event
        # committed, which a snapshot taken before the lock was granted (REPEATABLE READ) would not show.
        kwargs.setdefault("isolation_level", "READ COMMITTED")
        if "poolclass" not in kwargs:
            kwargs.setdefault("pool_size", pool_size or POSTGRES_POOL)
            kwargs.setdefault("max_overflow", 10)
        engine = create_async_engine(url, **kwargs)
        if not kwargs.get("pool_pre_ping"):
            _check_when_idle(engine)
        return engine
    if inline:
        kwargs.setdefault("module", sqlite_inline.dbapi())
    busy_timeout_ms = int(sqlite_inline.BUSY_TIMEOUT_S * 1000) if inline else SQLITE_BUSY_TIMEOUT_MS
    kwargs.setdefault("connect_args", {"timeout": busy_timeout_ms / 1000})
    engine = create_async_engine(url, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so that we can say BEGIN IMMEDIATE ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if not inline:
            # Long reads (a year of reports for the annual tables, exports) read pages mapped in memory
            # rather than one system call each; SQLite falls back to reading where it cannot map.
            cursor.execute(f"PRAGMA mmap_size={READER_MMAP_BYTES}")
        cursor.close()

    # A deferred transaction that later wants to write fails with "database is locked" instead of waiting;
    # taking the write lock up front makes writers queue politely. Readers (exports) take no lock at all:
    # WAL lets them read beside the writer.
    if inline:
        # The inline connection serves events, which write: the lock is taken where SQLAlchemy begins (its
        # errors wrapped as every statement's), without a statement's execution context on every event.
        # Reads go through the other engine (``Database.reader``).
        def _begin_immediate(dbapi_connection: Any) -> None:
            dbapi_connection.driver_connection.execute_now("BEGIN IMMEDIATE")

        engine.sync_engine.dialect.do_begin = _begin_immediate  # type: ignore[method-assign]
    else:
        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")

    return engine


def _check_when_idle(engine: AsyncEngine) -> None:
    """Check a pooled connection before use only if it sat idle for a while, which is when the server may have
    gone away meanwhile (a restart, a timeout). ``pool_pre_ping`` checks every one, and with asyncpg a check is
    three round trips (BEGIN, an empty query, ROLLBACK): under load that cost more than the event's own
    statements. A connection broken while in use fails its event, which is tried again (``Core.handle``),
    and SQLAlchemy then replaces every connection opened before the failure."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(_dbapi_connection: Any, record: Any) -> None:
        record.info[_USED_AT] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_USED_AT] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(_USED_AT, 0.0) < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool throws this connection away and takes (or opens) another.
            raise DisconnectionError(f"connection idle for a while is gone: {exc}") from exc
        record.info[_USED_AT] = time.monotonic()


_CONNECTION = "twinbot_connection"


async def connection(session: AsyncSession) -> AsyncConnection:
    """``session.connection()``, remembered for the rest of the session's transaction: the hot path's
    statements run on it several times an event, and each ``session.connection()`` is a turn through
    SQLAlchemy's greenlet bridge."""
    transaction = session.sync_session.get_transaction()
    held = session.info.get(_CONNECTION)
    if held is not None and transaction is not None and held[0] is transaction and transaction.is_active:
        return held[1]  # type: ignore[no-any-return]
    conn = await session.connection()
    session.info[_CONNECTION] = (session.sync_session.get_transaction(), conn)
    return conn


class UnitOfWork:
    """One transaction: the caller commits explicitly; anything else rolls back."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.committed = False

    async def commit(self) -> None:
        await self.session.commit()
        self.committed = True


class Database:
    def __init__(self, url: str, *, pool_size: int | None = None, **engine_kwargs: Any) -> None:
        self.url = url
        self.is_sqlite = is_sqlite(url)  # asked on every event
        self.engine = create_engine(url, pool_size=pool_size, **engine_kwargs)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        # Long reads must not hold up the loop: on SQLite they keep aiosqlite's worker thread.
        # On PostgreSQL a long read is one snapshot (REPEATABLE READ), as SQLite's read transactions are: a
        # digest's figures and its rows, or an export's summary and its rows, then agree even while
        # officers file reports between their statements.
        self.read_engine = (create_engine(url, inline=False, **engine_kwargs) if self.is_sqlite
                            else self.engine.execution_options(**{READ_ONLY: True},
                                                               isolation_level="REPEATABLE READ"))
        # SQLite lets one transaction write at a time anyway; queueing them here, in order, replaces
        # the driver's sleep-and-retry on the file lock (unfair, with multi-second tails under load).
        self._sqlite_turn = asyncio.Lock() if self.is_sqlite else None
        self._autocommit = None if self.is_sqlite else self.engine.execution_options(isolation_level="AUTOCOMMIT")

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        if self._sqlite_turn is not None:
            async with self._sqlite_turn:
                session = await self._sqlite_write_session()
                try:
                    yield UnitOfWork(session)
                finally:
                    # Not ``async with session``: its exit closes the session in a task of its own, so that
                    # a cancellation cannot cut the close short, at two turns of the loop per event. On the
                    # inline connection closing never waits, so nothing can cut it short.
                    await session.close()
            return
        session = self.sessions()
        uow = UnitOfWork(session)
        try:
            yield uow
        finally:
            if not session.in_transaction():
                # Committed (or never begun): nothing is left to roll back, so closing returns the connection
                # without a word to the server and no cancellation can cut it short. Closed in place, not in
                # a task of its own as ``async with session`` does (two turns of the loop per event).
                await session.close()
            else:
                # Closing rolls the transaction back (and, unlike rollback(), leaves what was read
                # readable): a round trip, which a cancellation must not cut short.
                async with session:
                    pass

    @asynccontextmanager
    async def single_statement(self) -> AsyncIterator[UnitOfWork]:
        """A unit of work for what is one statement on PostgreSQL (storing a batch of updates, deleting answers
        sent): it runs in autocommit, without ``BEGIN`` and ``COMMIT``, one round trip where a transaction takes
        three, and a statement is all or nothing on its own. Every statement in it commits as it runs: it must
        be one. On SQLite, a unit of work as any other (no round trips to save)."""
        if self.is_sqlite:
            async with self.unit_of_work() as uow:
                yield uow
            return
        session = self.sessions(bind=self._autocommit)
        try:
            yield UnitOfWork(session)
        finally:
            await session.close()  # nothing to roll back: no transaction was begun on the server

    async def _sqlite_write_session(self) -> AsyncSession:
        """A session holding SQLite's write lock. Another process (a CLI command) may hold it for a
        while: wait for it here, asynchronously, since the inline driver's own wait blocks the loop."""
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
        pause = 0.005
        while True:
            session = self.sessions()
            try:
                await connection(session)  # BEGIN IMMEDIATE
                return session
            except OperationalError as exc:
                await session.close()
                if not sqlite_inline.is_busy(exc.orig) or time.monotonic() + pause > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.2)

    @asynccontextmanager
    async def writer(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a write transaction outside the ORM (migrations), committed on leaving; on SQLite
        it waits for the write lock the way ``unit_of_work`` does."""
        async with self.unit_of_work() as uow:
            connection = await uow.session.connection()
            yield connection
            await uow.commit()

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncSession]:
        """A session for long reads that must not hold up the conversations (it never commits)."""
        bind = self.read_engine.execution_options(**{READ_ONLY: True})
        async with self.sessions(bind=bind) as session:
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.is_sqlite:
            await self.read_engine.dispose()


@asynccontextmanager
async def reading_apart(url: str) -> AsyncIterator[AsyncSession]:
    """One snapshot (``Database.reader``) on a connection of its own, closed afterwards: for reads in a drawing
    process or on another event loop, where the bot's pool cannot serve (its connections belong to its loop)."""
    db = Database(url, pool_size=1)
    try:
        async with db.reader() as session:
            yield session
    finally:
        await db.dispose()
