"""The schema. Flow and step names stored here are stable identifiers: rename them only with a migration."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which has no time zones) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime(), dict[str, Any]: JSON(), dt.date: Date(),
    }


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- organisation registry -------------------------------------------------------------------


class Cluster(Base):
    __tablename__ = "clusters"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(200))
    leader_province_code: Mapped[str | None] = mapped_column(String(2))
    deputy_province_code: Mapped[str | None] = mapped_column(String(2))
    basis: Mapped[str | None] = mapped_column(String(300))

    provinces: Mapped[list[Province]] = relationship(back_populates="cluster", order_by="Province.code")


class Province(Base):
    """One of the 34 provincial units in force since 1 July 2025."""

    __tablename__ = "provinces"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    borders: Mapped[str] = mapped_column(String(20), default="")
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id", ondelete="SET NULL"), index=True)

    cluster: Mapped[Cluster | None] = relationship(back_populates="provinces")


class ProvinceAlias(Base):
    """Folded spellings (new and pre-2025 names) that find a province: "ha giang" finds Tuyên Quang."""

    __tablename__ = "province_aliases"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    province_code: Mapped[str] = mapped_column(ForeignKey("provinces.code", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(100))


class Unit(Base):
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    province_code: Mapped[str] = mapped_column(ForeignKey("provinces.code"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Where the unit is (optional, from the registry file): names the place of a position an officer shares.
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]

    province: Mapped[Province] = relationship(lazy="joined")
    pairs: Mapped[list[TwinningPair]] = relationship(back_populates="unit", order_by="TwinningPair.id")


class TwinningPair(Base):
    __tablename__ = "twinning_pairs"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    partner_name: Mapped[str] = mapped_column(String(200))
    partner_country: Mapped[str] = mapped_column(String(2))
    partner_province: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    signed_on: Mapped[dt.date | None]
    signed_precision: Mapped[str | None] = mapped_column(String(5))
    note: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # How often the two sides agreed to meet: quarterly | six_monthly | yearly (``storage.pairs.RHYTHMS``).
    rhythm: Mapped[str | None] = mapped_column(String(12))

    unit: Mapped[Unit] = relationship(back_populates="pairs")


# --- people and onboarding -----------------------------------------------------------------


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(12))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"), index=True)
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id", ondelete="SET NULL"), index=True)
    locale: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit | None] = relationship(lazy="joined")
    cluster: Mapped[Cluster | None] = relationship(lazy="joined")
    identities: Mapped[list[Identity]] = relationship(back_populates="person")


class Identity(Base):
    """A person's account on one channel (Telegram, Zalo, console). Ids are strings on every channel."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[str] = mapped_column(String(64))
    username: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    blocked_at: Mapped[dt.datetime | None]

    person: Mapped[Person] = relationship(back_populates="identities", lazy="joined")


class Invite(Base):
    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    role: Mapped[str] = mapped_column(String(12))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    created_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    used_at: Mapped[dt.datetime | None]
    used_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))

    unit: Mapped[Unit | None] = relationship(lazy="joined")
    cluster: Mapped[Cluster | None] = relationship(lazy="joined")


# --- conversations ------------------------------------------------------------------------


class Conversation(Base):
    """The one row per user and channel that every event locks before it reads anything."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "user_external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_external_id: Mapped[str] = mapped_column(String(64))
    flow: Mapped[str | None] = mapped_column(String(32))
    step: Mapped[str | None] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ProcessedEvent(Base):
    """Events already handled, so a redelivered update is a no-op."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("channel", "event_key"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    event_key: Mapped[str] = mapped_column(String(64))
    processed_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


# --- reports ------------------------------------------------------------------------------


class Report(Base):
    """A submitted activity: one event, with one main kind. Its figures are ``measures`` (one row each);
    what describes it besides (the type of exchange, what was given, the place) is ``details``.

    Reports of one event filed by several units are linked (``storage.events``): ``event_id`` is the
    number of the event's first report on each of them, and NULL on a report that stands alone."""

    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_unit_date", "unit_id", "activity_date"),
        Index("ix_reports_kind_date", "kind", "activity_date"),  # reports that may be one event (storage.events)
        Index("ix_reports_author_created", "author_person_id", "created_at"),
        # Each pair's last activity, one index lookup per pair (/pairs, the digest, the annual tables).
        Index("ix_reports_pair_status_date", "pair_id", "status", "activity_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_token: Mapped[str] = mapped_column(String(36), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    author_person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(20))
    activity_date: Mapped[dt.date] = mapped_column(index=True)
    pair_id: Mapped[int | None] = mapped_column(ForeignKey("twinning_pairs.id", ondelete="SET NULL"))
    # Not a foreign key: the event's number, shared by its reports (SQLite cannot drop a referencing column
    # in place, and copying ``reports`` would delete through every ON DELETE CASCADE).
    event_id: Mapped[int | None] = mapped_column(Integer, index=True)
    partner_name: Mapped[str] = mapped_column(String(200))
    partner_country: Mapped[str] = mapped_column(String(2))
    partner_province: Mapped[str | None] = mapped_column(String(100))
    venue: Mapped[str] = mapped_column(String(12))
    description: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    status: Mapped[str] = mapped_column(String(12), default="submitted")
    status_reason: Mapped[str | None] = mapped_column(String(500))
    # Accent-folded unit, partner, place and description: what /find searches (FTS5 / tsvector).
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship(lazy="joined")
    author: Mapped[Person] = relationship(lazy="joined")
    photos: Mapped[list[ReportPhoto]] = relationship(order_by="ReportPhoto.position", lazy="selectin")
    measures: Mapped[list[ReportMeasure]] = relationship(order_by="ReportMeasure.id", lazy="selectin",
                                                         cascade="all, delete-orphan")


class ReportMeasure(Base):
    """One figure of a report (``handlers.measures`` declares them): a count, a decimal, or a value in one
    currency (``currency`` is empty for the others). Totals add these up, values per currency."""

    __tablename__ = "report_measures"
    __table_args__ = (
        UniqueConstraint("report_id", "measure", "currency"),
        # A period's figures read from the index alone (storage.annual, storage.events), joined to
        # ix_reports_cells (made by hand in migrations 0010 and 0012: its form differs between SQLite and
        # PostgreSQL).
        Index("ix_report_measures_cover", "report_id", "measure", "currency", "amount", "approx"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    measure: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3), default="", server_default="")
    amount: Mapped[Decimal] = mapped_column(Numeric(20, 3))
    approx: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class ReportVersion(Base):
    """The audit trail: every state a report has had, with who changed it and when."""

    __tablename__ = "report_versions"
    __table_args__ = (UniqueConstraint("report_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    action: Mapped[str] = mapped_column(String(12))
    data: Mapped[dict[str, Any]]
    changed_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(String(500))


class ReportPhoto(Base):
    __tablename__ = "report_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    channel: Mapped[str] = mapped_column(String(16))
    file_id: Mapped[str] = mapped_column(String(255))
    file_unique_id: Mapped[str | None] = mapped_column(String(64))
    file_size: Mapped[int | None]
    stored_path: Mapped[str | None] = mapped_column(String(500))


# --- weekly rhythm: digests, reminders, group bindings ---------------------------------------


class GroupBinding(Base):
    """A group chat a coordinator bound to their cluster with /bindgroup; it receives the digest too."""

    __tablename__ = "group_bindings"
    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(String(200))
    bound_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class UnitWeek(Base):
    """What a unit answered for an ISO week besides reports: "nothing to report", and reminders ignored."""

    __tablename__ = "unit_weeks"
    __table_args__ = (UniqueConstraint("unit_id", "week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    week: Mapped[str] = mapped_column(String(8))  # ISO week, "2026-W47"
    nothing_to_report_at: Mapped[dt.datetime | None]
    nothing_to_report_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    reminded_at: Mapped[dt.datetime | None]


class Delivery(Base):
    """One message owed to one recipient (a digest, a reminder): sent exactly once whatever happens.

    ``key`` names what is owed, e.g. ``digest:2:2026-W47`` or ``reminder:2026-W47``; the unique
    (key, recipient) pair is what makes restarts, catch-ups and extra workers harmless.
    """

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("key", "recipient"), Index("ix_deliveries_status_due", "status", "due_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(100))  # "telegram:<chat id>", "zalo:<chat id>"
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | sending | sent | blocked | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    parts_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # messages of it already sent
    due_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The worker holding the claim: a restarted worker takes its own claims back at once.
    owner: Mapped[str | None] = mapped_column(String(100))


class JobRun(Base):
    """A scheduled job's period that has been planned (its deliveries created), so a catch-up runs once."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(16))
    planned_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# --- the unions' half-year and annual reports ---------------------------------------------------


class IndicatorSet(Base):
    """An indicator file as an admin imported it (``twinbot indicators import``): which rows the half-year and
    annual tables have and how each is counted. The latest one is used; earlier ones stay as the record of
    what earlier reports were built from."""

    __tablename__ = "indicator_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(300))
    document: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PlanTarget(Base):
    """One target of a year's plan (``twinbot plan import``): an indicator's figure for a province
    (``province:15``) or a cluster (``cluster:2``) over a reporting year."""

    __tablename__ = "plan_targets"
    __table_args__ = (UniqueConstraint("year", "scope", "indicator"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    scope: Mapped[str] = mapped_column(String(20))
    indicator: Mapped[str] = mapped_column(String(40))
    target: Mapped[Decimal] = mapped_column(Numeric(20, 3))
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# --- what came in and what goes out: stored before it is acknowledged or sent --------------------


class InboxEntry(Base):
    """An update from a messenger, stored before the messenger is told it arrived (HTTP 200, or the next
    ``getUpdates`` offset), so a crash or a restart never loses it. Deleted in the transaction that
    handles it; ``owner`` and ``claimed_until`` say which worker has it in hand."""

    __tablename__ = "inbox"
    # AUTOINCREMENT: SQLite would otherwise hand a deleted entry's id to the next one, and ids are the order.
    __table_args__ = (UniqueConstraint("channel", "event_key"), Index("ix_inbox_user", "channel", "user_key", "id"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    event_key: Mapped[str] = mapped_column(String(64))
    user_key: Mapped[str] = mapped_column(String(64))  # the conversation it belongs to: handled in order
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    owner: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class OutboxEntry(Base):
    """What one event owes one chat (replies, deferred work, a menu to set), written in the event's own
    transaction and deleted once sent: a crash after the commit sends it on restart instead of never.

    ``coalesce`` names an answer that later events replace rather than add to (the count of an album's
    photos), sent when ``due_at`` comes."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "due_at"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    items: Mapped[list[Any]] = mapped_column(JSON)
    parts_done: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    due_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    coalesce: Mapped[str | None] = mapped_column(String(120), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=0)  # bumped when a later event replaces the items
    owner: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class SharedFile(Base):
    """A file the bot offers by link where the messenger cannot send files (a Zalo coordinator's chart or
    spreadsheet), kept until it expires; the link is signed (``bot.channels.links``)."""

    __tablename__ = "shared_files"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, unguessable
    filename: Mapped[str] = mapped_column(String(200))
    mime_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class SendSlot(Base):
    """The next moment a message may go out through a channel, shared by every worker, so that all of them
    together keep to the messenger's overall rate (seconds since the epoch)."""

    __tablename__ = "send_slots"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float, default=0.0)


__all__ = [
    "Base",
    "Cluster",
    "Conversation",
    "Delivery",
    "GroupBinding",
    "Identity",
    "InboxEntry",
    "IndicatorSet",
    "Invite",
    "JobRun",
    "OutboxEntry",
    "Person",
    "PlanTarget",
    "ProcessedEvent",
    "Province",
    "ProvinceAlias",
    "Report",
    "ReportMeasure",
    "ReportPhoto",
    "ReportVersion",
    "SendSlot",
    "SharedFile",
    "TwinningPair",
    "Unit",
    "UnitWeek",
    "utcnow",
]
