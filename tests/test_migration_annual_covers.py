"""Migration 0012: the indexes the annual tables read a period from cover each report's event and whether each
figure is an estimate, so that counting an event once reads no table row, and SQLite counts reports per cell as
it reads them, unsorted (its plans say so); down to 0011 and back up again, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.pool import NullPool

from storage import annual, migrate
from storage.db import Database
from storage.scope import Scope
from tests.conftest import TEST_DB_URL

SCHEMA = "twinbot_migration_covers_test"


@pytest.fixture
async def fresh(tmp_path: Path) -> AsyncIterator[Database]:
    """An empty database in its own file (SQLite) or schema (PostgreSQL), at the newest revision."""
    if TEST_DB_URL:
        setup = Database(TEST_DB_URL, poolclass=NullPool)
        async with setup.engine.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            await conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        await setup.dispose()
        db = Database(TEST_DB_URL, poolclass=NullPool,
                      connect_args={"server_settings": {"search_path": SCHEMA}, "timeout": 10})
    else:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'covers.db'}")
    await migrate.upgrade(db)
    yield db
    await db.dispose()
    if TEST_DB_URL:
        setup = Database(TEST_DB_URL, poolclass=NullPool)
        async with setup.engine.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        await setup.dispose()


async def definitions(db: Database) -> dict[str, str]:
    async with db.reader() as session:
        if db.is_sqlite:
            found = await session.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))
        else:
            found = await session.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = :s"),
                                          {"s": SCHEMA})
        return {name: sql for name, sql in found.all()
                if name in ("ix_reports_cells", "ix_report_measures_cover", "ix_reports_groups")}


async def test_the_annual_reads_are_covered_up_and_down(fresh: Database) -> None:
    covered = await definitions(fresh)
    assert "event_id" in covered["ix_reports_cells"] and "approx" in covered["ix_report_measures_cover"]
    if fresh.is_sqlite:
        statements: list[tuple[str, Any]] = []

        def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
            statements.append((statement, parameters))

        event.listen(fresh.read_engine.sync_engine, "before_cursor_execute", seen)
        async with fresh.reader() as session:
            await annual.cells(session, start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31),
                               scope=Scope(everything=True), measures=["gift_packages"])
            conn = await session.connection()
            plans = [" ".join(str(row[-1]) for row in (await conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + statement, tuple(parameters))).all())
                for statement, parameters in statements if statement.lstrip().startswith(("SELECT", "WITH"))]
        event.remove(fresh.read_engine.sync_engine, "before_cursor_execute", seen)
        assert len(plans) == 2
        assert "ix_reports_groups" in plans[0] and "TEMP B-TREE" not in plans[0]  # counted as read, unsorted
        # The figures: the period's reports by date, put in order, then each one's figures.
        assert "COVERING INDEX ix_reports_cells" in plans[1] and "COVERING INDEX ix_report_measures_cover" in plans[1]

    await migrate.downgrade(fresh, "0011")
    before = await definitions(fresh)
    assert "event_id" not in before["ix_reports_cells"] and "created_at" in before["ix_reports_cells"]
    assert "approx" not in before["ix_report_measures_cover"] and "ix_reports_groups" not in before
    await migrate.upgrade(fresh)
    assert await definitions(fresh) == covered
