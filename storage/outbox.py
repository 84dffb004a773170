"""Answers stored in the transaction of the event they answer, and sent after it committed.

Each entry is what one event owes one chat: a list of items (a reply, deferred work whose result is sent
when it is done, a command menu to set), in order. The worker that wrote it sends it at once and deletes
it; ``parts_done`` records the items already sent where deferred work follows, so a restart does not
repeat them. If the worker dies first, the entry stays: it is sent again when its lease runs out, or at
once when that worker starts again. So an answer is sent at least once, never not at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage import conversations, db
from storage.models import OutboxEntry

_outbox = cast(Table, OutboxEntry.__table__)
# An entry whose sending failed this many times is given up (logged), not tried for ever.
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Outgoing:
    id: int
    version: int
    channel: str
    chat_id: str
    items: list[dict[str, Any]]
    due_at: dt.datetime
    parts_done: int = 0
    attempts: int = 1


# "channel_", not "channel": with ``saving`` the statement also updates conversations, which have a channel.
_COLUMNS = dict(
    channel=bindparam("channel_"), chat_id=bindparam("chat"), items=bindparam("items", type_=_outbox.c["items"].type),
    parts_done=0, created_at=bindparam("now", type_=_outbox.c.created_at.type),
    due_at=bindparam("due", type_=_outbox.c.due_at.type), version=0, owner=bindparam("owner"),
    claimed_until=bindparam("until", type_=_outbox.c.claimed_until.type), attempts=1,
)


def _statements(insert: Any) -> tuple[Any, Any]:
    """(plain insert, insert replacing the entry of the same ``coalesce``), built once per dialect: every
    event writes one."""
    plain = insert(_outbox).values(**_COLUMNS)
    replacing = insert(_outbox).values(**_COLUMNS, coalesce=bindparam("coalesce"))
    replacing = replacing.on_conflict_do_update(
        index_elements=["coalesce"],
        set_={"items": replacing.excluded["items"], "due_at": replacing.excluded["due_at"],
              "owner": replacing.excluded["owner"], "claimed_until": replacing.excluded["claimed_until"],
              "version": _outbox.c.version + 1})
    returning = (_outbox.c.id, _outbox.c.version)
    return plain.returning(*returning), replacing.returning(*returning)


_ADD = {"postgresql": _statements(pg_insert), "sqlite": _statements(sqlite_insert)}
# The same, writing the event's conversation back in the same statement (PostgreSQL only: SQLite has no
# data-modifying WITH, and its statements cost no round trip).
_ADD_SAVING = tuple(statement.add_cte(conversations.SAVE_ALONG) for statement in _ADD["postgresql"])


def saves_along(session: AsyncSession) -> bool:
    """Whether ``add`` can write the conversation back (``saving``) in its own statement."""
    return session.get_bind().dialect.name == "postgresql"


async def add(session: AsyncSession, channel: str, chat_id: str, items: list[dict[str, Any]], *, owner: str,
              now: dt.datetime, lease: dt.timedelta, due_at: dt.datetime | None = None,
              coalesce: str | None = None, saving: dict[str, Any] | None = None) -> Outgoing:
    """Owe ``items`` to a chat, claimed by ``owner`` (who sends it after the commit). With ``coalesce``, an
    entry of that name not sent yet is replaced instead (its version goes up, so a sender that read the
    older items does not delete the newer ones). ``saving``: the conversation to write back in the same
    statement (``conversations.unsaved``), where ``saves_along``."""
    due = due_at or now
    params = {"channel_": channel, "chat": chat_id, "items": items, "now": now, "due": due, "owner": owner,
              "until": due + lease}
    if saving is not None:
        assert saves_along(session)
        plain, replacing = _ADD_SAVING
        params.update(saving)
    else:
        plain, replacing = _ADD[session.get_bind().dialect.name]
    connection = await db.connection(session)
    if coalesce is None:
        row = (await connection.execute(plain, params)).one()
    else:
        row = (await connection.execute(replacing, {**params, "coalesce": coalesce})).one()
    return Outgoing(int(row[0]), int(row[1]), channel, chat_id, items, due)


async def forget(session: AsyncSession, coalesce: str) -> None:
    """An answer owed later is no longer owed."""
    await session.execute(delete(_outbox).where(_outbox.c.coalesce == coalesce))


_DONE = delete(_outbox).where(_outbox.c.id == bindparam("id_"), _outbox.c.version == bindparam("version_"))


async def done(session: AsyncSession, sent: list[tuple[int, int]]) -> None:
    """Delete entries sent, as (id, version): an entry replaced meanwhile stays to be sent again."""
    if sent:
        await (await db.connection(session)).execute(_DONE, [{"id_": i, "version_": v} for i, v in sent])


async def progress(session: AsyncSession, entry: Outgoing, parts_done: int, *, owner: str, until: dt.datetime) -> bool:
    result = await session.execute(
        update(_outbox).where(_outbox.c.id == entry.id, _outbox.c.version == entry.version, _outbox.c.owner == owner)
        .values(parts_done=parts_done, claimed_until=until))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def claim(session: AsyncSession, *, owner: str, now: dt.datetime, lease: dt.timedelta,
                channels: tuple[str, ...], limit: int = 100, resume: bool = False,
                entry_id: int | None = None, version: int | None = None) -> list[Outgoing]:
    """Due entries nobody holds (their worker died or handed them back), oldest first; with ``resume`` also
    those ``owner`` held before it restarted; ``entry_id``: that entry only, if it is due (and still at
    ``version``)."""
    free = or_(_outbox.c.claimed_until.is_(None), _outbox.c.claimed_until < now)
    if resume:
        free = or_(free, _outbox.c.owner == owner)
    if entry_id is not None:
        free = or_(free, _outbox.c.owner == owner)
    query = (select(_outbox.c.id, _outbox.c.version, _outbox.c.channel, _outbox.c.chat_id, _outbox.c["items"],
                    _outbox.c.due_at, _outbox.c.parts_done, _outbox.c.attempts)
             .where(free, _outbox.c.due_at <= now, _outbox.c.channel.in_(channels))
             .order_by(_outbox.c.id).limit(limit))
    if entry_id is not None:
        query = query.where(_outbox.c.id == entry_id)
    if version is not None:
        query = query.where(_outbox.c.version == version)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed = []
    for row in (await session.execute(query)).all():
        taken = await session.execute(
            update(_outbox).where(and_(_outbox.c.id == row.id, _outbox.c.version == row.version,
                                       _outbox.c.attempts == row.attempts))
            .values(owner=owner, claimed_until=now + lease, attempts=row.attempts + 1))
        if taken.rowcount:  # type: ignore[attr-defined]
            claimed.append(Outgoing(row.id, row.version, row.channel, row.chat_id, list(row.items), row.due_at,
                                    row.parts_done, row.attempts + 1))
    return claimed


async def release(session: AsyncSession, entry_ids: list[int]) -> None:
    if entry_ids:
        await session.execute(update(_outbox).where(_outbox.c.id.in_(entry_ids)).values(owner=None,
                                                                                        claimed_until=None))


async def next_due(session: AsyncSession, channels: tuple[str, ...]) -> dt.datetime | None:
    """When the earliest entry not yet sent is due (for a sweeper deciding how long to sleep)."""
    from sqlalchemy import func

    return cast(dt.datetime | None, await session.scalar(
        select(func.min(_outbox.c.due_at)).where(_outbox.c.channel.in_(channels))))
