"""Our own event and reply types: every channel translates to and from these, so the flows never see aiogram."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.outbox import Outgoing


@dataclass(frozen=True)
class Attachment:
    kind: str  # photo | document | sticker | voice | video | location | other
    file_id: str | None = None
    file_unique_id: str | None = None
    file_size: int | None = None
    mime_type: str | None = None
    media_group_id: str | None = None
    url: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    path: str | None = None  # where the channel stored the file (Zalo photo URLs expire)


@dataclass(frozen=True)
class Abilities:
    """What a messenger lets a person do besides typing. The core words its prompts by these ("choose",
    never "tap"; a location asked for only where it can be shared); each channel shows how to answer."""

    buttons: bool = True  # options are tapped; without buttons they are numbered or typed as words
    location: bool = True  # a location can be shared


TYPED = Abilities(buttons=False, location=False)


@dataclass(frozen=True)
class Incoming:
    channel: str
    user_id: str
    chat_id: str
    sent_at: dt.datetime
    text: str | None = None
    choice: str | None = None
    choice_seq: int | None = None
    attachment: Attachment | None = None
    event_key: str | None = None
    display_name: str = ""
    username: str | None = None
    language_code: str | None = None
    private_chat: bool = True
    inbox_id: int | None = None  # the stored update this came from, deleted by the transaction handling it
    # Handled although an older stored update of the conversation still waits (held for minutes by a worker
    # that never finishes it; see ``Runtime._handle``): taken out of the inbox all the same.
    out_of_turn: bool = False
    abilities: Abilities = Abilities()

    @property
    def command(self) -> tuple[str, str] | None:
        """``("start", "ABC")`` for ``/start ABC`` or ``/start@twinbot ABC``."""
        if not self.text or not self.text.startswith("/"):
            return None
        head, _, rest = self.text.strip().partition(" ")
        name = head[1:].split("@", 1)[0].lower()
        return (name, rest.strip()) if name else None


@dataclass(frozen=True)
class Option:
    label: str
    value: str
    word: str = ""  # what to type for it where options are typed and numbers would be read as the answer


XLSX_MIME_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_MIME_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class OutFile:
    filename: str
    content: bytes
    mime_type: str
    caption: str = ""


@dataclass(frozen=True)
class Reply:
    """``text`` is the reply markup subset (<b>, <i>, <code>; user text escaped), one tag per line at most."""

    text: str
    options: tuple[Option, ...] = ()
    seq: int | None = None
    columns: int = 1
    free_input: bool = False
    ask_location: str = ""  # label of a "send my location" button, where the channel has one
    files: tuple[OutFile, ...] = ()
    photos: tuple[str, ...] = ()


# --- what an event owes a chat, as stored in the outbox ------------------------------------------
# Items are JSON: {"reply": {...}}, {"job": name, "args": {...}, "locale": ...} (slow work whose replies are
# sent when it is done) or {"menu": {"role": ..., "locale": ...}} (the chat's command menu to set again).


def reply_item(reply: Reply, locale: str) -> dict[str, Any]:
    if reply.files:
        raise ValueError("files are made by deferred work, after the event's transaction, not stored with it")
    item: dict[str, Any] = {"text": reply.text}
    if reply.options:
        item.update(options=[[o.label, o.value, o.word] if o.word else [o.label, o.value] for o in reply.options],
                    seq=reply.seq, columns=reply.columns,
                    free=reply.free_input)
    if reply.ask_location:
        item["location"] = reply.ask_location
    if reply.photos:
        item["photos"] = list(reply.photos)
    return {"reply": item, "locale": locale}


def reply_of(item: dict[str, Any]) -> Reply:
    from handlers.i18n import Safe

    body = item["reply"]
    options = tuple(Option(*option) for option in body.get("options", ()))
    return Reply(text=Safe(body["text"]), options=options, seq=body.get("seq"), columns=body.get("columns", 1),
                 free_input=body.get("free", False), ask_location=body.get("location", ""),
                 photos=tuple(body.get("photos", ())))


def job_item(name: str, args: dict[str, Any], locale: str) -> dict[str, Any]:
    return {"job": name, "args": args, "locale": locale}


def menu_item(role: str | None, locale: str) -> dict[str, Any]:
    return {"menu": {"role": role, "locale": locale}}


@dataclass
class Outcome:
    replies: list[Reply] = field(default_factory=list)  # to the chat the event came from
    notice: str | None = None  # a passing word (a tapped button's pop-up), not kept
    duplicate: bool = False
    role: str | None = None
    locale: str | None = None
    # What the event owes, stored with it: the channels send these and then mark them sent.
    outgoing: list[Outgoing] = field(default_factory=list)
    # Another update of the same conversation, stored earlier, must be handled first (its id).
    waiting_for: int | None = None
