"""``twinbot report``, ``twinbot indicators`` and ``twinbot plan``: the union's half-year and annual report from the
command line, and the files it is computed with.

    twinbot report --period 2026-H1 --cluster 2 --out DIR     # DOCX, XLSX and the chat summary (vi, en)
    twinbot report --year 2026 --province "Lào Cai" --out DIR
    twinbot indicators import FILE [--dry-run]                # which rows the tables have, and how each counts
    twinbot indicators export [FILE]
    twinbot plan import FILE [--dry-run]                      # the year's targets (YAML or XLSX)
    twinbot plan export --year 2026 [FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from bot.settings import Settings


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    report = sub.add_parser("report", help="the half-year or annual report of the country, a cluster, a province or "
                            "a unit: DOCX to sign, its tables as XLSX, and the chat summary")
    when = report.add_mutually_exclusive_group()
    when.add_argument("--period", help="2026-H1, 2026-H2, 2026-Q3, 2026, \"6 tháng đầu năm 2026\", "
                      "\"quý III/2026\" or 01/01/2026-30/06/2026 (default: this half-year)")
    when.add_argument("--year", type=int, help="a whole reporting year, e.g. 2026")
    where = report.add_mutually_exclusive_group()
    where.add_argument("--cluster", type=int, help="cluster number")
    where.add_argument("--province", help="province name (new or pre-2025)")
    where.add_argument("--unit", help="unit code")
    report.add_argument("--out", type=Path, required=True, help="directory to write to (created if missing)")
    report.add_argument("--date", help="the document's date, dd/mm/yyyy (default: today); figures are those "
                        "known on that day")

    indicators = sub.add_parser("indicators", help="the indicator rows of the annual tables").add_subparsers(
        dest="indicators_command", metavar="ACTION", required=True)
    imp = indicators.add_parser("import", help="check a whole indicator file (YAML) and use it from now on")
    imp.add_argument("file", type=Path)
    imp.add_argument("--dry-run", action="store_true", help="check the file only")
    exp = indicators.add_parser("export", help="write the indicator file in use (the shipped one until imported)")
    exp.add_argument("file", type=Path, nargs="?", help="output file (default: standard output)")

    plan = sub.add_parser("plan", help="the year's targets per province or cluster").add_subparsers(
        dest="plan_command", metavar="ACTION", required=True)
    imp = plan.add_parser("import", help="check a whole plan (YAML or XLSX) and replace the targets of the "
                          "provinces and clusters it names")
    imp.add_argument("file", type=Path)
    imp.add_argument("--dry-run", action="store_true", help="check the file only")
    exp = plan.add_parser("export", help="write a year's targets as a plan file (YAML)")
    exp.add_argument("--year", type=int, required=True)
    exp.add_argument("file", type=Path, nargs="?", help="output file (default: standard output)")


def _out(text: str) -> None:
    sys.stdout.write(text + ("" if text.endswith("\n") else "\n"))


def _day(text: str) -> dt.date:
    from bot.errors import CliError

    try:
        return dt.datetime.strptime(text, "%d/%m/%Y").date()  # noqa: DTZ007 - a calendar day, no time
    except ValueError:
        raise CliError(f"--date {text!r} is not a day written dd/mm/yyyy") from None


async def report(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import prepare_database
    from bot.channels.markup import to_plain
    from bot.errors import CliError
    from handlers.annual import chat_summary, current_half, file_stem, files, load_spec
    from handlers.annual_report import (
        Subject,
        cluster_subject,
        collect,
        country_subject,
        province_subject,
        unit_subject,
    )
    from handlers.filters import parse_period
    from handlers.i18n import LOCALES, Translator
    from handlers.parsing import Invalid
    from storage import people
    from storage.registry import province_by_name

    today = _day(args.date) if args.date else dt.datetime.now(settings.tz).date()
    database = await prepare_database(settings)
    try:
        async with database.reader() as session, database.reader() as side:
            spec = await load_spec(session)
            try:
                if args.year is not None:
                    period = parse_period(str(args.year), today, year_start=spec.year_start)
                elif args.period:
                    period = parse_period(args.period, today, year_start=spec.year_start)
                else:
                    period = current_half(today, spec)
            except Invalid as exc:
                raise CliError(f"--period: {exc.msgid.format(**exc.values)}") from None
            subject: Subject
            if args.cluster is not None:
                cluster = await people.cluster_by_number(session, args.cluster)
                if cluster is None:
                    raise CliError(f"no cluster number {args.cluster}")
                subject = cluster_subject(cluster)
            elif args.province:
                code = province_by_name(args.province)
                if code is None:
                    raise CliError(f"unknown province {args.province!r}")
                subject = province_subject(code)
            elif args.unit:
                unit = await people.unit_by_code(session, args.unit)
                if unit is None:
                    raise CliError(f"no unit with the code {args.unit!r}")
                subject = unit_subject(unit)
            else:
                subject = country_subject()
            made = await collect(session, subject, period, spec, today=today, tz=settings.tz, side=side)
    finally:
        await database.dispose()
    args.out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for file in files(made):
        path = args.out / file.filename
        path.write_bytes(file.content)
        written.append(path)
    for locale in LOCALES:
        path = args.out / f"{file_stem(made)}-{locale}.txt"
        path.write_text(to_plain(chat_summary(Translator(locale, settings.tz), made)) + "\n", encoding="utf-8")
        written.append(path)
    for path in written:
        _out(str(path))
    return 0


async def indicators(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import prepare_database
    from bot.errors import CliError
    from handlers.annual import load_spec
    from handlers.indicators import IndicatorError, parse_indicators
    from storage import indicator_sets
    from storage.models import utcnow

    if args.indicators_command == "import":
        try:
            text = args.file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"{args.file}: cannot read a UTF-8 text ({exc})") from None
        try:
            spec = parse_indicators(text, str(args.file))
        except IndicatorError as exc:
            raise CliError(f"{args.file} was not imported; nothing changed:\n" + "\n".join(exc.problems)) from None
        if args.dry_run:
            _out(f"{args.file}: {len(spec.indicators)} indicators, correct; nothing changed (--dry-run)")
            return 0
        database = await prepare_database(settings)
        try:
            async with database.unit_of_work() as uow:
                await indicator_sets.save(uow.session, source=str(args.file), document=text, now=utcnow())
                await uow.commit()
        finally:
            await database.dispose()
        _out(f"{args.file}: imported {len(spec.indicators)} indicators; the annual tables use them from now on")
        return 0
    database = await prepare_database(settings)
    try:
        async with database.reader() as session:
            spec = await load_spec(session)
    finally:
        await database.dispose()
    return _write(args.file, spec.document)


async def plan(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import prepare_database
    from bot.errors import CliError
    from handlers.annual import load_spec
    from handlers.plan_file import PlanError, apply_plan, load_plan_file
    from storage import plans
    from storage.models import utcnow

    database = await prepare_database(settings)
    try:
        if args.plan_command == "export":
            async with database.reader() as session:
                targets = await plans.of_year(session, args.year)
            return _write(args.file, _plan_yaml(args.year, targets))
        async with database.unit_of_work() as uow:
            spec = await load_spec(uow.session)
            try:
                parsed = load_plan_file(args.file, spec)
                summary = await apply_plan(uow.session, parsed, now=utcnow())
            except PlanError as exc:
                raise CliError(f"{args.file} was not imported; nothing changed:\n" + "\n".join(exc.problems)) \
                    from None
            if not args.dry_run:
                await uow.commit()
    finally:
        await database.dispose()
    verb = "would replace" if args.dry_run else "imported"
    years = ", ".join(str(y) for y in sorted(parsed.targets))
    _out(f"{args.file}: {verb} {summary.targets} targets of {summary.scopes} provinces or clusters for {years} "
         f"({summary.replaced} targets they had before)")
    return 0


def _plan_yaml(year: int, targets: dict[str, dict[str, Any]]) -> str:
    import yaml

    from storage.registry import PROVINCE_NAMES

    entries = []
    for scope in sorted(targets, key=lambda s: (s.split(":")[0] != "cluster", s)):
        kind, _, ident = scope.partition(":")
        entry: dict[str, Any] = {"cluster": int(ident)} if kind == "cluster" else \
            {"province": PROVINCE_NAMES.get(ident, ident)}
        for key, target in targets[scope].items():
            entry[key] = int(target) if target == target.to_integral_value() else float(target)
        entries.append(entry)
    header = "# twinbot plan; edit and load with `twinbot plan import FILE`\n"
    return header + yaml.safe_dump({"version": 1, "year": year, "targets": entries}, allow_unicode=True,
                                   sort_keys=False, width=110)


def _write(file: Path | None, text: str) -> int:
    if file:
        file.write_text(text, encoding="utf-8")
        _out(f"wrote {file}")
    else:
        sys.stdout.write(text)
    return 0
