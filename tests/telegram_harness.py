"""Drive the real aiogram Dispatcher and Bot against the loopback Bot API stand-in, like a user would."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiogram import Bot

from bot.channels import telegram
from bot.runtime import Runtime
from handlers.core import Core
from tests.botapi_stub import ApiCall, BotApiStub

TOKEN = "123456:TEST-not-a-real-token-abcdefghijklmno"


class TelegramHarness:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.stub = BotApiStub()
        self.bot: Bot
        self.runtime: Runtime

    async def __aenter__(self) -> TelegramHarness:
        await self.stub.start()
        self.bot = telegram.make_bot(TOKEN, self.stub.base_url)
        self.runtime = self.make_runtime(self.core)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.runtime.settle()
        await self.bot.session.close()
        await self.stub.close()

    def make_runtime(self, core: Core) -> Runtime:
        return Runtime(core, [telegram.TelegramChannel(self.bot, core.config.clock)])

    def use_core(self, core: Core) -> None:
        """A restart: a new core (new process, same database) behind the same bot."""
        self.core = core
        self.runtime = self.make_runtime(core)

    async def feed(self, update: dict[str, Any]) -> list[ApiCall]:
        """Hand an update over as the webhook or polling does (stored, then handled), and wait until every
        answer it owes was sent."""
        return await self.feed_batch([update])

    async def feed_batch(self, updates: list[dict[str, Any]]) -> list[ApiCall]:
        """Updates that arrive together, as one getUpdates batch."""
        before = len(self.stub.calls)
        items = [telegram.received(update) for update in updates]
        assert all(items), updates
        await self.runtime.receive(telegram.CHANNEL, items)  # type: ignore[arg-type]
        await self.runtime.settle()
        return self.stub.calls[before:]

    def user(self, user_id: int, *, language_code: str = "en", first_name: str = "Vàng A Chứ") -> TelegramUser:
        return TelegramUser(self, user_id, language_code, first_name)


class TelegramUser:
    def __init__(self, harness: TelegramHarness, user_id: int, language_code: str, first_name: str) -> None:
        self.h = harness
        self.id = user_id
        self.language_code = language_code
        self.first_name = first_name

    def message(self, text: str, *, written: dt.datetime | None = None, **extra: Any) -> dict[str, Any]:
        written = written or self.h.core.config.clock()
        return self.h.stub.make_message(self.id, text, language_code=self.language_code,
                                        first_name=self.first_name, date=int(written.timestamp()), **extra)

    async def send(self, text: str, **kwargs: Any) -> list[ApiCall]:
        return await self.h.feed(self.message(text, **kwargs))

    def last_keyboard(self) -> tuple[int, list[dict[str, Any]]]:
        for (chat, message_id), message in sorted(self.h.stub._messages.items(), key=lambda kv: kv[0][1],
                                                  reverse=True):
            markup = message.get("reply_markup") or {}
            if chat == self.id and markup.get("inline_keyboard"):
                return message_id, [b for row in markup["inline_keyboard"] for b in row]
        raise AssertionError("the bot has shown no buttons to this user")

    def button(self, label: str) -> tuple[int, str]:
        message_id, buttons = self.last_keyboard()
        for button in buttons:
            if label in button["text"]:
                return message_id, button["callback_data"]
        raise AssertionError(f"no button {label!r} among {[b['text'] for b in buttons]}")

    def callback(self, label: str) -> dict[str, Any]:
        message_id, data = self.button(label)
        return self.h.stub.make_callback(self.id, data, message_id=message_id, language_code=self.language_code,
                                         first_name=self.first_name)

    def reply_keyboard(self) -> list[str]:
        """Labels of the reply keyboard on the bot's latest message, if it has one."""
        sent = [c for c in self.h.stub.calls
                if c.method == "sendMessage" and str(c.params.get("chat_id")) == str(self.id)]
        rows = ((sent[-1].params.get("reply_markup") or {}).get("keyboard") or []) if sent else []
        return [b["text"] for row in rows for b in row]

    async def tap(self, label: str) -> list[ApiCall]:
        for button in self.reply_keyboard():
            if label in button:
                return await self.send(button)  # a reply-keyboard button sends its label as text
        return await self.h.feed(self.callback(label))

    def photo_update(self, file_id: str, size: int = 123_456, **kwargs: Any) -> dict[str, Any]:
        update = self.h.stub.make_photo(self.id, file_id, size, **kwargs)
        update["message"]["date"] = int(self.h.core.config.clock().timestamp())
        return update

    async def photo(self, file_id: str, size: int = 123_456, **kwargs: Any) -> list[ApiCall]:
        return await self.h.feed(self.photo_update(file_id, size, **kwargs))

    def buttons(self) -> list[str]:
        return [b["text"] for b in self.last_keyboard()[1]]


def texts(calls: list[ApiCall]) -> list[str]:
    return [c.params["text"] for c in calls if c.method == "sendMessage" and c.status == 200]


def text(calls: list[ApiCall]) -> str:
    return "\n".join(texts(calls))


def notices(calls: list[ApiCall]) -> list[str]:
    return [c.params.get("text", "") for c in calls if c.method == "answerCallbackQuery"]
