"""What each ``twinbot`` subcommand does, once settings are loaded."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from bot.app import build_app, prepare_database
from bot.errors import CliError
from bot.settings import Settings
from storage import migrate, people, registry
from storage.db import Database
from storage.models import utcnow


def _out(text: str) -> None:
    sys.stdout.write(text + ("" if text.endswith("\n") else "\n"))


async def console(args: argparse.Namespace, settings: Settings) -> int:
    from bot.channels.console import ConsoleChannel

    if settings.log_level != "DEBUG":
        logging.getLogger().setLevel(logging.WARNING)  # the terminal is the conversation
    app = await build_app(settings, seed_sample=not args.no_sample)
    try:
        channel = ConsoleChannel(app.core, user_id=args.user, language_code=args.lang, files_dir=args.files)
        greeting = "twinbot console – /quit to leave."
        async with app.db.unit_of_work() as uow:
            registered = await people.identity(uow.session, "console", channel.user_id)
            if registered is None:
                unit = await registry.demo_unit(uow.session)
                if unit is not None:
                    invite = await people.create_invite(uow.session, role="officer", unit=unit, now=utcnow(),
                                                        days=settings.invite_days)
                    greeting += (f"\nDemo: send  /start {invite.code}  to register as officer of {unit.name}."
                                 "\nOr create your own with: twinbot invite --role admin")
            await uow.commit()
        await channel.repl(greeting=greeting)
    finally:
        await app.close()
    return 0


async def _bot_username(settings: Settings) -> str | None:
    if settings.bot_username:
        return settings.bot_username.lstrip("@")
    return None


async def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.serve import serve

    return await serve(settings, "polling")


async def webhook(args: argparse.Namespace, settings: Settings) -> int:
    from bot.serve import serve

    workers = getattr(args, "workers", 1)
    if not 1 <= workers <= 64:
        raise CliError("--workers must be between 1 and 64")
    if workers > 1:
        from bot.serve import configured
        from bot.workers import supervise

        configured(settings, "webhook")  # a missing setting is said once, here, not by every worker
        return await supervise(settings, workers)
    return await serve(settings, "webhook")


async def db(args: argparse.Namespace, settings: Settings) -> int:
    database = Database(settings.database_url)
    try:
        if args.db_command == "upgrade":
            await migrate.upgrade(database)
            async with database.unit_of_work() as uow:
                await registry.seed_provinces(uow.session)
                await uow.commit()
            _out(f"schema at {await migrate.current(database)}")
        elif args.db_command == "current":
            _out(str(await migrate.current(database)))
        elif args.db_command == "revision":
            await migrate.revision(database, args.message)
    finally:
        await database.dispose()
    return 0


async def org(args: argparse.Namespace, settings: Settings) -> int:
    if args.org_command == "sample":
        _out(str(registry.SAMPLE_REGISTRY))
        return 0
    if args.org_command == "import":
        try:
            spec = registry.load_registry_file(args.file)
        except registry.RegistryError as exc:
            raise CliError(f"{args.file} was not imported; nothing changed:\n" + "\n".join(exc.problems)) from None
        database = await prepare_database(settings)
        try:
            async with database.unit_of_work() as uow:
                summary = await registry.apply_registry(uow.session, spec)
                if not args.dry_run:
                    await uow.commit()
        finally:
            await database.dispose()
        verb = "would change" if args.dry_run else "imported"
        _out(f"{args.file}: {verb} – " + registry.describe_summary(summary))
        return 0
    database = await prepare_database(settings)
    try:
        async with database.unit_of_work() as uow:
            text = await registry.export_registry(uow.session)
    finally:
        await database.dispose()
    if args.file:
        args.file.write_text(text, encoding="utf-8")
        _out(f"wrote {args.file}")
    else:
        sys.stdout.write(text)
    return 0


async def invite(args: argparse.Namespace, settings: Settings) -> int:
    database = await prepare_database(settings)
    try:
        async with database.unit_of_work() as uow:
            unit = cluster = None
            if args.role == "officer":
                if not args.unit:
                    raise CliError("an officer invite needs --unit CODE (see `twinbot org export` for codes)")
                unit = await people.unit_by_code(uow.session, args.unit)
                if unit is None or not unit.active:
                    raise CliError(f"no unit with the code {args.unit!r}")
            elif args.role == "coordinator":
                if args.cluster is None:
                    raise CliError("a coordinator invite needs --cluster NUMBER")
                cluster = await people.cluster_by_number(uow.session, args.cluster)
                if cluster is None:
                    raise CliError(f"no cluster number {args.cluster}")
            days = settings.invite_days if args.days is None else args.days
            if not 1 <= days <= 365:
                raise CliError("--days must be between 1 and 365")
            created = await people.create_invite(uow.session, role=args.role, unit=unit, cluster=cluster,
                                                 now=utcnow(), days=days)
            await uow.commit()
    finally:
        await database.dispose()
    username = await _bot_username(settings)
    link = f"https://t.me/{username}?start={created.code}" if username else None
    if args.json:
        _out(json.dumps({"code": created.code, "link": link, "role": created.role,
                         "expires_at": created.expires_at.isoformat()}, ensure_ascii=False))
        return 0
    target = unit.name if unit else (f"cluster {cluster.number}" if cluster else "everything")
    _out(f"Invite {created.code} – {created.role} of {target}, single use, "
         f"expires {created.expires_at.astimezone(settings.tz):%d/%m/%Y %H:%M}")
    _out(f"Link: {link}" if link else f"The new user sends: /start {created.code}")
    return 0
