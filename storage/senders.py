"""Who sent an event: read on every event, as plain values rather than ORM objects.

Loading the sender as an ORM graph (identity, person, unit, province, cluster) cost more than any other
statement of an event, about a quarter of the database's share of it on PostgreSQL (bench/report_flow.py):
SQLAlchemy builds its loaders afresh for every query. The same columns read as one row of plain values cost
a third of that. Handlers read the sender; what changes it is explicit (``unblocked``, ``set_locale`` here;
registration and roles in ``storage.people``), and a handler that needs the person as an ORM object (as the
author of a report) loads it (``person_record``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import conversations, db, inbox
from storage.conversations import ConversationState
from storage.models import Cluster, Conversation, Identity, Person, Province, Unit

_identities = cast(Table, Identity.__table__)
_people = cast(Table, Person.__table__)
_units = cast(Table, Unit.__table__)
_provinces = cast(Table, Province.__table__)
_clusters = cast(Table, Cluster.__table__)


@dataclass(frozen=True)
class ProvinceRef:
    code: str
    name: str
    cluster_id: int | None


@dataclass(frozen=True)
class UnitRef:
    id: int
    code: str
    name: str
    kind: str
    province_code: str
    province: ProvinceRef


@dataclass(frozen=True)
class ClusterRef:
    id: int
    number: int
    name: str


@dataclass(frozen=True)
class Sender:
    """The person behind an event, with the identity it came from; ``id`` is the person's."""

    identity_id: int
    blocked: bool
    id: int
    display_name: str
    role: str | None
    locale: str | None
    unit_id: int | None
    cluster_id: int | None
    unit: UnitRef | None
    cluster: ClusterRef | None


COLUMNS = (
    _identities.c.id.label("s_identity"), _identities.c.blocked_at.label("s_blocked_at"),
    _people.c.id.label("s_person"), _people.c.display_name.label("s_name"), _people.c.role.label("s_role"),
    _people.c.locale.label("s_locale"), _people.c.unit_id.label("s_unit"), _people.c.cluster_id.label("s_cluster"),
    _units.c.code.label("s_unit_code"), _units.c.name.label("s_unit_name"), _units.c.kind.label("s_unit_kind"),
    _units.c.province_code.label("s_province"), _provinces.c.name.label("s_province_name"),
    _provinces.c.cluster_id.label("s_province_cluster"),
    _clusters.c.number.label("s_cluster_number"), _clusters.c.name.label("s_cluster_name"),
)


def joined(left: Any) -> Any:
    """``left`` with the sender of ``:channel`` / ``:user`` joined to it (every column None for a stranger)."""
    return (left
            .outerjoin(_identities, and_(_identities.c.channel == bindparam("channel"),
                                         _identities.c.external_id == bindparam("user")))
            .outerjoin(_people, _people.c.id == _identities.c.person_id)
            .outerjoin(_units, _units.c.id == _people.c.unit_id)
            .outerjoin(_provinces, _provinces.c.code == _units.c.province_code)
            .outerjoin(_clusters, _clusters.c.id == _people.c.cluster_id))


def of_row(row: Any) -> Sender | None:
    """The sender in a row holding ``COLUMNS``."""
    if row.s_identity is None:
        return None
    unit = None
    if row.s_unit_code is not None:
        unit = UnitRef(row.s_unit, row.s_unit_code, row.s_unit_name, row.s_unit_kind, row.s_province,
                       ProvinceRef(row.s_province, row.s_province_name, row.s_province_cluster))
    cluster = ClusterRef(row.s_cluster, row.s_cluster_number, row.s_cluster_name) \
        if row.s_cluster_number is not None else None
    return Sender(identity_id=row.s_identity, blocked=row.s_blocked_at is not None, id=row.s_person,
                  display_name=row.s_name, role=row.s_role, locale=row.s_locale, unit_id=row.s_unit,
                  cluster_id=row.s_cluster, unit=unit, cluster=cluster)


# One row whether or not the sender is known: the sender's columns are joined to it.
ONE_ROW = select(literal_column("1").label("one")).subquery("one")
_SENDER = select(*COLUMNS).select_from(joined(ONE_ROW))


async def sender(session: AsyncSession, channel: str, external_id: str) -> Sender | None:
    row = (await (await db.connection(session)).execute(_SENDER, {"channel": channel, "user": external_id})).one()
    return of_row(row)


_conversation = Conversation.__table__.alias("conversation")
_CONVERSATION_AND_SENDER = (
    select(_conversation.c.id.label("conversation_id"), _conversation.c.flow, _conversation.c.step,
           _conversation.c.data, _conversation.c.seq, *COLUMNS)
    .select_from(joined(ONE_ROW.outerjoin(_conversation, and_(
        _conversation.c.channel == bindparam("channel"), _conversation.c.user_external_id == bindparam("user")))))
)


_taken = inbox.TAKE.cte("taken")
_CONVERSATION_SENDER_TAKING = _CONVERSATION_AND_SENDER.add_columns(
    select(_taken.c.id).scalar_subquery().label("taken"))


async def conversation_and_sender(session: AsyncSession, channel: str,
                                  external_id: str) -> tuple[ConversationState, Sender | None]:
    """The conversation (``conversations.lock``) and the sender read in one statement, once the conversation is
    locked: on SQLite the transaction holds the write lock from its first statement (``BEGIN IMMEDIATE``); on
    PostgreSQL ``conversations.take_lock`` comes first."""
    row = (await (await db.connection(session)).execute(
        _CONVERSATION_AND_SENDER, {"channel": channel, "user": external_id})).one()
    return await _conversation_of(session, channel, external_id, row), of_row(row)


async def conversation_sender_taking(session: AsyncSession, channel: str, external_id: str,
                                     entry_id: int) -> tuple[ConversationState, Sender | None, bool]:
    """PostgreSQL, where each statement is a round trip: ``conversation_and_sender``, and whether
    ``inbox.take`` took the entry being handled, in one statement, after ``conversations.take_lock``."""
    row = (await (await db.connection(session)).execute(
        _CONVERSATION_SENDER_TAKING, {"channel": channel, "user": external_id, "id_": entry_id})).one()
    return await _conversation_of(session, channel, external_id, row), of_row(row), row.taken is not None


async def _conversation_of(session: AsyncSession, channel: str, external_id: str, row: Any) -> ConversationState:
    """The conversation as read along with the sender; a user's first event creates it (``conversations.lock``)."""
    if row.conversation_id is None:
        return await conversations.lock(session, channel, external_id)
    return conversations.state_of(row.conversation_id, row.flow, row.step, row.data, row.seq)


_UNBLOCK = update(_identities).where(_identities.c.id == bindparam("id_")).values(blocked_at=None)


async def unblocked(session: AsyncSession, who: Sender) -> Sender:
    """The sender wrote again: the bot may reach them again (deliveries had marked them as blocked)."""
    if not who.blocked:
        return who
    await (await db.connection(session)).execute(_UNBLOCK, {"id_": who.identity_id})
    return replace(who, blocked=False)


_LOCALE = update(_people).where(_people.c.id == bindparam("id_")).values(locale=bindparam("locale_"))


async def set_locale(session: AsyncSession, who: Sender, locale: str) -> Sender:
    await (await db.connection(session)).execute(_LOCALE, {"id_": who.id, "locale_": locale})
    return replace(who, locale=locale)


async def cluster_record(session: AsyncSession, who: Sender) -> Cluster | None:
    """The cluster the sender coordinates, as an ORM object (with what ``ClusterRef`` leaves out)."""
    return await session.get(Cluster, who.cluster_id) if who.cluster_id is not None else None


async def person_record(session: AsyncSession, who: Sender) -> Person:
    """The sender's person as an ORM object, for what relates other rows to it (a report's author)."""
    person = await session.get(Person, who.id)
    assert person is not None, f"person {who.id} is gone"
    return person
