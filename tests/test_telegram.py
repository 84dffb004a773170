"""Transcripts through the real aiogram dispatcher against the loopback Bot API: onboarding, a report by
button taps, redelivery, double taps, albums, restarts and concurrent updates."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import pytest
from sqlalchemy import func, select

from handlers.context import CoreConfig
from handlers.core import Core
from storage.db import Database
from storage.models import Conversation, Report, ReportPhoto
from tests.conftest import Clock
from tests.reporting import figures
from tests.telegram_harness import TelegramHarness, TelegramUser, notices, text
from tests.test_onboarding import make_invite


@pytest.fixture
async def tg(core: Core):  # type: ignore[no-untyped-def]
    async with TelegramHarness(core) as harness:
        yield harness
        assert harness.stub.violations == []


async def registered(tg: TelegramHarness, db: Database, clock: Clock, user_id: int = 1001,
                     **kw: object) -> TelegramUser:
    user = tg.user(user_id, **kw)  # type: ignore[arg-type]
    await user.send(f"/start {await make_invite(db, clock)}")
    return user


async def taps(user: TelegramUser, *labels: str) -> None:
    """Taps buttons one after the other, as the user moves through a report."""
    for label in labels:
        await user.tap(label)


async def reports_count(db: Database) -> int:
    async with db.unit_of_work() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(Report)) or 0)


async def test_start_with_invite_over_telegram(tg: TelegramHarness, db: Database, clock: Clock) -> None:
    user = tg.user(1001, first_name="<script>alert(1)</script>")
    calls = await user.send(f"/start {await make_invite(db, clock)}")
    [sent] = [c for c in calls if c.method == "sendMessage"]
    assert sent.params["parse_mode"] == "HTML"
    assert "Welcome, &lt;script&gt;alert(1)&lt;/script&gt;!" in sent.params["text"]
    assert "Đồn Biên phòng CKQT Lào Cai" in sent.params["text"]
    buttons = [b for row in sent.params["reply_markup"]["inline_keyboard"] for b in row]
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)
    [menu] = [c for c in calls if c.method == "setMyCommands"]
    assert menu.params["scope"] == {"type": "chat", "chat_id": 1001}
    assert {c["command"] for c in menu.params["commands"]} >= {"report", "myreports", "lang"}
    assert "invite" not in {c["command"] for c in menu.params["commands"]}


async def test_exchange_report_by_taps(tg: TelegramHarness, db: Database, clock: Clock) -> None:
    user = await registered(tg, db, clock)
    await user.tap("Report an activity")
    await user.tap("Exchange")
    said = text(await user.tap("Today"))
    assert "Which twinned partner" in said
    await user.tap("Hà Khẩu")
    await user.tap("At the border line")
    await user.send("45")
    await user.send("1.200")
    await user.tap("Sport")
    await user.send("Giao lưu bóng đá hữu nghị giữa hai đồn")
    await user.tap("Skip")
    said = text(await user.tap("Skip"))
    assert "Please check your report" in said and "Participants (partner side):</b> 1,200" in said
    calls = await user.tap("Submit")
    assert "✅ Report #1 submitted" in text(calls)
    assert notices(calls) == ["Report #1 submitted."]
    async with db.unit_of_work() as uow:
        report = await uow.session.scalar(select(Report))
        assert report is not None
        assert (report.kind, report.venue, figures(report)["participants_partner"]) == ("exchange", "border", 1200)
        assert report.details == {"exchange_type": "sport"} and report.channel == "telegram"
        conversation = await uow.session.scalar(select(Conversation))
        assert conversation is not None and conversation.flow is None


async def test_redelivered_update_changes_nothing(tg: TelegramHarness, db: Database, clock: Clock) -> None:
    user = await registered(tg, db, clock)
    update = user.message("/report")
    first = await tg.feed(update)
    assert "What kind of activity" in text(first)
    again = await tg.feed(update)
    assert again == []


async def test_double_tap_on_submit_files_one_report(tg: TelegramHarness, db: Database, clock: Clock) -> None:
    user = await fill_to_review(user_ := await registered(tg, db, clock))
    del user_
    tap = user.callback("Submit")
    tap_again = user.callback("Submit")
    before = len(tg.stub.calls)
    await asyncio.gather(tg.feed(tap), tg.feed(tap_again))
    assert await reports_count(db) == 1
    assert sorted(notices(tg.stub.calls[before:])) == sorted(
        ["Report #1 submitted.", "Report #1 was already submitted."]
    )


async def test_double_tap_stored_in_one_order_and_begun_in_the_other(tg: TelegramHarness, db: Database,
                                                                     clock: Clock) -> None:
    """Two stores racing can hand the newer tap over first; neither may wait for the other (it used to
    stall for two minutes, then answer the older tap with nothing)."""
    user = await fill_to_review(await registered(tg, db, clock))
    runtime = tg.runtime
    submit = runtime.submit
    held: list = []  # type: ignore[type-arg]
    runtime.submit = held.append  # type: ignore[method-assign]
    try:
        before = len(tg.stub.calls)
        await tg.feed(user.callback("Submit"))
        await tg.feed(user.callback("Submit"))
    finally:
        runtime.submit = submit  # type: ignore[method-assign]
    assert [entry.id for entry in held] == sorted(entry.id for entry in held)
    for entry in reversed(held):
        submit(entry)
    await asyncio.wait_for(runtime.settle(), timeout=10)
    assert await reports_count(db) == 1
    assert sorted(notices(tg.stub.calls[before:])) == sorted(
        ["Report #1 submitted.", "Report #1 was already submitted."]
    )


async def fill_to_review(user: TelegramUser) -> TelegramUser:
    await taps(user, "Report an activity", "Visit", "Yesterday", "Hà Khẩu", "On the partner's side")
    await user.send("5")
    await user.send("8")
    await user.tap("New Year")
    await user.send("Chúc Tết Trạm KSBP Hà Khẩu")
    await user.tap("Skip")
    await user.tap("Skip")
    return user


async def test_album_attaches_every_photo_with_one_answer(tg: TelegramHarness, db: Database, clock: Clock) -> None:
    user = await registered(tg, db, clock)
    await taps(user, "Report an activity", "Visit", "Today", "Hà Khẩu", "On our side", "Skip", "Skip", "Skip")
    said = text(await user.send("Thăm hỏi"))
    assert "Send photos" in said
    # An album arrives as one update per photo, in one batch: one answer, once all of them are in.
    album = [user.photo_update(f"AgAC-{n}", 200_000 + n, media_group_id="album-1") for n in range(3)]
    calls = await tg.feed_batch(album)
    [answer] = [c for c in calls if c.method == "sendMessage"]
    assert "3 photos received" in answer.params["text"] and "Done" in str(answer.params["reply_markup"])
    said = text(await user.photo("AgAC-single", 99_000))
    assert "4 photos received" in said
    said = text(await user.send("hello"))
    assert "Send photos here" in said
    await taps(user, "Done", "Skip", "Submit")
    async with db.unit_of_work() as uow:
        photos = (await uow.session.scalars(select(ReportPhoto).order_by(ReportPhoto.position))).all()
        assert [(p.file_id, p.file_size) for p in photos] == [
            ("AgAC-0", 200_000), ("AgAC-1", 200_001), ("AgAC-2", 200_002), ("AgAC-single", 99_000)]


async def test_restart_mid_report_continues_at_the_same_step(
    tg: TelegramHarness, db: Database, db_url: str, config: CoreConfig, clock: Clock
) -> None:
    user = await registered(tg, db, clock)
    await taps(user, "Report an activity", "Donation", "Today", "Hà Khẩu")
    said = text(await user.tap("On our side"))
    assert "How many people took part on our side?" in said
    # A new process on the same database: nothing of the old core is reused.
    restarted = Core(db if db.url.startswith("postgresql") else Database(db_url), config)
    tg.use_core(restarted)
    said = text(await user.send("30"))
    assert "partner's side" in said
    said = text(await user.send("/report"))
    assert "You have an unfinished report from 23/11/2026 (Donation / gifts)" in said
    said = text(await user.tap("Continue"))
    assert "How many people took part on the partner's side?" in said
    if restarted.db is not db:
        await restarted.db.dispose()


async def test_concurrent_answers_from_one_user_are_taken_one_after_the_other(
    tg: TelegramHarness, db: Database, clock: Clock
) -> None:
    user = await registered(tg, db, clock)
    await taps(user, "Report an activity", "Exchange", "Today", "Hà Khẩu", "On our side")
    before = len(tg.stub.calls)
    await asyncio.gather(*(tg.feed(user.message(n)) for n in ("11", "22")))
    prompts = text(tg.stub.calls[before:])
    assert prompts.count("How many people took part on the partner's side?") == 1
    assert prompts.count("What kind of exchange?") == 1
    async with db.unit_of_work() as uow:
        conversation = await uow.session.scalar(select(Conversation).where(Conversation.flow == "report"))
        assert conversation is not None
        values = conversation.data["draft"]["values"]
        assert {values["participants_ours"], values["participants_partner"]} == {11, 22}
        assert conversation.step == "exchange_type"


async def test_activity_date_is_the_day_the_message_was_written(
    tg: TelegramHarness, db: Database, clock: Clock
) -> None:
    user = await registered(tg, db, clock)
    written = clock() - dt.timedelta(days=2)  # typed offline on Saturday, delivered on Monday
    said = text(await user.send("/report", written=written))
    assert "What kind" in said
    await user.tap("Exchange")
    assert "Today (21/11)" in user.buttons()


async def test_submit_tapped_again_says_which_report_it_made_and_changes_nothing(
    tg: TelegramHarness, db: Database, clock: Clock
) -> None:
    user = await fill_to_review(await registered(tg, db, clock))
    stale = user.callback("Submit")
    await tg.feed(stale)
    # The answer may never have reached the officer: a second tap says which report it was, again.
    again = await tg.feed(user.h.stub.make_callback(user.id, stale["callback_query"]["data"],
                                                    message_id=stale["callback_query"]["message"]["message_id"]))
    assert notices(again) == ["Report #1 was already submitted."]
    assert await reports_count(db) == 1
    # Any other old button is still just an old button.
    await user.send("/help")
    cancel = stale["callback_query"]["data"].replace("submit", "cancel")
    older = await tg.feed(user.h.stub.make_callback(user.id, cancel,
                                                    message_id=stale["callback_query"]["message"]["message_id"]))
    assert notices(older) == ["That button belongs to an earlier message."]


async def test_two_workers_on_one_database_take_one_users_answers_in_turn(
    tg: TelegramHarness, db: Database, db_url: str, config: CoreConfig, clock: Clock
) -> None:
    user = await registered(tg, db, clock)
    await taps(user, "Report an activity", "Exchange", "Today", "Hà Khẩu", "On our side")
    # A second process with its own engine and connection pool, behind the same bot.
    other_db = Database(db_url)
    other = TelegramHarness(Core(other_db, dataclasses.replace(config, worker="other")))
    other.stub, other.bot = tg.stub, tg.bot
    other.runtime = other.make_runtime(other.core)
    try:
        first, second = user.message("7"), user.message("9")
        await asyncio.gather(tg.feed(first), other.feed(second), tg.feed(first), other.feed(second))
    finally:
        await other_db.dispose()
    async with db.unit_of_work() as uow:
        conversation = await uow.session.scalar(select(Conversation).where(Conversation.flow == "report"))
        assert conversation is not None
        values = conversation.data["draft"]["values"]
        assert {values["participants_ours"], values["participants_partner"]} == {7, 9}
        assert conversation.step == "exchange_type"


async def test_location_button_stores_coordinates(tg: TelegramHarness, db: Database, clock: Clock) -> None:
    user = await registered(tg, db, clock)
    await taps(user, "Report an activity", "Other activity", "Today", "Hà Khẩu", "On our side", "Skip", "Skip")
    await user.send("Gặp mặt đầu xuân")
    calls = await user.tap("Skip")
    keyboard = calls[-1].params["reply_markup"]["keyboard"]
    assert keyboard[0][0] == {"text": "📍 Send my location", "request_location": True}
    located = user.message("", location={"latitude": 22.5049, "longitude": 103.9676})
    del located["message"]["text"]
    said = text(await tg.feed(located))
    assert "Location:</b> 22.50490, 103.96760" in said
    # The map link, escaped for Telegram's HTML (which makes a link of it).
    assert "· https://www.openstreetmap.org/?mlat=22.50490&amp;mlon=103.96760#map=16/22.50490/103.96760" in said
    assert tg.stub.violations == []
    await user.tap("Submit")
    async with db.unit_of_work() as uow:
        report = await uow.session.scalar(select(Report))
        assert report is not None and (report.latitude, report.longitude) == (22.5049, 103.9676)


async def test_group_messages_never_touch_the_private_draft(tg: TelegramHarness, db: Database, clock: Clock) -> None:
    user = await registered(tg, db, clock)
    await user.tap("Report an activity")
    await user.tap("Exchange")
    group = {"id": -100123, "type": "supergroup", "title": "Cụm 2"}
    assert await tg.feed(user.message("hôm qua", chat=group)) == []
    assert await tg.feed(user.message("/report", chat=group)) == []
    async with db.unit_of_work() as uow:
        conversation = await uow.session.scalar(select(Conversation).where(Conversation.flow == "report"))
        assert conversation is not None and "date" not in conversation.data["draft"]["values"]
    said = text(await tg.feed(user.message("/help", chat=group)))
    assert "/report" in said


async def test_flood_control_is_waited_out_not_dropped(tg: TelegramHarness, db: Database, clock: Clock) -> None:
    user = await registered(tg, db, clock)
    tg.stub.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    said = text(await user.send("/report"))
    assert "What kind of activity was it?" in said


async def test_report_card_sends_its_photos(tg: TelegramHarness, db: Database, clock: Clock) -> None:
    user = await registered(tg, db, clock)
    await taps(user, "Report an activity", "Other activity", "Today", "Hà Khẩu", "On our side", "Skip", "Skip")
    await user.send("Gặp mặt")
    for n in range(12):
        await user.photo(f"AgAC-{n}", media_group_id="a" if n < 10 else None)
    await taps(user, "Done", "Skip", "Submit")
    calls = await user.send("/report 1")
    albums = [len(c.params["media"]) for c in calls if c.method == "sendMediaGroup"]
    singles = [c for c in calls if c.method == "sendPhoto"]
    assert albums == [10, 2] and singles == []
