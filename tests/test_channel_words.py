"""Words that fit the channel: every question of the report form, for every kind of activity, as each
messenger shows it. Where nothing can be tapped, no prompt says "tap" (bấm), every option can be answered by
typing what is shown (its number, or its words where a number would be read as the answer), and a location
is asked as a typed place. A second check reads the catalogs: the only messages naming a tap or a shared
location are the few that are shown only where those exist."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.channels.markup import render_plain, to_plain, typable
from bot.channels.telegram import keyboard
from bot.channels.zalo.adapter import render as zalo_render
from handlers import flows
from handlers.answers import navigation
from handlers.context import Context, CoreConfig
from handlers.core import Core, typed_choice
from handlers.events import TYPED, Abilities, Incoming, Reply
from handlers.i18n import Translator
from handlers.report_form import KINDS, field_keys
from storage import senders
from storage.conversations import ConversationState
from storage.db import Database
from tests.conftest import TZ, Clock
from tests.test_report_console import officer

ROOT = Path(__file__).resolve().parents[1]
# Words naming what only a button or a shared location can do, in both languages.
TAP = re.compile(r"\b(tap|tapped|press|click|button|bấm|nhấn|chạm|nút)\b", re.IGNORECASE)
LOCATION = re.compile(r"send (your|my) location|gửi vị trí", re.IGNORECASE)
# Shown only where they can be done: a button's own answers, the location button and the prompt offering it.
BUTTON_ONLY = {
    "This button is no longer in use.",
    "That button belongs to an earlier message.",
}
LOCATION_ONLY = {
    "📍 Send my location",
    "Where exactly? Send your location, or type the place.",
}

Render = Callable[[Reply, Translator], str]


def telegram(reply: Reply, t: Translator) -> str:
    markup = keyboard(reply)
    labels = [button.text for row in markup.inline_keyboard for button in row] if markup else []
    return "\n".join([to_plain(reply.text), *labels, reply.ask_location])


def zalo(reply: Reply, t: Translator) -> str:
    return "\n".join(zalo_render(reply, t))


CHANNELS: dict[str, tuple[Abilities, Render]] = {
    "telegram": (Abilities(), telegram),
    "zalo": (TYPED, zalo),
    "console": (TYPED, render_plain),
}


async def form_screens(db: Database, abilities: Abilities, locale: str) -> list[tuple[str, Reply]]:
    """Every question of the form for every kind (with and without a listed partner, with photos taken
    and with a figure already given), as the core asks it of someone on a channel with ``abilities``."""
    screens: list[tuple[str, Reply]] = []
    async with db.unit_of_work() as uow:
        sender = await senders.sender(uow.session, "console", "officer-1")
        assert sender is not None and sender.unit is not None
        unit = sender.unit
        incoming = Incoming(channel="console", user_id="officer-1", chat_id="officer-1",
                            sent_at=dt.datetime(2026, 11, 23, 3, tzinfo=dt.UTC), abilities=abilities)
        for kind in KINDS:
            for pair in ("other", None):
                base = {"unit": unit.id, "unit_name": unit.name, "unit_fixed": True, "kind": kind,
                        **({"pair": pair} if pair else {})}
                for key in field_keys(base):
                    for given in (False, True):
                        values = dict(base)
                        if given and key == "photos":
                            values["photos"] = [{"file_id": "p1"}]
                        elif given and key in ("participants_ours", "gift_packages"):
                            values[key] = 7
                        elif given:
                            continue
                        ctx = Context(session=uow.session, incoming=incoming,
                                      conversation=ConversationState(0, flows.FLOW, None, {"draft": {
                                          "token": "t", "started": incoming.sent_at.isoformat(),
                                          "values": values, "history": ["kind"]}}, 0),
                                      sender=sender, config=CoreConfig(tz=TZ), t=Translator(locale, TZ),
                                      now=incoming.sent_at)
                        await flows.ask(ctx, key)
                        screens += [(f"{kind}/{key}{' (given)' if given else ''}", reply) for reply in ctx.replies]
                        typed = typed_choice_of(ctx)
                        for reply in ctx.replies:
                            check_typable(reply, typed, ctx.t)
    return screens


def typed_choice_of(ctx: Context) -> Callable[[str], str | None]:
    def choose(text: str) -> str | None:
        ctx.incoming = Incoming(channel="console", user_id="u", chat_id="u", sent_at=ctx.now, text=text)
        return typed_choice(ctx)

    return choose


def check_typable(reply: Reply, typed: Callable[[str], str | None], t: Translator) -> None:
    """Every option can be chosen by typing what a typed channel shows for it."""
    for number, option in enumerate(reply.options, 1):
        if reply.free_input:
            shown = option.word or typable(option.label)
            verb = navigation(shown)
            assert typed(shown) == option.value or (verb is not None and option.value == f"f:_{verb}"), shown
        else:
            assert typed(str(number)) == option.value, (number, option)


@pytest.mark.parametrize("locale", ["vi", "en"])
async def test_every_question_fits_every_channel(core: Core, db: Database, clock: Clock, locale: str) -> None:
    await officer(core, db, clock)
    for name, (abilities, render) in CHANNELS.items():
        screens = await form_screens(db, abilities, locale)
        assert len(screens) > 100
        t = Translator(locale, TZ)
        for where, reply in screens:
            shown = render(reply, t)
            if not abilities.buttons:
                assert not TAP.search(shown), (name, where, shown)
            if not abilities.location:
                assert not LOCATION.search(shown), (name, where, shown)
            if reply.options and not abilities.buttons:
                # Skip, Back and Done are where the other options are: numbered, or as words to type.
                if reply.free_input:
                    assert all(f"“{o.word or typable(o.label)}”" in shown for o in reply.options), (name, where, shown)
                else:
                    assert f"{len(reply.options)}. {reply.options[-1].label}" in shown, (name, where, shown)
        location = next(reply for where, reply in screens if where.endswith("/location"))
        assert bool(location.ask_location) == abilities.location


def test_nav_words_shown_are_the_words_understood() -> None:
    for locale in ("vi", "en"):
        t = Translator(locale, TZ)
        for verb in ("skip", "back", "done"):
            assert navigation(t(verb)) == verb, (locale, verb)


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_only_button_and_location_messages_name_them(locale: str) -> None:
    with open(ROOT / "locales" / locale / "LC_MESSAGES" / "twinbot.po", "rb") as handle:
        catalog = read_po(handle, locale=locale)
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        texts = [message.string] if isinstance(message.string, str) else list(message.string)
        for text in [msgid, *texts]:
            if TAP.search(text):
                assert msgid in BUTTON_ONLY, (locale, msgid, text)
            if LOCATION.search(text):
                assert msgid in LOCATION_ONLY, (locale, msgid, text)
