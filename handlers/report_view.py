"""After submitting: the one-line summary, "my reports", corrections and withdrawals. The author may correct
any field (kind, partner, photos and position included) or withdraw the report within 48 hours; after that
the card says so and whom to ask: the cluster's coordinators and the admins may correct a report of their
scope at any time. A correction shows "old → new" and is saved only when confirmed; each change is kept as a
new version recording who made it, whose history names what changed in the reader's language."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from handlers.commands import REPORTERS, action, command
from handlers.context import Context
from handlers.events import Option
from handlers.i18n import N_, Safe, Translator, esc
from handlers.measures import MEASURES, MONEY
from handlers.parsing import small_int
from handlers.report_form import COUNTRIES, FIELDS, KINDS, field_keys
from handlers.report_values import DETAILS, details_of, figures_of, values_of
from handlers.totals import key_figure as figure_of
from storage import events, people, reports
from storage.models import Report, ReportPhoto
from storage.scope import Scope
from storage.stats import exact

EDIT_WINDOW = dt.timedelta(hours=48)
CORRECT = "correct"
CONFIRM = "confirm_correction"
# What an author may not correct: the unit is whom the report is for.
NOT_CORRECTABLE = ("unit",)


def key_figure(ctx: Context, report: Report) -> str:
    return figure_of(ctx.t, {(m.measure, m.currency): exact(m.amount) for m in report.measures})


def summary_line(ctx: Context, report: Report) -> str:
    kind = KINDS.get(report.kind)
    parts = [ctx.t.date(report.activity_date), ctx.t(kind.label) if kind else report.kind,
             esc(report.partner_name)]
    figure = key_figure(ctx, report)
    if figure:
        parts.append(figure)
    return " · ".join(parts)


def card(ctx: Context, report: Report) -> Safe:
    from handlers.flows import review_lines

    t = ctx.t
    values = values_of(report)
    lines: list[str] = [t("<b>Report #{id}</b> – {unit}", id=report.id, unit=report.unit.name)]
    if report.status == "voided":
        lines.append(t("❌ Voided by an administrator: {reason}", reason=report.status_reason or "—"))
    elif report.status != "submitted":
        lines.append(t("❌ Withdrawn by the author."))
    lines += review_lines(ctx, {k: v for k, v in values.items() if k != "unit"})
    lines.append(t("Filed by {name} on {date}, version {version}.", name=report.author.display_name,
                   date=t.date(report.created_at.astimezone(ctx.config.tz).date()), version=report.version))
    return Safe("\n".join(lines))


async def twin_line(ctx: Context, report: Report) -> str | None:
    """"🔗 Same event as #15 (Đồn Biên phòng B)": the other reports of its event, whoever may see them."""
    twins = await events.twins(ctx.session, report)
    if not twins:
        return None
    names = ", ".join(f"#{twin.id} ({esc(twin.unit_name)})" + (" ❌" if twin.status != "submitted" else "")
                      for twin in twins)
    return ctx.t("🔗 Same event as {twins}", twins=Safe(names))


def editable(ctx: Context, report: Report) -> bool:
    """The author's own window: corrections and withdrawal."""
    return (report.status == "submitted" and ctx.person is not None
            and report.author_person_id == ctx.person.id and ctx.now - report.created_at <= EDIT_WINDOW)


def overseer(ctx: Context, report: Report) -> bool:
    """A coordinator of the report's cluster or an admin: they may correct it at any time (audited)."""
    if ctx.person is None or ctx.role not in ("coordinator", "admin"):
        return False
    scope = Scope.of(ctx.person)
    return scope is not None and scope.contains(report)


def may_correct(ctx: Context, report: Report) -> bool:
    return report.status == "submitted" and (editable(ctx, report) or overseer(ctx, report))


def report_actions(ctx: Context, report: Report) -> list[Option]:
    """The buttons under a report's card, for whoever reads it."""
    t = ctx.t
    options = []
    if may_correct(ctx, report):
        options.append(Option(t("✏️ Correct a field"), f"ed:{report.id}"))
    if editable(ctx, report):
        options.append(Option(t("🗑 Withdraw"), f"wd:{report.id}"))
    return options


async def window_note(ctx: Context, report: Report) -> str | None:
    """For the author once their 48 hours are over: that they are, and who can still correct the report."""
    if (report.status != "submitted" or ctx.person is None or report.author_person_id != ctx.person.id
            or editable(ctx, report) or overseer(ctx, report)):
        return None
    t = ctx.t
    until = (report.created_at + EDIT_WINDOW).astimezone(ctx.config.tz)
    when = f"{t.date(until.date())} {until:%H:%M}"
    names = await people.coordinators_of(ctx.session, report.unit.province.cluster_id)
    if names:
        return t("⏱ You could change this report until {when}. Your cluster's coordinator ({names}) or an "
                 "administrator can still correct it: ask them.", when=when, names=", ".join(names))
    return t("⏱ You could change this report until {when}. An administrator can still correct it: ask them.",
             when=when)


def correctable(values: dict[str, Any]) -> list[str]:
    return [k for k in field_keys(values) if k not in NOT_CORRECTABLE]


@command("myreports", N_("My recent reports"), roles=REPORTERS)
async def my_reports(ctx: Context, _args: str) -> None:
    assert ctx.person is not None
    mine = await reports.by_author(ctx.session, ctx.person.id)
    t = ctx.t
    if not mine:
        ctx.say(t("You have not submitted any report yet. Send /report to write one."))
        return
    lines: list[str] = [t("<b>Your recent reports</b>")]
    for report in mine:
        mark = " ❌" if report.status != "submitted" else ""
        lines.append(f"#{report.id} · {summary_line(ctx, report)}{mark}")
    ctx.say(Safe("\n".join(lines)), [Option(f"#{r.id}", f"my:{r.id}") for r in mine], columns=5)


@action("my", roles=REPORTERS)
async def open_mine(ctx: Context, arg: str) -> None:
    report = await _own_report(ctx, arg)
    if report is None:
        return
    note = await window_note(ctx, report)
    twins = await twin_line(ctx, report)
    text = Safe("\n".join(line for line in (card(ctx, report), twins, note) if line))
    ctx.say(text, report_actions(ctx, report), columns=2)


async def _own_report(ctx: Context, arg: str, *, lock: bool = False) -> Report | None:
    report_id = small_int(arg)
    report = await reports.get(ctx.session, report_id, lock=lock) if report_id is not None else None
    if report is None or ctx.person is None or report.author_person_id != ctx.person.id:
        ctx.notice = ctx.t("That report is not available.")
        return None
    return report


async def _changeable_report(ctx: Context, arg: str, *, lock: bool = False) -> Report | None:
    """The sender's own report, if they may still withdraw it; otherwise says why and returns None."""
    report = await _own_report(ctx, arg, lock=lock)
    if report is not None and not editable(ctx, report):
        await _say_closed(ctx, report)
        return None
    return report


async def _correctable_report(ctx: Context, arg: str, *, lock: bool = False) -> Report | None:
    """A report the sender may correct: their own within 48 hours, or any of their scope for a coordinator or
    an admin. Otherwise says why (or, outside their scope, the same as for a report that does not exist)."""
    report_id = small_int(arg)
    report = await reports.get(ctx.session, report_id, lock=lock) if report_id is not None else None
    scope = Scope.of(ctx.person)
    if report is None or scope is None or not (scope.contains(report) or report.author_person_id == (
            ctx.person.id if ctx.person else None)):
        ctx.notice = ctx.t("That report is not available.")
        return None
    if not may_correct(ctx, report):
        await _say_closed(ctx, report)
        return None
    return report


async def _say_closed(ctx: Context, report: Report) -> None:
    note = await window_note(ctx, report) if report.status == "submitted" else None
    ctx.say(note or ctx.t("Report #{id} can no longer be changed (48 hours have passed, or it was withdrawn).",
                          id=report.id))


@action("ed", roles=REPORTERS)
async def choose_correction(ctx: Context, arg: str) -> None:
    report = await _correctable_report(ctx, arg)
    if report is None:
        return
    values = values_of(report)
    ctx.say(ctx.t("Which field of report #{id} do you want to correct?", id=report.id),
            [Option(ctx.t(FIELDS[k].label), f"ec:{report.id}:{k}") for k in correctable(values)], columns=2)


def correction_values(report: Report) -> dict[str, Any]:
    """The report as draft values, every field it asks present (``None`` where it was skipped), so that a
    correction asks only what the change itself calls for: the partner's name after "Another partner", the
    new kind's own questions after a change of kind."""
    values = values_of(report)
    for key in field_keys(values):
        values.setdefault(key, None)
    return values


@action("ec", roles=REPORTERS)
async def start_correction(ctx: Context, arg: str) -> None:
    from handlers.flows import ask

    report_id, _, key = arg.partition(":")
    report = await _correctable_report(ctx, report_id)
    if report is None:
        return
    values = correction_values(report)
    if key not in correctable(values):
        return
    if ctx.conversation.flow is not None:
        ctx.say(ctx.t("Finish or cancel the report you are writing first."))
        return
    ctx.conversation.flow = CORRECT
    ctx.set_state(draft={"token": f"correct-{report.id}", "report": report.id, "started": ctx.now.isoformat(),
                         "values": values, "before": values, "history": [], "corrects": key})
    await ask(ctx, key)


def touched(draft: dict[str, Any]) -> list[str]:
    """The draft values a correction changed (a field and what goes with it: the partner with the pair, the
    other side with "mỗi bên", the sets with the kind)."""
    before, after = draft["before"], draft["values"]
    return sorted(k for k in {*before, *after} if before.get(k) != after.get(k))


async def confirm_correction(ctx: Context, key: str) -> None:
    """Show what the correction changes, old → new, and ask whether to save it."""
    from handlers.flows import display

    t = ctx.t
    draft = ctx.state["draft"]
    before, after = draft["before"], draft["values"]
    lines = [t("<b>Correct report #{id}?</b>", id=draft["report"])]
    for name in [k for k in touched(draft) if k in FIELDS]:
        lines.append(t("{field}: {old} → {new}", field=t(FIELDS[name].label),
                       old=display(ctx, name, before.get(name), before),
                       new=display(ctx, name, after.get(name), after)))
    if len(lines) == 1:
        lines.append(t("Nothing would change."))
    ctx.conversation.step = CONFIRM
    draft["at"] = key
    ctx.set_state(draft=draft)
    ctx.say(Safe("\n".join(lines)), [Option(t("✅ Save"), "cs:save"), Option(t("✏️ Change it again"), "cs:again"),
                                     Option(t("↩️ Keep it as it was"), "cs:keep")], columns=1)


@action("cs", current_only=True, roles=REPORTERS)
async def on_correction(ctx: Context, arg: str) -> None:
    from handlers.flows import ask, end_flow

    if ctx.conversation.flow != CORRECT or ctx.conversation.step != CONFIRM:
        return
    draft = ctx.state["draft"]
    if arg == "again":
        await ask(ctx, draft.get("corrects") or draft.get("at") or "description")
        return
    end_flow(ctx)
    if arg != "save":
        ctx.say(ctx.t("The correction was cancelled. The report is unchanged."))
        return
    report = await _correctable_report(ctx, str(draft["report"]), lock=True)
    if report is None:
        return
    assert ctx.person is not None
    changed = touched(draft)
    # Only what this correction changed: another change made meanwhile (another channel) must survive.
    values = values_of(report)
    for key in changed:
        if key in draft["values"]:
            values[key] = draft["values"][key]
        else:
            values.pop(key, None)
    reports.apply_values(report, values, details_of(values), figures_of(values))
    if "photos" in changed:
        report.photos = [ReportPhoto(position=n, channel=ctx.incoming.channel, file_id=p["file_id"],
                                     file_unique_id=p.get("unique_id"), file_size=p.get("size"),
                                     stored_path=p.get("path"))
                         for n, p in enumerate(values.get("photos") or [])]
    await reports.record_change(ctx.session, report, action="corrected", by=ctx.person, now=ctx.now,
                                note=",".join(k for k in changed if k in FIELDS)[:500])
    ctx.say(Safe(ctx.t("✅ Report #{id} corrected (version {version}).", id=report.id, version=report.version)
                 + "\n" + summary_line(ctx, report)))


@action("wd", roles=REPORTERS)
async def confirm_withdraw(ctx: Context, arg: str) -> None:
    report = await _changeable_report(ctx, arg)
    if report is None:
        return
    ctx.say(ctx.t("Withdraw report #{id}? It stays on record but no longer counts.", id=report.id),
            [Option(ctx.t("🗑 Yes, withdraw"), f"wy:{report.id}"), Option(ctx.t("↩️ No"), "wn:")], columns=2)


@action("wy", current_only=True, roles=REPORTERS)
async def withdraw(ctx: Context, arg: str) -> None:
    report = await _changeable_report(ctx, arg, lock=True)
    if report is None:
        return
    assert ctx.person is not None
    report.status = "withdrawn"
    report.status_reason = None  # the card says "withdrawn by the author" in the reader's language
    await reports.record_change(ctx.session, report, action="withdrawn", by=ctx.person, now=ctx.now)
    ctx.say(ctx.t("Report #{id} was withdrawn.", id=report.id))


@action("wn", roles=REPORTERS)
async def keep(ctx: Context, _arg: str) -> None:
    ctx.notice = ctx.t("Nothing changed.")


# --- what a version changed, for the history ---------------------------------------------------


def version_changes(t: Translator, before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """"Field: old → new" for what differs between two versions' snapshots, in ``t``'s language."""
    lines: list[str] = []
    for label, old, new in _differences(t, before, after):
        lines.append(t("{field}: {old} → {new}", field=label, old=old or "—", new=new or "—"))
    return lines


def _differences(t: Translator, before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []

    def choice(key: str, value: Any) -> str:
        return t(dict(FIELDS[key].choices).get(value, str(value))) if value is not None else ""

    def text(value: Any) -> str:
        return _short(str(value or ""))

    simple = (("kind", lambda v: t(KINDS[v].label) if v in KINDS else str(v or "")),
              ("activity_date", lambda v: t.date(dt.date.fromisoformat(v)) if v else ""),
              ("partner_name", lambda v: str(v or "")),
              ("partner_country", lambda v: t(dict(COUNTRIES).get(str(v), str(v))) if v else ""),
              ("venue", lambda v: choice("venue", v)),
              ("description", text))
    labels: dict[str, str] = {"kind": FIELDS["kind"].label, "activity_date": FIELDS["date"].label,
              "partner_name": FIELDS["pair"].label, "partner_country": FIELDS["partner_country"].label,
              "venue": FIELDS["venue"].label, "description": FIELDS["description"].label}
    for key, show in simple:
        if before.get(key) != after.get(key):
            found.append((t(labels[key]), show(before.get(key)), show(after.get(key))))
    old_details, new_details = before.get("details") or {}, after.get("details") or {}
    for key in (*DETAILS, "place"):
        old_value, new_value = old_details.get(key), new_details.get(key)
        if old_value == new_value:
            continue
        field = FIELDS[key] if key in FIELDS else FIELDS["location"]
        if field.choices:
            found.append((t(field.label), choice(key, old_value), choice(key, new_value)))
        else:
            found.append((t(field.label), text(old_value), text(new_value)))
    old_figures, new_figures = _figures(before), _figures(after)
    for measure in MEASURES:
        old, new = old_figures.get(measure, {}), new_figures.get(measure, {})
        if old != new:
            found.append((t(MEASURES[measure].label), _figure_text(t, measure, old), _figure_text(t, measure, new)))
    if len(before.get("photos") or []) != len(after.get("photos") or []):
        found.append((t(FIELDS["photos"].label), str(len(before.get("photos") or [])),
                      str(len(after.get("photos") or []))))
    if (before.get("latitude"), before.get("longitude")) != (after.get("latitude"), after.get("longitude")):
        found.append((t(FIELDS["location"].label), _point(before), _point(after)))
    return found


def _figures(snapshot: dict[str, Any]) -> dict[str, dict[str, Decimal]]:
    figures: dict[str, dict[str, Decimal]] = {}
    for row in snapshot.get("measures") or []:
        figures.setdefault(row["measure"], {})[row.get("currency") or ""] = exact(row["amount"])
    return figures


def _figure_text(t: Translator, measure: str, figure: dict[str, Decimal]) -> str:
    if MEASURES[measure].kind == MONEY:
        return " · ".join(t.money(amount, currency) for currency, amount in sorted(figure.items()))
    return t.number(figure[""]) if "" in figure else ""


def _point(snapshot: dict[str, Any]) -> str:
    if snapshot.get("latitude") is None:
        return ""
    return f"{snapshot['latitude']:.5f}, {snapshot['longitude']:.5f}"


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


HANDLERS = (my_reports, open_mine, choose_correction, start_correction, on_correction, confirm_withdraw, withdraw, keep)
