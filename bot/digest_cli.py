"""``twinbot digest preview`` and ``twinbot digest send``.

    twinbot digest preview --cluster 2 --week 2026-W47 --out DIR   # text, chart and XLSX per language; sends nothing
    twinbot digest send --cluster 2 --week 2026-W47                # owe it to every recipient now and send it

``send`` records its deliveries like the scheduler does, so a digest already delivered (by the schedule or an
earlier ``send``) is not sent to anyone twice; it says so instead.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.settings import Settings

if TYPE_CHECKING:
    from storage.digests import IsoWeek


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    digest = sub.add_parser("digest", help="weekly cluster digests: preview to files, or send now")
    actions = digest.add_subparsers(dest="digest_command", metavar="ACTION", required=True)
    preview = actions.add_parser("preview", help="write the message (each language), the chart and the XLSX "
                                 "to a directory, sending nothing")
    send = actions.add_parser("send", help="send the digest to the cluster's coordinators and bound groups now")
    for parser in (preview, send):
        parser.add_argument("--cluster", type=int, required=True, help="cluster number")
        parser.add_argument("--week", type=_week, help="ISO week, e.g. 2026-W47 (default: last week)")
    preview.add_argument("--out", type=Path, required=True, help="directory to write to (created if missing)")


def _week(text: str) -> IsoWeek:
    from storage.digests import IsoWeek

    try:
        return IsoWeek.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}; write it like 2026-W47") from None


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


async def digest(args: argparse.Namespace, settings: Settings) -> int:
    if args.digest_command == "preview":
        return await preview(args, settings)
    return await send(args, settings)


def _default_week(settings: Settings) -> IsoWeek:
    from storage.digests import IsoWeek

    return IsoWeek.of(dt.datetime.now(settings.tz).date()).previous


async def preview(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import prepare_database
    from bot.channels.markup import to_plain
    from bot.errors import CliError
    from handlers.digest import build_text, collect, digest_replies, file_stem
    from handlers.i18n import LOCALES, Translator
    from storage import digests

    week = args.week or _default_week(settings)
    database = await prepare_database(settings)
    try:
        async with database.unit_of_work() as uow:
            cluster = await digests.cluster_by_number(uow.session, args.cluster)
            if cluster is None:
                raise CliError(f"no cluster number {args.cluster}")
            data = await collect(uow.session, cluster, week, settings.tz)
            args.out.mkdir(parents=True, exist_ok=True)
            for locale in LOCALES:
                t = Translator(locale, settings.tz)
                stem = args.out / file_stem(data, locale)
                stem.with_suffix(".txt").write_text(to_plain(build_text(data, t)) + "\n", encoding="utf-8")
                stem.with_suffix(".html").write_text(build_text(data, t) + "\n", encoding="utf-8")
                written = [stem.with_suffix(".txt"), stem.with_suffix(".html")]
                for file in (await digest_replies(uow.session, data, t))[1].files:
                    (args.out / file.filename).write_bytes(file.content)
                    written.append(args.out / file.filename)
                for path in written:
                    _out(str(path))
    finally:
        await database.dispose()
    return 0


async def send(args: argparse.Namespace, settings: Settings) -> int:
    """Now, through every configured messenger, to whoever has not had it yet."""
    from bot.delivery import DeliveryWorker
    from bot.errors import CliError
    from bot.serve import connected
    from storage import deliveries, digests
    from storage.models import utcnow

    week = args.week or _default_week(settings)
    async with connected(settings, "polling") as serving:
        database = serving.app.db
        worker = DeliveryWorker(database, serving.senders, tz=settings.tz, default_locale=settings.default_locale)
        async with database.unit_of_work() as uow:
            cluster = await digests.cluster_by_number(uow.session, args.cluster)
            if cluster is None:
                raise CliError(f"no cluster number {args.cluster}")
            key = digests.digest_key(cluster.id, week)
            planned = await digests.plan_digest(uow.session, cluster.id, week, worker.channels, now=utcnow())
            await uow.commit()
        outcomes = await worker.drain(key=key)
        async with database.unit_of_work() as uow:
            rows = await deliveries.statuses(uow.session, key)
    if not rows:
        channels = " or ".join(worker.channels)
        _out(f"cluster {args.cluster} has no coordinator on {channels} and no bound group: nothing to send")
        return 0
    if outcomes:
        _out(f"digest of cluster {args.cluster} for {week}: {planned} new recipient(s); "
             + ", ".join(f"{n} {status}" for status, n in sorted(outcomes.items())))
    else:
        _out(f"digest of cluster {args.cluster} for {week}: nothing new to send")
    for row in rows:
        _out(f"  {row.recipient} ({row.person_name or 'group'}): {row.status}"
             + (f" – {row.error}" if row.error and row.status != "sent" else ""))
    return 0
