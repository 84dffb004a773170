"""Transcripts over Zalo against the loopback Zalo Bot API stand-in: a full report by long polling with
redelivery, 408 and 429; photos that expire; the webhook and its secret; bad input of every kind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.channels.zalo import SECRET_HEADER, ZaloWebhookRoute, add_routes
from handlers.core import Core
from storage.db import Database
from storage.models import Conversation, Identity, ProcessedEvent, Report, ReportPhoto
from tests.conftest import Clock
from tests.reporting import figures
from tests.test_onboarding import make_invite
from tests.zalo_harness import Polling, ZaloHarness, ZaloUserDriver, option_number, said

USER = "6ede9afa66b88fe6d6a9"


@pytest.fixture
async def zalo(core: Core, tmp_path: Path) -> AsyncIterator[ZaloHarness]:
    async with ZaloHarness(core, tmp_path / "media") as harness:
        yield harness
        assert harness.stub.violations == []


async def count(db: Database, model: type) -> int:
    async with db.unit_of_work() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def registered(zalo: ZaloHarness, db: Database, clock: Clock, user_id: str = USER) -> ZaloUserDriver:
    user = zalo.user(user_id)
    shown = await user.send(f"/start {await make_invite(db, clock)}")
    assert "Welcome, Vàng A Chứ! You are now registered as officer of Đồn Biên phòng CKQT Lào Cai" in shown \
        or "Chào mừng" in shown
    await user.send("/lang en")
    return user


async def test_full_report_by_long_polling_with_redelivery_408_and_429(
        zalo: ZaloHarness, db: Database, clock: Clock) -> None:
    stub = zalo.stub
    zalo.stub.add_photo("p1.jpg")
    async with Polling(zalo) as polling:
        user = zalo.user(USER)
        shown = await polling.say(user.message(f"/start {await make_invite(db, clock)}"))
        assert "Đồn Biên phòng CKQT Lào Cai" in shown
        assert "<b>" not in shown and "&lt;" not in shown  # plain text, never markup
        assert "1. " in shown  # the main menu as a numbered list
        await polling.say(user.message("/lang en"))
        # A 429 on getUpdates and an empty poll (408) in between change nothing but the moment.
        stub.fail_next("getUpdates", 429, "Quota exceeded")
        shown = await polling.say(user.message("/report"))
        assert "What kind of activity" in shown
        shown = await polling.say(user.message(option_number(shown, "Exchange")))
        assert "When did it take place?" in shown
        # The same message delivered twice (a repeated poll result): one answer, one effect.
        assert "Or type: “today” · “yesterday” · “back”" in shown  # typed answer: options as words
        today = user.message("today")
        shown = await polling.say(today)
        assert "Which twinned partner" in shown
        assert await polling.say(today) == ""
        shown = await polling.say(user.message(option_number(shown, "Hà Khẩu")))
        shown = await polling.say(user.message(option_number(shown, "At the border line")))
        shown = await polling.say(user.message("45"))
        shown = await polling.say(user.message("1.200"))
        assert "What kind of exchange?" in shown
        shown = await polling.say(user.message("sport"))  # the option's words work as well as its number
        shown = await polling.say(user.message("Giao lưu bóng đá hữu nghị giữa hai đồn"))
        assert "Send photos" in shown
        shown = await polling.say(stub.image(USER, stub.photo_url("p1.jpg"),
                                             date=int(clock().timestamp() * 1000)))
        assert "Photo received" in shown
        shown = await polling.say(user.message(option_number(shown, "Done")))
        assert "Where exactly?" in shown and "Send my location" not in shown
        shown = await polling.say(user.message("Cột mốc 102, Bát Xát"))
        assert "Please check your report" in shown and "Cột mốc 102, Bát Xát" in shown
        shown = await polling.say(user.message(option_number(shown, "Submit")))
        assert "✅ Report #1 submitted" in shown
    assert stub.calls_of("deleteWebhook")
    assert [c.status for c in stub.calls_of("getUpdates")].count(429) == 1
    assert all(len(t) <= 2000 for t in stub.sent_texts())
    async with db.unit_of_work() as uow:
        report = await uow.session.scalar(select(Report))
        assert report is not None
        assert (report.kind, report.venue, figures(report)["participants_partner"], report.channel) == (
            "exchange", "border", 1200, "zalo")
        assert report.details.get("exchange_type") == "sport"
        [photo] = (await uow.session.scalars(select(ReportPhoto))).all()
        assert photo.channel == "zalo" and photo.file_id.startswith("zalo/") and photo.file_id.endswith(".jpg")
        assert photo.stored_path == photo.file_id
        assert (zalo.media_dir / photo.file_id).read_bytes() == stub._photos["p1.jpg"].data
        conversation = await uow.session.scalar(select(Conversation))
        assert conversation is not None and conversation.flow is None


async def test_a_report_typed_in_vietnamese_by_numbers_and_words_never_says_tap(
        zalo: ZaloHarness, db: Database, clock: Clock) -> None:
    """As an officer on Zalo lives it: nothing to tap, so every answer is a number or words, including
    Skip, Back and Done; the photo step ends with "xong"; the place is typed."""
    stub = zalo.stub
    stub.add_photo("p1.jpg")
    async with Polling(zalo) as polling:
        user = zalo.user(USER)
        shown = await polling.say(user.message(f"/start {await make_invite(db, clock)}"))
        shown = await polling.say(user.message("/report"))
        assert "Gõ số để chọn." in shown
        shown = await polling.say(user.message(option_number(shown, "Tặng quà, hỗ trợ")))
        assert "Hoặc gõ: “hôm nay” · “hôm qua” · “quay lại”" in shown
        shown = await polling.say(user.message("hôm qua"))
        shown = await polling.say(user.message("1"))
        shown = await polling.say(user.message("phía đối tác"))
        assert "Hoặc gõ: “bỏ qua” · “quay lại”" in shown
        shown = await polling.say(user.message("quay lại"))  # back to where it was held
        assert "tổ chức ở đâu" in shown
        shown = await polling.say(user.message(option_number(shown, "Phía đối tác")))
        shown = await polling.say(user.message("12"))
        shown = await polling.say(user.message("bỏ qua"))  # the partner's side is not known
        assert "Đã tặng những gì?" in shown
        shown = await polling.say(user.message("Gạo, chăn ấm"))
        shown = await polling.say(user.message("40 suất"))
        shown = await polling.say(user.message("2tr5"))
        assert "Trị giá quà tặng: 2.500.000\xa0₫" in shown
        shown = await polling.say(user.message("bỏ qua"))
        shown = await polling.say(user.message("Trao quà Tết cho bà con bản đối diện"))
        assert "rồi chọn Xong" in shown
        shown = await polling.say(stub.image(USER, stub.photo_url("p1.jpg"), date=int(clock().timestamp() * 1000)))
        assert "Đã nhận 1 ảnh" in shown
        shown = await polling.say(user.message("xong"))
        assert "Nhập tên địa điểm." in shown and "vị trí" not in shown
        shown = await polling.say(user.message("Cầu Hồ Kiều 2"))
        assert "kiểm tra lại báo cáo" in shown and "Gõ số để chọn." in shown
        shown = await polling.say(user.message(option_number(shown, "✅ Gửi báo cáo")))
        assert "Đã gửi báo cáo #1" in shown
    assert not [text for text in stub.sent_texts() if "bấm" in text.lower() or "nút" in text.lower()]
    async with db.unit_of_work() as uow:
        report = await uow.session.scalar(select(Report))
        assert report is not None and report.kind == "donation" and report.venue == "partner"
        assert figures(report) == {"participants_ours": 12, "gift_packages": 40,
                                   "value_gifts": {"VND": Decimal("2500000")}}
        assert report.details["place"] == "Cầu Hồ Kiều 2"
        assert len((await uow.session.scalars(select(ReportPhoto))).all()) == 1


async def test_quiet_polls_and_errors_never_end_the_loop(zalo: ZaloHarness, db: Database, clock: Clock) -> None:
    stub = zalo.stub
    stub.fail_next("getUpdates", 502, "", body="<html>Bad gateway</html>")
    stub.fail_next("getUpdates", 401, "Unauthorized", times=2)
    stub.push({"ok": True, "result": {"unexpected": True}})  # a malformed poll result
    stub.push({"ok": True, "result": {"event_name": "message.reaction.received",
                                      "message": {"from": {"id": USER}, "chat": {"id": USER},
                                                  "message_id": "aa" * 10, "date": 1}}})
    async with Polling(zalo, timeout=0) as polling:
        shown = await polling.say(zalo.user(USER).message("/start"), handled=2)
        assert "Bot này dùng để báo cáo" in shown  # Zalo sends no language: the default, Vietnamese
    statuses = [c.status for c in stub.calls_of("getUpdates")]
    assert statuses[:3] == [502, 401, 401] and 408 in statuses
    assert await count(db, Report) == 0


# --- the webhook ---------------------------------------------------------------------------------------

SECRET = "zalo-webhook-secret-0123"
PATH = "/zalo/webhook"


class Webhook:
    def __init__(self, zalo: ZaloHarness, client: TestClient, handler: ZaloWebhookRoute) -> None:
        self.zalo, self.client, self.handler = zalo, client, handler

    async def post(self, body: object, *, secret: str | None = SECRET, raw: bytes | None = None) -> int:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        if raw is not None:
            response = await self.client.post(PATH, data=raw, headers=headers)
        else:
            response = await self.client.post(PATH, json=body, headers=headers)
        return response.status

    async def say(self, body: object) -> str:
        before = len(self.zalo.stub.calls)
        assert await self.post(body) == 200
        await self.handler.runtime.settle()
        return said(self.zalo.stub.calls[before:])


@pytest.fixture
async def webhook(zalo: ZaloHarness) -> AsyncIterator[Webhook]:
    handler = ZaloWebhookRoute(zalo.runtime, SECRET)
    app = web.Application(client_max_size=1 << 20)
    add_routes(app, handler, PATH)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield Webhook(zalo, client, handler)
        await handler.runtime.settle()


async def test_webhook_refuses_wrong_or_missing_secret_and_malformed_bodies(
        webhook: Webhook, zalo: ZaloHarness, db: Database) -> None:
    update = zalo.stub.text(USER, "/start")
    assert await webhook.post(update, secret=None) == 401
    assert await webhook.post(update, secret=SECRET[:-1] + "x") == 401
    assert await webhook.post(update, secret="") == 401
    assert await webhook.post(None, raw=b"{not json") == 400
    assert await webhook.post(None, raw=b"\xff\xfe") == 400
    for malformed in ([1, 2], {"ok": True}, {"ok": False, "error_code": 400},
                      {"event_name": "message.text.received", "message": {"text": "no ids"}}):
        assert await webhook.post(malformed) == 400
    await webhook.handler.runtime.settle()
    assert zalo.stub.calls == []
    for model in (ProcessedEvent, Conversation, Identity):
        assert await count(db, model) == 0
    # Answered at once, the work done in the background; a redelivery (the same message id) is a no-op.
    assert "Bot này dùng để báo cáo" in await webhook.say(update)
    assert await webhook.say(update) == ""
    bare = zalo.stub.text(USER, "/help", wrapped=False)
    assert "/start" in await webhook.say(bare)
    # Events without a message, or unknown ones, are acknowledged and answered by nothing.
    assert await webhook.say({"ok": True, "result": {"event_name": "message.unsupported.received"}}) == ""
    assert await webhook.say(zalo.stub.update(USER, "message.reaction.received", reaction="like")) == ""
    assert await count(db, ProcessedEvent) == 3  # every message stored is recorded as seen, answered or not


async def test_report_and_admin_command_over_the_webhook(
        webhook: Webhook, zalo: ZaloHarness, db: Database, clock: Clock) -> None:
    officer = zalo.user(USER)
    ms = int(clock().timestamp() * 1000)
    shown = await webhook.say(officer.message(f"/start {await make_invite(db, clock)}"))
    assert "Đồn Biên phòng CKQT Lào Cai" in shown
    await webhook.say(officer.message("/lang en"))
    answers = {"What kind of activity": "Visit", "When did it take place?": "hôm qua", "Which twinned partner":
               "Hà Khẩu", "Where was it held?": "On the partner's side", "on our side?": "5",
               "on the partner's side?": "8", "What was the occasion?": "New Year",
               "Describe the activity": "Chúc Tết Trạm KSBP Hà Khẩu", "Send photos": "Skip",
               "Where exactly?": "Skip"}
    shown = await webhook.say(officer.message("/report"))
    for _ in range(15):
        if "Please check your report" in shown:
            break
        prompt = next(k for k in answers if k in shown)
        answer = answers[prompt]
        number = _number_or_none(shown, answer)
        shown = await webhook.say(zalo.stub.text(USER, number or answer, date=ms))
    assert "Please check your report" in shown
    assert "✅ Report #1 submitted" in await webhook.say(officer.message(option_number(shown, "Submit")))
    admin = zalo.user("aa11bb22cc33dd44ee55", display_name="Admin")
    await webhook.say(admin.message(f"/start {await make_invite(db, clock, role='admin', unit=None)}"))
    await webhook.say(admin.message("/lang en"))
    shown = await webhook.say(admin.message("/recent"))
    assert "Latest reports (1–1)" in shown and "#1 · 22/11 · Đồn Biên phòng CKQT Lào Cai · Visit" in shown
    shown = await webhook.say(admin.message(option_number(shown, "#1")))
    assert "Report #1" in shown and "Vàng A Chứ" in shown
    # Not for officers.
    assert "not available to you" in await webhook.say(officer.message("/users"))


def _number_or_none(shown: str, label: str) -> str | None:
    try:
        return option_number(shown, label)
    except AssertionError:
        return None


# --- photos -----------------------------------------------------------------------------------------------


async def at_photo_step(zalo: ZaloHarness, db: Database, clock: Clock) -> ZaloUserDriver:
    user = await registered(zalo, db, clock)
    shown = await user.send("/report")
    for answer in ("Other activity", "today", "Hà Khẩu", "On our side", "Skip", "Skip"):
        number = _number_or_none(shown, answer)
        shown = await user.send(number or answer)
    shown = await user.send("Gặp mặt đầu xuân")
    assert "Send photos" in shown
    return user


async def draft_photos(db: Database) -> list[dict[str, object]]:
    async with db.unit_of_work() as uow:
        conversation = await uow.session.scalar(select(Conversation).where(Conversation.flow == "report"))
        assert conversation is not None
        return list(conversation.data["draft"]["values"].get("photos") or [])


@pytest.mark.parametrize("status", [404, 403])
async def test_an_expired_photo_url_is_retried_then_reported_never_dropped_silently(
        zalo: ZaloHarness, db: Database, clock: Clock, status: int) -> None:
    user = await at_photo_step(zalo, db, clock)
    zalo.stub.expire_photo("gone.jpg", status)
    shown = await user.photo("gone.jpg")
    assert "could not download your photo" in shown and "send it again" in shown
    assert zalo.stub.downloads.count("gone.jpg") == 3  # tried, then tried twice more
    assert await draft_photos(db) == []
    assert not list(zalo.media_dir.rglob("*.jpg"))
    # Sent again while the link works: taken.
    zalo.stub.add_photo("again.jpg")
    assert "Photo received" in await user.photo("again.jpg")
    [photo] = await draft_photos(db)
    assert (zalo.media_dir / str(photo["file_id"])).exists()


async def test_a_photo_that_fails_once_is_retried_and_kept(zalo: ZaloHarness, db: Database, clock: Clock) -> None:
    await at_photo_step(zalo, db, clock)
    zalo.stub.add_photo("flaky.jpg", fail_first=(503,), content_type="image/jpg")
    update = zalo.stub.image(USER, zalo.stub.photo_url("flaky.jpg"), field_name="photo",
                             date=int(clock().timestamp() * 1000))
    assert "Photo received" in said(await zalo.feed(update))
    # Redelivered: neither downloaded again nor counted twice.
    assert said(await zalo.feed(update)) == ""
    assert zalo.stub.downloads.count("flaky.jpg") == 2
    [photo] = await draft_photos(db)
    assert str(photo["file_id"]).endswith(".jpg") and photo["size"] == len(zalo.stub._photos["flaky.jpg"].data)


async def test_a_file_that_is_not_a_picture_is_refused_clearly(zalo: ZaloHarness, db: Database,
                                                                clock: Clock) -> None:
    user = await at_photo_step(zalo, db, clock)
    zalo.stub.add_photo("doc.pdf", b"%PDF-1.4", content_type="application/pdf")
    assert "not a picture I can keep" in await user.photo("doc.pdf")
    assert zalo.stub.downloads.count("doc.pdf") == 1
    assert await draft_photos(db) == []


# --- bad input --------------------------------------------------------------------------------------------


async def test_stickers_voice_unsupported_and_empty_messages_where_text_is_expected(
        zalo: ZaloHarness, db: Database, clock: Clock) -> None:
    user = await registered(zalo, db, clock)
    stub = zalo.stub
    shown = await user.send("/report")
    shown = await user.send(option_number(shown, "Exchange"))
    shown = await user.send("today")
    shown = await user.send(option_number(shown, "Hà Khẩu"))
    shown = await user.send(option_number(shown, "On our side"))
    assert "on our side?" in shown
    ms = int(clock().timestamp() * 1000)
    for update in (stub.sticker(USER, date=ms), stub.voice(USER, date=ms),
                   stub.update(USER, "message.unsupported.received", date=ms)):
        shown = said(await zalo.feed(update))
        assert "I was expecting text here" in shown and "on our side?" in shown
    shown = said(await zalo.feed(stub.update(USER, "message.text.received", date=ms)))  # no text at all
    assert "The answer is empty" in shown
    shown = await user.send("")
    assert "on our side?" in shown
    shown = await user.send("25")
    assert "on the partner's side?" in shown
    async with db.unit_of_work() as uow:
        conversation = await uow.session.scalar(select(Conversation).where(Conversation.flow == "report"))
        assert conversation is not None and conversation.data["draft"]["values"]["participants_ours"] == 25


async def test_a_number_outside_the_menu_is_not_taken(zalo: ZaloHarness, db: Database, clock: Clock) -> None:
    user = await registered(zalo, db, clock)
    shown = await user.send("/report")
    options = [line for line in shown.splitlines() if line[:1].isdigit()]
    for wrong in (str(len(options) + 1), "0", "99"):
        again = await user.send(wrong)
        assert "What kind of activity" in again and "1. " in again
    async with db.unit_of_work() as uow:
        conversation = await uow.session.scalar(select(Conversation).where(Conversation.flow == "report"))
        assert conversation is not None and "kind" not in conversation.data["draft"]["values"]


async def test_our_own_echo_and_other_bots_are_ignored(zalo: ZaloHarness, db: Database) -> None:
    from tests.zalo_stub import BOT_ID

    echo = zalo.stub.text(BOT_ID, "Xin chào")
    bot = zalo.stub.text("b0b0b0b0b0b0b0b0b0b0", "hi")
    bot["result"]["message"]["from"]["is_bot"] = True
    assert said(await zalo.feed(echo)) == "" and said(await zalo.feed(bot)) == ""
    assert await count(db, Conversation) == 0


async def test_quota_exceeded_on_a_reply_waits_and_sends_it_once(zalo: ZaloHarness, db: Database,
                                                                  clock: Clock) -> None:
    user = await registered(zalo, db, clock)
    zalo.stub.fail_next("sendMessage", 429, "Quota exceeded", times=2)
    shown = await user.send("/whoami")
    assert shown.count("You are registered as officer") == 1
    assert zalo.quota_sleeps == [1.0, 5.0]
    assert [c.status for c in zalo.stub.calls_of("sendMessage")][-3:] == [429, 429, 200]
