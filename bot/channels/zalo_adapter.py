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
from dataclasses import replace
from typing import Any

from sqlalchemy import select

from bot.channels.markup import plain_options, render_plain, split_lines, to_plain
from bot.channels.zalo import (
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
from bot.delivery import Blocked, Part, PermanentFailure, RateLimiter, RetryAfter, TemporaryFailure
from bot.media import MediaError, MediaStore
from bot.runtime import Refused, Unreachable
from handlers.core import Core
from handlers.events import Attachment, Incoming, Outcome, OutFile, Reply
from handlers.i18n import Translator
from storage import conversations
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
    )


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# --- replies ------------------------------------------------------------------------------------


def file_note(t: Translator, file: OutFile) -> str:
    lines = [to_plain(file.caption)] if file.caption.strip() else []
    lines.append(to_plain(t("📎 {name}: the Zalo bot cannot send files. Get it with the same command on "
                            "Telegram, or in the console (twinbot console).", name=file.filename)))
    return "\n".join(lines)


def render(reply: Reply, t: Translator) -> list[str]:
    """One reply as the texts Zalo shows, each within 2,000 characters, cut at line breaks."""
    texts: list[str] = []
    body = render_plain(reply)
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
                 quota_delays: Sequence[float] = QUOTA_DELAYS, sleep: Sleep = asyncio.sleep) -> None:
        self.core = core
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
            await self.send_texts(chat_id, render(reply, t))
        except ZaloApiError as exc:
            if exc.code == 404:
                raise Unreachable(str(exc)) from None
            if not exc.temporary and exc.code not in (401, 403, 408):
                raise Refused(str(exc)) from None
            raise

    async def set_menu(self, chat_id: str, role: str | None, locale: str) -> None:
        return None  # Zalo bots have no command menu

    async def working(self, chat_id: str) -> None:
        await self.client.send_chat_action(chat_id, "typing")

    async def send_texts(self, chat_id: str, texts: list[str]) -> None:
        for text in texts:
            await self.send_text(chat_id, text)

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


# --- digests and reminders ------------------------------------------------------------------------------


class ZaloSender:
    """The delivery worker's sender for ``zalo:<chat id>`` recipients (see ``bot.delivery.Sender``).

    A text part longer than 2,000 characters goes out in pieces; the pieces already sent are remembered, so
    a 429 in the middle resumes after them instead of sending them twice. Files cannot be sent by a Zalo
    bot: each becomes a note, in the recipient's language, on how to get it. After a message with options
    (a reminder), the options are saved as the recipient's menu, so typing "1" answers it, unless they are
    in the middle of a report.
    """

    channel = CHANNEL

    def __init__(self, client: ZaloClient, db: Database, *, tz: dt.tzinfo, default_locale: str = "vi",
                 limiter: RateLimiter | None = None, quota_wait: float = 30.0) -> None:
        self.client = client
        self.db = db
        self.tz = tz
        self.default_locale = default_locale
        self.limiter = limiter or RateLimiter(per_second=10.0, chat_interval=1.0, group_interval=3.0)
        self.quota_wait = quota_wait
        self._sent_pieces: dict[tuple[str, str], int] = {}

    async def send(self, chat_id: str, part: Part) -> None:
        if part.kind == "text":
            pieces = split_lines(to_plain(part.text) + _options_text(part), TEXT_LIMIT)
        else:
            assert part.file is not None
            t = Translator(await self._locale(chat_id), self.tz)
            file = replace(part.file, caption=part.text)
            pieces = split_lines(file_note(t, file), TEXT_LIMIT)
        progress_key = (chat_id, hashlib.sha256("\x00".join([part.kind, *pieces]).encode()).hexdigest())
        done = self._sent_pieces.get(progress_key, 0)
        for index in range(done, len(pieces)):
            await self.limiter.wait(chat_id)
            try:
                await self.client.send_message(chat_id, pieces[index])
            except ZaloApiError as exc:
                if exc.quota_exceeded:
                    self.limiter.pause(self.quota_wait)
                    raise RetryAfter(self.quota_wait) from None
                self._sent_pieces.pop(progress_key, None)
                if exc.code in (401, 408) or exc.temporary:
                    raise TemporaryFailure(str(exc)) from None
                if exc.code == 404:
                    raise Blocked(str(exc)) from None
                if exc.code == 403:
                    # Zalo documents 403 as an internal error, not as "the user blocked the bot".
                    raise TemporaryFailure(str(exc)) from None
                raise PermanentFailure(str(exc)) from None
            except ZaloError as exc:
                # It may have been delivered: do not repeat the pieces before it.
                raise TemporaryFailure(str(exc)) from None
            self._sent_pieces[progress_key] = index + 1
        self._sent_pieces.pop(progress_key, None)
        if part.kind == "text" and part.reply is not None and part.reply.options:
            await self._offer(chat_id, part.reply)

    async def _locale(self, chat_id: str) -> str:
        async with self.db.unit_of_work() as uow:
            identity = await uow.session.scalar(
                select(Identity).where(Identity.channel == CHANNEL, Identity.chat_id == chat_id))
            return (identity.person.locale if identity is not None else None) or self.default_locale

    async def _offer(self, chat_id: str, reply: Reply) -> None:
        """Save the options as the menu a typed number answers, as ``Context.say`` does for an answer."""
        async with self.db.unit_of_work() as uow:
            identity = await uow.session.scalar(
                select(Identity).where(Identity.channel == CHANNEL, Identity.chat_id == chat_id))
            if identity is None:
                return
            conversation = await conversations.lock(uow.session, CHANNEL, identity.external_id)
            if conversation.flow is not None:
                return
            conversation.seq += 1
            conversation.data = {**conversation.data, "menu": {
                "seq": conversation.seq, "free": reply.free_input,
                "options": [[o.value, o.label] for o in reply.options]}}
            await conversations.save(uow.session, conversation)
            await uow.commit()


def _options_text(part: Part) -> str:
    if part.reply is None or not part.reply.options:
        return ""
    return "\n" + plain_options(part.reply)
