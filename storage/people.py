"""People, their channel identities and invites."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.folding import fold
from storage.models import Cluster, Identity, Invite, Person, Unit
from storage.scope import Scope
from storage.senders import Sender

ROLES = ("officer", "coordinator", "admin")
# No 0/O/1/I/L: invite codes are read aloud over the phone and typed on Zalo.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


# The sender as ORM objects, for what changes an identity (linking, registration); events read the sender as
# plain values (``storage.senders``).
_IDENTITY = select(Identity).where(Identity.channel == bindparam("channel"),
                                   Identity.external_id == bindparam("external_id"))


async def identity(session: AsyncSession, channel: str, external_id: str) -> Identity | None:
    return await session.scalar(_IDENTITY, {"channel": channel, "external_id": external_id})


async def unit_by_code(session: AsyncSession, code: str) -> Unit | None:
    return await session.scalar(select(Unit).where(func.upper(Unit.code) == code.strip().upper()))


async def units_named(session: AsyncSession, text: str, scope: Scope | None = None, *, limit: int = 8) -> list[Unit]:
    """Active units whose name holds ``text`` (accents and case aside), those whose name starts with it
    first; within ``scope`` if given. Unit lists are short (a few hundred), so they are matched here."""
    key = fold(text)
    if not key:
        return []
    query = select(Unit).where(Unit.active)
    if scope is not None:
        query = scope.units(query)
    units = (await session.scalars(query.order_by(Unit.name))).all()
    words = key.split()
    found = [u for u in units if all(word in fold(u.name) for word in words) or key == fold(u.code)]
    return sorted(found, key=lambda u: (not fold(u.name).startswith(key) and key not in fold(u.name),
                                        len(u.name)))[:limit]


async def cluster_by_number(session: AsyncSession, number: int) -> Cluster | None:
    return await session.scalar(select(Cluster).where(Cluster.number == number))


class InviteError(ValueError):
    pass


async def create_invite(
    session: AsyncSession,
    *,
    role: str,
    now: dt.datetime,
    days: int,
    unit: Unit | None = None,
    cluster: Cluster | None = None,
    created_by: Person | Sender | None = None,
) -> Invite:
    if role not in ROLES:
        raise InviteError(f"role must be one of {', '.join(ROLES)}")
    if role == "officer" and unit is None:
        raise InviteError("an officer invite needs a unit")
    if role == "coordinator" and cluster is None:
        raise InviteError("a coordinator invite needs a cluster")
    invite = Invite(
        code="".join(secrets.choice(_CODE_ALPHABET) for _ in range(10)),
        role=role,
        unit_id=unit.id if role == "officer" and unit else None,
        cluster_id=cluster.id if role == "coordinator" and cluster else None,
        created_at=now,
        expires_at=now + dt.timedelta(days=days),
        created_by_person_id=created_by.id if created_by else None,
    )
    session.add(invite)
    await session.flush()
    invite.unit, invite.cluster = (unit if invite.unit_id else None), (cluster if invite.cluster_id else None)
    return invite


async def invite_by_code(session: AsyncSession, code: str) -> Invite | None:
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    if not cleaned or len(cleaned) > 32:
        return None
    return await session.scalar(select(Invite).where(Invite.code == cleaned).with_for_update(of=Invite))


async def accept_invite(
    session: AsyncSession,
    invite: Invite,
    *,
    channel: str,
    external_id: str,
    chat_id: str,
    display_name: str,
    username: str | None,
    locale: str,
    now: dt.datetime,
) -> Person:
    """Bind the sender to the invite's role; an existing person keeps their other channels."""
    ident = await identity(session, channel, external_id)
    if ident is None:
        person = Person(display_name=display_name or username or external_id, locale=locale, created_at=now)
        session.add(person)
        await session.flush()
        ident = Identity(person_id=person.id, channel=channel, external_id=external_id, chat_id=chat_id,
                         username=username, created_at=now)
        session.add(ident)
    else:
        person = ident.person
    person.role = invite.role
    person.unit_id = invite.unit_id
    person.cluster_id = invite.cluster_id
    invite.used_at = now
    invite.used_by_person_id = person.id
    await session.flush()
    await session.refresh(person, ["unit", "cluster"])
    return person


async def names(session: AsyncSession, person_ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in person_ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(Person.id, Person.display_name).where(Person.id.in_(wanted)))
    return {pid: name for pid, name in rows}


async def coordinators_of(session: AsyncSession, cluster_id: int | None) -> list[str]:
    """The names of a cluster's coordinators, to tell an officer whom to ask."""
    if cluster_id is None:
        return []
    return list((await session.scalars(select(Person.display_name).where(
        Person.role == "coordinator", Person.cluster_id == cluster_id).order_by(Person.display_name))).all())
