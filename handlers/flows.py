"""The report conversation: walks the form declared in ``report_form``, one step per event.

The draft lives in the conversation row (``flow = "report"``, ``step`` = the field asked), so a
restart, a crash or another worker continues exactly where the officer was.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select

from handlers.answers import Unsure, navigation, read_figure, shown
from handlers.commands import REPORTERS, Flow, Input, action, command
from handlers.context import Context
from handlers.events import Option
from handlers.i18n import N_, Safe, Translator
from handlers.keyboard_layout import shorten
from handlers.measures import FIGURE_SETS, MEASURES
from handlers.parsing import Invalid, clean_text, parse_date, small_int
from handlers.positions import position_text
from handlers.report_form import FIELDS, KINDS, MAX_PHOTOS, Field, field_keys, figure_sets
from handlers.report_values import details_of, figures_of
from storage import events, places, reports, senders
from storage.folding import fold
from storage.models import Report, Unit
from storage.scope import Scope

FLOW = "report"
CORRECT = "correct"  # one field of a submitted report (see report_view)
REVIEW = "review"
CONFIRM_CANCEL = "confirm_cancel"
RESUME = "resume"
CONFIRM_CORRECTION = "confirm_correction"  # see report_view
ADD = "add"  # which figures to add, from the review card
PICK = "pick"  # which field to fix, from the review card
CONFIRM_KIND = "confirm_kind"  # a new kind drops what described the old one: yes or no
# Steps that wait for one of their options rather than for an answer to a question.
WAITING_FOR_CHOICE = (REVIEW, RESUME, CONFIRM_CANCEL, ADD, PICK, CONFIRM_KIND, CONFIRM_CORRECTION)
_IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic", "image/heif")


# --- entry points ---------------------------------------------------------------------------


@command("report", N_("Report an activity; /report 12 shows report #12"), roles=REPORTERS, aside=False)
async def start_report(ctx: Context, args: str) -> None:
    number = args.strip().lstrip("#")
    if number:
        from handlers.lookup import show_report

        report_id = small_int(number)
        if report_id is not None:
            await show_report(ctx, report_id)
        else:
            ctx.say(ctx.t("Send /report to write a report, or /report 12 to see report #12."))
        return
    draft = ctx.state.get("draft")
    if ctx.conversation.flow == FLOW and draft:
        await ask_resume(ctx)
        return
    person = ctx.person
    assert person is not None
    values: dict[str, Any] = {}
    if person.unit is not None:
        values.update(unit=person.unit_id, unit_name=person.unit.name, unit_fixed=True)
    ctx.conversation.flow = FLOW
    ctx.set_state(draft={"token": str(uuid.uuid4()), "started": ctx.incoming.sent_at.isoformat(),
                         "written": ctx.incoming.sent_at.isoformat(), "values": values, "history": []})
    await advance(ctx)


async def ask_resume(ctx: Context) -> None:
    draft = ctx.state["draft"]
    started = dt.datetime.fromisoformat(draft["started"]).astimezone(ctx.config.tz).date()
    kind = KINDS.get(str(draft["values"].get("kind")))
    what = ctx.t(kind.label) if kind else ctx.t("kind not chosen yet")
    ctx.conversation.step = RESUME
    ctx.say(ctx.t("You have an unfinished report from {date} ({what}). Continue it or discard it?",
                  date=ctx.t.date(started), what=what),
            [Option(ctx.t("▶️ Continue"), "rs:continue"), Option(ctx.t("🗑 Discard"), "rs:discard")], columns=2)


@action("rs", current_only=True, roles=REPORTERS, aside=False)
async def on_resume(ctx: Context, arg: str) -> None:
    draft = ctx.state.get("draft")
    if ctx.conversation.flow != FLOW or not draft:
        return
    if arg == "discard":
        end_flow(ctx)
        ctx.say(ctx.t("The unfinished report was discarded."))
        await start_report(ctx, "")
        return
    await ask(ctx, where_we_were(draft))


@command("cancel", N_("Stop the report you are writing"), aside=False)
async def cancel(ctx: Context, _args: str) -> None:
    if ctx.conversation.flow == CORRECT:
        end_flow(ctx)
        ctx.say(ctx.t("The correction was cancelled. The report is unchanged."))
        return
    if ctx.conversation.flow != FLOW:
        ctx.say(ctx.t("There is nothing to cancel."))
        return
    ctx.conversation.step = CONFIRM_CANCEL
    ctx.say(ctx.t("Discard this report? Everything you entered will be lost."),
            [Option(ctx.t("🗑 Yes, discard"), "cx:yes"), Option(ctx.t("↩️ No, continue"), "cx:no")], columns=2)


@action("cx", current_only=True, roles=REPORTERS, aside=False)
async def on_cancel_answer(ctx: Context, arg: str) -> None:
    if ctx.conversation.flow != FLOW:
        return
    if arg == "yes":
        end_flow(ctx)
        ctx.say(ctx.t("The report was discarded. Nothing was saved."))
        return
    await ask(ctx, where_we_were(ctx.state["draft"]))


def where_we_were(draft: dict[str, Any]) -> str:
    """The field (or the review) last asked: ``ask`` records it, asides like /cancel do not."""
    at = draft.get("at")
    return at if at in FIELDS or at == REVIEW else next_step(draft["values"]) or REVIEW


def end_flow(ctx: Context) -> None:
    ctx.conversation.flow = None
    ctx.conversation.step = None
    ctx.drop_state("draft", "menu")


async def reprompt(ctx: Context, *, stale: bool = False) -> None:
    if ctx.conversation.flow not in (FLOW, CORRECT):
        return
    step = ctx.conversation.step
    if step == RESUME:
        await ask_resume(ctx)
    elif step == CONFIRM_CANCEL:
        await cancel(ctx, "")
    elif step == ADD:
        await on_review(ctx, "add")
    elif step == PICK:
        await on_review(ctx, "fields")
    elif step == CONFIRM_KIND:
        ask_kind_change(ctx)
    elif step == CONFIRM_CORRECTION:
        from handlers.report_view import confirm_correction

        await confirm_correction(ctx, ctx.state["draft"].get("at") or "description")
    elif step:
        await ask(ctx, step)


# --- walking the form -------------------------------------------------------------------------


def next_step(values: dict[str, Any]) -> str | None:
    for key in field_keys(values):
        if key not in values:
            return key
    return None


async def advance(ctx: Context, echo: str | None = None) -> None:
    values = ctx.state["draft"]["values"]
    await ask(ctx, next_step(values) or REVIEW, echo=echo)


async def ask(ctx: Context, key: str, *, echo: str | None = None, error: str | None = None) -> None:
    ctx.conversation.step = key
    draft = ctx.state["draft"]
    draft["at"] = key
    draft.pop("unsure", None)
    # A doubt about what was read from the officer's message (``quick_report``): asked once, with its readings.
    question = (draft.get("questions") or {}).pop(key, None)
    if key == REVIEW:
        draft.pop("fixing", None)
    ctx.set_state(draft=draft)
    if key == REVIEW:
        await show_review(ctx, echo=echo)
        return
    field = FIELDS[key]
    t = ctx.t
    if question and question["readings"]:
        label = f"<b>{t(field.label)}</b>"
        ask_which(ctx, key, Unsure(question["readings"], question["why"], question["values"], question["approx"]),
                  echo=Safe(f"{echo}\n{label}" if echo else label))
        return
    if question and question["why"] and error is None:
        error = t(question["why"], **question["values"])
    lines = []
    if echo:
        lines.append(echo)
    if error:
        lines.append("⚠️ " + error)
    can = ctx.incoming.abilities
    prompt = field.typed_prompt if field.typed_prompt and not can.location else field.prompt
    lines.append(f"<b>{t(prompt)}</b>")
    if field.example:
        lines.append(f"<i>{t(field.example)}</i>")
    values = draft["values"]
    current = values.get(key)
    if current is not None and key != "photos":
        lines.append(t("Now: {value}", value=display(ctx, key, current)))
    options = await options_for(ctx, field)
    free = field.type not in ("choice", "pair")
    nav = []
    if field.optional:
        # A figure already given is taken out by the same step that skips it.
        removing = field.measure is not None and current is not None
        nav.append(Option(t("🗑 Remove this figure"), "f:_skip") if removing else skip_option(t))
    if draft.get("fixing"):
        nav.append(Option(t("⬅️ Back to the report"), "f:_back"))
    elif draft["history"]:
        nav.append(back_option(t))
    location_label = t("📍 Send my location") if field.type == "location" and can.location else ""
    ctx.say(Safe("\n".join(lines)), [*options, *nav], columns=2 if field.type != "pair" else 1,
            free_input=free, ask_location=location_label)


# The words shown for Skip, Back and Done where options are typed: each one ``answers.navigation`` reads.
def skip_option(t: Translator) -> Option:
    return Option(t("⏭ Skip"), "f:_skip", word=t("skip"))


def back_option(t: Translator) -> Option:
    return Option(t("⬅️ Back"), "f:_back", word=t("back"))


def done_option(t: Translator) -> Option:
    return Option(t("✅ Done"), "f:_done", word=t("done"))


async def options_for(ctx: Context, field: Field) -> list[Option]:
    t = ctx.t
    values = ctx.state["draft"]["values"]
    if field.type == "choice":
        return [Option(t(label), f"f:{value}") for value, label in field.choices]
    if field.type == "date":
        # The day the officer last wrote, not the day it reached us: a report typed offline keeps its day.
        written_at = ctx.state["draft"].get("written") or ctx.incoming.sent_at.isoformat()
        written = dt.datetime.fromisoformat(written_at).astimezone(ctx.config.tz).date()
        today = min(written, ctx.today)
        return [Option(t("Today ({date})", date=today.strftime("%d/%m")), f"f:{today.isoformat()}", word=t("today")),
                Option(t("Yesterday ({date})", date=(today - dt.timedelta(days=1)).strftime("%d/%m")),
                       f"f:{(today - dt.timedelta(days=1)).isoformat()}", word=t("yesterday"))]
    if field.type == "pair":
        pairs = await reports.pairs_of_unit(ctx.session, int(values["unit"]))
        countries = dict(_countries(ctx))
        # A long name loses its last parts ("…, huyện Mường Quắn") rather than being cut anywhere.
        options = [Option(shorten(f"{p.partner_name} ({countries.get(p.partner_country, p.partner_country)})"),
                          f"f:{p.id}") for p in pairs[:12]]
        return [*options, Option(t("Another partner"), "f:other")]
    if field.type == "photos":
        return [done_option(t)] if ctx.state["draft"]["values"].get("photos") else []
    return []


def _countries(ctx: Context) -> list[tuple[str, str]]:
    return [(code, ctx.t(label)) for code, label in FIELDS["partner_country"].choices]


@action("f", current_only=True, roles=REPORTERS, aside=False)
async def on_option(ctx: Context, value: str) -> None:
    if ctx.conversation.flow not in (FLOW, CORRECT) or ctx.conversation.step in (
            None, *WAITING_FOR_CHOICE):
        return
    await answer(ctx, ctx.conversation.step, choice=value)


async def on_input(ctx: Context) -> bool:
    """Typed text or an attachment while a report is open. Returns False when no step is waiting."""
    step = ctx.conversation.step
    if ctx.conversation.flow not in (FLOW, CORRECT) or not step:
        return False
    draft = ctx.state["draft"]
    draft["written"] = ctx.incoming.sent_at.isoformat()
    ctx.set_state(draft=draft)
    verb = navigation(ctx.incoming.text) if ctx.incoming.attachment is None else None
    if verb == "cancel":
        await cancel(ctx, "")
        return True
    if step in WAITING_FOR_CHOICE:
        ctx.say(ctx.t("Please choose one of the options below."))
        await reprompt(ctx)
        return True
    if verb is not None:
        await navigate(ctx, step, verb)
        return True
    await answer(ctx, step)
    return True


async def navigate(ctx: Context, key: str, verb: str) -> None:
    """A navigation word typed at a question: done if the question allows it, explained if not; never
    taken as the answer."""
    field = FIELDS[key]
    draft = ctx.state["draft"]
    if verb == "skip":
        if field.optional:
            await answer(ctx, key, choice="_skip")
        else:
            await ask(ctx, key, error=ctx.t("This question cannot be skipped."))
    elif verb == "back":
        if draft["history"] or draft.get("fixing"):
            await answer(ctx, key, choice="_back")
        else:
            await ask(ctx, key, error=ctx.t("This is the first question: there is nothing to go back to."))
    elif field.type == "photos" and draft["values"].get("photos"):
        await answer(ctx, key, choice="_done")
    elif field.type == "photos":
        await ask(ctx, key, error=ctx.t("No photo has come yet. Send photos, or skip this step."))
    else:
        await ask(ctx, key, error=ctx.t("Please type your answer to this question."))


async def answer(ctx: Context, key: str, *, choice: str | None = None) -> None:
    draft = ctx.state["draft"]
    values = draft["values"]
    field = FIELDS[key]
    approx = False
    if choice == "_back":
        if draft.get("fixing"):
            # A field opened from the review card: back is the card, not the fields answered before.
            await ask(ctx, REVIEW)
        elif draft["history"]:
            previous = draft["history"].pop()
            ctx.set_state(draft=draft)
            await ask(ctx, previous)
        return
    if choice == "_retype":
        await ask(ctx, key)
        return
    if choice == "_skip":
        if not field.optional:
            return
        value: Any = None
    elif choice == "_done" and field.type == "photos":
        value = values.get("photos") or None
        values.pop("photos", None)
        for album in {p.get("album") for p in draft.get("photos_pending") or [] if p.get("album")}:
            ctx.unsay(f"album:{album}")  # its count would now come after the next question
    elif choice is not None and choice.startswith("_pick:"):
        unsure = draft.get("unsure") or {}
        index = small_int(choice.removeprefix("_pick:"), digits=2)
        if unsure.get("key") != key or index is None or index >= len(unsure.get("readings", ())):
            await ask(ctx, key)
            return
        value, approx = unsure["readings"][index], bool(unsure.get("approx"))
    else:
        try:
            value, approx = await parse(ctx, field, choice)
        except Invalid as exc:
            shown_values = {k: ctx.t.number(v) if isinstance(v, int) else v for k, v in exc.values.items()}
            await ask(ctx, key, error=ctx.t(exc.msgid, **shown_values))
            return
        except Unsure as unsure:
            ask_which(ctx, key, unsure)
            return
        except _Pending as pending:
            # The answer was taken (a photo, a unit search) but the step is not finished.
            if pending.reply is not None:
                ctx.say(pending.reply[0], pending.reply[1], columns=1)
            return
    if key == "kind" and await kind_changes(ctx, value):
        return
    set_value(values, key, value, approx=approx)
    await answered(ctx, key, field, value)


async def answered(ctx: Context, key: str, field: Field, value: Any) -> None:
    draft = ctx.state["draft"]
    if ctx.conversation.flow == CORRECT:
        from handlers.report_view import confirm_correction

        ctx.set_state(draft=draft)
        missing = next_step(draft["values"])
        if missing is not None:
            # What the change calls for: the partner's name after "Another partner", a new kind's questions.
            await ask(ctx, missing)
            return
        await confirm_correction(ctx, draft.get("corrects") or key)
        return
    if not draft.get("fixing") and (not draft["history"] or draft["history"][-1] != key):
        draft["history"].append(key)
    ctx.set_state(draft=draft)
    if key == "unit" and "message" in draft:
        from handlers.quick_report import read_into_draft

        await read_into_draft(ctx)  # the message is read once the unit, and so its partners, are known
        return
    echo = None
    if field.measure is not None and value is not None:
        # What was read is said back, formatted, before it counts.
        echo = ctx.t("✓ {label}: {value}", label=ctx.t(field.label), value=display(ctx, key, value))
    await advance(ctx, echo=echo)


def ask_which(ctx: Context, key: str, unsure: Unsure, *, echo: str | None = None) -> None:
    """Offer the readings of an answer that is not certain: pick one, or type it again."""
    draft = ctx.state["draft"]
    draft["unsure"] = {"key": key, "readings": unsure.readings, "approx": unsure.approx}
    ctx.set_state(draft=draft)
    t = ctx.t
    labels = [shown(t, MEASURES[key], reading, unsure.approx) if key in MEASURES else display(ctx, key, reading)
              for reading in unsure.readings]
    question = t(unsure.why, **unsure.values)
    if len(labels) == 1:
        options = [Option(t("✅ Yes, {value}", value=labels[0]), "f:_pick:0")]
    else:
        options = [Option(label, f"f:_pick:{n}") for n, label in enumerate(labels)]
    ctx.say(Safe(f"{echo}\n⚠️ {question}" if echo else f"⚠️ {question}"),
            [*options, Option(t("✏️ Type it again"), "f:_retype")], columns=1)


async def kind_changes(ctx: Context, new: str) -> bool:
    """The kind changed on the review card: every figure stays (the sets of the old kind are kept as
    added ones); what described only the old kind is dropped after a yes. True while that yes is asked."""
    values = ctx.state["draft"]["values"]
    old = values.get("kind")
    if old is None or old == new or old not in KINDS or new not in KINDS:
        return False
    kept = [name for name in figure_sets(values)
            if any(values.get(k) is not None for k in FIGURE_SETS[name].fields)]
    values["sets"] = [name for name in kept if name not in KINDS[new].sets]
    if not dropped_by(values, new):
        return False
    draft = ctx.state["draft"]
    draft["kind_to"] = new
    ctx.set_state(draft=draft)
    ask_kind_change(ctx)
    return True


def dropped_by(values: dict[str, Any], new: str) -> list[str]:
    """What describes the draft's kind only, answered, and not asked by ``new``."""
    old = KINDS[str(values.get("kind"))]
    return [key for key in old.details if key not in KINDS[new].details and values.get(key) is not None]


def ask_kind_change(ctx: Context) -> None:
    t = ctx.t
    draft = ctx.state["draft"]
    values, new = draft["values"], draft["kind_to"]
    ctx.conversation.step = CONFIRM_KIND
    what = "; ".join(f"{t(FIELDS[k].label)}: {display(ctx, k, values[k])}" for k in dropped_by(values, new))
    ctx.say(t("{kind} does not ask for {what}. Change the kind and drop it?", kind=t(KINDS[new].label), what=what),
            [Option(t("✅ Yes, change the kind"), "rk:yes"),
             Option(t("↩️ No, keep {kind}", kind=t(KINDS[str(values['kind'])].label)), "rk:no")], columns=1)


@action("rk", current_only=True, roles=REPORTERS)
async def on_kind_change(ctx: Context, arg: str) -> None:
    if ctx.conversation.flow not in (FLOW, CORRECT) or ctx.conversation.step != CONFIRM_KIND:
        return
    draft = ctx.state["draft"]
    values = draft["values"]
    new = draft.pop("kind_to", None)
    if arg == "yes" and new in KINDS:
        for key in KINDS[str(values.get("kind"))].details:
            if key not in KINDS[new].details:
                values.pop(key, None)
        set_value(values, "kind", new)
        await answered(ctx, "kind", FIELDS["kind"], new)
        return
    ctx.set_state(draft=draft)
    await ask(ctx, REVIEW if ctx.conversation.flow == FLOW else "kind")


def set_value(values: dict[str, Any], key: str, value: Any, *, approx: bool = False) -> None:
    values[key] = value
    estimates = set(values.get("approx") or ())
    (estimates.add if approx and value is not None else estimates.discard)(key)
    if estimates:
        values["approx"] = sorted(estimates)
    else:
        values.pop("approx", None)
    if key == "pair":
        if value == "other":
            values.pop("partner", None)
        else:
            values.pop("partner_name", None)
            values.pop("partner_country", None)
    if key == "unit":
        for stale in ("pair", "partner", "partner_name", "partner_country"):
            values.pop(stale, None)


class _Pending(Exception):
    def __init__(self, reply: tuple[str, list[Option]] | None = None) -> None:
        super().__init__()
        self.reply = reply


async def parse(ctx: Context, field: Field, choice: str | None) -> tuple[Any, bool]:
    """(value, estimate?) of the answer to ``field``; raises Invalid, Unsure or _Pending."""
    incoming = ctx.incoming
    text = incoming.text if choice is None else None
    attachment = incoming.attachment if choice is None else None
    values = ctx.state["draft"]["values"]
    if field.type == "photos":
        return await take_photo(ctx, attachment, text), False
    if field.type == "location":
        if attachment is not None and attachment.kind == "location" and attachment.latitude is not None \
                and attachment.longitude is not None:
            position: dict[str, Any] = {"lat": attachment.latitude, "lon": attachment.longitude}
            near = await places.nearest_unit(ctx.session, attachment.latitude, attachment.longitude)
            if near is not None:
                position["near"] = {"name": near.name, "km": near.km}
            return position, False
    if attachment is not None and attachment.kind != "location":
        raise Invalid(N_("I was expecting text here, not a photo or a file."))
    if field.type == "choice":
        allowed = {value for value, _ in field.choices}
        if choice in allowed:
            return choice, False
        raise Invalid(N_("Please choose one of the options."))
    if field.type == "pair":
        if choice == "other":
            return "other", False
        pairs = {str(p.id): p for p in await reports.pairs_of_unit(ctx.session, int(values["unit"]))}
        if choice in pairs:
            pair = pairs[choice]
            values["partner"] = {"name": pair.partner_name, "country": pair.partner_country,
                                 "province": pair.partner_province}
            return pair.id, False
        raise Invalid(N_("Please choose one of the options, or “Another partner”."))
    if field.type == "date":
        max_age = ctx.config.report_max_age_days
        if choice:
            try:
                typed = dt.date.fromisoformat(choice).strftime("%d/%m/%Y")
            except ValueError:
                raise Invalid(N_("Please choose one of the options.")) from None
            return parse_date(typed, today=ctx.today, max_age_days=max_age).isoformat(), False
        return parse_date(_text(text), today=ctx.today, max_age_days=max_age).isoformat(), False
    if field.type == "unit":
        return await find_unit(ctx, choice, text), False
    if choice is not None:
        raise Invalid(N_("Please type your answer."))
    if field.measure is not None:
        return read_figure(field.measure, _text(text), ctx.t, values)
    if field.type == "location":
        return {"place": clean_text(text, limit=field.limit)}, False
    return clean_text(text, limit=field.limit, multiline=field.type == "longtext"), False


def _text(text: str | None) -> str:
    if text is None or not text.strip():
        raise Invalid(N_("The answer is empty. Please type a few words."))
    return text


async def take_photo(ctx: Context, attachment: Any, text: str | None) -> Any:
    values = ctx.state["draft"]["values"]
    photos = list(ctx.state["draft"].get("photos_pending") or [])
    if attachment is None:
        raise Invalid(N_("Send photos here, or skip this step."))
    if attachment.kind == "photo" and (attachment.mime_type or "image/jpeg") in _IMAGE_TYPES:
        if len(photos) >= MAX_PHOTOS:
            raise Invalid(N_("That is already {limit} photos, the most one report holds. Choose Done."),
                          limit=MAX_PHOTOS)
        if any(p["file_id"] == attachment.file_id for p in photos):
            raise _Pending()
        photos.append({"file_id": attachment.file_id, "unique_id": attachment.file_unique_id,
                       "size": attachment.file_size, "album": attachment.media_group_id, "url": attachment.url,
                       "path": attachment.path})
        draft = ctx.state["draft"]
        draft["photos_pending"] = photos
        values["photos"] = photos
        ctx.set_state(draft=draft)
        t = ctx.t
        said = t.plural("Photo received. Send more, or choose Done.",
                        "{n} photos received. Send more, or choose Done.", len(photos))
        if attachment.media_group_id:
            # An album comes as one update per photo: one answer, with the count once they all arrived.
            ctx.say_later(f"album:{attachment.media_group_id}", said, [done_option(t)], seconds=ctx.config.album_quiet)
            raise _Pending()
        raise _Pending((said, [done_option(t)]))
    if attachment.kind == "document":
        raise Invalid(N_("Only photos can be attached (JPEG, PNG, WebP or HEIC). Send the picture as a photo."))
    raise Invalid(N_("That is not a photo. Send photos here, or skip this step."))


async def find_unit(ctx: Context, choice: str | None, text: str | None) -> int:
    scope = Scope.of(ctx.person)
    if scope is None:
        raise Invalid(N_("No unit you may report for matches “{text}”. Try another part of the name."),
                      text=text or "")
    units = list((await ctx.session.scalars(scope.units(select(Unit).where(Unit.active)).order_by(Unit.name))).all())
    if choice is not None:
        chosen = next((u for u in units if f"u{u.id}" == choice), None)
        if chosen is None:
            raise Invalid(N_("Please choose one of the options."))
        ctx.state["draft"]["values"]["unit_name"] = chosen.name
        return chosen.id
    key = fold(_text(text))
    matches = [u for u in units if key in fold(u.name) or key == fold(u.code)]
    if not matches:
        raise Invalid(N_("No unit you may report for matches “{text}”. Try another part of the name."),
                      text=text or "")
    if len(matches) == 1:
        ctx.state["draft"]["values"]["unit_name"] = matches[0].name
        return matches[0].id
    t = ctx.t
    raise _Pending((t("Several units match. Which one?"),
                    [Option(shorten(u.name), f"f:u{u.id}") for u in matches[:8]]))


# --- showing values -------------------------------------------------------------------------


def display(ctx: Context, key: str, value: Any, values: dict[str, Any] | None = None) -> str:
    """A field's value as the user reads it; ``values`` are the rest of the form (the draft by default)."""
    t = ctx.t
    if values is None:
        values = ctx.state.get("draft", {}).get("values", {})
    field = FIELDS.get(key)
    if value is None:
        return t("—")
    if field is None:
        return str(value)
    if field.measure is not None:
        return shown(t, field.measure, value, key in (values.get("approx") or ()))
    if field.type == "choice":
        return t(dict(field.choices).get(value, str(value)))
    if field.type == "date":
        return t.date(dt.date.fromisoformat(value))
    if field.type == "photos":
        return t.plural("{n} photo", "{n} photos", len(value))
    if field.type == "location":
        if "place" in value:
            return str(value["place"])
        return position_text(t, value)
    if field.type == "unit":
        return str(values.get("unit_name", value))
    if field.type == "pair":
        if value == "other":
            return t("Another partner")
        partner = values.get("partner") or {}
        country = dict(_countries(ctx)).get(partner.get("country", ""), "")
        extra = ", ".join(x for x in (country, partner.get("province")) if x)
        return f"{partner.get('name', '')} ({extra})" if extra else str(partner.get("name", ""))
    return str(value)


# On the card, after the kind and the date: who with, then the figures, then the rest.
CARD_HEAD = ("unit", "pair", "partner_name", "partner_country", "venue")
DESCRIPTION_ON_CARD = 300


def review_lines(ctx: Context, values: dict[str, Any], *, description: int | None = None) -> list[str]:
    """A report as a compact card: the kind and the date on one line, the partner and where it was held, the
    figures, then what describes it; nothing for what is empty. ``description``: how much of it to show."""
    from handlers.i18n import esc

    t = ctx.t
    keys = [k for k in field_keys(values) if values.get(k) not in (None, [], "")]
    head = []
    if "kind" in keys:
        head.append(f"<b>{esc(display(ctx, 'kind', values['kind'], values))}</b>")
    if "date" in keys:
        head.append(esc(display(ctx, "date", values["date"], values)))
    lines = [" · ".join(head)] if head else []
    measures = [k for k in keys if FIELDS[k].measure is not None]
    rest = [k for k in keys if k not in (*CARD_HEAD, *measures, "kind", "date")]
    for key in [*(k for k in CARD_HEAD if k in keys), *measures, *rest]:
        shown_value = display(ctx, key, values[key], values)
        if key == "description" and description is not None and len(shown_value) > description:
            shown_value = shown_value[:description - 1].rstrip() + "…"
        lines.append(f"<b>{t(FIELDS[key].label)}:</b> {esc(shown_value)}")
    return lines


def fixable(values: dict[str, Any]) -> list[str]:
    """The fields of the draft that the review card can open."""
    return [k for k in field_keys(values)
            if (k in values and k != "unit") or (k == "unit" and not values.get("unit_fixed"))]


async def show_review(ctx: Context, *, echo: str | None = None) -> None:
    t = ctx.t
    values = ctx.state["draft"]["values"]
    lines = [echo] if echo else []
    lines.append(t("<b>Please check your report</b>"))
    if ctx.state["draft"].get("read"):
        lines.append(t("📝 Read from your message: check the figures."))
    lines += review_lines(ctx, values, description=DESCRIPTION_ON_CARD)
    # One query: an earlier report of this unit entered again, or another unit's report of the same event.
    alike = await events.look_alikes(ctx.session, values)
    if alike.duplicate is not None:
        lines.append("")
        lines.append(t("⚠️ Report #{id} (activity on {date}) looks the same (same unit, kind, date and partner). "
                       "Submit anyway only if this is a different activity.",
                       id=alike.duplicate.id, date=t.date(alike.duplicate.activity_date)))
    same = alike.same_event
    draft = ctx.state["draft"]
    if same is not None:
        lines.append("")
        lines.append(t("🔗 This may be the same event as #{id}, reported by {unit} on {date}.", id=same.id,
                       unit=same.unit_name, date=f"{same.activity_date:%d/%m}"))
        lines.append(t("The same event, or a different one? Either answer submits the report; "
                       "an event reported twice counts once in every total."))
        draft["alike"] = same.id
        finish = [Option(t("🔗 Same event – submit"), f"rv:same:{same.id}"),
                  Option(t("✅ A different one – submit"), "rv:submit")]
    else:
        draft.pop("alike", None)
        finish = [Option(t("✅ Submit"), "rv:submit")]
    ctx.set_state(draft=draft)
    more = [Option(t("➕ Add figures"), "rv:add")] if addable(values) else []
    ctx.say(Safe("\n".join(lines)),
            [*finish, Option(t("✏️ Fix…"), "rv:fields"), *more, Option(t("🗑 Cancel"), "rv:cancel")], columns=2)


def addable(values: dict[str, Any]) -> list[str]:
    """The sets of figures the draft does not ask for yet."""
    present = set(figure_sets(values))
    return [name for name in FIGURE_SETS if name not in present]


@action("rv", current_only=True, roles=REPORTERS, aside=False, stale=lambda *tap: answered_before(*tap))
async def on_review(ctx: Context, arg: str) -> None:
    if ctx.conversation.flow != FLOW or ctx.conversation.step not in (REVIEW, ADD, PICK):
        ctx.notice = ctx.t("This report was already submitted or discarded.")
        return
    verb, _, key = arg.partition(":")
    t = ctx.t
    draft = ctx.state["draft"]
    values = draft["values"]
    if verb == "fix" and key in fixable(values):
        draft["fixing"] = key
        ctx.set_state(draft=draft)
        await ask(ctx, key)
    elif verb == "fields":
        ctx.conversation.step = PICK
        ctx.say(t("Which field do you want to fix?"),
                [*(Option("✏️ " + t(FIELDS[k].label), f"rv:fix:{k}") for k in fixable(values)),
                 Option(t("⬅️ Back to the report"), "rv:back")], columns=1)
    elif verb == "add":
        choices = addable(values)
        ctx.conversation.step = ADD
        ctx.say(t("Which figures do you want to add?"),
                [*(Option(t(FIGURE_SETS[name].label), f"rv:set:{name}") for name in choices),
                 Option(t("⬅️ Back to the report"), "rv:back")], columns=2)
    elif verb == "set" and key in addable(values):
        values["sets"] = [*values.get("sets", []), key]
        ctx.set_state(draft=draft)
        await advance(ctx)
    elif verb == "back":
        await ask(ctx, REVIEW)
    elif verb == "cancel":
        await cancel(ctx, "")
    elif verb == "submit":
        await submit(ctx)
    elif verb == "same":
        alike = ctx.state["draft"].get("alike")
        if alike is not None and key == str(alike):
            await submit(ctx, same_event_as=int(alike))
        else:
            await ask(ctx, REVIEW)


async def submit(ctx: Context, *, same_event_as: int | None = None) -> None:
    draft = ctx.state["draft"]
    values = draft["values"]
    missing = next_step(values)
    if missing is not None:
        await ask(ctx, missing)
        return
    assert ctx.person is not None
    unit = await ctx.session.get(Unit, int(values["unit"]))
    scope = Scope.of(ctx.person)
    if unit is None or scope is None or not scope.contains_unit(unit):
        # The person's role or unit changed since the draft began.
        end_flow(ctx)
        ctx.say(ctx.t("You can no longer report for this unit, so the draft was discarded. "
                      "Send /report to start again."))
        return
    report, created = await reports.submit(ctx.session, token=draft["token"], values=values,
                                           details=details_of(values), figures=figures_of(values),
                                           author=await senders.person_record(ctx.session, ctx.person),
                                           channel=ctx.incoming.channel, now=ctx.now,
                                           same_event_as=same_event_as)
    end_flow(ctx)
    # The review card's buttons are now old ones; a tap on its Submit (the answer never arrived, say)
    # is recognised by this and told which report it made.
    ctx.set_state(submitted={"id": report.id, "seq": ctx.conversation.seq})
    t = ctx.t
    if not created:
        ctx.notice = t("Report #{id} was already submitted.", id=report.id)
        return
    ctx.notice = t("Report #{id} submitted.", id=report.id)
    await confirm_submitted(ctx, report)


async def confirm_submitted(ctx: Context, report: Report) -> None:
    from handlers.onboarding import main_menu
    from handlers.report_view import summary_line, twin_line

    t = ctx.t
    lines = [t("✅ Report #{id} submitted. Thank you!", id=report.id), summary_line(ctx, report)]
    twins = await twin_line(ctx, report)
    if twins:
        lines.append(twins)
    ctx.say(Safe("\n".join(lines)), main_menu(ctx))


def answered_before(ctx: Context, arg: str, seq: int | None) -> bool:
    """A tap on the Submit of a card already submitted (a double tap, or the answer never arrived): say
    which report it made."""
    submitted = ctx.state.get("submitted")
    if not (arg == "submit" or arg.startswith("same:")) or not submitted or submitted.get("seq") != seq:
        return False
    ctx.notice = ctx.t("Report #{id} was already submitted.", id=submitted["id"])
    return True


HANDLERS = (start_report, on_resume, cancel, on_cancel_answer, on_option, on_kind_change, on_review,
            Flow(FLOW, reprompt), Flow(CORRECT, reprompt), Input(on_input))
