"""Our own event and reply types: every channel translates to and from these, so the flows never see aiogram."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.db import Database


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


Followup = Callable[["Database"], Awaitable[list[Reply]]]


@dataclass
class Outcome:
    replies: list[Reply] = field(default_factory=list)
    notice: str | None = None
    duplicate: bool = False
    # The sender's role or language changed: their command menu should be set again.
    commands_changed: bool = False
    role: str | None = None
    locale: str | None = None
    menu_updates: list[tuple[str, str, str | None, str]] = field(default_factory=list)
    followups: list[Followup] = field(default_factory=list)
