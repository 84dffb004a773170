"""Telegram through aiogram: updates to ``Incoming``, ``Reply`` to Bot API calls."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import logging
import re
from collections.abc import Callable
from typing import Any, ClassVar

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
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
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from aiogram.utils.media_group import MediaGroupBuilder
from aiohttp import web

from bot.channels.markup import split_lines, to_plain
from bot.channels.webhooks import read_json, store_then_answer
from bot.runtime import Refused, Runtime, Unreachable
from handlers import keyboard_layout as layout
from handlers.commands import menu_for
from handlers.events import Attachment, Incoming, Outcome, Reply
from handlers.i18n import LOCALES, Translator
from storage.inbox import Entry, Received

log = logging.getLogger(__name__)

CHANNEL = "telegram"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_LIMIT = 64
INLINE_PICTURES = ("image/png", "image/jpeg")


class ResponseTypeCache(AiohttpSession):
    """aiogram builds ``Response[T]`` for every call and pydantic keeps those classes only weakly, so
    a garbage collection makes the next call rebuild one (milliseconds each, a third of all calls
    under load). Holding them here keeps pydantic's own cache warm."""

    _types: ClassVar[dict[Any, Any]] = {}

    def check_response(self, bot: Bot, method: Any, status_code: int, content: str) -> Any:
        returning = method.__returning__
        if returning not in self._types:
            self._types[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)


def make_bot(token: str, api_base: str) -> Bot:
    session = ResponseTypeCache(api=TelegramAPIServer.from_base(api_base))
    return Bot(token=token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


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
    await _deliver(_Patient(bot), chat_id, replies)  # type: ignore[arg-type]


class _Patient:
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


async def _deliver(bot: Bot, chat_id: str | int, replies: list[Reply]) -> None:
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
        commands = [BotCommand(command=c.name, description=t(c.description)[:256]) for c in menu_for(None)]
        await bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=locale)


async def set_chat_commands(bot: Bot, chat_id: str, role: str | None, locale: str) -> None:
    """The menu of one private chat: only what this person's role may use, in their language."""
    t = Translator(locale, dt.UTC)
    commands = [BotCommand(command=c.name, description=t(c.description)[:256]) for c in menu_for(role)]
    await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id=int(chat_id)))


async def stop_spinning(query: CallbackQuery, notice: str | None) -> None:
    try:
        # Always answer, or the user's button spins; a late answer is refused as "query is too old".
        await query.answer(text=(notice or "")[:200] or None)
    except TelegramBadRequest as exc:
        log.info("callback answer refused: %s", exc.message)


# --- the channel: stored updates in, replies out ---------------------------------------------------


def received(update: dict[str, Any]) -> Received | None:
    """What to store of a raw update: its id is the dedupe key, its sender the conversation it belongs to."""
    update_id = update.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return None
    body = next((v for k, v in update.items() if k != "update_id" and isinstance(v, dict)), {})
    sender = body.get("from") or body.get("from_user") or {}
    chat = body.get("chat") or (body.get("message") or {}).get("chat") or {}
    user = sender.get("id", chat.get("id", 0))
    return Received(str(update_id), str(user), update)


class TelegramChannel:
    name = CHANNEL

    def __init__(self, bot: Bot, clock: Callable[[], dt.datetime]) -> None:
        self.bot = bot
        self.clock = clock
        self._patient = _Patient(bot)

    async def incoming(self, entry: Entry) -> tuple[Incoming | None, Any]:
        try:
            update = Update.model_validate(entry.payload, context={"bot": self.bot})
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
            await _deliver(self._patient, chat_id, [reply])  # type: ignore[arg-type]
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

    async def working(self, chat_id: str) -> None:
        await self.bot.send_chat_action(chat_id, "upload_document")


ALLOWED_UPDATES = ["message", "callback_query"]
POLL_TIMEOUT = 25


async def poll(runtime: Runtime, bot: Bot, stop: asyncio.Event, *, timeout: int = POLL_TIMEOUT,  # noqa: ASYNC109
               backoff: float = 1.0) -> None:
    """Long polling that never confirms an update before it is stored: ``getUpdates`` is asked for the next
    offset only once the batch before it is in the inbox. Stops taking updates when ``stop`` is set."""
    # A webhook left over from `twinbot webhook` would make getUpdates fail.
    await bot.delete_webhook(drop_pending_updates=False)
    offset: int | None = None
    delay = 0.0
    stopping = asyncio.ensure_future(stop.wait())
    try:
        while not stop.is_set():
            room = asyncio.ensure_future(runtime.room())
            await asyncio.wait({room, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not room.done():
                room.cancel()
                break
            request = asyncio.ensure_future(bot.get_updates(offset=offset, timeout=timeout,
                                                            allowed_updates=ALLOWED_UPDATES))
            await asyncio.wait({request, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not request.done():
                request.cancel()
                await asyncio.gather(request, return_exceptions=True)
                break
            try:
                updates = request.result()
                batch = [r for r in (received(u.model_dump(mode="json", exclude_none=True, by_alias=True))
                                     for u in updates) if r is not None]
                await runtime.receive(CHANNEL, batch)
            except Exception as exc:
                delay = min(30.0, max(backoff, delay * 2))
                log.warning("telegram polling failed (%s); polling again in %.1f s", exc, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(stopping), timeout=delay)
                continue
            delay = 0.0
            if updates:
                # Only now: the next getUpdates confirms this batch to Telegram.
                offset = updates[-1].update_id + 1
    finally:
        stopping.cancel()
        await asyncio.gather(stopping, return_exceptions=True)


SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookRoute:
    """``POST`` of Telegram's webhook: the secret checked in constant time, the update stored, then 200."""

    def __init__(self, runtime: Runtime, secret: str) -> None:
        self.runtime = runtime
        self.secret = secret.encode()

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            return web.Response(status=401, text="unauthorized")
        body = await read_json(request)
        item = received(body) if isinstance(body, dict) else None
        if item is None:
            return web.Response(status=400, text="malformed update")
        try:
            Update.model_validate(body)
        except ValueError:
            return web.Response(status=400, text="malformed update")
        return await store_then_answer(self.runtime, CHANNEL, [item], web.Response(text="ok"))


