"""Our Zalo Bot API client and update parser, against the loopback stand-in: both documented and observed
shapes, errors under any HTTP status, and a token that never shows in an error."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.channels.zalo.client import (
    MalformedUpdate,
    ZaloApiError,
    ZaloClient,
    ZaloNetworkError,
    from_millis,
    parse_update,
)
from tests.zalo_stub import BOT_ID, TOKEN, ZaloApiStub


@pytest.fixture
async def stub() -> AsyncIterator[ZaloApiStub]:
    async with ZaloApiStub() as server:
        yield server


@pytest.fixture
async def client(stub: ZaloApiStub) -> AsyncIterator[ZaloClient]:
    async with ZaloClient(TOKEN, stub.base_url) as c:
        yield c


async def test_get_me_and_webhook_methods(stub: ZaloApiStub, client: ZaloClient) -> None:
    me = await client.get_me()
    assert me.id == BOT_ID and isinstance(me.id, str) and me.account_name == "bot.fake"
    assert (await client.get_webhook_info()).url == ""
    info = await client.set_webhook("https://bot.example.org/zalo/webhook", "s3cret-zalo")
    assert info.url == "https://bot.example.org/zalo/webhook" and info.updated_at is not None
    assert stub.webhook_secret == "s3cret-zalo"
    assert (await client.get_webhook_info()).url.endswith("/zalo/webhook")
    assert (await client.delete_webhook()).url == ""
    await client.send_chat_action("6ede9afa66b88fe6d6a9")  # {"ok": true} without a result
    sent = await client.send_message("6ede9afa66b88fe6d6a9", "Xin chào")
    assert sent.message_id and len(sent.message_id) == 20 and sent.date is not None
    assert (await client.send_photo("6ede9afa66b88fe6d6a9", "https://photo.zdn.vn/x.jpg")).message_id
    assert stub.violations == []


async def test_get_updates_one_at_a_time_and_408_means_nothing_yet(stub: ZaloApiStub, client: ZaloClient) -> None:
    assert await client.get_updates(timeout=0) is None
    stub.push(stub.text("u1", "một"))
    stub.push(stub.text("u1", "hai", wrapped=False))
    first, second = await client.get_updates(timeout=1), await client.get_updates(timeout=1)
    assert first is not None and first.message is not None and first.message.text == "một"
    assert second is not None and second.message is not None and second.message.text == "hai"
    assert await client.get_updates(timeout=0) is None
    [call] = stub.calls_of("getUpdates")[:1]
    assert call.params["timeout"] == "1" or call.params["timeout"] == "0"


async def test_get_updates_refused_while_a_webhook_is_set(stub: ZaloApiStub, client: ZaloClient) -> None:
    await client.set_webhook("https://bot.example.org/zalo/webhook", "s3cret-zalo")
    with pytest.raises(ZaloApiError) as caught:
        await client.get_updates(timeout=0)
    assert caught.value.code == 400


@pytest.mark.parametrize("http_status", [429, 200])
async def test_errors_are_read_from_the_body_whatever_the_status(stub: ZaloApiStub, client: ZaloClient,
                                                                 http_status: int) -> None:
    stub.fail_next("sendMessage", 429, "Quota exceeded", http_status=http_status)
    with pytest.raises(ZaloApiError) as caught:
        await client.send_message("u1", "hello")
    assert caught.value.code == 429 and caught.value.quota_exceeded
    assert TOKEN not in str(caught.value) and "Quota exceeded" in str(caught.value)


async def test_an_html_error_page_or_a_dead_server_never_shows_the_token(stub: ZaloApiStub,
                                                                          client: ZaloClient) -> None:
    stub.fail_next("getMe", 502, "", body="<html>Bad gateway</html>")
    with pytest.raises(ZaloApiError) as caught:
        await client.get_me()
    assert caught.value.code == 502 and caught.value.temporary
    dead = ZaloClient(TOKEN, "http://127.0.0.1:9")
    with pytest.raises(ZaloNetworkError) as lost:
        await dead.get_me()
    await dead.close()
    assert TOKEN not in str(lost.value) and TOKEN.split(":")[1] not in repr(lost.value)


async def test_texts_over_2000_characters_are_refused_before_sending(client: ZaloClient) -> None:
    with pytest.raises(ValueError):
        await client.send_message("u1", "x" * 2001)
    with pytest.raises(ValueError):
        await client.send_message("u1", "")


def test_updates_wrapped_or_bare_photo_or_photo_url_dates_in_milliseconds() -> None:
    message = {"from": {"id": "6ede9afa66b88fe6d6a9", "display_name": "Ted", "is_bot": False},
               "chat": {"id": "6ede9afa66b88fe6d6a9", "chat_type": "PRIVATE"},
               "text": "Xin chào", "message_id": "2d758cb5e222177a4e35", "date": 1750316131602}
    wrapped = parse_update({"ok": True, "result": {"event_name": "message.text.received", "message": message}})
    bare = parse_update({"event_name": "message.text.received", "message": message})
    assert wrapped.message == bare.message
    assert bare.message is not None
    assert bare.message.date == dt.datetime(2025, 6, 19, 6, 55, 31, 602000, tzinfo=dt.UTC)
    assert bare.message.sender.display_name == "Ted" and bare.message.chat_id == "6ede9afa66b88fe6d6a9"
    for name in ("photo", "photo_url"):
        image = parse_update({"event_name": "message.image.received",
                              "message": {**message, name: "https://photo.zdn.vn/a.jpg"}})
        assert image.message is not None and image.message.photo_url == "https://photo.zdn.vn/a.jpg"
    protected = parse_update({"ok": True, "result": {"event_name": "message.unsupported.received"}})
    assert protected.message is None and protected.known
    odd = parse_update({"event_name": "message.reaction.received", "message": message})
    assert not odd.known
    assert from_millis("1750316131602") == bare.message.date and from_millis("soon") is None


@pytest.mark.parametrize("body", [
    [], "text", {"ok": True}, {"ok": False, "error_code": 400}, {"event_name": 5},
    {"event_name": "message.text.received", "message": "hi"},
    {"event_name": "message.text.received", "message": {"text": "no ids"}},
    {"message": {"from": {"id": ""}, "message_id": "1"}},
])
def test_malformed_bodies_are_refused(body: object) -> None:
    with pytest.raises(MalformedUpdate):
        parse_update(body)


def test_replies_render_as_plain_text_within_2000_characters() -> None:
    from bot.channels.zalo import render
    from handlers.events import Option, OutFile, Reply
    from handlers.i18n import Translator

    t = Translator("en", dt.UTC)
    long = "\n".join(f"<b>#{n}</b> · Đồn Biên phòng &amp; bản {n} · " + "giao lưu " * 20 for n in range(40))
    reply = Reply(text=long, options=(Option("#1", "rp:1"), Option("Older ▶", "rc:older")),
                  files=(OutFile("digest.xlsx", b"x", "application/vnd.ms-excel", "<b>Week 47</b>"),),
                  photos=("zalo/a.jpg", "zalo/b.jpg"))
    texts = render(reply, t)
    assert all(1 <= len(text) <= 2000 for text in texts) and len(texts) >= 4
    assert "<b>" not in "".join(texts) and "Đồn Biên phòng & bản 0" in texts[0]
    body = "\n".join(texts)
    assert "\n1. #1\n2. Older ▶" in body
    assert all(line.startswith("#") or line.startswith(("1.", "2.", "Type the number", "📷", "📎", "Week"))
               for line in body.splitlines())
    assert "📷 2 photos are kept with this report." in texts
    assert texts[-1] == "Week 47\n📎 digest.xlsx: the Zalo bot cannot send files. Get it with the same command " \
        "on Telegram, or in the console (twinbot console)."


def test_a_zalo_token_is_masked_in_logs() -> None:
    from bot.redaction import RedactingFilter

    secret = TOKEN.split(":")[1]
    assert secret not in RedactingFilter().redact(f"POST https://bot-api.zaloplatforms.com/bot{TOKEN}/getMe")
    short = "1459232241454765289:abc-xyz!"  # a shape the pattern misses: masked as a known secret
    assert "abc-xyz!" not in RedactingFilter([short]).redact(f"/bot{short}/getMe")
