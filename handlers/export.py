"""/export: the reports of a period as an XLSX file, counted at once, then written in a drawing process."""

from __future__ import annotations

import asyncio
import datetime as dt
import pickle
import tempfile
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import func, select

from handlers import offload, totals
from handlers.commands import command
from handlers.context import Context
from handlers.events import XLSX_MIME_TYPE, OutFile, Reply
from handlers.figures import COORDINATING, asked_period
from handlers.filters import Period
from handlers.i18n import N_, Safe, Translator
from handlers.jobs import JobContext, job
from handlers.report_form import COUNTRIES, FIELDS, KINDS
from storage import stats
from storage.db import reading_apart
from storage.digests import ReportRow, report_rows, report_rows_query
from storage.models import Report
from storage.registry import PROVINCE_NAMES
from storage.scope import Scope

BATCH = 500


def summary_rows(t: Translator, breakdown: stats.Breakdown, period: Period, label: str) -> list[tuple[str, object]]:
    """The /stats figures as (label, value) rows; a value of None makes a heading."""
    total = breakdown.total
    rows: list[tuple[str, object]] = [
        (t("From"), period.start), (t("To"), period.end), (t("Scope"), label),
        *totals.count_rows(t, total), *totals.summary_rows(t, total), (t("By kind"), None),
    ]
    rows += [(t(KINDS[k].label) if k in KINDS else k, n) for k, n in total.by_kind.most_common()]
    venues = dict(FIELDS["venue"].choices)
    rows.append((t("Held"), None))
    rows += [(t(venues.get(v, v)), n) for v, n in total.venue.most_common()]
    rows.append((t("By province"), None))
    rows += [(PROVINCE_NAMES.get(code, code), fig.events)
             for code, fig in sorted(breakdown.by_province.items(), key=lambda kv: -kv[1].events)]
    rows.append((t("By partner"), None))
    countries = dict(COUNTRIES)
    rows += [(t(countries.get(c, c)) + (f" – {p}" if p else ""), fig.events)
             for (c, p), fig in sorted(breakdown.by_partner.items(), key=lambda kv: -kv[1].events)]
    return rows


@command("export", N_("The reports of a period as a spreadsheet, e.g. /export month"), roles=COORDINATING)
async def export_cmd(ctx: Context, args: str) -> None:
    """Only the words are read here; counting and writing the reports is deferred work, outside this event."""
    asked = await asked_period(ctx, args)
    if asked is None:
        return
    period, scope, label = asked
    ctx.defer("export", start=period.start.isoformat(), end=period.end.isoformat(), label=label,
              scope=scope.as_dict())


@job("export")
async def build_export(job_ctx: JobContext, args: dict[str, Any]) -> AsyncIterator[Reply]:
    """How many reports there are, at once; then the spreadsheet, read and written in a drawing process
    (``handlers.offload``) so that nobody's step waits while its rows are written."""
    t = job_ctx.t
    period = Period(dt.date.fromisoformat(args["start"]), dt.date.fromisoformat(args["end"]), "")
    scope = Scope.from_dict(args["scope"])
    async with job_ctx.db.reader() as session:
        query = report_rows_query(start=period.start, end=period.end, scope=scope)
        count = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    if count == 0:
        yield Reply(text=t("No reports in this period."))
        return
    yield Reply(text=t.plural("⏳ Preparing the spreadsheet of {n} report ({start}–{end})…",
                              "⏳ Preparing the spreadsheet of {n} reports ({start}–{end})…", count,
                              start=t.date(period.start), end=t.date(period.end)))
    content, written = await offload.run(export_workbook, job_ctx.db.url, args, t)
    filename = f"twinbot-{period.start:%Y%m%d}-{period.end:%Y%m%d}.xlsx"
    caption = t.plural("{n} report · {scope}", "{n} reports · {scope}", written, scope=args["label"])
    yield Reply(text=Safe(t("✅ Spreadsheet ready.")),
                files=(OutFile(filename, content, XLSX_MIME_TYPE, caption=caption),))


def export_workbook(url: str, args: dict[str, Any], t: Translator) -> tuple[bytes, int]:
    """In a drawing process: the workbook of an /export request and how many reports it lists."""
    return asyncio.run(_export_workbook(url, args, t))


async def _export_workbook(url: str, args: dict[str, Any], t: Translator) -> tuple[bytes, int]:
    # openpyxl (and numpy, PIL, lxml with it) only where a workbook is written: about 38 MB and 0.2 s less in each bot
    # process, which never writes one itself.
    from handlers.spreadsheet import Columns, ReportsWorkbook

    period = Period(dt.date.fromisoformat(args["start"]), dt.date.fromisoformat(args["end"]), "")
    scope = Scope.from_dict(args["scope"])
    with tempfile.TemporaryFile() as spool:
        # The figures and the rows from one snapshot, so that the summary sheet agrees with the rows;
        # the rows are spooled to a file and written after the read is over, since a long-open read
        # would keep SQLite from recycling its write-ahead log (hundreds of MB for a year).
        async with reading_apart(url) as session:
            breakdown = await stats.figures(session, start=period.start, end=period.end, scope=scope)
            positions = await session.scalar(select(
                report_rows_query(start=period.start, end=period.end, scope=scope)
                .where(Report.latitude.is_not(None)).exists()))
            batch: list[ReportRow] = []
            async for row in report_rows(session, start=period.start, end=period.end, scope=scope):
                batch.append(row)
                if len(batch) >= BATCH:
                    pickle.dump(batch, spool)
                    batch = []
            pickle.dump(batch, spool)
        # A column for each measure the period has figures of, the details of its kinds, no empty ones.
        columns = Columns.of_figures((key for key, n in breakdown.total.measures.items() if n),
                                     breakdown.total.by_kind, positions=bool(positions))
        book = ReportsWorkbook(t.locale, tz=t.tz, columns=columns)
        spool.seek(0)
        while True:
            try:
                book.add_all(pickle.load(spool))
            except EOFError:
                break
    return book.finish(summary_rows(t, breakdown, period, args["label"])), book.count

HANDLERS = (export_cmd,)
