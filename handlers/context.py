"""What a handler gets for one event: the session, the locked conversation, the sender, their language."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.events import Followup, Incoming, Option, OutFile, Reply
from handlers.i18n import Translator
from storage.conversations import ConversationState
from storage.models import Identity, Person


@dataclass(frozen=True)
class CoreConfig:
    tz: dt.tzinfo
    default_locale: str = "vi"
    bot_username: str | None = None
    invite_days: int = 7
    report_max_age_days: int = 90
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))


@dataclass
class Context:
    session: AsyncSession
    incoming: Incoming
    conversation: ConversationState
    identity: Identity | None
    config: CoreConfig
    t: Translator
    now: dt.datetime
    replies: list[Reply] = field(default_factory=list)
    notice: str | None = None
    commands_changed: bool = False
    # (channel, chat id, role, locale) of other people whose command menu must be set again.
    menu_updates: list[tuple[str, str, str | None, str]] = field(default_factory=list)
    followups: list[Followup] = field(default_factory=list)

    @property
    def person(self) -> Person | None:
        return self.identity.person if self.identity else None

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
        seq = None
        if options:
            # Every set of buttons gets a new number: a tap on buttons of an older message is recognised.
            self.conversation.seq += 1
            seq = self.conversation.seq
            self.set_state(
                menu={"seq": seq, "free": free_input, "options": [[o.value, o.label] for o in options]}
            )
        self.replies.append(
            Reply(text=text, options=tuple(options), seq=seq, columns=columns, free_input=free_input,
                  ask_location=ask_location, files=files, photos=photos)
        )

    def defer(self, work: Followup) -> None:
        """Slow work (an export) run after the replies so far were sent, outside this event's transaction."""
        self.followups.append(work)

    def set_state(self, **values: Any) -> None:
        self.conversation.data = {**self.conversation.data, **values}

    def drop_state(self, *keys: str) -> None:
        self.conversation.data = {k: v for k, v in self.conversation.data.items() if k not in keys}
