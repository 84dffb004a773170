"""SQLite statements run on the loop's thread; a write lock held elsewhere is waited for without freezing it."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core import Core
from storage.db import Database
from storage.models import Report
from tests.conftest import TEST_DB_URL, Clock
from tests.test_report_console import officer

pytestmark = pytest.mark.skipif(bool(TEST_DB_URL), reason="SQLite's file lock")


def hold_write_lock(path: str, seconds: float, taken: threading.Event, released: list[float] | None = None) -> None:
    """What a CLI command (`twinbot org import`) does to the bot's file: write for a while."""
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        taken.set()
        time.sleep(seconds)
        other.execute("COMMIT")
        if released is not None:
            released.append(time.monotonic())
    finally:
        other.close()


async def test_an_event_waits_for_another_process_without_blocking_the_loop(
    core: Core, db: Database, clock: Clock
) -> None:
    me = await officer(core, db, clock)
    path = make_url(db.url).database
    assert path
    taken = threading.Event()
    released: list[float] = []
    holder = threading.Thread(target=hold_write_lock, args=(path, 0.6, taken, released))
    holder.start()
    try:
        assert await asyncio.to_thread(taken.wait, 5)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticking = asyncio.create_task(ticker())
        said = await me.send("/report")
        answered = time.monotonic()
        ticking.cancel()
    finally:
        holder.join()
    assert "What kind of activity was it?" in said
    assert released and answered >= released[0]  # it did wait for the other writer
    # …while the loop went on: a blocked loop would have ticked a handful of times, not dozens.
    assert ticks >= 20
    async with db.unit_of_work() as uow:
        conversation = (await uow.session.execute(
            text("SELECT flow FROM conversations WHERE user_external_id = :u"), {"u": "officer-1"})).scalar_one()
    assert conversation == "report"


async def test_the_write_lock_held_too_long_gives_a_polite_answer(
    core: Core, db: Database, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = await officer(core, db, clock)
    monkeypatch.setattr("storage.db.SQLITE_BUSY_TIMEOUT_MS", 200)
    path = make_url(db.url).database
    assert path
    taken = threading.Event()
    holder = threading.Thread(target=hold_write_lock, args=(path, 1.5, taken))
    holder.start()
    try:
        assert await asyncio.to_thread(taken.wait, 5)
        said = await me.send("/report")
    finally:
        holder.join()
    assert said == "Sorry, that did not work. Please try again later."
    # Nothing half-done: the next message starts the report as if the first had not come.
    said = await me.send("/report")
    assert "What kind of activity was it?" in said
    async with db.unit_of_work() as uow:
        assert (await uow.session.scalars(select(Report))).all() == []


async def statement_thread(session: AsyncSession) -> int:
    """The thread SQLite ran a statement on, asked of SQLite itself."""
    raw = await (await session.connection()).get_raw_connection()
    raw.driver_connection._conn.create_function("thread_ident", 0, threading.get_ident)  # type: ignore[union-attr]
    return int((await session.execute(text("SELECT thread_ident()"))).scalar_one())


async def test_events_run_sqlite_in_place_and_long_reads_on_a_worker_thread(db: Database) -> None:
    async with db.unit_of_work() as uow:
        assert await statement_thread(uow.session) == threading.get_ident()
    async with db.reader() as session:
        assert await statement_thread(session) != threading.get_ident()
