"""The conversation row: locked first, then read, then written, in the event's one transaction.

Every chat event goes through here, so the statements are built once and run as Core statements, and
the row is plain data rather than an ORM object (the ORM's load and flush cost more than the rest of
a step; see bench/report_flow.py).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage import db, pg_begin
from storage.models import Conversation, ProcessedEvent, utcnow

_conversations = cast(Table, Conversation.__table__)
_events = cast(Table, ProcessedEvent.__table__)


@dataclass
class ConversationState:
    """One user's conversation on one channel; handlers change it in place and ``save`` writes it back."""

    id: int
    flow: str | None
    step: str | None
    data: dict[str, Any]
    seq: int
    _as_read: tuple[Any, ...] = field(default=(), repr=False, compare=False)

    def _fingerprint(self) -> tuple[Any, ...]:
        # The draft is a nested dict that handlers change in place: compare it by value, as text.
        return self.flow, self.step, self.seq, json.dumps(self.data, sort_keys=True, default=str)


_LOCK = (
    select(_conversations.c.id, _conversations.c.flow, _conversations.c.step, _conversations.c.data,
           _conversations.c.seq)
    .where(_conversations.c.channel == bindparam("channel"),
           _conversations.c.user_external_id == bindparam("user"))
    .with_for_update()
)


def _create_statements(insert: Any) -> tuple[Any, Any]:
    conversation = insert(_conversations).values(
        channel=bindparam("channel"), user_external_id=bindparam("user"),
        data=bindparam("data_", type_=_conversations.c.data.type), seq=0,
        updated_at=bindparam("now", type_=_conversations.c.updated_at.type),
    ).on_conflict_do_nothing(index_elements=["channel", "user_external_id"])
    event = insert(_events).values(
        channel=bindparam("channel"), event_key=bindparam("key"),
        processed_at=bindparam("now", type_=_events.c.processed_at.type),
    ).on_conflict_do_nothing(index_elements=["channel", "event_key"])
    return conversation, event


_CREATE = {"postgresql": _create_statements(pg_insert), "sqlite": _create_statements(sqlite_insert)}
# Many events recorded in one statement: those new are returned.
_FIRST_TIMES = {name: statements[1].returning(_events.c.event_key) for name, statements in _CREATE.items()}

_SAVE = (
    update(_conversations)
    .where(_conversations.c.id == bindparam("id_"))
    .values(flow=bindparam("flow_"), step=bindparam("step_"), seq=bindparam("seq_"),
            data=bindparam("data_", type_=_conversations.c.data.type),
            updated_at=bindparam("saved_at", type_=_conversations.c.updated_at.type))
)
# The same, as part of another statement (``outbox.add``): on PostgreSQL a round trip less per event.
SAVE_ALONG = _SAVE.cte("saved")


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


async def take_lock(session: AsyncSession, channel: str, user_id: str) -> None:
    """PostgreSQL: hold the conversation's lock (``pg_begin``) until the transaction ends: sent with BEGIN when
    nothing was sent yet in this transaction (no round trip of its own), as a statement otherwise. What the
    conversation and the sender are must be read by a later statement."""
    connection = await db.connection(session)
    key = pg_begin.conversation_key(channel, user_id)
    raw = (await connection.get_raw_connection()).dbapi_connection
    if isinstance(raw, pg_begin.LockingConnection) and not raw.begun:
        raw.lock_on_begin = key
    else:
        await connection.execute(_ADVISORY_LOCK, {"key": key})


async def lock(session: AsyncSession, channel: str, user_id: str) -> ConversationState:
    """The user's conversation, created if need be, locked against every other event of the same user.

    On SQLite the transaction already holds the write lock (BEGIN IMMEDIATE); on PostgreSQL the
    conversation's lock is taken (``take_lock``) and the row locked with FOR UPDATE. The state must be read
    only after the lock is taken.
    """
    if _dialect(session) == "postgresql":
        await take_lock(session, channel, user_id)
    connection = await db.connection(session)
    params = {"channel": channel, "user": user_id}
    row = (await connection.execute(_LOCK, params)).first()
    if row is None:
        # First event of this user: create the row (a racing worker may create it first), then lock it.
        await connection.execute(_CREATE[_dialect(session)][0], {**params, "data_": {}, "now": utcnow()})
        row = (await connection.execute(_LOCK, params)).first()
    assert row is not None
    return state_of(row.id, row.flow, row.step, row.data, row.seq)


def state_of(id_: int, flow: str | None, step: str | None, data: dict[str, Any] | None,
             seq: int) -> ConversationState:
    """The conversation as read from its row (by ``lock``, or by a statement that reads it along with more)."""
    state = ConversationState(id=id_, flow=flow, step=step, data=dict(data or {}), seq=seq)
    state._as_read = state._fingerprint()
    return state


async def save(session: AsyncSession, state: ConversationState) -> None:
    """Write the conversation back if anything in it changed."""
    params = unsaved(state)
    if params is not None:
        await (await db.connection(session)).execute(_SAVE, params)


def unsaved(state: ConversationState) -> dict[str, Any] | None:
    """What ``SAVE_ALONG`` writes if anything in the conversation changed (taken as written from now on), or
    None."""
    now = state._fingerprint()
    if now == state._as_read:
        return None
    state._as_read = now
    return {"id_": state.id, "flow_": state.flow, "step_": state.step, "seq_": state.seq, "data_": state.data,
            "saved_at": utcnow()}


async def first_time(session: AsyncSession, channel: str, event_key: str) -> bool:
    """Record an event as handled; False when it was handled before (a redelivery)."""
    connection = await db.connection(session)
    result = await connection.execute(_CREATE[_dialect(session)][1],
                                      {"channel": channel, "key": event_key, "now": utcnow()})
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def first_times(session: AsyncSession, channel: str, event_keys: list[str]) -> set[str]:
    """Record events as handled, in one statement; returns those not handled before."""
    if not event_keys:
        return set()
    connection = await db.connection(session)
    now = utcnow()
    result = await connection.execute(_FIRST_TIMES[_dialect(session)],
                                      [{"channel": channel, "key": key, "now": now} for key in event_keys])
    return set(result.scalars())


async def forget_events_before(session: AsyncSession, cutoff: dt.datetime) -> int:
    result = await session.execute(delete(ProcessedEvent).where(ProcessedEvent.processed_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
