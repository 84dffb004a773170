"""Talking to the Bot API through aiogram: the bot, replies as messages, albums and keyboards, command menus."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from http import HTTPStatus
from typing import Any, ClassVar, cast

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import ClientDecodeError, TelegramBadRequest, TelegramRetryAfter
from aiogram.methods import GetUpdates, SendDocument, SendMediaGroup, SendMessage, SendPhoto
from aiogram.methods.base import Response
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from aiogram.utils.media_group import MediaGroupBuilder
from pydantic import ValidationError

from bot.channels.markup import split_lines, to_plain
from handlers import keyboard_layout as layout
from handlers.events import Reply
from handlers.i18n import LOCALES, Translator
from handlers.registry import current as handlers_registry

log = logging.getLogger(__name__)

CHANNEL = "telegram"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_LIMIT = 64
INLINE_PICTURES = ("image/png", "image/jpeg")


# The response as read here, its result left as it is (the sends') or made into pairs (``UpdatesAsSent``); the
# class is held for the reason ``TwinbotSession._types`` holds aiogram's own.
_AS_READ_HERE = Response[Any]


# What is read of the message a tapped button was on: its chat (and what tells a message from one too old to be
# shown). Telegram sends the whole message back, text, formatting and keyboard: validating all of it cost more
# than the rest of the update, a fifth of receiving a tap.
_TAPPED_MESSAGE = ("message_id", "date", "chat")


def parse_update(raw: Any, bot: Bot) -> Update:
    """An update as Telegram sent it, validated into aiogram's ``Update`` (``ValidationError`` if it is not
    one), leaving out of a tap's message what twinbot never reads. ``raw`` itself is not changed: it is what
    the inbox stores."""
    query = raw.get("callback_query") if isinstance(raw, dict) else None
    if isinstance(query, dict) and isinstance(query.get("message"), dict):
        message = query["message"]
        raw = {**raw, "callback_query": {**query, "message": {key: message[key] for key in _TAPPED_MESSAGE
                                                              if key in message}}}
    return Update.model_validate(raw, context={"bot": bot})


class UpdatesAsSent(GetUpdates):
    """``getUpdates`` returning each update both as Telegram sent it (what the inbox stores, as the webhook
    stores the body it was posted) and as aiogram's ``Update``: dumping the ``Update`` back to JSON for the
    inbox cost as much as a statement."""


class TwinbotSession(AiohttpSession):
    """aiogram's session, with savings on the path of every update and answer."""

    _types: ClassVar[dict[Any, Any]] = {}
    # What these calls return (the message sent, as Telegram echoes it back) twinbot never reads; making it
    # a validated Message cost as much as the rest of the call's handling of the response.
    UNREAD_RESULTS: ClassVar[tuple[type, ...]] = (SendMessage, SendPhoto, SendDocument, SendMediaGroup)
    READ_HERE: ClassVar[tuple[type, ...]] = (*UNREAD_RESULTS, UpdatesAsSent)

    def check_response(self, bot: Bot, method: Any, status_code: int, content: str) -> Any:
        if HTTPStatus.OK <= status_code <= HTTPStatus.IM_USED and isinstance(method, self.READ_HERE):
            data = None
            with contextlib.suppress(ValueError):
                data = self.json_loads(content)
            if isinstance(data, dict) and data.get("ok") is True:
                result = data.get("result")
                if not isinstance(method, UpdatesAsSent):
                    return _AS_READ_HERE.model_construct(ok=True, result=result)
                if isinstance(result, list):
                    try:
                        pairs = [(raw, parse_update(raw, bot)) for raw in result]
                    except ValidationError as exc:
                        raise ClientDecodeError("Failed to deserialize object", exc, data) from exc
                    return _AS_READ_HERE.model_construct(ok=True, result=pairs)
        # Anything else, refusals and errors included, as aiogram reads it. aiogram builds ``Response[T]``
        # for every call and pydantic keeps those classes only weakly, so a garbage collection made the next
        # call rebuild one (milliseconds each, a third of all calls under load): they are held here.
        returning = method.__returning__
        if returning not in self._types:
            self._types[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)


async def updates_as_sent(bot: Bot, *, offset: int | None, timeout: int,  # noqa: ASYNC109 - the API's own
                          allowed_updates: list[str]) -> list[tuple[dict[str, Any], Update]]:
    return cast(list[tuple[dict[str, Any], Update]],
                await bot(UpdatesAsSent(offset=offset, timeout=timeout, allowed_updates=allowed_updates)))


def make_bot(token: str, api_base: str) -> Bot:
    session = TwinbotSession(api=TelegramAPIServer.from_base(api_base))
    return Bot(token=token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))



def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.options:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    # ``columns`` is the most a row may take: a row takes fewer where labels would not fit a phone whole.
    for row in layout.rows([option.label for option in reply.options], reply.columns):
        rows.append([])
        for index in row:
            option = reply.options[index]
            data = f"{reply.seq}:{option.value}"
            if len(data.encode()) > CALLBACK_LIMIT:
                raise ValueError(f"callback data over {CALLBACK_LIMIT} bytes: {data!r}")
            label = layout.shorten(option.label, len(row))[:64]
            rows[-1].append(InlineKeyboardButton(text=label, callback_data=data))
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _visible_length(markup: str) -> int:
    return len(to_plain(markup))


async def deliver(bot: Bot, chat_id: str | int, replies: list[Reply]) -> None:
    """Send replies in order; a flood-control answer (429) waits as told and sends again."""
    await send_replies(Patient(bot), chat_id, replies)  # type: ignore[arg-type]


class Patient:
    """A Bot whose send_* calls wait out Telegram's retry_after (a few times) instead of failing."""

    def __init__(self, bot: Bot, attempts: int = 3, longest_wait: float = 30.0) -> None:
        self._bot, self._attempts, self._longest = bot, attempts, longest_wait

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._bot, name)
        if not name.startswith("send_"):
            return method

        async def patient(*args: Any, **kwargs: Any) -> Any:
            for attempt in range(1, self._attempts + 1):
                try:
                    return await method(*args, **kwargs)
                except TelegramRetryAfter as exc:
                    if attempt == self._attempts or exc.retry_after > self._longest:
                        raise
                    await asyncio.sleep(exc.retry_after)
            raise AssertionError("unreachable")

        return patient


async def send_replies(bot: Bot, chat_id: str | int, replies: list[Reply]) -> None:
    for reply in replies:
        for start in range(0, len(reply.photos), 10):
            # An album holds 2 to 10 photos; a lone photo (or leftover) goes alone.
            batch = reply.photos[start:start + 10]
            if len(batch) == 1:
                await bot.send_photo(chat_id, batch[0])
                continue
            group = MediaGroupBuilder()
            for file_id in batch:
                group.add_photo(media=file_id)
            await bot.send_media_group(chat_id, media=group.build())  # type: ignore[arg-type]
        for document in reply.files:
            upload = BufferedInputFile(document.content, filename=document.filename)
            caption = split_lines(document.caption, CAPTION_LIMIT, _visible_length)[0] if document.caption else None
            if document.mime_type in INLINE_PICTURES:
                await bot.send_photo(chat_id, upload, caption=caption)  # a chart reads best in the chat itself
            else:
                await bot.send_document(chat_id, upload, caption=caption)
        chunks = split_lines(reply.text, TEXT_LIMIT, _visible_length)
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            markup: Any = None
            if last and reply.ask_location:
                # Telegram offers the location button only on a reply keyboard, not inline.
                # Its other buttons send their label as text, which the core matches to the option.
                markup = ReplyKeyboardMarkup(
                    keyboard=[[KeyboardButton(text=reply.ask_location, request_location=True)],
                              *[[KeyboardButton(text=o.label)] for o in reply.options]],
                    resize_keyboard=True, one_time_keyboard=True)
            elif last:
                markup = keyboard(reply)
            await bot.send_message(chat_id, chunk, reply_markup=markup)


async def set_default_commands(bot: Bot, default_locale: str) -> None:
    for locale in (*LOCALES, None):
        t = Translator(locale or default_locale, dt.UTC)
        commands = [BotCommand(command=c.name, description=t(c.description)[:256])
                    for c in handlers_registry().menu_for(None)]
        await bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=locale)


async def set_chat_commands(bot: Bot, chat_id: str, role: str | None, locale: str) -> None:
    """The menu of one private chat: only what this person's role may use, in their language."""
    t = Translator(locale, dt.UTC)
    commands = [BotCommand(command=c.name, description=t(c.description)[:256])
                for c in handlers_registry().menu_for(role)]
    await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id=int(chat_id)))


async def stop_spinning(query: CallbackQuery, notice: str | None) -> None:
    try:
        # Always answer, or the user's button spins; a late answer is refused as "query is too old".
        await query.answer(text=(notice or "")[:200] or None)
    except TelegramBadRequest as exc:
        log.info("callback answer refused: %s", exc.message)

