"""Figures for the unions' periodic reports: /stats and /silent (the reporting rate), scoped like everything else."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from handlers.commands import REPORTERS, command
from handlers.context import Context
from handlers.events import Reply
from handlers.filters import Period, parse_period, parse_query, split_args
from handlers.i18n import N_, Safe, Translator, esc
from handlers.jobs import JobContext, job
from handlers.lookup import OutOfScope, scope_of, unit_named
from handlers.parsing import Invalid
from handlers.report_form import COUNTRIES, FIELDS, KINDS
from handlers.totals import count_text, total_lines
from storage import digests, people, rates, stats
from storage.digests import UnitStatus
from storage.folding import fold
from storage.periods import IsoWeek
from storage.rates import Rate, UnitRate, due_weeks
from storage.registry import PROVINCE_NAMES
from storage.scope import Scope

COORDINATING = frozenset({"coordinator", "admin"})
SCOPE_FILTERS = ("province", "unit", "cluster")


async def period_and_scope(ctx: Context, args: str, default: str = "month") -> tuple[Period, Scope, str]:
    """``[period] [province:… | unit:… | cluster:N]`` (or ``tỉnh:``, ``đơn vị:``, ``cụm:``) → the period,
    the narrowed scope and its label.

    Raises ``Invalid`` for bad words and ``OutOfScope`` for a unit, province or cluster the person
    may not see (answered without saying whether it exists)."""
    query = parse_query(args, allowed=SCOPE_FILTERS, today=ctx.today, locale=ctx.t.locale)
    filters = query.filters
    period = query.period or parse_period("", ctx.today, default)
    scope = scope_of(ctx)
    label = ""
    if filters.cluster is not None:
        cluster = await people.cluster_by_number(ctx.session, filters.cluster)
        if cluster is None or not (scope.everything or scope.cluster_id == cluster.id):
            raise OutOfScope
        scope = Scope.cluster(cluster.id)
        label = ctx.t("cluster {number}", number=cluster.number)
    if filters.province is not None:
        scope = scope.narrowed(province_code=filters.province)
        label = PROVINCE_NAMES[filters.province]
    if filters.unit is not None:
        unit = await unit_named(ctx, filters.unit)
        if not scope.contains_unit(unit):
            raise OutOfScope
        scope = scope.narrowed(unit_id=unit.id)
        label = unit.name
    if not label:
        label = await scope_label(ctx)
    return period, scope, label


async def scope_label(ctx: Context) -> str:
    person = ctx.person
    assert person is not None
    if person.role == "officer" and person.unit:
        return person.unit.name
    if person.role == "coordinator" and person.cluster:
        return ctx.t("cluster {number}", number=person.cluster.number)
    return ctx.t("all clusters")


def render_stats(t: Translator, breakdown: stats.Breakdown, period: Period, label: str) -> Safe:
    total = breakdown.total
    lines: list[str] = [t("<b>Activities {start}–{end}</b> · {scope}", start=t.date(period.start),
                          end=t.date(period.end),
                          scope=label)]
    if total.reports == 0:
        lines.append(t("No reports in this period."))
        return Safe("\n".join(lines))
    # "Reports: 4", or "3 events (4 reports)" where reports are linked as one event.
    lines.append(t("Reports: {n}", n=t.number(total.reports)) if total.events == total.reports
                 else count_text(t, total))
    lines.append(t("By kind: {list}", list=Safe(" · ".join(
        f"{t(KINDS[k].label) if k in KINDS else esc(k)} {t.number(n)}" for k, n in total.by_kind.most_common()))))
    venues = dict(FIELDS["venue"].choices)
    lines.append(t("Held: {list}", list=Safe(" · ".join(
        f"{t(venues.get(v, v))} {t.number(n)}" for v, n in total.venue.most_common()))))
    lines += [f"{esc(label)}: {total}" for label, total in total_lines(t, total)]
    lines.append(t("<b>By province</b>"))
    for code, fig in sorted(breakdown.by_province.items(), key=lambda kv: -kv[1].events):
        lines.append(t("{province}: {n} (held on our side {ours}, on the partner's side {theirs})",
                       province=PROVINCE_NAMES.get(code, code), n=t.number(fig.events),
                       ours=t.number(fig.venue["ours"]), theirs=t.number(fig.venue["partner"])))
    lines.append(t("<b>By partner</b>"))
    countries = dict(COUNTRIES)
    for (country, province), fig in sorted(breakdown.by_partner.items(), key=lambda kv: -kv[1].events):
        where = t(countries.get(country, country)) + (f" – {esc(province)}" if province else "")
        lines.append(t("{partner}: {n} (held on our side {ours}, on the partner's side {theirs})",
                       partner=Safe(where), n=t.number(fig.events), ours=t.number(fig.venue["ours"]),
                       theirs=t.number(fig.venue["partner"])))
    return Safe("\n".join(lines))


async def asked_period(ctx: Context, args: str) -> tuple[Period, Scope, str] | None:
    """``period_and_scope``, answering the user itself when the words are wrong or out of scope."""
    try:
        return await period_and_scope(ctx, args)
    except Invalid as exc:
        ctx.say(ctx.t(exc.msgid, **exc.values))
    except OutOfScope:
        ctx.say(ctx.t("That is outside what you may see."))
    return None


@command("stats", N_("Figures for a period, e.g. /stats quarter or /stats 11/2026"), roles=REPORTERS)
async def stats_cmd(ctx: Context, args: str) -> None:
    """The words are read here; the figures (a year of a country is a long read) in deferred work, outside
    this event's transaction, so that nobody waits for them."""
    asked = await asked_period(ctx, args)
    if asked is None:
        return
    period, scope, label = asked
    ctx.defer("stats", start=period.start.isoformat(), end=period.end.isoformat(), label=label,
              scope=scope.as_dict(), today=ctx.today.isoformat())


@job("stats", files=False)
async def stats_job(job_ctx: JobContext, args: dict[str, Any]) -> AsyncIterator[Reply]:
    t = job_ctx.t
    period = Period(dt.date.fromisoformat(args["start"]), dt.date.fromisoformat(args["end"]), args["label"])
    scope = Scope.from_dict(args["scope"])
    async with job_ctx.db.reader() as session:
        breakdown = await stats.figures(session, start=period.start, end=period.end, scope=scope)
        text = render_stats(t, breakdown, period, args["label"])
        weeks = due_weeks(period.start, period.end, until=dt.date.fromisoformat(args["today"]))
        if weeks:
            found = rate_lines(t, await rates.unit_rates(session, scope, weeks, job_ctx.config.tz))
            if found:
                text = Safe("\n".join([text, *found]))
    yield Reply(text=text)


SILENT_WEEKS = 8


def rate_lines(t: Translator, units: list[UnitRate], *, since: dt.date | None = None) -> list[str]:
    """The reporting rate of ``units`` in all, then by province: weeks answered of the weeks due, and on time."""
    total = Rate()
    provinces: dict[str, Rate] = {}
    for unit in units:
        total.add(unit.rate)
        provinces.setdefault(unit.province_code, Rate()).add(unit.rate)
    if not total.expected:
        return []
    values = {"received": t.number(total.received_percent or 0), "expected": t.number(total.expected),
              "on_time": t.number(total.on_time_percent or 0)}
    lines: list[str] = [
        t("<b>Reporting rate since {date}</b>: {received}% of {expected} unit-weeks answered, {on_time}% on time",
          date=t.date(since), **values) if since else
        t("<b>Reporting rate</b>: {received}% of {expected} unit-weeks answered, {on_time}% on time", **values)]
    if len(provinces) > 1:
        for code, rate in sorted(provinces.items(), key=lambda kv: (kv[1].received_percent or 0, kv[0])):
            lines.append(t("{province}: {received}% answered, {on_time}% on time",
                           province=PROVINCE_NAMES.get(code, code), received=t.number(rate.received_percent or 0),
                           on_time=t.number(rate.on_time_percent or 0)))
    return lines


async def reporting_rate(ctx: Context, args: str) -> None:
    """Weeks answered of the weeks due in a period (or the last eight weeks), by unit."""
    t = ctx.t
    asked = await asked_period(ctx, args)
    if asked is None:
        return
    period, scope, label = asked
    if any(":" not in tok for tok in split_args(args)):
        weeks = due_weeks(period.start, period.end, until=ctx.today)
    else:  # no period named: the last eight weeks that are over
        last = IsoWeek.of(ctx.today).previous
        weeks = [last.shift(-n) for n in range(SILENT_WEEKS - 1, -1, -1)]
    if not weeks:
        ctx.say(t("No week of this period is over yet."))
        return
    units = await rates.unit_rates(ctx.session, scope, weeks, ctx.config.tz)
    lines: list[str] = [t.plural("<b>Weekly reports</b> · {scope} · {first} – {last} ({n} week)",
                                 "<b>Weekly reports</b> · {scope} · {first} – {last} ({n} weeks)", len(weeks),
                                 scope=label, first=t.date(weeks[0].start), last=t.date(weeks[-1].end))]
    lines += rate_lines(t, units)
    missing = sorted((u for u in units if u.rate.received < u.rate.expected),
                     key=lambda u: (u.rate.received, -u.silent_weeks, u.name))
    if not missing:
        lines.append(t("Every unit answered every week. 👏"))
        ctx.say(Safe("\n".join(lines)))
        return
    lines.append(t("<b>Not every week answered</b> ({n})", n=len(missing)))
    for unit in missing:
        line = t("• {unit} ({province}): {received}/{expected} weeks, {on_time} on time",
                 unit=unit.name, province=PROVINCE_NAMES.get(unit.province_code, ""),
                 received=unit.rate.received, expected=unit.rate.expected, on_time=unit.rate.on_time)
        if unit.silent_weeks >= 2:
            line = Safe(line + " · " + t("⚠️ silent for the last {n} weeks", n=unit.silent_weeks))
        lines.append(line)
    ctx.say(Safe("\n".join(lines)))


@command("silent", N_("Units with no report this week, by province; with a period, the reporting rate, "
                      "e.g. /silent last or /silent quý III/2026"), roles=COORDINATING)
async def silent_cmd(ctx: Context, args: str) -> None:
    from handlers.digest import parse_week

    week = parse_week(args, ctx.today)
    if week is not None:
        await silent_week(ctx, week)  # the digest's own week: /silent, /silent last, /silent 2026-W47
    else:
        await reporting_rate(ctx, args)


async def silent_week(ctx: Context, week: IsoWeek) -> None:
    from handlers.digest import silent_since

    t = ctx.t
    units = [u for u in await digests.unit_statuses(ctx.session, scope_of(ctx), week) if u.silent_weeks]
    dates = {"start": t.date(week.start), "end": t.date(week.end)}
    if not units:
        ctx.say(t("Every unit reported (or said there was nothing to report) in the week {start} – {end}.",
                  **dates))
        return
    lines: list[str] = [t("<b>No report in the week {start} – {end}</b> ({n})", n=t.number(len(units)), **dates)]
    if week == IsoWeek.of(ctx.today):
        lines.append(t("<i>The week is not over yet.</i>"))
    by_province: dict[str, list[UnitStatus]] = {}
    for unit in units:
        by_province.setdefault(unit.province_code, []).append(unit)
    for code, silent in sorted(by_province.items(), key=lambda item: fold(PROVINCE_NAMES.get(item[0], item[0]))):
        lines.append("")
        lines.append(t("<b>{province}</b> ({n})", province=PROVINCE_NAMES.get(code, code), n=t.number(len(silent))))
        lines += [Safe(f"• {esc(unit.name)}: {silent_since(t, unit)}")
                  for unit in sorted(silent, key=lambda unit: fold(unit.name))]
    ctx.say(Safe("\n".join(lines)))


HANDLERS = (stats_cmd, silent_cmd)
