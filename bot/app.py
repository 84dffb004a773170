"""Composition root: settings in, a ready database and conversation core out."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.settings import Settings, SettingsError
from handlers.context import CoreConfig
from handlers.core import Core
from storage import conversations, migrate, registry, shared_files
from storage.db import POSTGRES_POOL, Database
from storage.models import utcnow

if TYPE_CHECKING:
    from bot.channels.links import FileLinks

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    db: Database
    core: Core
    links: FileLinks | None = None  # files by signed link, where the bot has a public address

    def file_links(self) -> FileLinks | None:
        """The app's file links, made on first use when TWINBOT_PUBLIC_URL and a secret are set."""
        if self.links is None and self.settings.public_url:
            secret = self.settings.link_signing_secret()
            if secret is None:
                log.warning("TWINBOT_PUBLIC_URL is set but no TWINBOT_LINK_SECRET (or TWINBOT_WEBHOOK_SECRET) of "
                            "16 characters or more: files are not offered by link")
                return None
            from bot.channels.links import FileLinks

            self.links = FileLinks(self.db, self.settings.public_url, secret, days=self.settings.link_days,
                                   clock=self.core.config.clock)
        return self.links

    async def close(self) -> None:
        await self.db.dispose()


def core_config(settings: Settings, bot_username: str | None = None, worker: str = "local") -> CoreConfig:
    return CoreConfig(
        tz=settings.tz,
        default_locale=settings.default_locale,
        bot_username=bot_username or settings.bot_username,
        invite_days=settings.invite_days,
        report_max_age_days=settings.report_max_age_days,
        worker=worker,
    )


async def prepare_database(settings: Settings, *, seed_sample: bool = False) -> Database:
    """Upgrade the schema, make the reference provinces current and, for demos, load the sample registry."""
    folder = sqlite_folder(settings.database_url)
    if folder is not None and not folder.is_dir():
        # Checked here rather than left to the driver, whose failed open leaves a thread behind.
        raise SettingsError(f"TWINBOT_DATABASE_URL: cannot open the database (there is no folder {folder})")
    # A connection for each update handled at once, and a few for deferred work, delivery and the sweeper:
    # a smaller pool opens and closes overflow connections (new PostgreSQL backends) under load.
    pool = settings.db_pool_size or max(POSTGRES_POOL, settings.concurrency + 4)
    db = Database(settings.database_url, pool_size=pool)
    try:
        try:
            await migrate.current(db)
        except Exception as exc:
            raise SettingsError(f"TWINBOT_DATABASE_URL: cannot open the database ({why(exc, settings)})") from None
        await migrate.upgrade(db)
        async with db.unit_of_work() as uow:
            await registry.seed_provinces(uow.session)
            # Telegram redelivers for about a day at most; keep a fortnight of seen update ids.
            await conversations.forget_events_before(uow.session, utcnow() - dt.timedelta(days=14))
            await shared_files.forget_expired(uow.session, utcnow())
            if seed_sample and await registry.registry_is_empty(uow.session):
                spec = registry.load_registry_file(registry.SAMPLE_REGISTRY)
                await registry.apply_registry(uow.session, spec)
                log.info("loaded the sample organisation registry")
            await uow.commit()
    except BaseException:
        await db.dispose()
        raise
    return db


def sqlite_folder(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).expanduser().absolute().parent


def why(error: BaseException, settings: Settings) -> str:
    """The first line of what the driver said, without the password the URL may hold."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    text = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    password = make_url(settings.database_url).password
    if password:
        text = text.replace(str(password), "***")
    return text[:300] or type(cause).__name__


async def build_app(settings: Settings, *, seed_sample: bool = False, bot_username: str | None = None,
                    worker: str = "local") -> App:
    db = await prepare_database(settings, seed_sample=seed_sample)
    return App(settings=settings, db=db, core=Core(db, core_config(settings, bot_username, worker)))
