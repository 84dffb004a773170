"""/pairs: the twinning pairs of the unit, cluster or province asked about, each with its last reported activity,
its agreed rhythm and whether a meeting is overdue for it."""

from __future__ import annotations

import datetime as dt

from handlers.commands import REPORTERS, command
from handlers.context import Context
from handlers.figures import SCOPE_FILTERS, OutOfScope
from handlers.filters import parse_query, split_args
from handlers.i18n import N_, Safe, Translator, esc
from handlers.lookup import scope_of
from handlers.parsing import Invalid
from handlers.report_form import COUNTRIES
from storage import pairs, people
from storage.folding import fold
from storage.pairs import PairActivity
from storage.registry import PROVINCE_NAMES
from storage.scope import Scope

RHYTHM_LABELS = {"quarterly": N_("quarterly"), "six_monthly": N_("every six months"), "yearly": N_("yearly")}
OVERDUE_WORDS = {"overdue", "qua han", "late"}
_COUNTRIES = dict(COUNTRIES)


def pair_line(t: Translator, pair: PairActivity, today: dt.date) -> Safe:
    partner: str = t(_COUNTRIES.get(pair.partner_country, pair.partner_country))
    if pair.partner_province:
        partner += f" – {esc(pair.partner_province)}"
    last = (t("last activity {date}", date=t.date(pair.last_activity)) if pair.last_activity
            else t("no activity reported"))
    parts = [t("• {unit} ↔ {partner} ({country})", unit=pair.unit_name, partner=pair.partner_name,
               country=Safe(partner)), last]
    if pair.rhythm:
        parts.append(t(RHYTHM_LABELS.get(pair.rhythm, pair.rhythm)))
        due = pair.due()
        if pair.overdue(today):
            parts.append(t("⚠️ overdue since {date}", date=t.date(due)) if due else t("⚠️ overdue"))
    return Safe(": ".join(parts[:2]) + "".join(f" · {p}" for p in parts[2:]))


@command("pairs", N_("Twinning pairs and their last activity, e.g. /pairs or /pairs overdue"), roles=REPORTERS)
async def pairs_cmd(ctx: Context, args: str) -> None:
    t = ctx.t
    try:
        tokens = split_args(args)
        words = fold(" ".join(tok for tok in tokens if ":" not in tok))
        if words and words not in OVERDUE_WORDS:
            ctx.say(t("Usage: <code>/pairs</code>, <code>/pairs overdue</code>, <code>/pairs cluster:2</code>, "
                      "<code>/pairs province:\"Lào Cai\"</code> or <code>/pairs unit:CODE</code>."))
            return
        overdue_only = bool(words)
        filters = parse_query(" ".join(f'"{tok}"' for tok in tokens if ":" in tok), allowed=SCOPE_FILTERS,
                              today=ctx.today, locale=ctx.t.locale, period=False).filters
        scope = scope_of(ctx)
        if filters.cluster is not None:
            cluster = await people.cluster_by_number(ctx.session, filters.cluster)
            if cluster is None or not (scope.everything or scope.cluster_id == cluster.id):
                raise OutOfScope
            scope = Scope.cluster(cluster.id)
        if filters.province is not None:
            scope = scope.narrowed(province_code=filters.province)
        if filters.unit is not None:
            unit = await people.unit_by_code(ctx.session, filters.unit)
            if unit is None or not scope.contains_unit(unit):
                raise OutOfScope
            scope = scope.narrowed(unit_id=unit.id)
    except Invalid as exc:
        ctx.say(t(exc.msgid, **exc.values))
        return
    except OutOfScope:
        ctx.say(t("That is outside what you may see."))
        return
    found = await pairs.pair_activity(ctx.session, scope, until=ctx.today)
    late = [p for p in found if p.overdue(ctx.today)]
    shown = late if overdue_only else found
    if not found:
        ctx.say(t("No twinning pairs are registered here."))
        return
    lines: list[str] = [t("<b>Twinning pairs</b>: {n}, {late} overdue for their agreed meetings",
                          n=t.number(len(found)), late=t.number(len(late)))]
    if overdue_only and not late:
        lines.append(t("None is overdue. 👏"))
    province = None
    for pair in shown:
        if pair.province_code != province:
            province = pair.province_code
            lines.append(f"<b>{esc(PROVINCE_NAMES.get(province, province))}</b>")
        lines.append(pair_line(t, pair, ctx.today))
    ctx.say(Safe("\n".join(lines)))


HANDLERS = (pairs_cmd,)
