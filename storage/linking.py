"""Linking a second channel account (Zalo beside Telegram, say) to a person who is already registered.

A link code is a single-use invite with the role ``link``, created by the person themself. Redeemed from
another account it adds that account as one more identity of the same person, so their reports, role and
digests stay one person's. It never merges two people: an account that already belongs to someone else is
refused.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import people
from storage.models import Identity, Invite, Person
from storage.senders import Sender

LINK_ROLE = "link"
LINK_HOURS = 24


async def create_link_code(session: AsyncSession, person: Person | Sender, *, now: dt.datetime,
                           hours: int = LINK_HOURS) -> Invite:
    """A fresh code for ``person``; their earlier unused codes stop working."""
    for old in (await session.scalars(select(Invite).where(
            Invite.role == LINK_ROLE, Invite.created_by_person_id == person.id, Invite.used_at.is_(None)))):
        old.expires_at = min(old.expires_at, now)
    invite = Invite(code="".join(secrets.choice(people._CODE_ALPHABET) for _ in range(10)), role=LINK_ROLE,
                    created_at=now, expires_at=now + dt.timedelta(hours=hours), created_by_person_id=person.id)
    session.add(invite)
    await session.flush()
    return invite


def is_link(invite: Invite | None) -> bool:
    return invite is not None and invite.role == LINK_ROLE


@dataclass(frozen=True)
class Linked:
    person: Person
    already: bool = False  # the account was this person's before


class LinkError(ValueError):
    """``reason``: used, expired, gone (the person no longer exists) or taken (the account is someone else's)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def redeem(session: AsyncSession, invite: Invite, *, channel: str, external_id: str, chat_id: str,
                 username: str | None, now: dt.datetime) -> Linked:
    """Attach the sender's account to the code's person. ``invite`` must be locked (``invite_by_code``)."""
    if invite.used_at is not None:
        raise LinkError("used")
    if invite.expires_at <= now:
        raise LinkError("expired")
    person = await session.get(Person, invite.created_by_person_id) if invite.created_by_person_id else None
    if person is None or person.role is None:
        raise LinkError("gone")
    existing = await people.identity(session, channel, external_id)
    if existing is not None and existing.person_id != person.id:
        raise LinkError("taken")
    invite.used_at = now
    invite.used_by_person_id = person.id
    if existing is not None:
        await session.flush()
        return Linked(person, already=True)
    session.add(Identity(person_id=person.id, channel=channel, external_id=external_id, chat_id=chat_id,
                         username=username, created_at=now))
    await session.flush()
    return Linked(person)
