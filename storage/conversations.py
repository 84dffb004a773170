"""The conversation row: locked first, then read, then written, in the event's one transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation, ProcessedEvent, utcnow


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def lock(session: AsyncSession, channel: str, user_id: str) -> Conversation:
    """The user's conversation, created if need be, locked against every other event of the same user.

    On SQLite the transaction already holds the write lock (BEGIN IMMEDIATE); on PostgreSQL the
    row is locked with FOR UPDATE. The state must be read only after the lock is taken.
    """
    query = (
        select(Conversation)
        .where(Conversation.channel == channel, Conversation.user_external_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    conversation = await session.scalar(query)
    if conversation is None:
        # First event of this user: create the row (a racing worker may create it first), then lock it.
        await session.execute(
            _insert(session)(Conversation)
            .values(channel=channel, user_external_id=user_id, data={}, seq=0, updated_at=utcnow())
            .on_conflict_do_nothing(index_elements=["channel", "user_external_id"])
        )
        conversation = await session.scalar(query)
    assert conversation is not None
    return conversation


async def first_time(session: AsyncSession, channel: str, event_key: str) -> bool:
    """Record an event as handled; False when it was handled before (a redelivery)."""
    insert = _insert(session)
    result = await session.execute(
        insert(ProcessedEvent)
        .values(channel=channel, event_key=event_key, processed_at=utcnow())
        .on_conflict_do_nothing(index_elements=["channel", "event_key"])
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def forget_events_before(session: AsyncSession, cutoff: dt.datetime) -> int:
    result = await session.execute(delete(ProcessedEvent).where(ProcessedEvent.processed_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
