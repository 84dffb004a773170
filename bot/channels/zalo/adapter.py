"""Zalo through our own client: updates to ``Incoming``, ``Reply`` to plain texts within Zalo's limits.

Zalo has no buttons, no message editing, no file sending and no update ids. So options become numbered lists
answered by a number or the option's words (``handlers.core.typed_choice``), every reply is a new message,
files become a note on where to get them, and a redelivery is recognised by its message id. Pictures arrive
as URLs that expire: they are downloaded before the core sees them, and the stored path is the photo's id.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select

from bot.channels.links import FileLinks
from bot.channels.markup import render_plain, split_lines, to_plain
from bot.channels.zalo.client import (
    IMAGE,
    STICKER,
    TEXT,
    TEXT_LIMIT,
    UNSUPPORTED,
    VOICE,
    MalformedUpdate,
    ZaloApiError,
    ZaloClient,
    ZaloError,
    ZaloUpdate,
    parse_update,
)
from bot.channels.zalo.media import MediaError, MediaStore
from bot.runtime import Refused, Unreachable
from handlers.core import Core
from handlers.events import TYPED, Attachment, Incoming, Outcome, OutFile, Reply
from handlers.i18n import Translator
from storage.db import Database
from storage.inbox import Entry, Received
from storage.models import Conversation, Identity

log = logging.getLogger(__name__)

CHANNEL = "zalo"
# Waits after a 429 "quota exceeded" before the same message is tried again. A refused send was not
# delivered, so trying it again cannot duplicate it (unlike a send that timed out).
QUOTA_DELAYS = (2.0, 10.0, 30.0)

Sleep = Callable[[float], Awaitable[Any]]


def event_key(message_id: str) -> str:
    # processed_events.event_key holds 64 characters; Zalo's ids are 20.
    return message_id if len(message_id) <= 64 else hashlib.sha256(message_id.encode()).hexdigest()


def incoming_from(update: ZaloUpdate, *, now: dt.datetime, bot_id: str | None = None) -> Incoming | None:
    """The core's view of a Zalo update; None for what nobody should answer (our own echo, an event with
    no message, an unknown event without text), which is logged and acknowledged."""
    message = update.message
    if message is None:
        log.info("zalo event %r without a message acknowledged", update.event_name)
        return None
    if message.sender.is_bot or (bot_id is not None and message.sender.id == bot_id):
        return None
    text: str | None = message.text
    attachment: Attachment | None = None
    event = update.event_name
    if event == IMAGE or (message.photo_url and event not in (STICKER, VOICE)):
        attachment = Attachment("photo", url=message.photo_url)
        text = message.caption
    elif event == STICKER:
        attachment = Attachment("sticker", url=_str(update.raw.get("message", {}).get("url")))
    elif event == VOICE:
        attachment = Attachment("voice", url=message.voice_url)
    elif event == UNSUPPORTED:
        attachment = Attachment("other")
    elif event not in ("", TEXT):
        if text is None:
            log.info("zalo event %r acknowledged and ignored", event)
            return None
        log.info("zalo event %r taken as text", event)  # message.link.received carries its link as text
    group = message.chat_type == "GROUP"
    if group and text and text.startswith("@"):
        # In a group the bot only hears messages that mention it: "@Bot /report".
        text = text.partition(" ")[2]
    if attachment is None and text is None:
        text = ""  # an empty message: the core asks again rather than guessing
    return Incoming(
        channel=CHANNEL,
        user_id=message.sender.id,
        chat_id=message.chat_id,
        sent_at=message.date or now,
        text=text,
        attachment=attachment,
        event_key=event_key(message.message_id),
        display_name=message.sender.display_name,
        private_chat=not group,
        abilities=TYPED,
    )


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# --- replies ------------------------------------------------------------------------------------


def file_note(t: Translator, file: OutFile) -> str:
    lines = [to_plain(file.caption)] if file.caption.strip() else []
    lines.append(to_plain(t("📎 {name}: the Zalo bot cannot send files. Get it with the same command on "
                            "Telegram, or in the console (twinbot console).", name=file.filename)))
    return "\n".join(lines)


@dataclass(frozen=True)
class Piece:
    """One Zalo message: a text, or a picture at a public address with its caption."""

    text: str
    photo_url: str | None = None


async def file_pieces(t: Translator, file: OutFile, links: FileLinks | None) -> list[Piece]:
    """A file as Zalo can show it: where the bot has a public address, a picture by its URL and any other
    file by a signed link that expires; otherwise a note on where to get it."""
    if links is None:
        return [Piece(text) for text in split_lines(file_note(t, file), TEXT_LIMIT)]
    url = await links.link(file)
    caption = to_plain(file.caption).strip()
    if file.mime_type in ("image/png", "image/jpeg"):
        return [Piece(caption[:TEXT_LIMIT], photo_url=url)]
    until = t.date((links.clock() + dt.timedelta(days=links.days)).astimezone(t.tz).date())
    note = to_plain(t("📎 {name}: {link}\n(the link works until {date})", name=file.filename, link=url, date=until))
    return [Piece(text) for text in split_lines("\n".join(x for x in (caption, note) if x), TEXT_LIMIT)]


def render(reply: Reply, t: Translator) -> list[str]:
    """One reply as the texts Zalo shows, each within 2,000 characters, cut at line breaks."""
    texts: list[str] = []
    body = render_plain(reply, t)
    if body.strip():
        texts += split_lines(body, TEXT_LIMIT)
    if reply.photos:
        # Zalo sends only pictures at a public URL; ours stay in the media store.
        texts.append(to_plain(t.plural("📷 {n} photo is kept with this report.",
                                       "📷 {n} photos are kept with this report.", len(reply.photos))))
    for file in reply.files:
        texts += split_lines(file_note(t, file), TEXT_LIMIT)
    return texts


def received(update: ZaloUpdate) -> Received | None:
    """What to store of an update: its message id dedupes it, its sender is the conversation; an event with
    no message is acknowledged and not stored."""
    message = update.message
    if message is None:
        log.info("zalo event %r without a message acknowledged", update.event_name)
        return None
    return Received(event_key(message.message_id), message.sender.id, update.raw, update)


class ZaloChannel:
    """Takes stored Zalo updates (from polling or the webhook) through the core and shows its answers."""

    name = CHANNEL

    def __init__(self, core: Core, client: ZaloClient, media: MediaStore, *, bot_id: str | None = None,
                 quota_delays: Sequence[float] = QUOTA_DELAYS, sleep: Sleep = asyncio.sleep,
                 links: FileLinks | None = None) -> None:
        self.core = core
        self.links = links
        self.client = client
        self.media = media
        self.bot_id = bot_id
        self.quota_delays = tuple(quota_delays)
        self.sleep = sleep

    @property
    def db(self) -> Database:
        return self.core.db

    async def incoming(self, entry: Entry) -> tuple[Incoming | None, Any]:
        update = entry.parsed
        if not isinstance(update, ZaloUpdate):
            try:
                update = parse_update(entry.payload)
            except MalformedUpdate as exc:
                log.warning("stored zalo update %s is not an update (%s); dropped", entry.id, exc)
                return None, None
        incoming = incoming_from(update, now=self.core.config.clock(), bot_id=self.bot_id)
        if incoming is None:
            return None, None
        attachment = incoming.attachment
        if attachment is not None and attachment.kind == "photo" and attachment.url:
            # A redelivery is never stored twice (storage.inbox), so the picture is fetched once.
            try:
                stored = await self.media.fetch(attachment.url, channel=CHANNEL, name=incoming.event_key or "photo")
            except MediaError as exc:
                log.warning("zalo photo %s not stored: %s", incoming.event_key, exc)
                await self._photo_failed(incoming, exc)
                return None, None
            # The stored path is the photo's id: the URL will not work tomorrow.
            incoming = replace(incoming, attachment=replace(
                attachment, file_id=stored.path, file_unique_id=stored.path, file_size=stored.size,
                mime_type=stored.mime_type, path=stored.path))
        return incoming, incoming.chat_id

    async def acknowledge(self, token: Any, outcome: Outcome | None) -> None:
        # Zalo has no pop-ups: a notice that came without any reply is said as a message of its own.
        if outcome is None or outcome.replies or not outcome.notice or outcome.duplicate:
            return
        try:
            await self.send_text(str(token), to_plain(outcome.notice))
        except ZaloError as exc:
            log.info("notice to zalo chat %s not delivered: %s", token, exc)

    async def send(self, chat_id: str, reply: Reply, locale: str) -> None:
        t = Translator(locale, self.core.config.tz)
        try:
            await self.send_texts(chat_id, render(replace(reply, files=()), t))
            for file in reply.files:
                for piece in await file_pieces(t, file, self.links):
                    await self.send_piece(chat_id, piece)
        except ZaloApiError as exc:
            if exc.code == 404:
                raise Unreachable(str(exc)) from None
            if not exc.temporary and exc.code not in (401, 403, 408):
                raise Refused(str(exc)) from None
            raise

    async def set_menu(self, chat_id: str, role: str | None, locale: str) -> None:
        return None  # Zalo bots have no command menu

    async def working(self, chat_id: str, *, files: bool = True) -> None:
        await self.client.send_chat_action(chat_id, "typing")  # Zalo's only action so far

    async def send_texts(self, chat_id: str, texts: list[str]) -> None:
        for text in texts:
            await self.send_text(chat_id, text)

    async def send_piece(self, chat_id: str, piece: Piece) -> None:
        if piece.photo_url is None:
            await self.send_text(chat_id, piece.text)
        else:
            await self.client.send_photo(chat_id, piece.photo_url, piece.text)

    async def send_text(self, chat_id: str, text: str) -> None:
        for delay in (*self.quota_delays, None):
            try:
                await self.client.send_message(chat_id, text)
                return
            except ZaloApiError as exc:
                if not exc.quota_exceeded or delay is None:
                    raise
                log.info("zalo quota exceeded; waiting %s s", delay)
                await self.sleep(delay)

    async def _locale(self, user_id: str) -> str:
        """The language the core would answer this user in (their person's, or the one they chose)."""
        async with self.db.reader() as session:
            identity = await session.scalar(select(Identity).where(
                Identity.channel == CHANNEL, Identity.external_id == user_id))
            if identity is not None and identity.person.locale:
                return identity.person.locale
            data = await session.scalar(select(Conversation.data).where(
                Conversation.channel == CHANNEL, Conversation.user_external_id == user_id))
        return str((data or {}).get("locale") or self.core.config.default_locale)

    async def _photo_failed(self, incoming: Incoming, error: MediaError) -> None:
        t = Translator(await self._locale(incoming.user_id), self.core.config.tz)
        if error.reason == "too_big":
            text = t("That picture is too large to keep. Please send a smaller one.")
        elif error.reason == "not_image":
            text = t("That file is not a picture I can keep (JPEG, PNG, WebP or HEIC). Please send a photo.")
        else:
            text = t("I could not download your photo: the link had expired or did not answer. "
                     "It was not added. Please send it again.")
        try:
            await self.send_text(incoming.chat_id, to_plain(text))
        except ZaloError as exc:
            log.warning("could not tell zalo chat %s about the lost photo: %s", incoming.chat_id, exc)
