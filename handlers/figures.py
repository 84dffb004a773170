"""Figures for the unions' periodic reports: /stats and /silent, scoped like everything else."""

from __future__ import annotations

from handlers.commands import REPORTERS, command
from handlers.context import Context
from handlers.filters import Period, parse_period, parse_query
from handlers.i18n import N_, Safe, Translator, esc
from handlers.lookup import OutOfScope, scope_of, unit_named
from handlers.parsing import Invalid
from handlers.report_form import COUNTRIES, FIELDS, KINDS
from handlers.totals import total_lines
from storage import digests, people, stats
from storage.digests import IsoWeek, UnitStatus
from storage.folding import fold
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
    lines.append(t("Reports: {n}", n=t.number(total.reports)))
    lines.append(t("By kind: {list}", list=Safe(" · ".join(
        f"{t(KINDS[k].label) if k in KINDS else esc(k)} {t.number(n)}" for k, n in total.by_kind.most_common()))))
    venues = dict(FIELDS["venue"].choices)
    lines.append(t("Held: {list}", list=Safe(" · ".join(
        f"{t(venues.get(v, v))} {t.number(n)}" for v, n in total.venue.most_common()))))
    lines += [f"{esc(label)}: {total}" for label, total in total_lines(t, total)]
    lines.append(t("<b>By province</b>"))
    for code, fig in sorted(breakdown.by_province.items(), key=lambda kv: -kv[1].reports):
        lines.append(t("{province}: {n} (held on our side {ours}, on the partner's side {theirs})",
                       province=PROVINCE_NAMES.get(code, code), n=t.number(fig.reports),
                       ours=t.number(fig.venue["ours"]), theirs=t.number(fig.venue["partner"])))
    lines.append(t("<b>By partner</b>"))
    countries = dict(COUNTRIES)
    for (country, province), fig in sorted(breakdown.by_partner.items(), key=lambda kv: -kv[1].reports):
        where = t(countries.get(country, country)) + (f" – {esc(province)}" if province else "")
        lines.append(t("{partner}: {n} (held on our side {ours}, on the partner's side {theirs})",
                       partner=Safe(where), n=t.number(fig.reports), ours=t.number(fig.venue["ours"]),
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
    asked = await asked_period(ctx, args)
    if asked is None:
        return
    period, scope, label = asked
    breakdown = await stats.figures(ctx.session, start=period.start, end=period.end, scope=scope)
    ctx.say(render_stats(ctx.t, breakdown, period, label))


@command("silent", N_("Units with no report this week, by province"), roles=COORDINATING)
async def silent_cmd(ctx: Context, args: str) -> None:
    from handlers.digest import parse_week, silent_since

    t = ctx.t
    week = parse_week(args, ctx.today)
    if week is None:
        ctx.say(t("Usage: <code>/silent</code> (this week), <code>/silent last</code> or "
                  "<code>/silent 2026-W47</code>."))
        return
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
