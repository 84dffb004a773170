"""Figures for the unions' periodic reports: /stats and /silent, scoped like everything else."""

from __future__ import annotations

from handlers.commands import REPORTERS, command
from handlers.context import Context
from handlers.filters import Period, parse_filters, parse_period, split_args
from handlers.i18n import N_, Safe, Translator, esc
from handlers.lookup import scope_of
from handlers.parsing import Invalid
from handlers.report_form import COUNTRIES, FIELDS, KINDS
from handlers.totals import count_text, total_lines
from storage import lookup, people, stats
from storage.registry import PROVINCE_NAMES
from storage.scope import Scope

COORDINATING = frozenset({"coordinator", "admin"})
SCOPE_FILTERS = ("province", "unit", "cluster")


class OutOfScope(Exception):
    pass


async def period_and_scope(ctx: Context, args: str, default: str = "month") -> tuple[Period, Scope, str]:
    """``[period] [province:… | unit:… | cluster:N]`` → the period, the narrowed scope and its label.

    Raises ``Invalid`` for bad words and ``OutOfScope`` for a unit, province or cluster the person
    may not see (answered without saying whether it exists)."""
    tokens = split_args(args)
    period_words = [tok for tok in tokens if ":" not in tok]
    filters = parse_filters(" ".join(f'"{tok}"' for tok in tokens if ":" in tok), allowed=SCOPE_FILTERS)
    period = parse_period(" ".join(period_words), ctx.today, default)
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
        unit = await people.unit_by_code(ctx.session, filters.unit)
        if unit is None or not scope.contains_unit(unit):
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
    asked = await asked_period(ctx, args)
    if asked is None:
        return
    period, scope, label = asked
    breakdown = await stats.figures(ctx.session, start=period.start, end=period.end, scope=scope)
    ctx.say(render_stats(ctx.t, breakdown, period, label))


@command("silent", N_("Units with no report lately"), roles=COORDINATING)
async def silent_cmd(ctx: Context, args: str) -> None:
    scope = scope_of(ctx)
    t = ctx.t
    one = await lookup.silent_units(ctx.session, scope, today=ctx.today, weeks=1)
    two = {u.id for u in await lookup.silent_units(ctx.session, scope, today=ctx.today, weeks=2)}
    if not one:
        ctx.say(t("Every unit reported (or said there was nothing to report) this past week."))
        return
    lines: list[str] = [t("<b>No report in the last week</b> ({n})", n=len(one))]
    for unit in one:
        mark = " ⚠️" if unit.id in two else ""
        lines.append(f"• {esc(unit.name)} ({esc(PROVINCE_NAMES.get(unit.province_code, ''))}){mark}")
    if two:
        lines.append(t("⚠️ silent for two weeks or more ({n})", n=len(two)))
    ctx.say(Safe("\n".join(lines)))
