"""Schema upgrades with Alembic, run at start-up and by ``twinbot db upgrade``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from storage.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    return config


def head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision``. A database already there is only read: every ``twinbot`` command
    checks this, and must not queue for SQLite's write lock behind a busy bot to learn nothing is to do."""
    if revision == "head" and await current(db) == head():
        return
    async with db.writer() as conn:
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade(db: Database, revision: str) -> None:
    """Take the schema back to ``revision`` (each migration's ``downgrade`` is tested)."""
    async with db.writer() as conn:
        await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))


async def current(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with db.reader() as session:
        connection = await session.connection()
        return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


async def revision(db: Database, message: str) -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(
            lambda sync: command.revision(alembic_config(sync), message=message, autogenerate=True)
        )
