"""What a handler gets for one event: the session, the locked conversation, the sender, their language."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.events import Incoming, Option, OutFile, Reply
from handlers.i18n import Translator
from storage.conversations import ConversationState
from storage.senders import Sender


@dataclass(frozen=True)
class CoreConfig:
    tz: dt.tzinfo
    default_locale: str = "vi"
    bot_username: str | None = None
    invite_days: int = 7
    report_max_age_days: int = 90
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    # Who claims what this process stores (inbox, outbox): a restarted worker resumes its own at once.
    worker: str = "local"
    # How long stored work stays claimed by a live worker before another may take it over.
    lease: dt.timedelta = dt.timedelta(seconds=60)
    # Seconds without another photo of the same album before its photos are counted back to the officer.
    album_quiet: float = 1.5


@dataclass(frozen=True)
class Later:
    """An answer sent after a quiet moment, replaced by a later event's answer of the same ``key`` (the count
    of an album's photos, once all of them arrived)."""

    key: str
    reply: Reply
    delay: dt.timedelta


@dataclass
class Context:
    session: AsyncSession
    incoming: Incoming
    conversation: ConversationState
    # Who sent the event (None: someone not registered). Read-only: ``storage.senders`` changes a person.
    sender: Sender | None
    config: CoreConfig
    t: Translator
    now: dt.datetime
    replies: list[Reply] = field(default_factory=list)
    notice: str | None = None
    commands_changed: bool = False
    # (channel, chat id, role, locale) of other people whose command menu must be set again.
    menu_updates: list[tuple[str, str, str | None, str]] = field(default_factory=list)
    jobs: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    later: list[Later] = field(default_factory=list)
    unsaid: list[str] = field(default_factory=list)

    @property
    def person(self) -> Sender | None:
        return self.sender

    @property
    def role(self) -> str | None:
        return self.person.role if self.person else None

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(self.config.tz).date()

    @property
    def state(self) -> dict[str, Any]:
        return self.conversation.data

    def say(
        self,
        text: str,
        options: list[Option] | tuple[Option, ...] = (),
        *,
        columns: int = 1,
        free_input: bool = False,
        ask_location: str = "",
        files: tuple[OutFile, ...] = (),
        photos: tuple[str, ...] = (),
    ) -> None:
        self.replies.append(self._reply(text, options, columns=columns, free_input=free_input,
                                        ask_location=ask_location, files=files, photos=photos))

    def unsay(self, key: str) -> None:
        """What ``say_later`` has not said yet for ``key`` is no longer worth saying (the officer moved on)."""
        self.unsaid.append(key)

    def _reply(self, text: str, options: list[Option] | tuple[Option, ...], **shape: Any) -> Reply:
        seq = None
        if options:
            # Every set of buttons gets a new number: a tap on buttons of an older message is recognised.
            self.conversation.seq += 1
            seq = self.conversation.seq
            self.set_state(
                menu={"seq": seq, "free": shape.get("free_input", False),
                      "options": [[o.value, o.label] for o in options]}
            )
        return Reply(text=text, options=tuple(options), seq=seq, **shape)

    def defer(self, job: str, **args: Any) -> None:
        """Slow work (a spreadsheet, a chart, a long read) done after this event's transaction and the
        replies so far, off the event loop; its replies follow. ``job`` names a ``handlers.jobs`` function,
        ``args`` are JSON: the request is stored with the event, so a crash does not lose it."""
        self.jobs.append((job, args))

    def say_later(self, key: str, text: str, options: list[Option] | tuple[Option, ...] = (), *,
                  seconds: float) -> None:
        """Say ``text`` once no other event said something of the same ``key`` for ``seconds``: the last one
        is said, the earlier ones are not (a count that grows as an album's photos arrive)."""
        reply = self._reply(text, options)
        self.later.append(Later(key, reply, dt.timedelta(seconds=seconds)))

    def set_state(self, **values: Any) -> None:
        self.conversation.data = {**self.conversation.data, **values}

    def drop_state(self, *keys: str) -> None:
        self.conversation.data = {k: v for k, v in self.conversation.data.items() if k not in keys}
