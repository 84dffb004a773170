"""The ``twinbot`` command: console, polling, webhook, database, registry, invites, digests and annual reports."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.errors import CliError
from bot.redaction import setup_logging
from bot.settings import Settings, SettingsError, load_settings

log = logging.getLogger("twinbot")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twinbot",
        description="Report border twinning activities by chat. Settings come from TWINBOT_* "
        "environment variables and an optional .env file (see README).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    console = sub.add_parser("console", help="talk to the bot in this terminal (no token, no network)")
    console.add_argument("--user", help="console user id (default: your login name)")
    console.add_argument("--lang", choices=["vi", "en"], help="language for a new console user")
    console.add_argument("--no-sample", action="store_true", help="do not load the sample organisation "
                         "into an empty database")
    console.add_argument("--files", type=Path, default=Path("twinbot-files"), metavar="DIR",
                         help="where the spreadsheets and charts the bot sends are written (default twinbot-files)")

    sub.add_parser("run", help="serve Telegram and/or Zalo by long polling, with the digest scheduler "
                   "(needs TWINBOT_TELEGRAM_TOKEN or TWINBOT_ZALO_TOKEN)")
    webhook = sub.add_parser("webhook", help="serve Telegram and/or Zalo webhooks with an aiohttp server, with the "
                             "digest scheduler (needs a token and TWINBOT_WEBHOOK_URL, TWINBOT_WEBHOOK_SECRET)")
    webhook.add_argument("--workers", type=int, default=1, metavar="N",
                         help="worker processes sharing the port (several cores; use PostgreSQL), default 1")

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_command", metavar="ACTION",
                                                                    required=True)
    db.add_parser("upgrade", help="create or upgrade the schema to the latest version")
    db.add_parser("current", help="print the schema version of the database")
    revision = db.add_parser("revision", help="(developers) autogenerate a migration from the models")
    revision.add_argument("-m", "--message", required=True, help="what the migration does")

    org = sub.add_parser("org", help="organisation registry").add_subparsers(dest="org_command",
                                                                             metavar="ACTION", required=True)
    imp = org.add_parser("import", help="load or update clusters, units and twinning pairs from a YAML file")
    imp.add_argument("file", type=Path)
    imp.add_argument("--dry-run", action="store_true", help="check the file and show what would change")
    exp = org.add_parser("export", help="write the registry in the import format")
    exp.add_argument("file", type=Path, nargs="?", help="output file (default: standard output)")
    org.add_parser("sample", help="print the path of the bundled sample registry")

    invite = sub.add_parser("invite", help="create a single-use invite and print it")
    invite.add_argument("--role", required=True, choices=["officer", "coordinator", "admin"])
    invite.add_argument("--unit", help="unit code (officers)")
    invite.add_argument("--cluster", type=int, help="cluster number (coordinators)")
    invite.add_argument("--days", type=int, help="days until it expires (default TWINBOT_INVITE_DAYS, 7)")
    invite.add_argument("--json", action="store_true", help='print {"code": ..., "link": ...}')

    from bot import annual_cli, digest_cli

    digest_cli.add_parser(sub)
    annual_cli.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        secrets = [s.get_secret_value() for s in (settings.telegram_token, settings.webhook_secret,
                                                  settings.zalo.token, settings.zalo.webhook_secret) if s]
        setup_logging(settings.log_level, secrets)
        return asyncio.run(dispatch(args, settings))
    except SettingsError as exc:
        print(f"twinbot: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    except CliError as exc:
        print(f"twinbot: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # Through the redacting log handler rather than Python's own traceback printer, which would
        # show a token that found its way into an exception message (a URL with /bot<token>/, say).
        log.critical("twinbot stopped by an unexpected error: %s", exc, exc_info=True)
        return 1


async def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from bot import annual_cli, digest_cli, subcommands

    handler = {
        "console": subcommands.console,
        "run": subcommands.run,
        "webhook": subcommands.webhook,
        "db": subcommands.db,
        "org": subcommands.org,
        "invite": subcommands.invite,
        "digest": digest_cli.digest,
        "report": annual_cli.report,
        "indicators": annual_cli.indicators,
        "plan": annual_cli.plan,
    }[args.command]
    return await handler(args, settings)


if __name__ == "__main__":
    sys.exit(main())
