"""After submitting: the one-line summary, "my reports", and the author's corrections and withdrawals
within 48 hours, each kept as a new version."""

from __future__ import annotations

import datetime as dt
from typing import Any

from handlers.commands import REPORTERS, action, command
from handlers.context import Context
from handlers.events import Option
from handlers.i18n import N_, Safe, esc
from handlers.parsing import small_int
from handlers.report_form import FIELDS, KINDS, field_keys
from storage import reports
from storage.models import Report

EDIT_WINDOW = dt.timedelta(hours=48)
# Fields an author may correct after submitting (the unit and the kind define the report itself).
CORRECTABLE = ("date", "venue", "participants_ours", "participants_partner", "gift_items", "gift_packages",
               "value", "recipients", "occasion", "delegations", "delegation_people", "markers", "km",
               "patients", "medicine_value", "sessions", "description")


def key_figure(ctx: Context, report: Report) -> str:
    t = ctx.t
    if report.amount is not None and report.currency:
        return t.money(report.amount, report.currency)
    if report.gift_packages:
        return t.plural("{n} package", "{n} packages", report.gift_packages)
    people = (report.participants_ours or 0) + (report.participants_partner or 0)
    if people:
        return t.plural("{n} person", "{n} people", people)
    return ""


def summary_line(ctx: Context, report: Report) -> str:
    kind = KINDS.get(report.kind)
    parts = [ctx.t.date(report.activity_date), ctx.t(kind.label) if kind else report.kind,
             esc(report.partner_name)]
    figure = key_figure(ctx, report)
    if figure:
        parts.append(figure)
    return " · ".join(parts)


def values_of(report: Report) -> dict[str, Any]:
    """A report as draft values, so the form's display and parsing serve corrections too."""
    values: dict[str, Any] = {
        "unit": report.unit_id, "unit_name": report.unit.name, "unit_fixed": True, "kind": report.kind,
        "date": report.activity_date.isoformat(), "venue": report.venue,
        "participants_ours": report.participants_ours, "participants_partner": report.participants_partner,
        "description": report.description, "gift_packages": report.gift_packages,
        "delegations": report.delegations, "delegation_people": report.delegation_people,
    }
    if report.pair_id:
        values["pair"] = report.pair_id
        values["partner"] = {"name": report.partner_name, "country": report.partner_country,
                             "province": report.partner_province}
    else:
        values.update(pair="other", partner_name=report.partner_name, partner_country=report.partner_country)
    values.update(report.details or {})
    values["photos"] = [{"file_id": p.file_id} for p in report.photos] or None
    if report.latitude is not None and report.longitude is not None:
        values["location"] = {"lat": report.latitude, "lon": report.longitude}
    elif (report.details or {}).get("place"):
        values["location"] = {"place": report.details["place"]}
    else:
        values["location"] = None
    return {k: v for k, v in values.items() if k in FIELDS or k in ("unit_name", "unit_fixed", "partner")}


def card(ctx: Context, report: Report) -> Safe:
    from handlers.flows import display

    t = ctx.t
    values = values_of(report)
    lines: list[str] = [t("<b>Report #{id}</b> – {unit}", id=report.id, unit=report.unit.name)]
    if report.status == "voided":
        lines.append(t("❌ Voided by an administrator: {reason}", reason=report.status_reason or "—"))
    elif report.status != "submitted":
        lines.append(t("❌ Withdrawn by the author."))
    for key in field_keys(values):
        if key in values and key != "unit":
            lines.append(f"<b>{t(FIELDS[key].label)}:</b> {esc(display(ctx, key, values[key], values))}")
    lines.append(t("Filed by {name} on {date}, version {version}.", name=report.author.display_name,
                   date=t.date(report.created_at.astimezone(ctx.config.tz).date()), version=report.version))
    return Safe("\n".join(lines))


def editable(ctx: Context, report: Report) -> bool:
    return (report.status == "submitted" and ctx.person is not None
            and report.author_person_id == ctx.person.id and ctx.now - report.created_at <= EDIT_WINDOW)


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
    options = []
    if editable(ctx, report):
        options = [Option(ctx.t("✏️ Correct a field"), f"ed:{report.id}"),
                   Option(ctx.t("🗑 Withdraw"), f"wd:{report.id}")]
    ctx.say(card(ctx, report), options, columns=2)


async def _own_report(ctx: Context, arg: str, *, lock: bool = False) -> Report | None:
    report_id = small_int(arg)
    report = await reports.get(ctx.session, report_id, lock=lock) if report_id is not None else None
    if report is None or ctx.person is None or report.author_person_id != ctx.person.id:
        ctx.notice = ctx.t("That report is not available.")
        return None
    return report


async def _changeable_report(ctx: Context, arg: str, *, lock: bool = False) -> Report | None:
    """The sender's own report, if it may still be changed; otherwise says why and returns None."""
    report = await _own_report(ctx, arg, lock=lock)
    if report is not None and not editable(ctx, report):
        ctx.say(ctx.t("Report #{id} can no longer be changed (48 hours have passed, or it was withdrawn).",
                      id=report.id))
        return None
    return report


@action("ed", roles=REPORTERS)
async def choose_correction(ctx: Context, arg: str) -> None:
    report = await _changeable_report(ctx, arg)
    if report is None:
        return
    values = values_of(report)
    keys = [k for k in field_keys(values) if k in CORRECTABLE]
    ctx.say(ctx.t("Which field of report #{id} do you want to correct?", id=report.id),
            [Option(ctx.t(FIELDS[k].label), f"ec:{report.id}:{k}") for k in keys], columns=2)


@action("ec", roles=REPORTERS)
async def start_correction(ctx: Context, arg: str) -> None:
    from handlers.flows import ask

    report_id, _, key = arg.partition(":")
    report = await _changeable_report(ctx, report_id)
    if report is None or key not in CORRECTABLE or key not in field_keys(values_of(report)):
        return
    if ctx.conversation.flow is not None:
        ctx.say(ctx.t("Finish or cancel the report you are writing first."))
        return
    ctx.conversation.flow = "correct"
    ctx.set_state(draft={"token": f"correct-{report.id}", "report": report.id, "started": ctx.now.isoformat(),
                         "values": values_of(report), "history": []})
    await ask(ctx, key)


async def finish_correction(ctx: Context, key: str) -> None:
    from handlers.flows import end_flow

    draft = ctx.state["draft"]
    end_flow(ctx)
    report = await _changeable_report(ctx, str(draft["report"]), lock=True)
    if report is None:
        return
    assert ctx.person is not None
    # Only the corrected field: another change made meanwhile (another channel) must survive.
    reports.apply_values(report, {**values_of(report), key: draft["values"].get(key)})
    await reports.record_change(ctx.session, report, action="corrected", by=ctx.person, now=ctx.now,
                                note=key)
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
