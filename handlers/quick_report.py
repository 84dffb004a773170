"""The one-message report: what happened, typed as one message, becomes the draft ``/report`` would make.

A registered reporter who is not writing a report sends a message (or a photo with a caption, or an album) that
``message_reader`` takes for the report of an activity. The draft is the form's own (flow ``report``, the same
token, values and history), holding what the message states and marked as read from it; the form then asks,
one by one, only what is required and still missing (``flows.advance``), the message's doubtful parts with
their readings as options (``draft["questions"]``, asked by ``flows.ask``), and ends on the review card, where
any field is fixed as usual. When the reader is unsure, "Is this a report of an activity?" is asked first,
the message kept in the conversation until the answer.

Hooks elsewhere: ``onboarding.fallback`` offers a message here before answering with the menu; ``core.route``
gives the later photos of an album here; in ``flows``, ``ask`` asks a read field's question, ``answered`` calls
back once a reporter without a unit of their own has chosen one (the partners to look for are the unit's), and
``show_review`` marks the card.

Optional fields the message does not state are left blank (``None``, as a skipped step leaves them) rather
than asked: the point is to ask only what the report cannot do without; the review card offers every one of
them to fill in.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from handlers import flows
from handlers.amounts import Money
from handlers.commands import REPORTERS, Input, action
from handlers.context import Context
from handlers.events import Attachment, Option
from handlers.i18n import Safe, Translator
from handlers.message_reader import NO, UNSURE, MessageReading, PairRef, Question, read_message
from handlers.report_form import FIELDS, MAX_PHOTOS, field_keys
from storage import reports

PENDING = "quick"  # conversation state: the message kept while "Is this a report of an activity?" is asked


async def offer(ctx: Context) -> bool:
    """A message outside any flow that reports an activity starts a draft (True); anything else is left to
    the usual answer (False)."""
    incoming = ctx.incoming
    text = (incoming.text or "").strip()
    if ctx.role not in REPORTERS or ctx.conversation.flow or not incoming.private_chat or not text:
        return False
    ctx.drop_state(PENDING)  # a new message replaces one still waiting for "is this a report?"
    photo = photo_of(incoming.attachment)
    if incoming.attachment is not None and photo is None:
        return False
    reading = read_message(text, today=written_day(ctx, incoming.sent_at), pairs=await unit_pairs(ctx),
                           max_age_days=ctx.config.report_max_age_days)
    if reading.report == NO:
        return False
    message = {"text": text, "sent_at": incoming.sent_at.isoformat(), "photos": [photo] if photo else [],
               "album": incoming.attachment.media_group_id if incoming.attachment else None}
    if reading.report == UNSURE:
        ctx.set_state(**{PENDING: message})
        t = ctx.t
        ctx.say(t("Is this a report of an activity?"), [Option(t("✅ Yes"), "qr:yes"), Option(t("❌ No"), "qr:no")],
                columns=2)
        return True
    await start(ctx, message, reading)
    return True


@action("qr", current_only=True, roles=REPORTERS)
async def on_answer(ctx: Context, arg: str) -> None:
    message = ctx.state.get(PENDING)
    if not message or ctx.conversation.flow:
        return
    ctx.drop_state(PENDING)
    if arg == "yes":
        await start(ctx, message)
        return
    from handlers.onboarding import main_menu

    ctx.say(ctx.t("What would you like to do?"), main_menu(ctx))


async def start(ctx: Context, message: dict[str, Any], reading: MessageReading | None = None) -> None:
    """The draft ``/report`` makes, then what the message says in it; a reporter without a unit of their own
    is asked for the unit first."""
    person = ctx.person
    assert person is not None
    values: dict[str, Any] = {}
    if person.unit is not None:
        values.update(unit=person.unit_id, unit_name=person.unit.name, unit_fixed=True)
    draft: dict[str, Any] = {"token": str(uuid.uuid4()), "started": message["sent_at"], "written": message["sent_at"],
                             "values": values, "history": [], "read": True, "message": message["text"]}
    if message["photos"]:
        values["photos"] = draft["photos_pending"] = list(message["photos"])
    if message.get("album"):
        draft["album"] = message["album"]
    ctx.conversation.flow = flows.FLOW
    ctx.drop_state(PENDING)
    ctx.set_state(draft=draft)
    if person.unit is None:
        await flows.ask(ctx, "unit", echo=ctx.t("📝 I will fill in a report from your message."))
        return
    await read_into_draft(ctx, reading)


async def read_into_draft(ctx: Context, reading: MessageReading | None = None) -> None:
    """Fill the draft with what its message states (read again with the unit's partners if need be), then ask
    what is missing."""
    draft = ctx.state["draft"]
    values = draft["values"]
    text = draft.pop("message")
    if reading is None:
        written = dt.datetime.fromisoformat(draft["written"])
        reading = read_message(text, today=written_day(ctx, written), pairs=await unit_pairs(ctx),
                               max_age_days=ctx.config.report_max_age_days)
    values.update({key: value for key, value in reading.values.items() if key not in values})
    questions = {q.key: stored(ctx.t, q) for q in reading.questions}
    for key in questions:
        values.pop(key, None)
    # What is optional and not stated is left out rather than asked: the review card offers it to fill in.
    for key in field_keys(values):
        if key not in values and key not in questions and FIELDS[key].optional:
            values[key] = None
    draft["questions"] = questions
    ctx.set_state(draft=draft)
    if flows.next_step(values) is None:
        await flows.advance(ctx)
        return
    t = ctx.t
    read = {key: value for key, value in values.items() if value is not None and key not in ("description", "unit")}
    lines = [t("📝 Read from your message: check the figures."), *flows.review_lines(ctx, read)]
    await flows.advance(ctx, echo=Safe("\n".join(lines)))


def stored(t: Translator, question: Question) -> dict[str, Any]:
    """A question as the draft keeps it (JSON), its values shown in the reader's language."""
    return {"why": question.why, "values": {key: shown(t, value) for key, value in question.values.items()},
            "readings": list(question.readings), "approx": question.approx}


def shown(t: Translator, value: Any) -> str:
    if isinstance(value, Money):
        return t.money(value.amount, value.currency)
    if isinstance(value, int | Decimal):
        return t.number(value)
    if isinstance(value, dt.date):
        return t.date(value)
    return str(value)


async def album_photo(ctx: Context) -> bool:
    """A later photo of an album whose caption made a draft (or waits for "is this a report?") joins it
    without a word: the draft shows how many there are."""
    photo = photo_of(ctx.incoming.attachment)
    album = ctx.incoming.attachment.media_group_id if ctx.incoming.attachment else None
    if photo is None or not album or ctx.incoming.text:
        return False
    draft = ctx.state.get("draft")
    if ctx.conversation.flow == flows.FLOW and draft and draft.get("album") == album:
        if ctx.conversation.step == "photos":
            return False  # the form's own photo step takes it and answers
        photos = list(draft.get("photos_pending") or [])
        if len(photos) < MAX_PHOTOS and all(p["file_id"] != photo["file_id"] for p in photos):
            photos.append(photo)
        draft["photos_pending"] = draft["values"]["photos"] = photos
        ctx.set_state(draft=draft)
        return True
    pending = ctx.state.get(PENDING)
    if not ctx.conversation.flow and pending and pending.get("album") == album:
        if len(pending["photos"]) < MAX_PHOTOS and all(p["file_id"] != photo["file_id"] for p in pending["photos"]):
            pending["photos"].append(photo)
        ctx.set_state(**{PENDING: pending})
        return True
    return False


def photo_of(attachment: Attachment | None) -> dict[str, Any] | None:
    """A photo as the draft keeps it (as the form's photo step does); None for anything else."""
    if attachment is None or attachment.kind != "photo" or not (attachment.mime_type or "image/jpeg").startswith(
            "image/"):
        return None
    return {"file_id": attachment.file_id, "unique_id": attachment.file_unique_id, "size": attachment.file_size,
            "album": attachment.media_group_id, "url": attachment.url, "path": attachment.path}


def written_day(ctx: Context, written: dt.datetime) -> dt.date:
    """The day the officer wrote the message: "hôm qua" typed offline last night means the day before that."""
    return min(written.astimezone(ctx.config.tz).date(), ctx.today)


async def unit_pairs(ctx: Context) -> list[PairRef]:
    draft = ctx.state.get("draft") or {}
    unit = (draft.get("values") or {}).get("unit") or (ctx.person.unit_id if ctx.person else None)
    if unit is None:
        return []
    return [PairRef(p.id, p.partner_name, p.partner_country, p.partner_province)
            for p in await reports.pairs_of_unit(ctx.session, int(unit))]


HANDLERS = (on_answer, Input(album_photo))
