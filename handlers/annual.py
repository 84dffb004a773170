"""/baocao (/annual): the union's half-year or annual report, as a Word document laid out to be signed, its
tables as a spreadsheet, and the headline figures in the chat, in the reader's language.

Officers get their unit's, coordinators their cluster's (or one province or unit of it), admins the country's
or any cluster's, province's or unit's. The files are made after the event, off the event loop.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import offload
from handlers.annual_report import (
    AnnualReport,
    Subject,
    cluster_subject,
    collect,
    country_subject,
    period_title,
    province_subject,
    unit_subject,
)
from handlers.commands import REPORTERS, command
from handlers.context import Context
from handlers.events import DOCX_MIME_TYPE, XLSX_MIME_TYPE, OutFile, Reply
from handlers.figures import SCOPE_FILTERS, OutOfScope
from handlers.filters import Period, parse_period, parse_query, split_args
from handlers.i18n import N_, Safe, Translator
from handlers.indicators import IndicatorError, IndicatorSpec, parse_indicators
from handlers.jobs import JobContext, job
from handlers.parsing import Invalid
from storage import indicator_sets, people, senders
from storage.folding import fold
from storage.models import Cluster, Province, Unit
from storage.periods import part_bounds, reporting_year
from storage.registry import PROVINCE_NAMES

log = logging.getLogger(__name__)

COUNTRY_WORDS = {"country", "ca nuoc", "toan quoc", "national"}
HEADLINES = 20  # indicator lines in the chat at most


# Parsing the file is about 10 ms, on the event loop, at every /digest and /baocao; it changes only on import.
_parsed = functools.lru_cache(maxsize=8)(parse_indicators)


async def load_spec(session: AsyncSession) -> IndicatorSpec:
    """The indicator file in use. One that no longer reads (a measure it names was renamed since) gives way to
    the shipped default, and says so in the log."""
    source, document = await indicator_sets.current(session)
    try:
        return _parsed(document, source)
    except IndicatorError as exc:
        log.error("the imported indicator file no longer reads, using the default:\n%s", exc)
        return _parsed(indicator_sets.default_document(), str(indicator_sets.DEFAULT_INDICATORS))


def current_half(today: dt.date, spec: IndicatorSpec) -> Period:
    year = reporting_year(today, spec.year_start)
    _, end = part_bounds(year, 6, 1, spec.year_start)
    half = 1 if today <= end else 2
    return parse_period(f"{year}-H{half}", today, year_start=spec.year_start)


async def asked_report(ctx: Context, args: str, spec: IndicatorSpec) -> tuple[Period, Subject]:
    """``[period] [cluster:N | province:… | unit:… | country]`` → the period and what the report is about.
    Raises ``Invalid`` for bad words, ``OutOfScope`` for what the person may not see."""
    tokens = split_args(args)
    country = [tok for tok in tokens if fold(tok) in COUNTRY_WORDS]
    words = [tok for tok in tokens if ":" not in tok and tok not in country]
    filters = parse_query(" ".join(f'"{tok}"' for tok in tokens if ":" in tok), allowed=SCOPE_FILTERS,
                              today=ctx.today, locale=ctx.t.locale, period=False).filters
    # "cả nước" is two words: both go, whichever way they were typed.
    text = " ".join(words)
    if fold(text).endswith("ca nuoc") or fold(text).endswith("toan quoc"):
        text, country = " ".join(text.split()[:-2]), ["country"]
    period = parse_period(text, ctx.today, year_start=spec.year_start) if text.strip() \
        else current_half(ctx.today, spec)
    person, role = ctx.person, ctx.role
    assert person is not None
    own_cluster = person.cluster_id if role == "coordinator" else None
    if role == "officer":
        if country or filters.cluster is not None or filters.province is not None or person.unit is None:
            raise OutOfScope
        if filters.unit is not None and filters.unit != person.unit.code.upper():
            raise OutOfScope
        return period, unit_subject(person.unit)
    if filters.unit is not None:
        unit = await people.unit_by_code(ctx.session, filters.unit)
        if unit is None or (own_cluster is not None and unit.province.cluster_id != own_cluster):
            raise OutOfScope
        return period, unit_subject(unit)
    if filters.province is not None:
        if own_cluster is not None and await _cluster_of(ctx.session, filters.province) != own_cluster:
            raise OutOfScope
        return period, province_subject(filters.province)
    cluster: Cluster | None = None
    if filters.cluster is not None:
        cluster = await people.cluster_by_number(ctx.session, filters.cluster)
        if cluster is None or (own_cluster is not None and cluster.id != own_cluster):
            raise OutOfScope
    elif role == "coordinator":
        cluster = await senders.cluster_record(ctx.session, person)
        if cluster is None or country:
            raise OutOfScope
    if cluster is not None:
        return period, cluster_subject(cluster)
    return period, country_subject()


async def _cluster_of(session: AsyncSession, province_code: str) -> int | None:
    province = await session.get(Province, province_code)
    return province.cluster_id if province else None


def scope_text(t: Translator, subject: Subject) -> str:
    if subject.kind == "country":
        return t("the whole country")
    if subject.kind == "cluster":
        return t("cluster {number}", number=subject.cluster_number)
    if subject.kind == "province":
        return PROVINCE_NAMES.get(subject.province_code or "", subject.title)
    return subject.title


def period_text(t: Translator, period: Period) -> str:
    if t.locale == "vi":
        return period_title(period)
    return f"{period.label + ' ' if period.label else ''}({t.date(period.start)} – {t.date(period.end)})"


@command("baocao", N_("Half-year or annual report (Word and Excel), e.g. /baocao 6 tháng đầu năm 2026"),
         roles=REPORTERS)
async def annual_cmd(ctx: Context, args: str) -> None:
    t = ctx.t
    spec = await load_spec(ctx.session)
    try:
        period, subject = await asked_report(ctx, args, spec)
    except Invalid as exc:
        ctx.say(t(exc.msgid, **exc.values))
        ctx.say(usage(ctx))
        return
    except OutOfScope:
        ctx.say(t("That is outside what you may see."))
        return
    ctx.say(t("⏳ Preparing the report {period} · {scope} (Word and Excel)…", period=period_text(t, period),
              scope=scope_text(t, subject)))
    ctx.defer("annual", start=period.start.isoformat(), end=period.end.isoformat(), label=period.label,
              title=period.title, subject=subject.as_dict())


@command("annual", N_("The same as /baocao"), roles=REPORTERS, in_menu=False)
async def annual_alias(ctx: Context, args: str) -> None:
    await annual_cmd(ctx, args)


def usage(ctx: Context) -> Safe:
    t = ctx.t
    lines = [t("Periods: <code>6 tháng đầu năm 2026</code>, <code>6 tháng cuối năm 2026</code>, "
               "<code>năm 2026</code>, <code>quý III/2026</code>, <code>01/01/2026-30/06/2026</code>.")]
    if ctx.role == "admin":
        lines.append(t("Scope: the whole country by default, or <code>cluster:2</code>, "
                       "<code>province:\"Lào Cai\"</code>, <code>unit:CODE</code>."))
    elif ctx.role == "coordinator":
        lines.append(t("Scope: your cluster by default, or <code>province:\"Lào Cai\"</code>, "
                       "<code>unit:CODE</code> within it."))
    return Safe("\n".join(lines))


async def subject_of(session: AsyncSession, data: dict[str, Any]) -> Subject | None:
    kind = data.get("kind")
    if kind == "unit":
        unit = await session.get(Unit, int(data["unit_id"]))
        return unit_subject(unit) if unit is not None else None
    if kind == "province":
        code = str(data["province_code"])
        return province_subject(code) if code in PROVINCE_NAMES else None
    if kind == "cluster":
        cluster = await people.cluster_by_number(session, int(data["cluster_number"]))
        return cluster_subject(cluster) if cluster is not None else None
    return country_subject()


def file_stem(report: AnnualReport) -> str:
    period = report.period
    safe = period.label and all(ch.isalnum() or ch == "-" for ch in period.label)  # 2026-H1, 2026-Q3, 2026
    label = period.label if safe else f"{period.start:%Y%m%d}-{period.end:%Y%m%d}"
    return f"bao-cao-{report.subject.slug}-{label}"


def files(report: AnnualReport) -> tuple[OutFile, OutFile]:
    """The Word document and the spreadsheet (python-docx and openpyxl: run it on a worker thread)."""
    from handlers import annual_docx, annual_xlsx

    stem = file_stem(report)
    return (OutFile(f"{stem}.docx", annual_docx.render_docx(report), DOCX_MIME_TYPE),
            OutFile(f"{stem}.xlsx", annual_xlsx.render_xlsx(report), XLSX_MIME_TYPE))


@job("annual")
async def annual_job(job_ctx: JobContext, args: dict[str, Any]) -> AsyncIterator[Reply]:
    t = job_ctx.t
    period = Period(dt.date.fromisoformat(args["start"]), dt.date.fromisoformat(args["end"]), args.get("label", ""),
                    args.get("title", ""))
    today = job_ctx.config.clock().astimezone(job_ctx.config.tz).date()
    async with job_ctx.db.reader() as session, job_ctx.db.reader() as side:
        spec = await load_spec(session)
        subject = await subject_of(session, args["subject"])
        if subject is None:
            yield Reply(text=t("That is outside what you may see."))
            return
        report = await collect(session, subject, period, spec, today=today, tz=job_ctx.config.tz, side=side)
    yield Reply(text=chat_summary(t, report))
    made = await offload.run(files, report)
    caption = t("Report {period} · {scope}", period=period_text(t, period), scope=scope_text(t, subject))
    yield Reply(text=t("📎 The report to edit and sign (Word) and its tables (Excel)."),
                files=tuple(OutFile(f.filename, f.content, f.mime_type, caption) for f in made))


# --- the chat summary --------------------------------------------------------------------------------


def _figure(t: Translator, value: Decimal | None, of: int | None) -> str:
    if value is None:
        return "–"
    text = t.number(value)
    return f"{text}/{t.number(of)}" if of is not None else text


def _change(t: Translator, now: Decimal | None, before: Decimal | None) -> str:
    if not now or not before or now == before:
        return ""
    sign = "+" if now > before else "−"
    rate = (abs(now - before) * 100 / before).quantize(Decimal("0.1"))
    return f", {sign}{t.number(rate)}%"


def chat_summary(t: Translator, report: AnnualReport) -> Safe:
    """The headline figures in ``t``'s language: each main indicator with the same period a year before, the
    reporting rate, pairs overdue and the plan."""
    spec = report.spec
    lines = [t("📄 <b>Report {period}</b> · {scope}", period=period_text(t, report.period),
               scope=scope_text(t, report.subject))]
    shown = 0
    for indicator in spec.indicators:
        if spec.depth(indicator) or shown >= HEADLINES:
            continue
        now, before = report.current.total[indicator.key], report.before.total[indicator.key]
        if not now.figure and not before.figure:
            continue
        shown += 1
        label = indicator.label_in(t.locale) + (f" ({indicator.unit})" if t.locale == "vi" and indicator.unit
                                                 and indicator.scale != 1 else "")
        lines.append(t("• {label}: {now} (a year before: {before}{change})", label=label,
                       now=_figure(t, now.figure, now.of), before=_figure(t, before.figure, before.of),
                       change=_change(t, now.figure, before.figure)))
    if not shown:
        lines.append(t("No reports in this period."))
    rate = report.rate
    if rate.expected:
        lines.append(t("Reporting rate: {received}% of {expected} unit-weeks answered, {on_time}% on time.",
                       received=t.number(rate.received_percent or 0), expected=t.number(rate.expected),
                       on_time=t.number(rate.on_time_percent or 0)))
    overdue = report.overdue()
    if overdue:
        lines.append(t.plural("⚠️ {n} twinning pair is overdue for its agreed meeting (see /pairs).",
                              "⚠️ {n} twinning pairs are overdue for their agreed meetings (see /pairs).",
                              len(overdue)))
    for progress in report.plan_total.values():
        pace = t("on pace") if progress.on_pace else t("behind pace")
        lines.append(t("Plan {year} – {label}: {done} of {target} ({percent}%) by {day}, {pace}.", year=report.year,
                       label=progress.label_en if t.locale == "en" else progress.label, done=t.number(progress.done),
                       target=t.number(progress.target), percent=t.number(progress.percent or 0),
                       day=t.date(report.as_of), pace=pace))
    return Safe("\n".join(lines))





HANDLERS = (annual_cmd, annual_alias)
