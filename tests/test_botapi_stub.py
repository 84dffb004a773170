"""The Bot API stub behaves like Telegram towards a real aiogram client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)

try:
    from tests.botapi_stub import BotApiStub, html_to_plain
except ImportError:  # tests/ collected as a plain directory
    from botapi_stub import BotApiStub, html_to_plain  # type: ignore[no-redef]

pytestmark = pytest.mark.asyncio

TOKEN = "123456:TEST-token"
CHAT = 4242


@pytest_asyncio.fixture
async def stub() -> AsyncIterator[BotApiStub]:
    async with BotApiStub() as running:
        yield running


@pytest_asyncio.fixture
async def bot(stub: BotApiStub) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(stub.base_url))
    async with Bot(token=TOKEN, session=session) as client:
        yield client


def keyboard(callback_data: str, text: str = "OK") -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=text, callback_data=callback_data)]]
    )


async def raw_post(stub: BotApiStub, method: str, data: dict[str, str]) -> tuple[int, dict[str, object]]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{stub.base_url}/bot{TOKEN}/{method}", data=data) as resp,
    ):
        return resp.status, await resp.json()


async def test_get_me(stub: BotApiStub, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.first_name, me.username) == (123456, True, "Twinbot", "twinbot_test_bot")
    assert [c.method for c in stub.calls] == ["getMe"]
    assert stub.calls[0].token == TOKEN
    assert stub.violations == []


async def test_send_message_with_good_html(stub: BotApiStub, bot: Bot) -> None:
    text = '<b>Kết nghĩa</b> &amp; <a href="https://example.org/?a=1&amp;b=2">xem</a> <i>5 &lt; 6</i>'
    first = await bot.send_message(CHAT, text, parse_mode="HTML", reply_markup=keyboard("report:1"))
    second = await bot.send_message(CHAT, "plain > text & more")

    assert first.text == "Kết nghĩa & xem 5 < 6"
    assert first.chat.id == CHAT and first.chat.type == "private"
    assert first.reply_markup is not None
    assert first.reply_markup.model_dump() == keyboard("report:1").model_dump()
    assert second.message_id > first.message_id
    call = stub.calls_of("sendMessage")[0]
    assert call.params["chat_id"] == CHAT
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "report:1"
    assert stub.sent_texts(CHAT) == [text, "plain > text & more"]
    assert stub.sent_texts(1) == []
    assert stub.violations == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<script>alert(1)</script>", 'Unsupported start tag "script" at byte offset 0'),
        ("<b>unclosed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("số 1 < 2", 'Unsupported start tag "" at byte offset 7'),
        ("Tom & Jerry", 'Unescaped "&" at byte offset 4'),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler"'),
    ],
)
async def test_bad_html_is_refused(stub: BotApiStub, bot: Bot, text: str, reason: str) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities") as caught:
        await bot.send_message(CHAT, text, parse_mode="HTML")
    assert reason in caught.value.message
    assert len(stub.violations) == 1 and reason in stub.violations[0]
    assert stub.sent_texts() == []


async def test_html_plain_text() -> None:
    markup = (
        '<pre><code class="language-py">x</code></pre>'
        '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>'
    )
    assert html_to_plain(markup) == "xst"
    assert html_to_plain("<B>&#x1F600;&quot;</B>") == '😀"'


async def test_text_length_is_counted_after_entity_parsing(stub: BotApiStub, bot: Bot) -> None:
    await bot.send_message(CHAT, "x" * 4096)
    await bot.send_message(CHAT, "<b>" + "&amp;" * 4096 + "</b>", parse_mode="HTML")
    assert stub.violations == []

    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(CHAT, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(CHAT, "photo-id", caption="c" * 1025)
    assert stub.violations == [
        "sendMessage: Bad Request: message is too long (4097 characters)",
        "sendPhoto: Bad Request: message caption is too long",
    ]


async def test_callback_data_is_limited_to_64_bytes(stub: BotApiStub, bot: Bot) -> None:
    await bot.send_message(CHAT, "ok", reply_markup=keyboard("đ" * 32))  # 64 bytes in UTF-8
    assert stub.violations == []

    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(CHAT, "too long", reply_markup=keyboard("x" * 65))
    assert stub.violations == ["sendMessage: Bad Request: BUTTON_DATA_INVALID (callback_data of 65 bytes)"]


async def test_bot_commands_are_checked(stub: BotApiStub, bot: Bot) -> None:
    assert await bot.set_my_commands([BotCommand(command="start", description="Bắt đầu")])
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Report", description="x")])
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_DESCRIPTION_INVALID"):
        await bot.set_my_commands([BotCommand(command="help", description="d" * 257)])
    assert len(stub.violations) == 2


async def test_unknown_method_and_params_via_raw_http(stub: BotApiStub) -> None:
    status, body = await raw_post(stub, "sendMessage", {"chat_id": "1"})
    assert status == 400 and body["ok"] is False
    assert body["description"] == 'Bad Request: parameter "text" is required'

    status, body = await raw_post(stub, "sendMessage", {"chat_id": "1", "text": "hi", "colour": "red"})
    assert status == 400 and body["description"] == 'Bad Request: unknown parameter "colour"'

    status, body = await raw_post(stub, "sendMesage", {"chat_id": "1", "text": "hi"})
    assert status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}

    status, body = await raw_post(stub, "SENDMESSAGE", {"chat_id": "1", "text": "hi"})
    assert status == 200 and body["ok"] is True  # method names are case-insensitive

    assert stub.violations == [
        'sendMessage: Bad Request: parameter "text" is required',
        'sendMessage: Bad Request: unknown parameter "colour"',
        "sendMesage: Not Found: method not found",
    ]
    assert [c.status for c in stub.calls] == [400, 400, 404, 200]


async def test_long_polling_honours_offset_and_wakes_on_push(stub: BotApiStub, bot: Bot) -> None:
    stub.push_update(stub.make_message(7, "/start"))
    stub.push_update(stub.make_message(7, "xin chào"))

    updates = await bot.get_updates(timeout=1, limit=1)
    assert len(updates) == 1
    first = updates[0]
    assert first.message is not None and first.message.text == "/start"
    assert first.message.entities is not None and first.message.entities[0].type == "bot_command"
    assert first.message.from_user is not None and first.message.from_user.language_code == "vi"

    updates = await bot.get_updates(offset=first.update_id + 1, timeout=1)
    assert [u.message.text for u in updates if u.message] == ["xin chào"]
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == []

    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(offset=updates[-1].update_id + 1, timeout=10))
    await stub.wait_for_calls("getUpdates", 4)
    stub.push_update(stub.make_callback(7, "report:42"))
    woken = await poll
    assert time.monotonic() - started < 5
    assert woken[0].callback_query is not None and woken[0].callback_query.data == "report:42"
    assert woken[0].update_id > updates[-1].update_id
    assert stub.violations == []


async def test_fail_next_maps_to_aiogram_errors(stub: BotApiStub, bot: Bot) -> None:
    stub.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    stub.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user", times=2)

    with pytest.raises(TelegramRetryAfter) as flood:
        await bot.send_message(CHAT, "a")
    assert flood.value.retry_after == 1
    for _ in range(2):
        with pytest.raises(TelegramForbiddenError, match="blocked"):
            await bot.send_message(CHAT, "b")
    await bot.send_message(CHAT, "c")

    assert stub.sent_texts() == ["c"]
    assert [c.status for c in stub.calls_of("sendMessage")] == [429, 403, 403, 200]
    assert stub.violations == []


async def test_uploads_and_file_downloads(stub: BotApiStub, bot: Bot) -> None:
    csv = BufferedInputFile(b"a,b\n1,2\n", filename="digest.csv")
    sent = await bot.send_document(CHAT, csv, caption="CSV")
    upload = stub.calls_of("sendDocument")[0].params["document"]
    assert (upload["filename"], upload["size"]) == ("digest.csv", 8)
    assert sent.document is not None and sent.document.file_name == "digest.csv"

    file = await bot.get_file(sent.document.file_id)
    assert file.file_path is not None
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == b"a,b\n1,2\n"

    big = 30 * 1024 * 1024
    message = Update.model_validate(stub.make_photo(7, "user-photo", big, media_group_id="g1")).message
    assert message is not None and message.photo is not None and message.photo[-1].file_size == big
    with pytest.raises(TelegramBadRequest, match="file is too big"):
        await bot.get_file("user-photo")
    assert stub.violations == []


async def test_dispatcher_polls_the_stub(stub: BotApiStub, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer("<b>Chào</b>", parse_mode="HTML", reply_markup=keyboard("menu"))

    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, close_bot_session=False))
    try:
        stub.push_update(stub.make_message(99, "/start"))
        (reply,) = await stub.wait_for_calls("sendMessage", 1)
        assert reply.params["chat_id"] == 99 and reply.params["text"] == "<b>Chào</b>"
        callback = stub.make_callback(99, "menu")["callback_query"]
        assert callback["message"]["text"] == "Chào" and callback["message"]["reply_markup"]
    finally:
        await dp.stop_polling()
        await polling
    assert stub.violations == []
