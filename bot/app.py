"""Composition root: settings in, a ready database and conversation core out."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from bot.settings import Settings
from handlers.context import CoreConfig
from handlers.core import Core
from storage import conversations, migrate, registry
from storage.db import Database
from storage.models import utcnow

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    db: Database
    core: Core

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
    db = Database(settings.database_url)
    try:
        await migrate.upgrade(db)
        async with db.unit_of_work() as uow:
            await registry.seed_provinces(uow.session)
            # Telegram redelivers for about a day at most; keep a fortnight of seen update ids.
            await conversations.forget_events_before(uow.session, utcnow() - dt.timedelta(days=14))
            if seed_sample and await registry.registry_is_empty(uow.session):
                spec = registry.load_registry_file(registry.SAMPLE_REGISTRY)
                await registry.apply_registry(uow.session, spec)
                log.info("loaded the sample organisation registry")
            await uow.commit()
    except BaseException:
        await db.dispose()
        raise
    return db


async def build_app(settings: Settings, *, seed_sample: bool = False, bot_username: str | None = None,
                    worker: str = "local") -> App:
    db = await prepare_database(settings, seed_sample=seed_sample)
    return App(settings=settings, db=db, core=Core(db, core_config(settings, bot_username, worker)))
