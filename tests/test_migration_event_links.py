"""Migration 0011 adds the event number of reports and takes it away again, keeping everything else: reports
filed before it, their figures, versions and photos, and full-text search, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.pool import NullPool

from storage import events, lookup, migrate, registry, stats
from storage.db import Database
from storage.models import Report
from storage.scope import Scope
from tests.conftest import TEST_DB_URL

SCHEMA = "twinbot_migration_events_test"
EVERYTHING = Scope(everything=True)
NOVEMBER = {"start": dt.date(2026, 11, 1), "end": dt.date(2026, 11, 30)}


@pytest.fixture
async def db_at_0010(tmp_path: Path) -> AsyncIterator[Database]:
    """An empty database in its own file (SQLite) or schema (PostgreSQL), brought to 0010 only."""
    if TEST_DB_URL:
        setup = Database(TEST_DB_URL, poolclass=NullPool)
        async with setup.engine.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            await conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        await setup.dispose()
        db = Database(TEST_DB_URL, poolclass=NullPool,
                      connect_args={"server_settings": {"search_path": SCHEMA}, "timeout": 10})
    else:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    await migrate.upgrade(db, "0010")
    async with db.unit_of_work() as uow:
        await registry.apply_registry(uow.session, registry.load_registry_file(registry.SAMPLE_REGISTRY))
        await uow.commit()
    yield db
    await db.dispose()
    if TEST_DB_URL:
        setup = Database(TEST_DB_URL, poolclass=NullPool)
        async with setup.engine.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        await setup.dispose()


async def file_report(db: Database, token: str, unit_code: str, ours: int, words: str) -> None:
    """A report as 0010 stores it, with a figure, a version and a photo."""
    now = dt.datetime(2026, 11, 20, 3, tzinfo=dt.UTC)
    naive = now.replace(tzinfo=None) if db.is_sqlite else now
    async with db.unit_of_work() as uow:
        s = uow.session
        unit_id = (await s.execute(text("SELECT id FROM units WHERE code = :c"), {"c": unit_code})).scalar_one()
        person_id = (await s.execute(text(
            "INSERT INTO people (display_name, role, unit_id, created_at) VALUES ('Cán bộ', 'officer', :u, :t) "
            "RETURNING id"), {"u": unit_id, "t": naive})).scalar_one()
        report_id = (await s.execute(text(
            "INSERT INTO reports (draft_token, unit_id, author_person_id, channel, kind, activity_date, partner_name, "
            "partner_country, venue, description, details, status, search_text, version, created_at, updated_at) "
            "VALUES (:token, :unit, :person, 'console', 'visit', :day, 'Đại đội Biên phòng 216', 'LA', 'ours', "
            ":words, '{}', 'submitted', :words, 1, :t, :t) RETURNING id"),
            {"token": token, "unit": unit_id, "person": person_id, "day": dt.date(2026, 11, 20), "words": words,
             "t": naive})).scalar_one()
        await s.execute(text("INSERT INTO report_measures (report_id, measure, currency, amount, approx) "
                             "VALUES (:r, 'participants_ours', '', :n, false)"), {"r": report_id, "n": ours})
        await s.execute(text("INSERT INTO report_versions (report_id, version, action, data, changed_by_person_id, "
                             "changed_at) VALUES (:r, 1, 'submitted', :d, :p, :t)"),
                        {"r": report_id, "d": json.dumps({"kind": "visit"}), "p": person_id, "t": naive})
        await s.execute(text("INSERT INTO report_photos (report_id, position, channel, file_id) "
                             "VALUES (:r, 0, 'console', :f)"), {"r": report_id, "f": f"photo-{token}"})
        await uow.commit()


async def columns(db: Database) -> set[str]:
    """The columns of ``reports`` and the names of its indexes (but ix_reports_groups, from 0012: SQLAlchemy
    does not reflect an index on expressions, and says so)."""

    def reflect(sync: Any) -> list[str]:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
            return [*(c["name"] for c in inspect(sync).get_columns("reports")),
                    *(str(i["name"]) for i in inspect(sync).get_indexes("reports"))]

    async with db.reader() as session:
        connection = await session.connection()
        return set(await connection.run_sync(reflect))


async def kept(db: Database) -> tuple[int, int, int, int]:
    async with db.reader() as session:
        counts = [(await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
                  for table in ("reports", "report_measures", "report_versions", "report_photos")]
    return counts[0], counts[1], counts[2], counts[3]


async def test_event_links_up_and_down(db_at_0010: Database) -> None:
    db = db_at_0010
    await file_report(db, "a", "THO-DBP-BAT-MOT", 25, "chuc tet dai doi 216")
    await file_report(db, "b", "NAN-DBP-THONG-THU", 40, "giao luu van nghe dai doi 216")

    await migrate.upgrade(db)
    assert await migrate.current(db) == migrate.head()
    assert {"event_id", "ix_reports_event_id", "ix_reports_kind_date"} <= await columns(db)
    async with db.unit_of_work() as uow:
        first, second = [await uow.session.get(Report, n) for n in (1, 2)]
        assert first is not None and second is not None and (first.event_id, second.event_id) == (None, None)
        person = first.author
        assert await events.link(uow.session, first, second, by=person, now=first.created_at)
        await uow.commit()
    async with db.reader() as session:
        breakdown = await stats.figures(session, scope=EVERYTHING, **NOVEMBER)
        assert (breakdown.total.events, breakdown.total.reports) == (1, 2)
        assert breakdown.total.total("participants_ours") == 40
        assert [r.id for r in await lookup.search(session, EVERYTHING, "chúc Tết")] == [1]
    assert await kept(db) == (2, 2, 4, 2)  # a version more on each: linked

    await migrate.downgrade(db, "0010")
    assert await migrate.current(db) == "0010"
    assert not {"event_id", "ix_reports_event_id", "ix_reports_kind_date"} & await columns(db)
    assert await kept(db) == (2, 2, 4, 2)  # nothing deleted with the column
    await file_report(db, "c", "THO-BAN-KHEO", 10, "giao luu ban tha lau")  # the 0010 schema takes reports
    async with db.reader() as session:
        found = (await session.execute(text("SELECT rowid FROM reports_fts WHERE reports_fts MATCH 'tha'")
                                       if db.is_sqlite else text(
            "SELECT id FROM reports WHERE to_tsvector('simple', search_text) @@ to_tsquery('simple', 'tha')"))).all()
    assert [row[0] for row in found] == [3]  # the full-text index follows the reports still

    await migrate.upgrade(db)
    async with db.reader() as session:
        breakdown = await stats.figures(session, scope=EVERYTHING, **NOVEMBER)
    # The links went with the column: three reports, each its own event again.
    assert (breakdown.total.events, breakdown.total.reports) == (3, 3)
    assert breakdown.total.total("participants_ours") == 75
