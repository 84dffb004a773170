"""What twinbot's aiogram session reads of the Bot API's answers itself, and what it leaves to aiogram."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import ClientDecodeError, TelegramForbiddenError, TelegramRetryAfter
from aiogram.methods import GetMe, GetUpdates, SendMessage
from aiogram.types import InaccessibleMessage, Update, User

from bot.channels.telegram.client import TwinbotSession, UpdatesAsSent, make_bot

MESSAGE = {"message_id": 7, "date": 1_795_000_000, "chat": {"id": 42, "type": "private", "first_name": "Lò"},
           "text": "Xin chào"}
# A field aiogram's Update does not know (the Bot API grows): the inbox keeps it as Telegram sent it.
UPDATE = {"update_id": 501, "message": {**MESSAGE, "from": {"id": 42, "is_bot": False, "first_name": "Lò"},
                                        "future_field": {"kept": True}}}


@pytest.fixture
def bot() -> Bot:
    return make_bot("123:abc", "http://127.0.0.1:9")


def answer(bot: Bot, method: Any, status: int, body: dict[str, Any]) -> Any:
    session = bot.session
    assert isinstance(session, TwinbotSession)
    return session.check_response(bot, method, status, json.dumps(body))


def test_updates_come_as_sent_and_as_aiogram_reads_them(bot: Bot) -> None:
    method = UpdatesAsSent(offset=None, timeout=0, allowed_updates=["message"])
    [(raw, update)] = answer(bot, method, 200, {"ok": True, "result": [UPDATE]}).result
    assert raw == UPDATE and raw["message"]["future_field"] == {"kept": True}
    assert isinstance(update, Update) and update.message is not None and update.message.text == "Xin chào"
    assert update.message.bot is bot  # bound, as aiogram's own getUpdates binds it


def test_a_malformed_update_fails_the_batch_as_aiogram_would(bot: Bot) -> None:
    method = UpdatesAsSent(offset=None, timeout=0, allowed_updates=["message"])
    with pytest.raises(ClientDecodeError):
        answer(bot, method, 200, {"ok": True, "result": [{"update_id": "not a number"}]})


def test_a_sent_message_is_not_read_but_refusals_are(bot: Bot) -> None:
    send = SendMessage(chat_id=42, text="Xin chào")
    assert answer(bot, send, 200, {"ok": True, "result": MESSAGE}).result == MESSAGE
    with pytest.raises(TelegramRetryAfter) as waited:
        answer(bot, send, 429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 3",
                                "parameters": {"retry_after": 3}})
    assert waited.value.retry_after == 3
    with pytest.raises(TelegramForbiddenError):
        answer(bot, send, 403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked"})


def test_other_calls_are_read_by_aiogram(bot: Bot) -> None:
    me = {"id": 1, "is_bot": True, "first_name": "twinbot", "username": "twinbot"}
    assert isinstance(answer(bot, GetMe(), 200, {"ok": True, "result": me}).result, User)
    [update] = answer(bot, GetUpdates(timeout=0), 200, {"ok": True, "result": [UPDATE]}).result
    assert isinstance(update, Update)


def tap(message: dict[str, Any]) -> dict[str, Any]:
    return {"update_id": 502, "callback_query": {"id": "q1", "from": {"id": 42, "is_bot": False, "first_name": "Lò"},
                                                 "chat_instance": "ci42", "message": message, "data": "3:visit"}}


def test_a_tap_is_read_without_the_whole_message_it_was_on(bot: Bot) -> None:
    on = {**MESSAGE, "from": {"id": 1, "is_bot": True, "first_name": "twinbot"},
          "entities": [{"type": "bold", "offset": 0, "length": 3}],
          "reply_markup": {"inline_keyboard": [[{"text": "Thăm hỏi", "callback_data": "3:visit"}]]}}
    # Too old to be shown (Telegram's InaccessibleMessage): date 0, and no text or keyboard.
    gone = {"message_id": 5, "date": 0, "chat": {"id": 43, "type": "group", "title": "Cụm 2"}}
    method = UpdatesAsSent(offset=None, timeout=0, allowed_updates=["callback_query"])
    sent = [tap(on), tap(gone)]
    pairs = answer(bot, method, 200, {"ok": True, "result": json.loads(json.dumps(sent))}).result
    assert [raw for raw, _update in pairs] == sent  # stored whole, keyboard and all
    (_, shown), (_, old) = pairs
    assert shown.callback_query.data == "3:visit" and shown.callback_query.message.chat.id == 42
    assert shown.callback_query.message.chat.type == "private"
    assert isinstance(old.callback_query.message, InaccessibleMessage) and old.callback_query.message.chat.id == 43
    assert shown.callback_query.bot is bot  # bound, so that the tap can be answered
