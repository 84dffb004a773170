"""Updates stored before they are acknowledged, and handed out again after a crash or a restart.

A worker stores what a messenger sent (one short transaction), and only then answers the webhook or asks
``getUpdates`` for the next offset. The entry is claimed by that worker at once (``owner``,
``claimed_until``) and deleted by the transaction that handles it, so what is in the table is exactly what
was received and not yet handled. A worker that stops hands its entries back; a worker that died leaves
them claimed until the lease runs out, or until it starts again and resumes its own.

Entries of one conversation (``channel``, ``user_key``) are handled in the order they were stored: the
handler checks, under the conversation's lock, that no older entry of it is still waiting.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import String, Table, Text, bindparam, column, delete, func, literal, or_, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage import db
from storage.models import InboxEntry, ProcessedEvent

_inbox = cast(Table, InboxEntry.__table__)
_events = cast(Table, ProcessedEvent.__table__)
# An entry whose handling began this many times without finishing (a worker died on it each time) is
# given up, with an apology to its sender, not tried for ever. ``attempts`` counts beginnings: storing is
# the first, and each time a worker that took it over (after a crash) begins it again. Being claimed does
# not count: an update waiting behind another while its worker restarts again and again never began.
MAX_ATTEMPTS = 5
# ... and only once it has waited this long since it was stored: a burst of restarts (a deploy, the OOM
# killer, a database failover) kills workers in the middle of innocent updates too, several times over.
GIVE_UP_AFTER = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class Received:
    """What a channel hands over for storing; ``parsed`` is the channel's own object for it, kept in memory
    so that the worker that stored it need not parse the payload again (a worker that took it over does)."""

    event_key: str
    user_key: str
    payload: dict[str, Any]
    parsed: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Entry:
    id: int
    channel: str
    user_key: str
    payload: dict[str, Any]
    attempts: int = 1
    parsed: Any = field(default=None, compare=False, repr=False)
    taken_over: bool = False  # claimed after its worker died or stopped, rather than stored just now


# SQLite's store, after the seen-check (``conversations.first_times``); PostgreSQL's is ``_STORE_AT_ONCE``.
_INSERT = (sqlite_insert(_inbox).values(
    channel=bindparam("channel"), event_key=bindparam("key"), user_key=bindparam("user"),
    payload=bindparam("payload", type_=_inbox.c.payload.type),
    received_at=bindparam("now", type_=_inbox.c.received_at.type), owner=bindparam("owner"),
    claimed_until=bindparam("until", type_=_inbox.c.claimed_until.type), attempts=1,
).on_conflict_do_nothing(index_elements=["channel", "event_key"]).returning(_inbox.c.id, _inbox.c.event_key))


def _store_at_once() -> Any:
    # The batch as rows (key, user, payload, n): recorded as seen, and those seen for the first time stored,
    # in the order received (ids are given in the order of the rows inserted).
    batch = (func.unnest(bindparam("keys", type_=ARRAY(String)), bindparam("users", type_=ARRAY(String)),
                         bindparam("payloads", type_=ARRAY(Text)))
             .table_valued(column("key", String), column("user_key", String), column("payload", Text),
                           with_ordinality="n")
             .render_derived(name="batch"))
    channel = bindparam("channel", type_=String)
    seen = (pg_insert(_events)
            .from_select(["channel", "event_key", "processed_at"],
                         select(channel, batch.c.key, bindparam("now", type_=_events.c.processed_at.type))
                         .order_by(batch.c.n))
            .on_conflict_do_nothing(index_elements=["channel", "event_key"])
            .returning(_events.c.event_key).cte("seen"))
    return (pg_insert(_inbox)
            .from_select(["channel", "event_key", "user_key", "payload", "received_at", "owner", "claimed_until",
                          "attempts"],
                         select(channel, batch.c.key, batch.c.user_key,
                                sql_cast(batch.c.payload, _inbox.c.payload.type),
                                bindparam("now", type_=_inbox.c.received_at.type), bindparam("owner", type_=String),
                                bindparam("until", type_=_inbox.c.claimed_until.type), literal(1))
                         .join_from(batch, seen, seen.c.event_key == batch.c.key).order_by(batch.c.n))
            .on_conflict_do_nothing(index_elements=["channel", "event_key"])
            .returning(_inbox.c.id, _inbox.c.event_key))


_STORE_AT_ONCE = _store_at_once()


async def store(session: AsyncSession, channel: str, received: list[Received], *, owner: str, now: dt.datetime,
                lease: dt.timedelta) -> list[Entry]:
    """Store what arrived, claimed by ``owner``; returns the new entries, in the order received. Each update
    is recorded as seen (``processed_events``) in the same transaction, so a redelivery, whether its first
    copy still waits or was handled long ago, is not stored twice. A batch takes two statements whatever
    its size; on PostgreSQL, where each statement is a round trip and the next poll waits for them, one
    (which ``Database.single_statement`` runs without a transaction around it)."""
    from storage import conversations

    firsts: dict[str, Received] = {}
    for item in received:
        firsts.setdefault(item.event_key[:64], item)
    if session.get_bind().dialect.name == "postgresql":
        rows = await (await db.connection(session)).execute(_STORE_AT_ONCE, {
            "channel": channel, "keys": list(firsts), "users": [item.user_key[:64] for item in firsts.values()],
            "payloads": [json.dumps(item.payload) for item in firsts.values()], "now": now, "owner": owner,
            "until": now + lease})
        ids = {key: int(new_id) for new_id, key in rows}
        return [Entry(ids[key], channel, item.user_key[:64], item.payload, parsed=item.parsed)
                for key, item in firsts.items() if key in ids]
    new = await conversations.first_times(session, channel, list(firsts))
    fresh = [(key, item) for key, item in firsts.items() if key in new]
    if not fresh:
        return []
    connection = await db.connection(session)
    rows = await connection.execute(_INSERT, [
        {"channel": channel, "key": key, "user": item.user_key[:64], "payload": item.payload, "now": now,
         "owner": owner, "until": now + lease} for key, item in fresh])
    ids = {key: int(new_id) for new_id, key in rows}
    # Ids follow the order of the rows inserted, which is the order received.
    return [Entry(ids[key], channel, item.user_key[:64], item.payload, parsed=item.parsed)
            for key, item in fresh if key in ids]


_DONE = delete(_inbox).where(_inbox.c.id == bindparam("id_"))
_OLDER = (select(_inbox.c.id)
          .where(_inbox.c.channel == bindparam("channel"), _inbox.c.user_key == bindparam("user"),
                 _inbox.c.id < bindparam("id_"))
          .order_by(_inbox.c.id).limit(1))
_older = _inbox.alias("older")
# The entry leaves the inbox in the transaction that handles it, unless an older entry of the same
# conversation still waits: one statement for both, the common case.
TAKE = (delete(_inbox)
         .where(_inbox.c.id == bindparam("id_"),
                ~select(_older.c.id).where(_older.c.channel == bindparam("channel"),
                                           _older.c.user_key == bindparam("user"),
                                           _older.c.id < bindparam("id_")).exists())
         .returning(_inbox.c.id))
_TAKE_OUT_OF_TURN = delete(_inbox).where(_inbox.c.id == bindparam("id_")).returning(_inbox.c.id)


async def done(session: AsyncSession, entry_id: int) -> bool:
    """The entry was handled (in this same transaction); False if it was gone already."""
    result = await (await db.connection(session)).execute(_DONE, {"id_": entry_id})
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def take(session: AsyncSession, channel: str, user_key: str, entry_id: int, *,
               out_of_turn: bool = False) -> bool:
    """Take the entry out of the inbox for the transaction handling it; False when an older entry of the
    conversation waits (``older_waiting`` says which; not asked ``out_of_turn``) or the entry is gone (another
    worker handled it)."""
    connection = await db.connection(session)
    statement = _TAKE_OUT_OF_TURN if out_of_turn else TAKE
    taken = (await connection.execute(statement, {"id_": entry_id, "channel": channel, "user": user_key})).first()
    return taken is not None


async def older_waiting(session: AsyncSession, channel: str, user_key: str, entry_id: int) -> int | None:
    """The oldest entry of the same conversation stored before this one and not handled yet."""
    return cast(int | None, (await (await db.connection(session)).execute(
        _OLDER, {"channel": channel, "user": user_key, "id_": entry_id})).scalar())


async def claim(session: AsyncSession, *, owner: str, now: dt.datetime, lease: dt.timedelta,
                channels: tuple[str, ...], limit: int = 100, resume: bool = False,
                entry_id: int | None = None, event_keys: list[str] | None = None) -> list[Entry]:
    """Entries nobody holds any more (their worker's lease ran out, or it handed them back), oldest first;
    with ``resume``, also those ``owner`` held before it restarted. ``entry_id`` claims that one only,
    ``event_keys`` those of these updates only."""
    free = or_(_inbox.c.claimed_until.is_(None), _inbox.c.claimed_until < now)
    if resume:
        free = or_(free, _inbox.c.owner == owner)
    query = (select(_inbox.c.id, _inbox.c.channel, _inbox.c.user_key, _inbox.c.payload, _inbox.c.attempts,
                    _inbox.c.owner, _inbox.c.claimed_until)
             .where(free, _inbox.c.channel.in_(channels)).order_by(_inbox.c.id).limit(limit))
    if entry_id is not None:
        query = query.where(_inbox.c.id == entry_id)
    if event_keys is not None:
        query = query.where(_inbox.c.event_key.in_([key[:64] for key in event_keys]))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed = []
    for row in (await session.execute(query)).all():
        # Taken only if nobody took it since it was read (on SQLite nothing else locks the row).
        unchanged = [_inbox.c.owner.is_(None) if row.owner is None else _inbox.c.owner == row.owner,
                     _inbox.c.claimed_until.is_(None) if row.claimed_until is None
                     else _inbox.c.claimed_until == row.claimed_until]
        taken = await session.execute(
            update(_inbox).where(_inbox.c.id == row.id, *unchanged).values(owner=owner, claimed_until=now + lease))
        if taken.rowcount:  # type: ignore[attr-defined]
            claimed.append(Entry(row.id, row.channel, row.user_key, dict(row.payload), row.attempts, taken_over=True))
    return claimed


async def beginning(session: AsyncSession, entry_id: int) -> tuple[int, dt.datetime | None]:
    """Count one more beginning of a taken-over entry's handling: the count (0: the entry is gone) and when
    the entry was stored."""
    counted = (await session.execute(update(_inbox).where(_inbox.c.id == entry_id)
                                     .values(attempts=_inbox.c.attempts + 1)
                                     .returning(_inbox.c.attempts, _inbox.c.received_at))).first()
    return (int(counted.attempts), counted.received_at) if counted is not None else (0, None)


async def release(session: AsyncSession, entry_ids: list[int]) -> None:
    """Hand entries back (a worker stopping), so that any worker takes them at once."""
    if entry_ids:
        await session.execute(update(_inbox).where(_inbox.c.id.in_(entry_ids)).values(owner=None, claimed_until=None))


async def waiting(session: AsyncSession) -> int:
    from sqlalchemy import func

    return int(await session.scalar(select(func.count()).select_from(_inbox)) or 0)
