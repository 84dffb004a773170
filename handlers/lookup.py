"""Asking about reports: /recent with filters and paging, /report ID with photos and history, /find.

Everything goes through ``Scope``: an officer sees their unit, a coordinator their cluster, an admin
everything; a report outside the scope is answered exactly like one that does not exist.
"""

from __future__ import annotations

import dataclasses

from handlers.commands import REPORTERS, action, command
from handlers.context import Context
from handlers.events import Option
from handlers.filters import Filters, parse_query
from handlers.i18n import N_, Safe, esc
from handlers.parsing import Invalid, small_int
from handlers.report_form import KINDS
from handlers.report_view import card, key_figure, report_actions, twin_line, version_changes, window_note
from storage import lookup, people, reports
from storage.models import Report, Unit
from storage.scope import Scope

RECENT_FILTERS = ("limit", "kind", "province", "partner", "country", "since", "until", "unit", "cluster")


class OutOfScope(Exception):
    """A unit, province or cluster the person may not see: answered without saying whether it exists."""


def scope_of(ctx: Context) -> Scope:
    scope = Scope.of(ctx.person)
    assert scope is not None, "commands that reach here require a role"
    return scope


async def unit_named(ctx: Context, text: str) -> Unit:
    """The unit a person names by its code or by part of its name, among those they may see.

    Raises ``OutOfScope`` for the code of a unit outside their scope, ``Invalid`` when no unit or several
    match (naming them, so the next try can be exact)."""
    scope = scope_of(ctx)
    unit = await people.unit_by_code(ctx.session, text)
    if unit is not None:
        if not scope.contains_unit(unit):
            raise OutOfScope
        return unit
    found = await people.units_named(ctx.session, text, scope)
    if not found:
        raise Invalid(N_("No unit you may see matches “{text}”."), text=text)
    exact = [u for u in found if u.name.casefold() == text.strip().casefold()]
    if len(found) > 1 and len(exact) != 1:
        raise Invalid(N_("Several units match “{text}”: {units}. Write more of the name, or the unit's code."),
                      text=text, units="; ".join(f"{u.name} ({u.code})" for u in found[:5]))
    return exact[0] if exact else found[0]


def line(ctx: Context, report: Report) -> str:
    kind = KINDS.get(report.kind)
    parts = [f"#{report.id}", f"{report.activity_date:%d/%m}", esc(report.unit.name),
             ctx.t(kind.label) if kind else report.kind, esc(report.partner_name)]
    figure = key_figure(ctx, report)
    if figure:
        parts.append(figure)
    mark = " ❌" if report.status != "submitted" else ""
    return " · ".join(parts) + mark


async def show_page(ctx: Context, filters: Filters, offset: int) -> None:
    f = filters
    query = lookup.filtered(scope_of(ctx), kind=f.kind, province=f.province, country=f.country,
                            partner=f.partner, since=f.since, until=f.until, unit_code=f.unit, cluster=f.cluster)
    page = await lookup.recent(ctx.session, query, limit=f.limit + 1, offset=offset)
    more, page = len(page) > f.limit, page[:f.limit]
    t = ctx.t
    if not page:
        ctx.say(t("No reports match.") if offset == 0 else t("No more reports."))
        return
    ctx.set_state(recent={"filters": filters.as_dict(), "offset": offset})
    header = t("<b>Latest reports</b> ({first}–{last})", first=offset + 1, last=offset + len(page))
    options = [Option(f"#{r.id}", f"rp:{r.id}") for r in page]
    if offset > 0:
        options.append(Option(t("◀ Newer"), "rc:newer"))
    if more:
        options.append(Option(t("Older ▶"), "rc:older"))
    ctx.say(Safe("\n".join([header, *(line(ctx, r) for r in page)])), options, columns=5)


@command("recent", N_("Latest reports, e.g. /recent 20 kind:donation partner:LA month"), roles=REPORTERS)
async def recent_cmd(ctx: Context, args: str) -> None:
    try:
        query = parse_query(args, allowed=RECENT_FILTERS, today=ctx.today, locale=ctx.t.locale, limit=True)
        filters = query.filters
        if query.period is not None:
            filters = dataclasses.replace(filters, since=filters.since or query.period.start,
                                          until=filters.until or query.period.end)
        if filters.unit is not None:
            filters = dataclasses.replace(filters, unit=(await unit_named(ctx, filters.unit)).code)
    except Invalid as exc:
        ctx.say(ctx.t(exc.msgid, **exc.values))
        return
    except OutOfScope:
        ctx.say(ctx.t("No reports match."))
        return
    await show_page(ctx, filters, 0)


@action("rc", roles=REPORTERS)
async def recent_page(ctx: Context, arg: str) -> None:
    saved = ctx.state.get("recent")
    if not saved:
        ctx.notice = ctx.t("Send /recent again.")
        return
    filters = Filters.from_dict(saved["filters"])
    offset = saved["offset"] + (filters.limit if arg == "older" else -filters.limit)
    await show_page(ctx, filters, max(0, offset))


async def show_report(ctx: Context, report_id: int) -> None:
    report = await reports.get(ctx.session, report_id)
    if report is None or not scope_of(ctx).contains(report):
        # The same answer whether it does not exist or is not theirs: nothing is revealed.
        ctx.say(ctx.t("Report #{id} is not available to you.", id=report_id))
        return
    t = ctx.t
    lines: list[str] = [card(ctx, report)]
    twins = await twin_line(ctx, report)
    if twins:
        lines.append(twins)
    history = await reports.versions(ctx.session, report.id)
    if len(history) > 1 or report.status != "submitted":
        names = await people.names(ctx.session, {v.changed_by_person_id for v in history})
        lines.append(t("<b>History</b>"))
        previous = None
        for version in history:
            lines.append(t("v{version} {action} by {name}, {when}", version=version.version,
                           action=t(ACTIONS.get(version.action, version.action)),
                           name=names.get(version.changed_by_person_id or 0, "—"),
                           when=version.changed_at.astimezone(ctx.config.tz).strftime("%d/%m/%Y %H:%M")))
            if version.note and version.action == "voided":
                lines[-1] += f" – {esc(version.note)}"
            elif version.note and version.action in LINKING:
                lines[-1] += " – " + t(LINKING[version.action], id=version.note)
            if version.action == "corrected" and previous is not None:
                lines += [f"   {change}" for change in version_changes(t, previous.data, version.data)]
            previous = version
    note = await window_note(ctx, report)
    if note:
        lines.append(note)
    ctx.say(Safe("\n".join(lines)), report_actions(ctx, report), columns=2,
            photos=tuple(p.file_id for p in report.photos if p.channel == ctx.incoming.channel))


ACTIONS = {"submitted": N_("submitted"), "corrected": N_("corrected"), "withdrawn": N_("withdrawn"),
           "voided": N_("voided"), "linked": N_("linked"), "unlinked": N_("unlinked")}
LINKING = {"linked": N_("same event as #{id}"), "unlinked": N_("no longer the same event as #{id}")}


@action("rp", roles=REPORTERS)
async def open_report(ctx: Context, arg: str) -> None:
    report_id = small_int(arg)
    if report_id is not None:
        await show_report(ctx, report_id)


@command("find", N_("Search reports, e.g. /find lao cai tết"), roles=REPORTERS)
async def find_cmd(ctx: Context, args: str) -> None:
    t = ctx.t
    if not lookup.search_terms(args):
        ctx.say(t("Type words to look for, e.g. <code>/find lao cai tết</code>."))
        return
    found = await lookup.search(ctx.session, scope_of(ctx), args)
    if not found:
        ctx.say(t("Nothing found for “{words}”.", words=args.strip()[:100]))
        return
    ctx.say(Safe("\n".join([t("<b>Found</b> ({n})", n=len(found)), *(line(ctx, r) for r in found)])),
            [Option(f"#{r.id}", f"rp:{r.id}") for r in found], columns=5)


HANDLERS = (recent_cmd, recent_page, open_report, find_cmd)
