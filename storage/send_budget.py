"""A messenger's overall sending rate, shared through the database by every worker: each send reserves the
next free moment of its channel, so that two workers together stay within the limit one alone keeps."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, bindparam, case, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import db
from storage.deliveries import insert_ignoring_conflicts
from storage.models import SendSlot

_slots = cast(Table, SendSlot.__table__)
_next = _slots.c.next_at
_RESERVE = (update(_slots).where(_slots.c.channel == bindparam("channel_"))
            .values(next_at=case((_next > bindparam("at"), _next), else_=bindparam("at")) + bindparam("spacing"))
            .returning(_next))
_HOLD = (update(_slots).where(_slots.c.channel == bindparam("channel_"), _next < bindparam("until"))
         .values(next_at=bindparam("until")))


async def reserve(session: AsyncSession, channel: str, at: float, spacing: float) -> float:
    """The moment (no earlier than ``at``) the caller may send; the next caller gets one ``spacing`` later."""
    connection = await db.connection(session)
    after = (await connection.execute(_RESERVE, {"channel_": channel, "at": at, "spacing": spacing})).scalar()
    if after is None:
        await connection.execute(insert_ignoring_conflicts(session, SendSlot).values(channel=channel, next_at=0.0))
        after = (await connection.execute(_RESERVE, {"channel_": channel, "at": at, "spacing": spacing})).scalar()
    return float(after) - spacing


async def hold(session: AsyncSession, channel: str, until: float) -> None:
    """Nobody sends through ``channel`` before ``until`` (the messenger asked to wait)."""
    await (await db.connection(session)).execute(_HOLD, {"channel_": channel, "until": until})
