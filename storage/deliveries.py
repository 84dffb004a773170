"""Messages owed to recipients (digests, reminders), each sent exactly once whatever happens.

A delivery is planned by inserting it if absent on the unique (key, recipient), so planning twice, from
two workers or after a restart, plans once. A worker *claims* due rows for a lease (status ``sending``,
``claimed_until``) and counts the claim in ``attempts``; that count is the claim's fencing token, so a
worker whose lease ran out and was taken over can no longer record anything. ``parts_done`` (migration
0004) records how many parts of a multi-part message went out, so a restart resumes after the last one
sent instead of repeating it.

On PostgreSQL claims take ``FOR UPDATE SKIP LOCKED``; SQLite serialises writers with ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, column, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Delivery, Identity, JobRun, Person, Province, Unit

MAX_ATTEMPTS = 8
# Column added by migration 0004; read and written by name until the model declares it.
PARTS_DONE = column("parts_done", Integer)


@dataclass(frozen=True)
class Recipient:
    address: str  # "telegram:<chat id>"
    person_id: int | None = None
    blocked: bool = False


@dataclass(frozen=True)
class Claim:
    id: int
    key: str
    recipient: str
    person_id: int | None
    token: int  # the attempts value this claim set
    parts_done: int

    @property
    def channel(self) -> str:
        return self.recipient.partition(":")[0]

    @property
    def chat_id(self) -> str:
        return self.recipient.partition(":")[2]


def insert_ignoring_conflicts(session: AsyncSession, model: Any) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` in the session's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(model).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(model).on_conflict_do_nothing()


async def start_job_run(session: AsyncSession, job: str, period: str, now: dt.datetime) -> bool:
    """Record that ``job`` planned ``period``; False when it had been planned already."""
    inserted = await session.scalar(
        insert_ignoring_conflicts(session, JobRun).values(job=job, period=period, planned_at=now)
        .returning(JobRun.id))
    return inserted is not None


async def job_run(session: AsyncSession, job: str, period: str) -> JobRun | None:
    return await session.scalar(select(JobRun).where(JobRun.job == job, JobRun.period == period))


async def plan(session: AsyncSession, key: str, recipients: Iterable[Recipient], *, due_at: dt.datetime,
               now: dt.datetime) -> int:
    """Owe ``key`` to each recipient not owed it yet; a recipient who blocked the bot is recorded as blocked
    (and shown to admins) rather than tried. Returns how many rows were new."""
    new = 0
    for recipient in recipients:
        values: dict[str, Any] = dict(key=key, recipient=recipient.address, person_id=recipient.person_id,
                                      status="pending", attempts=0, due_at=due_at, created_at=now)
        if recipient.blocked:
            values.update(status="blocked", error="blocked the bot before this was planned")
        inserted = await session.scalar(insert_ignoring_conflicts(session, Delivery).values(**values)
                                        .returning(Delivery.id))
        new += inserted is not None
    return new


async def claim(session: AsyncSession, *, now: dt.datetime, lease: dt.timedelta, channels: Iterable[str],
                limit: int = 50, key: str | None = None, owner: str | None = None) -> list[Claim]:
    """Take up to ``limit`` due deliveries for ``lease``: pending ones, and ``sending`` ones whose worker's
    lease ran out (it stopped mid-send)."""
    prefixes = [Delivery.recipient.like(f"{channel}:%") for channel in channels]
    if not prefixes:
        return []
    due = (select(Delivery.id, Delivery.key, Delivery.recipient, Delivery.person_id, Delivery.attempts,
                  PARTS_DONE)
           .where(or_(Delivery.status == "pending", Delivery.status == "sending"),
                  or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now),
                  Delivery.due_at <= now, or_(*prefixes))
           .order_by(Delivery.due_at, Delivery.id).limit(limit))
    if key is not None:
        due = due.where(Delivery.key == key)
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True, of=Delivery)
    claims = []
    for row_id, key, recipient, person_id, attempts, parts_done in (await session.execute(due)):
        # Conditional on what was read, so that even without row locks no two workers hold one row.
        taken = await session.execute(
            update(Delivery).where(Delivery.id == row_id, Delivery.attempts == attempts,
                                   Delivery.status.in_(("pending", "sending")))
            .values(status="sending", claimed_until=now + lease, attempts=attempts + 1, owner=owner))
        if taken.rowcount:  # type: ignore[attr-defined]
            claims.append(Claim(row_id, key, recipient, person_id, attempts + 1, int(parts_done or 0)))
    return claims


async def resume(session: AsyncSession, owner: str) -> int:
    """Claims ``owner`` held when it stopped (it died mid-send): free at once rather than after the lease.
    What it was sending resumes after the last part recorded as sent."""
    result = await session.execute(update(Delivery).where(Delivery.owner == owner, Delivery.status == "sending")
                                   .values(claimed_until=None))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _mine(claim: Claim) -> Any:
    return (Delivery.id == claim.id) & (Delivery.attempts == claim.token) & (Delivery.status == "sending")


async def progress(session: AsyncSession, claim: Claim, parts_done: int, *, now: dt.datetime,
                   lease: dt.timedelta) -> bool:
    """Record a part sent and extend the lease; False when the claim was lost (and sending must stop)."""
    result = await session.execute(
        text("UPDATE deliveries SET parts_done = :parts, claimed_until = :until "
             "WHERE id = :id AND attempts = :token AND status = 'sending'")
        .bindparams(parts=parts_done, until=_utc(session, now + lease), id=claim.id, token=claim.token))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _utc(session: AsyncSession, value: dt.datetime) -> dt.datetime:
    # What the UTCDateTime type does for ORM statements, for the one textual statement.
    value = value.astimezone(dt.UTC)
    return value.replace(tzinfo=None) if session.get_bind().dialect.name == "sqlite" else value


async def extend(session: AsyncSession, claim: Claim, *, until: dt.datetime) -> bool:
    result = await session.execute(update(Delivery).where(_mine(claim)).values(claimed_until=until))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def finish(session: AsyncSession, claim: Claim, status: str, *, now: dt.datetime,
                 error: str | None = None) -> bool:
    """``sent``, ``blocked``, ``failed`` or ``skipped`` (no longer owed, e.g. the unit answered)."""
    values: dict[str, Any] = dict(status=status, claimed_until=None, error=(error or None) and error[:500])
    if status == "sent":
        values["sent_at"] = now
    result = await session.execute(update(Delivery).where(_mine(claim)).values(**values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def retry_later(session: AsyncSession, claim: Claim, *, at: dt.datetime, error: str,
                      count_attempt: bool = True) -> bool:
    """Back to pending until ``at``; after MAX_ATTEMPTS failed tries it is recorded as failed instead
    (``count_attempt=False`` for waits Telegram asked for, which are no failure)."""
    if count_attempt and claim.token >= MAX_ATTEMPTS:
        return await finish(session, claim, "failed", now=at, error=error)
    values: dict[str, Any] = dict(status="pending", claimed_until=None, due_at=at, error=error[:500])
    result = await session.execute(update(Delivery).where(_mine(claim)).values(**values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def mark_blocked(session: AsyncSession, claim: Claim, *, now: dt.datetime, error: str) -> None:
    """The recipient blocked the bot: record it on the delivery and on their identity, so they are skipped
    until they write again (the core clears ``blocked_at`` then)."""
    if await finish(session, claim, "blocked", now=now, error=error) and claim.person_id is not None:
        await session.execute(
            update(Identity).where(Identity.person_id == claim.person_id, Identity.channel == claim.channel,
                                   Identity.chat_id == claim.chat_id, Identity.blocked_at.is_(None))
            .values(blocked_at=now))


@dataclass(frozen=True)
class DeliveryStatus:
    recipient: str
    person_name: str | None
    status: str
    sent_at: dt.datetime | None
    error: str | None
    key: str = ""
    role: str | None = None
    unit_name: str | None = None  # an officer's unit


async def statuses(session: AsyncSession, *keys: str) -> list[DeliveryStatus]:
    """Every recipient of the deliveries ``keys`` and how it went, in the order planned."""
    if not keys:
        return []
    rows = (await session.execute(
        select(Delivery.recipient, Person.display_name, Delivery.status, Delivery.sent_at, Delivery.error,
               Delivery.key, Person.role, Unit.name)
        .outerjoin(Person, Person.id == Delivery.person_id).outerjoin(Unit, Unit.id == Person.unit_id)
        .where(Delivery.key.in_(keys)).order_by(Delivery.id)
    )).all()
    return [DeliveryStatus(*row) for row in rows]


@dataclass(frozen=True)
class BlockedIdentity:
    recipient: str  # "telegram:<chat id>"
    person_name: str
    role: str | None
    unit_name: str | None
    blocked_at: dt.datetime | None


async def blocked_in_cluster(session: AsyncSession, cluster_id: int) -> list[BlockedIdentity]:
    """People of a cluster (its coordinators, the officers of its units) who blocked the bot on some channel:
    unreachable whether or not anything was planned for them this week."""
    officers = select(Unit.id).join(Province, Province.code == Unit.province_code).where(
        Province.cluster_id == cluster_id)
    rows = (await session.execute(
        select(Identity.channel, Identity.chat_id, Person.display_name, Person.role, Unit.name, Identity.blocked_at)
        .join(Person, Person.id == Identity.person_id).outerjoin(Unit, Unit.id == Person.unit_id)
        .where(Identity.blocked_at.is_not(None),
               ((Person.role == "coordinator") & (Person.cluster_id == cluster_id))
               | ((Person.role == "officer") & Person.unit_id.in_(officers)))
        .order_by(Person.display_name, Identity.id))).all()
    return [BlockedIdentity(f"{channel}:{chat}", name, role, unit, at) for channel, chat, name, role, unit, at in rows]


async def count_by_status(session: AsyncSession, key_prefix: str) -> dict[str, int]:
    rows = (await session.execute(
        select(Delivery.status, func.count(Delivery.id)).where(Delivery.key.like(f"{key_prefix}%"))
        .group_by(Delivery.status))).all()
    return dict(rows)
