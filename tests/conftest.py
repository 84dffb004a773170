"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL when TWINBOT_TEST_DATABASE_URL says so),
a fixed clock, and a guard that fails any test reaching beyond loopback."""

from __future__ import annotations

import datetime as dt
import graphlib
import ipaddress
import logging
import os
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from handlers.context import CoreConfig
from handlers.core import Core
from storage import migrate, registry
from storage.db import Database

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# Monday 23 November 2026, 10:00 in Hà Nội.
NOW = dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.UTC)
TEST_DB_URL = os.environ.get("TWINBOT_TEST_DATABASE_URL", "")


# --- no network beyond loopback -------------------------------------------------------------

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _loopback(address: object) -> bool:
    if isinstance(address, str | bytes):  # AF_UNIX paths
        return True
    host = address[0] if isinstance(address, tuple) else address
    if host in ("localhost", "", None):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: object) -> None:
    if not _loopback(address):
        raise RuntimeError(f"test tried to reach the network: {address!r}")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    if not _loopback(address):
        raise RuntimeError(f"test tried to reach the network: {address!r}")
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    if isinstance(host, bytes):
        host = host.decode()
    if host is not None and not _loopback((host,)) and host not in ("localhost",):
        raise RuntimeError(f"test tried to resolve a network host: {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", _guarded_getaddrinfo)


# --- database -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file holding the sample registry, copied for every test (quicker than migrating)."""
    import asyncio

    path = tmp_path_factory.mktemp("template") / "template.db"

    async def build() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        await migrate.upgrade(db)
        async with db.unit_of_work() as uow:
            await registry.apply_registry(uow.session, registry.load_registry_file(registry.SAMPLE_REGISTRY))
            await uow.commit()
        await db.dispose()  # the last connection to close folds the WAL back into the file

    asyncio.run(build())
    return path


# Built once per run: the statements that put the test database back to "migrated, sample registry applied".
_pg_reset: str | None = None
_SEED = "twinbot_test_seed"


async def _fresh_postgres() -> Database:
    global _pg_reset
    # Commits need not wait for the disk here (a test's database is thrown away); the bot's own processes,
    # which the crash tests kill, keep PostgreSQL's default.
    db = Database(TEST_DB_URL, connect_args={"timeout": 10, "server_settings": {"synchronous_commit": "off"}})
    if _pg_reset is None:
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await migrate.upgrade(db)
        async with db.unit_of_work() as uow:
            await registry.apply_registry(uow.session, registry.load_registry_file(registry.SAMPLE_REGISTRY))
            await uow.commit()
        async with db.engine.begin() as conn:
            _pg_reset = await _seed_copy(conn)
        return db
    async with db.engine.connect() as conn:
        # One round trip, several statements: only the simple protocol takes them (and no parameters).
        await (await conn.get_raw_connection()).driver_connection.execute(_pg_reset)  # type: ignore[union-attr]
    return db


async def _seed_copy(conn: AsyncConnection) -> str:
    """Copy the freshly seeded tables aside; return what empties every table, copies the seed back and sets
    each id sequence where ``TRUNCATE … RESTART IDENTITY`` and seeding again would leave it. Applying the
    registry for every test cost a third of a second, a third of the PostgreSQL suite's time."""
    tables = list((await conn.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
    ))).scalars())
    references = (await conn.execute(text(
        "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c "
        "JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' AND n.nspname = 'public'"
    ))).all()
    sequences = (await conn.execute(text(
        # Schema and table named in full: the planner may call the function on other schemas' rows first.
        "SELECT * FROM (SELECT table_name, column_name, "
        "pg_get_serial_sequence(format('%I.%I', table_schema, table_name), column_name) AS sequence "
        "FROM information_schema.columns WHERE table_schema = 'public') AS c WHERE sequence IS NOT NULL"
    ))).all()
    # Referenced tables first, so that rows go back without a foreign key refusing them, and out in the
    # opposite order (no superuser needed to switch the checks off).
    order = graphlib.TopologicalSorter({table: set() for table in tables})
    for child, parent in references:
        if child != parent:
            order.add(child.strip('"'), parent.strip('"'))
    tables = list(order.static_order())
    await conn.execute(text(f"DROP SCHEMA IF EXISTS {_SEED} CASCADE"))
    await conn.execute(text(f"CREATE SCHEMA {_SEED}"))
    seeded = []
    for table in tables:
        await conn.execute(text(f'CREATE TABLE {_SEED}."{table}" AS TABLE public."{table}"'))
        if await conn.scalar(text(f'SELECT EXISTS (SELECT 1 FROM public."{table}")')):
            seeded.append(table)
    return "\n".join([
        "BEGIN;",
        *(f'DELETE FROM public."{table}";' for table in reversed(tables)),
        *(f'INSERT INTO public."{table}" SELECT * FROM {_SEED}."{table}";' for table in seeded),
        *(f"SELECT setval('{sequence}', COALESCE((SELECT max(\"{column}\") FROM public.\"{table}\"), 0) + 1, false);"
          for table, column, sequence in sequences),
        "COMMIT;",
    ])


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path) -> str:
    if TEST_DB_URL:
        return TEST_DB_URL
    path = tmp_path / "twinbot.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = await _fresh_postgres() if TEST_DB_URL else Database(db_url)
    yield database
    await database.dispose()


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def config(clock: Clock) -> CoreConfig:
    return CoreConfig(tz=TZ, default_locale="vi", bot_username="twinbot_test_bot", clock=clock, album_quiet=0.2)


@pytest.fixture
def core(db: Database, config: CoreConfig) -> Core:
    return Core(db, config)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The CLI's main() installs its own root handler; put pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


@pytest.fixture
def env_clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in list(os.environ):
        if key.startswith("TWINBOT_") and key != "TWINBOT_TEST_DATABASE_URL":
            monkeypatch.delenv(key)
    yield
