"""Statements per event on the hot path: on PostgreSQL each one is a round trip to the server, which costs more
than the work it asks for (bench/report_flow.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select

from storage import inbox
from storage.db import Database
from storage.models import InboxEntry
from tests.conftest import Clock

LEASE = dt.timedelta(seconds=60)


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The statements ``db`` runs meanwhile (BEGIN and COMMIT aside)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA"):
            seen.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


def update(update_id: int, user: int) -> inbox.Received:
    return inbox.Received(str(update_id), str(user), {"update_id": update_id, "message": {"from": {"id": user}}})


async def test_a_batch_of_updates_is_stored_in_two_statements_in_the_order_received(
        db: Database, clock: Clock) -> None:
    async with db.unit_of_work() as uow:
        await inbox.store(uow.session, "telegram", [update(7, 1)], owner="w", now=clock(), lease=LEASE)
        await uow.commit()
    batch = [update(10, 1), update(11, 2), update(7, 1), update(12, 1), update(11, 2), update(13, 3)]
    with statements(db) as seen:
        async with db.unit_of_work() as uow:
            entries = await inbox.store(uow.session, "telegram", batch, owner="w", now=clock(), lease=LEASE)
            await uow.commit()
    assert len(seen) == 2
    # 7 was stored before, 11 came twice: each update once, in the order it came.
    assert [(e.payload["update_id"], e.user_key) for e in entries] == [(10, "1"), (11, "2"), (12, "1"), (13, "3")]
    assert [e.id for e in entries] == sorted(e.id for e in entries)
    async with db.unit_of_work() as uow:
        stored = (await uow.session.execute(select(InboxEntry.id, InboxEntry.event_key))).all()
    assert sorted(key for _id, key in stored) == ["10", "11", "12", "13", "7"]
    assert {e.id for e in entries} == {i for i, key in stored if key != "7"}
    async with db.unit_of_work() as uow:
        again = await inbox.store(uow.session, "telegram", batch, owner="w", now=clock(), lease=LEASE)
    assert again == []
