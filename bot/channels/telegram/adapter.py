"""Telegram updates to ``Incoming`` and the runtime's channel: how a stored update is read, a tap acknowledged and a
reply shown."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import (
    CallbackQuery,
    Message,
    Update,
)

from bot.channels.telegram.client import (
    CHANNEL,
    Patient,
    parse_update,
    send_replies,
    set_chat_commands,
    stop_spinning,
)
from bot.runtime import Refused, Unreachable
from handlers.events import Attachment, Incoming, Outcome, Reply
from storage.inbox import Entry, Received

log = logging.getLogger(__name__)



def _attachment(message: Message) -> Attachment | None:
    if message.photo:
        best = message.photo[-1]
        return Attachment("photo", best.file_id, best.file_unique_id, best.file_size,
                          "image/jpeg", message.media_group_id)
    if message.document:
        doc = message.document
        kind = "photo" if (doc.mime_type or "").startswith("image/") else "document"
        return Attachment(kind, doc.file_id, doc.file_unique_id, doc.file_size, doc.mime_type,
                          message.media_group_id)
    if message.location:
        return Attachment("location", latitude=message.location.latitude, longitude=message.location.longitude)
    for kind in ("sticker", "voice", "video", "video_note", "audio", "animation", "contact", "poll"):
        if getattr(message, kind, None) is not None:
            return Attachment(kind)
    return None


def _who(user: Any) -> dict[str, Any]:
    name = " ".join(p for p in (user.first_name, user.last_name) if p)
    return {"user_id": str(user.id), "display_name": name, "username": user.username,
            "language_code": user.language_code}


def message_incoming(message: Message, update_id: int) -> Incoming | None:
    if message.from_user is None or message.from_user.is_bot:
        return None
    return Incoming(
        channel=CHANNEL,
        chat_id=str(message.chat.id),
        sent_at=message.date,
        text=message.text or message.caption,
        attachment=_attachment(message),
        event_key=str(update_id),
        private_chat=message.chat.type == "private",
        **_who(message.from_user),
    )


def callback_incoming(query: CallbackQuery, update_id: int, now: dt.datetime) -> Incoming | None:
    seq_text, _, value = (query.data or "").partition(":")
    if not value or not re.fullmatch(r"[0-9]{1,9}", seq_text):
        return None
    chat_id = query.message.chat.id if query.message else query.from_user.id
    return Incoming(
        channel=CHANNEL,
        chat_id=str(chat_id),
        # A tap carries no time of its own; it happens now.
        sent_at=now,
        choice=value,
        choice_seq=int(seq_text),
        event_key=str(update_id),
        private_chat=bool(query.message and query.message.chat.type == "private"),
        **_who(query.from_user),
    )


# --- the channel: stored updates in, replies out ---------------------------------------------------


def received(update: dict[str, Any], parsed: Update | None = None) -> Received | None:
    """What to store of a raw update: its id is the dedupe key, its sender the conversation it belongs to.
    ``parsed``: the same update as aiogram parsed it, kept in memory for handling it."""
    update_id = update.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return None
    body = next((v for k, v in update.items() if k != "update_id" and isinstance(v, dict)), {})
    sender = body.get("from") or body.get("from_user") or {}
    chat = body.get("chat") or (body.get("message") or {}).get("chat") or {}
    user = sender.get("id", chat.get("id", 0))
    return Received(str(update_id), str(user), update, parsed)


class TelegramChannel:
    name = CHANNEL
    # Telegram shows a chat action for five seconds at most (bot/working.py).
    working_every = 4.0

    def __init__(self, bot: Bot, clock: Callable[[], dt.datetime]) -> None:
        self.bot = bot
        self.clock = clock
        self._patient = Patient(bot)

    async def incoming(self, entry: Entry) -> tuple[Incoming | None, Any]:
        update = entry.parsed
        if not isinstance(update, Update):
            try:
                update = parse_update(entry.payload, self.bot)
            except ValueError:
                log.warning("stored telegram update %s is not an update; dropped", entry.id)
                return None, None
        if update.message is not None:
            return message_incoming(update.message, update.update_id), None
        if update.callback_query is not None:
            query = update.callback_query
            return callback_incoming(query, update.update_id, self.clock()), query
        return None, None

    async def acknowledge(self, token: Any, outcome: Outcome | None) -> None:
        if isinstance(token, CallbackQuery):
            await stop_spinning(token, outcome.notice if outcome else None)

    async def send(self, chat_id: str, reply: Reply, locale: str) -> None:
        try:
            await send_replies(self._patient, chat_id, [reply])  # type: ignore[arg-type]
        except TelegramForbiddenError as exc:
            raise Unreachable(exc.message) from None
        except TelegramBadRequest as exc:
            if "chat not found" in exc.message.lower():
                raise Unreachable(exc.message) from None
            raise Refused(exc.message) from None

    async def set_menu(self, chat_id: str, role: str | None, locale: str) -> None:
        try:
            await set_chat_commands(self.bot, chat_id, role, locale)
        except (TelegramForbiddenError, TelegramBadRequest) as exc:
            raise Refused(exc.message) from None

    async def working(self, chat_id: str, *, files: bool = True) -> None:
        await self.bot.send_chat_action(chat_id, "upload_document" if files else "typing")

