"""The weekly cluster digest and the Friday reminder: building them (pure functions of the week's data and a
language), ``/digest`` and ``/bindgroup``, and the reminder's two buttons."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import offload, totals
from handlers.annual import load_spec
from handlers.annual_report import cluster_subject, year_progress
from handlers.commands import action, command
from handlers.context import Context
from handlers.digest_chart import render_chart
from handlers.events import XLSX_MIME_TYPE, Option, OutFile, Reply
from handlers.figures import rate_lines
from handlers.i18n import N_, Safe, Translator, esc
from handlers.jobs import JobContext, job
from handlers.keyboard_layout import shorten
from handlers.measures import MEASURES, MONEY
from handlers.parsing import small_int
from handlers.report_form import COUNTRIES, FIELDS, KINDS
from handlers.twinning import pair_line
from storage import annual, deliveries, digests, senders
from storage.db import reading_apart
from storage.digests import DigestData, IsoWeek, UnitStatus
from storage.folding import fold
from storage.models import Cluster
from storage.periods import reporting_year
from storage.rates import Rate
from storage.scope import Scope
from storage.stats import Breakdown, Figures

COORDINATING = frozenset({"coordinator", "admin"})
DESCRIPTION_LENGTH = 140
# Units that never reported are counted rather than named once there are more than this (/silent names them):
# they are many at first, and the same every week.
NEVER_LISTED = 5
MINUS = "−"
VENUES = (("ours", N_("{n} held on our side")), ("partner", N_("{n} on the partner's side")),
          ("both", N_("{n} on both sides")), ("border", N_("{n} at the border line")))
_COUNTRY_NAMES = dict(COUNTRIES)
_LAST_WORDS = {"last", "previous", "prev", "truoc", "tuan truoc"}
_THIS_WORDS = {"this", "current", "now", "nay", "tuan nay"}


# --- the data ------------------------------------------------------------------------------------


async def collect(session: AsyncSession, cluster: Cluster, week: IsoWeek, tz: dt.tzinfo) -> DigestData:
    """What the digest shows (``storage.digests.collect``), with the year's plan and its pace by the week's end,
    which the indicator file in use decides."""
    spec = await load_spec(session)
    data = await digests.collect(session, cluster, week, tz=tz, year_start=spec.year_start)
    subject = cluster_subject(cluster)
    year = reporting_year(week.thursday, spec.year_start)
    org = await annual.organisation(session, subject.scope)
    _, data.plan = await year_progress(session, spec, subject, org, year=year, as_of=week.end)
    data.plan_year = year
    return data


# --- the message ---------------------------------------------------------------------------------


def change(t: Translator, now: int | Decimal, before: int | Decimal, currency: str | None = None) -> str:
    diff: int | Decimal = now - before
    if diff == 0:
        return "±0"
    sign, magnitude = ("+", diff) if diff > 0 else (MINUS, -diff)
    return sign + (t.money(magnitude, currency) if currency else t.number(magnitude))


def kind_label(t: Translator, kind: str) -> str:
    return t(KINDS[kind].label) if kind in KINDS else kind


def partner_label(t: Translator, country: str, province: str | None) -> str:
    name = t(_COUNTRY_NAMES[country]) if country in _COUNTRY_NAMES else country
    return f"{name} – {province}" if province else name


def venues(t: Translator, figures: Figures) -> str:
    return ", ".join(t(msgid, n=t.number(figures.venue[key])) for key, msgid in VENUES if figures.venue.get(key))


def week_dates(t: Translator, week: IsoWeek) -> str:
    """``16/11 – 22/11/2026`` (the year once, unless the week straddles two)."""
    start = f"{week.start:%d/%m}" if week.start.year == week.end.year else t.date(week.start)
    return f"{start} – {t.date(week.end)}"


def week_title(t: Translator, data: DigestData) -> Safe:
    return t("<b>📊 Cluster {number} – week {dates}</b>", number=data.cluster_number,
             dates=week_dates(t, data.week))


def _headline(t: Translator, data: DigestData) -> list[str]:
    current, previous = data.current.total, data.previous.total
    lines: list[str] = [t("<b>Week {dates}</b> (change from the week before)", dates=week_dates(t, data.week))]
    if current.events == current.reports and previous.events == previous.reports:
        lines.append(t("Reports: {n} ({change})", n=t.number(current.reports),
                       change=change(t, current.reports, previous.reports)))
    else:  # "3 events (4 reports) (+1)": reports linked as one event count once
        lines.append(t("{count} ({change})", count=totals.count_text(t, current, events=True),
                       change=change(t, current.events, previous.events)))
    for kind in KINDS:
        now, before = current.by_kind.get(kind, 0), previous.by_kind.get(kind, 0)
        if now or before:
            lines.append(t("• {kind}: {n} ({change})", kind=kind_label(t, kind), n=t.number(now),
                           change=change(t, now, before)))
    for measure in totals.present(current, previous):
        label = t(MEASURES[measure].label)
        if MEASURES[measure].kind == MONEY:
            now_values, before_values = current.values(measure), previous.values(measure)
            for currency in totals.currencies([*now_values, *before_values]):
                now_value = now_values.get(currency, Decimal(0))
                before_value = before_values.get(currency, Decimal(0))
                lines.append(t("{label}: {value} ({change})", label=label, value=t.money(now_value, currency),
                               change=change(t, now_value, before_value, currency)))
        else:
            now_total, before_total = current.total(measure), previous.total(measure)
            lines.append(t("{label}: {value} ({change})", label=label, value=t.number(now_total),
                           change=change(t, now_total, before_total)))
    return lines


def _breakdowns(t: Translator, data: DigestData) -> list[str]:
    current: Breakdown = data.current
    lines: list[str] = []
    if not current.total.reports:
        return [str(t("No activity was reported in the week."))]
    lines += ["", t("<b>By province</b>")]
    for code, figures in sorted(current.by_province.items(), key=lambda item: (-item[1].events, item[0])):
        lines.append(t("• {province}: {activities} – {venues}", province=data.province_names.get(code, code),
                       activities=t.plural("{n} activity", "{n} activities", figures.events),
                       venues=Safe(venues(t, figures))))
    lines += ["", t("<b>By partner</b>")]
    for (country, province), figures in sorted(current.by_partner.items(),
                                               key=lambda item: (-item[1].events, item[0])):
        lines.append(t("• {partner}: {activities} – {venues}", partner=partner_label(t, country, province or None),
                       activities=t.plural("{n} activity", "{n} activities", figures.events),
                       venues=Safe(venues(t, figures))))
    if data.highlights:
        lines += ["", t("<b>Highlights</b>")]
        for h in data.highlights:
            figure = totals.key_figure(t, h.measures)
            lines.append(t("• {date} · {unit} with {partner} ({country}): {kind}{figure}", date=t.date(h.activity_date),
                           unit=h.unit_name, partner=h.partner_name,
                           country=partner_label(t, h.partner_country, h.partner_province),
                           kind=kind_label(t, h.kind), figure=Safe(f", {figure}" if figure else "")))
            lines.append(f"   <i>{esc(_one_line(h.description))}</i>")
    return lines


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= DESCRIPTION_LENGTH else line[:DESCRIPTION_LENGTH - 1].rstrip() + "…"


def _unit_line(t: Translator, data: DigestData, unit: UnitStatus) -> Safe:
    return t("• {unit} ({province})", unit=unit.name, province=data.province_names.get(unit.province_code,
                                                                                       unit.province_code))


def silent_since(t: Translator, unit: UnitStatus) -> Safe:
    """How long a unit has been silent, in words: "silent since 12/10/2026", "never reported"."""
    if unit.last_heard is None:
        return t("never reported")
    return t("silent since {date}", date=t.date(unit.last_heard))


def _listed(t: Translator, data: DigestData, units: list[UnitStatus], *, since: bool = False) -> list[str]:
    if not since:
        return [_unit_line(t, data, unit) for unit in units]
    return [Safe(f"{_unit_line(t, data, unit)}: {silent_since(t, unit)}") for unit in units]


def _units(t: Translator, data: DigestData) -> list[str]:
    lines: list[str] = [""]
    answered = [u for u in data.units if u.answered_nothing and not u.reports_this_week]
    if answered:
        lines.append(t.plural("{n} unit answered “nothing to report” for the week.",
                              "{n} units answered “nothing to report” for the week.", len(answered)))
    silent, long_silent, never = data.silent_this_week, data.silent_for_weeks, data.never_reported
    if not silent and not long_silent and not never:
        lines.append(t("Every unit reported or answered for the week. 👏"))
    if silent:
        lines.append(t("<b>Filed nothing for the week</b> ({n})", n=t.number(len(silent))))
        lines += _listed(t, data, silent)
    if long_silent:
        lines.append(t("<b>Silent for two weeks or more</b> ({n})", n=t.number(len(long_silent))))
        lines += _listed(t, data, long_silent, since=True)
    if never:
        if len(never) > NEVER_LISTED:
            lines.append(t("<b>Never reported</b>: {units} (/silent lists them)",
                           units=t.plural("{n} unit", "{n} units", len(never))))
        else:
            lines.append(t("<b>Never reported</b> ({n})", n=t.number(len(never))))
            lines += [_unit_line(t, data, u) for u in never]
    ignoring = data.ignoring_reminders
    if ignoring:
        lines.append(t("<b>Ignored the last two reminders</b> ({n})", n=t.number(len(ignoring))))
        lines += _listed(t, data, ignoring)
    return lines


def _year(t: Translator, data: DigestData) -> list[str]:
    """The reporting rate since the year began, the plan and its pace, and pairs overdue for their meetings."""
    lines: list[str] = []
    rates = rate_lines(t, data.rates, since=data.rates_since)
    if rates:
        lines += ["", *rates]
    if data.plan:
        lines += ["", t("<b>Plan {year}</b>, by {date}", year=data.plan_year, date=t.date(data.week.end))]
        for progress in data.plan:
            name = progress.name  # "Cụm số 2" or a province, as the plan table names it
            if progress.scope == "total" and t.locale != "vi":
                name = t("cluster {number}", number=data.cluster_number)
            lines.append(t("• {name} – {label}: {done} of {target} ({percent}%), {pace}", name=name,
                           label=progress.label_en if t.locale == "en" else progress.label,
                           done=t.number(progress.done), target=t.number(progress.target),
                           percent=t.number(progress.percent or 0),
                           pace=t("on pace") if progress.on_pace else t("behind pace")))
    if data.overdue_pairs:
        lines += ["", t("<b>Pairs overdue for their agreed meetings</b> ({n})", n=t.number(len(data.overdue_pairs)))]
        lines += [pair_line(t, pair, data.week.end) for pair in data.overdue_pairs]
    return lines


def build_text(data: DigestData, t: Translator) -> Safe:
    """The digest message in ``t``'s language: reply markup, one tag per line at most."""
    lines = [week_title(t, data), esc(data.cluster_name), ""]
    lines += _headline(t, data)
    lines += _breakdowns(t, data)
    lines += _units(t, data)
    lines += _year(t, data)
    return Safe("\n".join(lines))


def summary_rows(data: DigestData, t: Translator) -> list[tuple[str, object]]:
    """The digest's figures as (label, value) rows for the spreadsheet; a ``None`` value marks a heading."""
    rows: list[tuple[str, object]] = [
        (t("Cluster"), f"{data.cluster_number} – {data.cluster_name}"), (t("ISO week"), str(data.week)),
        (t("From"), data.week.start), (t("To"), data.week.end),
    ]
    for heading, breakdown in ((N_("The week"), data.current), (N_("The week before"), data.previous)):
        figures = breakdown.total
        rows.append((t(heading), None))
        rows += totals.count_rows(t, figures)
        rows += [(kind_label(t, kind), figures.by_kind.get(kind, 0)) for kind in KINDS]
        rows += totals.summary_rows(t, figures)
    rows.append((t("By province"), None))
    for code, figures in sorted(data.current.by_province.items(), key=lambda item: (-item[1].events, item[0])):
        rows.append((data.province_names.get(code, code), figures.events))
        rows += _venue_rows(t, figures)
    rows.append((t("By partner"), None))
    for (country, province), figures in sorted(data.current.by_partner.items(),
                                               key=lambda item: (-item[1].events, item[0])):
        rows.append((partner_label(t, country, province or None), figures.events))
        rows += _venue_rows(t, figures)
    rows.append((t("Units"), None))
    rows += [(t("Filed nothing for the week"), len(data.silent_this_week)),
             (t("Silent for two weeks or more"), len(data.silent_for_weeks)),
             (t("Never reported"), len(data.never_reported)),
             (t("Ignored the last two reminders"), len(data.ignoring_reminders))]
    rate = Rate()
    for unit in data.rates:
        rate.add(unit.rate)
    if rate.expected:
        rows += [(t("Reporting rate since {date}", date=t.date(data.rates_since) if data.rates_since else ""), None),
                 (t("Unit-weeks due"), rate.expected), (t("Unit-weeks answered"), rate.received),
                 (t("Unit-weeks answered on time"), rate.on_time)]
    if data.plan:
        rows.append((t("Plan {year}, by {date}", year=data.plan_year, date=t.date(data.week.end)), None))
        rows += [(f"{progress.name} – {progress.label_en if t.locale == 'en' else progress.label}",
                  f"{progress.done} / {progress.target}") for progress in data.plan]
    rows.append((t("Pairs overdue for their agreed meetings"), len(data.overdue_pairs)))
    return rows


def _venue_rows(t: Translator, figures: Figures) -> list[tuple[str, object]]:
    labels = dict(FIELDS["venue"].choices)
    return [(f"   {t(labels[key])}", figures.venue[key]) for key, _ in VENUES if figures.venue.get(key)]


def chart_caption(t: Translator, data: DigestData) -> Safe:
    return t("Cluster {number}, week {dates}: activities by province and kind, and the last eight weeks.",
             number=data.cluster_number, dates=week_dates(t, data.week))


def workbook_caption(t: Translator, data: DigestData) -> Safe:
    return t("Cluster {number}, week {dates}: {reports}, one row each, and a summary sheet.",
             number=data.cluster_number, dates=week_dates(t, data.week),
             reports=t.plural("{n} report", "{n} reports", data.current.total.reports))


def file_stem(data: DigestData, locale: str) -> str:
    return f"digest-cluster{data.cluster_number}-{data.week}-{locale}"


def _files(data: DigestData, t: Translator, rows: list[digests.ReportRow]) -> tuple[OutFile, OutFile]:
    from handlers.spreadsheet import write_reports_workbook  # openpyxl takes a while to import

    stem = file_stem(data, t.locale)
    book = write_reports_workbook(rows, summary_rows(data, t), t.locale, tz=t.tz)
    return (OutFile(f"{stem}.png", render_chart(data, t), "image/png", chart_caption(t, data)),
            OutFile(f"{stem}.xlsx", book, XLSX_MIME_TYPE, workbook_caption(t, data)))


async def digest_files(session: AsyncSession, data: DigestData, t: Translator) -> tuple[OutFile, OutFile]:
    """The chart and the spreadsheet: the week's rows read on ``session``, both drawn in a drawing process
    (``handlers.offload``) so that nobody's step waits while they are made."""
    rows = [row async for row in digests.report_rows(session, start=data.week.start, end=data.week.end,
                                                      scope=Scope.cluster(data.cluster_id))]
    return await offload.run(_files, data, t, rows)


async def digest_replies(session: AsyncSession, data: DigestData, t: Translator) -> list[Reply]:
    """The digest as it is sent: the text, then the chart and the spreadsheet."""
    return [Reply(text=build_text(data, t)), Reply(text="", files=await digest_files(session, data, t))]


# --- the reminder --------------------------------------------------------------------------------


def reminder_reply(t: Translator, unit_name: str, week: IsoWeek) -> Reply:
    text = t("⏰ <b>Weekly reminder</b>\n{unit} has no report for this week ({start} – {end}) yet.\n"
             "Was there a twinning activity? Report it, or tell us there was nothing to report.",
             unit=unit_name, start=t.date(week.start), end=t.date(week.end))
    options = (Option(t("📝 Start a report"), "rmr:"), Option(t("✅ Nothing to report this week"), f"rmn:{week}"))
    return Reply(text=text, options=options, seq=0)


async def delivery_content(session: AsyncSession, key: str, t: Translator) -> list[Reply] | None:
    """What a planned delivery says in ``t``'s language; None when it is no longer owed."""
    kind, ident, week = digests.parse_key(key)
    if kind == "digest":
        cluster = await digests.cluster_by_id(session, ident)
        if cluster is None:
            return None
        return await digest_replies(session, await collect(session, cluster, week, t.tz), t)
    if kind == "reminder":
        name = await digests.unit_name(session, ident)
        if name is None or await digests.unit_has_answered(session, ident, week):
            return None
        return [reminder_reply(t, name, week)]
    return None


# --- commands and buttons ------------------------------------------------------------------------


def parse_week(text: str, today: dt.date) -> IsoWeek | None:
    """``""``/``this`` the current week, ``last`` the one before, ``2026-W47``, ``W47`` or ``47``."""
    word = fold(text).strip()
    current = IsoWeek.of(today)
    if not word or word in _THIS_WORDS:
        return current
    if word in _LAST_WORDS:
        return current.previous
    try:
        return IsoWeek.parse(word)
    except ValueError:
        pass
    number = word.removeprefix("w").strip()
    if small_int(number, digits=2) is not None:
        try:
            return IsoWeek.parse(f"{current.year}-W{number}")
        except ValueError:
            return None
    return None


def _usage(ctx: Context) -> Safe:
    if ctx.role == "admin":
        return ctx.t("Usage: <code>/digest CLUSTER [WEEK]</code>, e.g. <code>/digest 2</code>, "
                     "<code>/digest 2 last</code> or <code>/digest 2 2026-W47</code>.")
    return ctx.t("Usage: <code>/digest</code> (this week), <code>/digest last</code> or "
                 "<code>/digest 2026-W47</code>.")


@command("digest", N_("Weekly digest of a cluster"), roles=COORDINATING, in_groups=True)
async def digest_cmd(ctx: Context, args: str) -> None:
    words = args.split()
    number = None
    if words and small_int(words[0], digits=3) is not None:
        number = int(words.pop(0))
    week = parse_week(" ".join(words), ctx.today)
    if week is None:
        ctx.say(_usage(ctx))
        return
    await show_digest(ctx, number, week)


@action("dg")
async def digest_choice(ctx: Context, arg: str) -> None:
    number, _, week_text = arg.partition(":")
    try:
        week = IsoWeek.parse(week_text)
    except ValueError:
        return
    cluster_number = small_int(number, digits=3)
    if cluster_number is not None:
        await show_digest(ctx, cluster_number, week)


async def show_digest(ctx: Context, number: int | None, week: IsoWeek) -> None:
    t, person = ctx.t, ctx.person
    if person is None or ctx.role not in COORDINATING:
        ctx.notice = t("Sorry, this command is not available to you.")
        return
    cluster: Cluster | None
    if ctx.role == "coordinator":
        cluster = await senders.cluster_record(ctx.session, person)
        if cluster is None or (number is not None and number != cluster.number):
            ctx.say(t("You can see the digest of your own cluster only."))
            return
    elif number is None:
        options = [Option(shorten(t("{number}. {name}", number=c.number, name=c.name)), f"dg:{c.number}:{week}")
                   for c in await digests.clusters(ctx.session)]
        ctx.say(t("Which cluster's digest for the week {dates}?", dates=week_dates(t, week)), options)
        return
    else:
        cluster = await digests.cluster_by_number(ctx.session, number)
        if cluster is None:
            ctx.say(Safe(t("There is no cluster number {number}.", number=number) + "\n" + _usage(ctx)))
            return
    # Reading a week of a cluster and drawing its chart is slow: done after this event, off the loop.
    ctx.defer("digest", cluster=cluster.id, week=str(week))


@job("digest")
async def digest_job(job_ctx: JobContext, args: dict[str, Any]) -> AsyncIterator[Reply]:
    """/digest: the text as soon as the figures are read, then the chart and the spreadsheet. The figures
    are read and the files drawn in a drawing process (``handlers.offload``): a cluster's year to date is
    thousands of rows, which on the bot's event loop would hold every officer's step up meanwhile."""
    t = job_ctx.t
    week = IsoWeek.parse(args["week"])
    today = job_ctx.config.clock().astimezone(job_ctx.config.tz).date()
    read = await offload.run(read_digest, job_ctx.db.url, int(args["cluster"]), str(week), job_ctx.config.tz, t)
    if read is None:
        yield Reply(text=t("There is no such cluster."))
        return
    data, text, sent = read
    if week.end >= today:
        text = Safe(text + "\n\n" + t("<i>This week is not over yet: the figures are so far.</i>"))
    if sent:
        text = Safe(text + "\n\n" + sent)
    yield Reply(text=text)
    files = await offload.run(draw_digest, job_ctx.db.url, data, t)
    yield Reply(text=t("📎 Chart and spreadsheet of the week {dates}.", dates=week_dates(t, week)), files=files)


Read = tuple[DigestData, Safe, Safe | None]


def read_digest(url: str, cluster_id: int, week: str, tz: dt.tzinfo, t: Translator) -> Read | None:
    """In a drawing process: a cluster's digest of ``week``, its text and what was sent of it."""
    return asyncio.run(_read_digest(url, cluster_id, IsoWeek.parse(week), tz, t))


async def _read_digest(url: str, cluster_id: int, week: IsoWeek, tz: dt.tzinfo, t: Translator) -> Read | None:
    async with reading_apart(url) as session:
        cluster = await digests.cluster_by_id(session, cluster_id)
        if cluster is None:
            return None
        data = await collect(session, cluster, week, tz)
        sent = await delivery_summary(t, session, cluster.id, week)
    return data, build_text(data, t), sent


def draw_digest(url: str, data: DigestData, t: Translator) -> tuple[OutFile, OutFile]:
    """In a drawing process: the chart and the spreadsheet of a digest whose text has gone out. The week's rows
    are read afresh (the text does not wait for them): a report filed in between is in the spreadsheet's
    rows though not in its summary sheet, as if it had come a moment after the digest."""
    return asyncio.run(_draw_digest(url, data, t))


async def _draw_digest(url: str, data: DigestData, t: Translator) -> tuple[OutFile, OutFile]:
    async with reading_apart(url) as session:
        rows = [row async for row in digests.report_rows(session, start=data.week.start, end=data.week.end,
                                                          scope=Scope.cluster(data.cluster_id))]
    return _files(data, t, rows)


async def delivery_summary(t: Translator, session: AsyncSession, cluster_id: int, week: IsoWeek) -> Safe | None:
    """How the week's digest went out, and every recipient of the cluster who cannot be reached: coordinators
    and groups (the digest), officers (the reminders), whoever blocked the bot, for coordinators and admins."""
    key = digests.digest_key(cluster_id, week)
    units = await digests.cluster_unit_ids(session, cluster_id)
    rows = await deliveries.statuses(session, key, *(digests.reminder_key(unit, week) for unit in units))
    lines: list[str] = []
    sent_digest = [row for row in rows if row.key == key]
    if sent_digest:
        sent = sum(row.status == "sent" for row in sent_digest)
        lines.append(t("<b>Delivery</b>: sent to {sent} of {total}.", sent=t.number(sent),
                       total=t.number(len(sent_digest))))
    problems: dict[str, str] = {}
    for row in rows:
        said = _unreachable(t, row)
        if said is not None:
            problems.setdefault(row.recipient, said)
    for person in await deliveries.blocked_in_cluster(session, cluster_id):
        problems.setdefault(person.recipient, t("⛔ {who} has blocked the bot: not delivered.",
                                                who=_who(t, person.recipient, person.person_name, person.unit_name)))
    if problems:
        lines.append(t("<b>Cannot be reached</b> ({n})", n=t.number(len(problems))))
        lines += problems.values()
    return Safe("\n".join(lines)) if lines else None


def _who(t: Translator, recipient: str, name: str | None, unit: str | None) -> str:
    if name:
        return f"{name} ({unit})" if unit else name
    return t("the group {chat}", chat=recipient.partition(":")[2])


# What the channels' refusals say (Telegram's descriptions, Zalo's), lowercased.
_ACCOUNT_GONE = ("deactivated", "user not found", "user is deleted")
_GROUP_GONE = ("kicked", "group chat was deleted", "not a member", "upgraded to a supergroup", "chat not found")
_THROTTLED = ("flood", "retry after", "too many requests", "quota")


def _unreachable(t: Translator, row: deliveries.DeliveryStatus) -> Safe | None:
    """Why a delivery cannot reach its recipient, in words; None when it went or is simply on its way."""
    who = _who(t, row.recipient, row.person_name, row.unit_name)
    error = (row.error or "").lower()
    if row.status == "blocked":
        if any(word in error for word in _ACCOUNT_GONE):
            return t("⛔ {who}: the account no longer exists, not delivered.", who=who)
        if row.person_name is None or any(word in error for word in _GROUP_GONE):
            return t("⛔ {who}: the bot is no longer in that chat, not delivered.", who=who)
        return t("⛔ {who} has blocked the bot: not delivered.", who=who)
    if row.status == "failed":
        return t("⚠️ {who}: not delivered ({error}).", who=who, error=row.error or "?")
    if row.status in ("pending", "sending") and error:
        if any(word in error for word in _THROTTLED):
            return t("⏳ {who}: held back by the messenger's sending limits; trying again.", who=who)
        return t("⏳ {who}: not delivered yet ({error}); trying again.", who=who, error=row.error or "?")
    return None


@command("bindgroup", N_("Send the weekly digest to this group too"), roles=COORDINATING, in_menu=False,
          in_groups=True)
async def bind_group(ctx: Context, args: str) -> None:
    t, person = ctx.t, ctx.person
    assert person is not None
    if ctx.incoming.private_chat:
        ctx.say(t("Send /bindgroup in the group chat that should receive the weekly digest "
                  "(add me to the group first)."))
        return
    words = args.split()
    if words and fold(words[0]) in ("off", "tat", "huy"):
        removed = await digests.unbind_group(ctx.session, channel=ctx.incoming.channel, chat_id=ctx.incoming.chat_id)
        ctx.say(t("This group will no longer receive the weekly digest.") if removed
                else t("This group was not receiving the weekly digest."))
        return
    if ctx.role == "coordinator":
        cluster = await senders.cluster_record(ctx.session, person)
    elif words and small_int(words[0], digits=3) is not None:
        cluster = await digests.cluster_by_number(ctx.session, int(words[0]))
    else:
        ctx.say(t("Usage: <code>/bindgroup CLUSTER</code>, e.g. <code>/bindgroup 2</code>; "
                  "<code>/bindgroup off</code> stops it."))
        return
    if cluster is None:
        ctx.say(t("There is no such cluster."))
        return
    await digests.bind_group(ctx.session, cluster_id=cluster.id, channel=ctx.incoming.channel,
                             chat_id=ctx.incoming.chat_id, title=None, person_id=person.id, now=ctx.now)
    ctx.say(t("✅ This group will receive the weekly digest of cluster {number} ({name}) every week. "
              "<code>/bindgroup off</code> stops it.", number=cluster.number, name=cluster.name))


@action("rmr")
async def reminder_report(ctx: Context, _arg: str) -> None:
    from handlers.core import run_command

    await run_command(ctx, "report", "")


@action("rmn")
async def nothing_to_report(ctx: Context, arg: str) -> None:
    t, person = ctx.t, ctx.person
    if person is None or person.role != "officer" or person.unit is None:
        ctx.notice = t("Only the officers of a unit can answer for it.")
        return
    try:
        week = IsoWeek.parse(arg)
    except ValueError:
        return
    this_week = IsoWeek.of(ctx.today)
    if week not in (this_week, this_week.previous):
        # Reminders ask about this week; a late tap may answer last week's; nothing else.
        ctx.notice = t("That reminder is too old to answer.")
        return
    recorded = await digests.record_nothing_to_report(ctx.session, person.unit.id, week, person.id, ctx.now)
    if recorded:
        ctx.say(t("✅ Noted: nothing to report for {unit} in the week {start} – {end}. Thank you!",
                  unit=person.unit.name, start=t.date(week.start), end=t.date(week.end)))
    else:
        ctx.notice = t("Already noted. Thank you!")


HANDLERS = (digest_cmd, digest_choice, bind_group, reminder_report, nothing_to_report)
