"""The bad input the issue lists, through Telegram: each gets a clear answer, nothing is stored wrongly,
and the stand-in confirms Telegram would have accepted every call we made."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.channels.markup import split_lines, to_plain
from handlers.core import Core
from storage.db import Database
from storage.models import Conversation, Report
from tests.conftest import Clock
from tests.telegram_harness import TelegramHarness, TelegramUser, notices, text
from tests.test_onboarding import make_invite


@pytest.fixture
async def tg(core: Core):  # type: ignore[no-untyped-def]
    async with TelegramHarness(core) as harness:
        yield harness
        assert harness.stub.violations == []


async def at_step(tg: TelegramHarness, db: Database, clock: Clock, step: str) -> TelegramUser:
    user = tg.user(2002)
    await user.send(f"/start {await make_invite(db, clock)}")
    await user.tap("Report an activity")
    await user.tap("Other activity")
    if step == "date":
        return user
    await user.tap("Today")
    if step == "pair":
        return user
    await user.tap("Another partner")
    if step == "partner_name":
        return user
    await user.send("Bản Nậm Sỏi")
    await user.tap("Laos")
    await user.tap("On our side")
    if step == "participants":
        return user
    await user.tap("Skip")
    await user.tap("Skip")
    if step == "description":
        return user
    await user.send("Mô tả")
    return user


async def draft_values(db: Database) -> dict:
    async with db.unit_of_work() as uow:
        conversation = await uow.session.scalar(select(Conversation).where(Conversation.flow == "report"))
        assert conversation is not None
        return dict(conversation.data["draft"]["values"])


@pytest.mark.parametrize(("typed", "expected"), [
    ("", "type your answer as text"),  # Telegram never sends this, but a client might
    ("   \u200b\u200b  ", "empty"),
    ("x" * 10_000, "that is 10,000 characters; please keep it to 1,000 or fewer"),
])
async def test_bad_descriptions(tg: TelegramHarness, db: Database, clock: Clock, typed: str, expected: str) -> None:
    user = await at_step(tg, db, clock, "description")
    said = text(await user.send(typed))
    assert expected in said.lower() and "Describe the activity" in said
    assert "description" not in await draft_values(db)


async def test_html_zero_width_rtl_and_emoji_are_kept_safely(tg: TelegramHarness, db: Database,
                                                            clock: Clock) -> None:
    user = await at_step(tg, db, clock, "partner_name")
    await user.send("<script>alert('x')</script> Bản\u200b Nà\u202e Hoa 🇱🇦 & <b>")
    values = await draft_values(db)
    assert values["partner_name"] == "<script>alert('x')</script> Bản Nà Hoa 🇱🇦 & <b>"
    await user.tap("Laos")
    await user.tap("On our side")
    await user.tap("Skip")
    await user.tap("Skip")
    said = text(await user.send("<i>unclosed & 😀"))
    assert "Send photos" in said
    await user.tap("Skip")
    said = text(await user.tap("Skip"))
    assert "&lt;script&gt;alert('x')&lt;/script&gt; Bản Nà Hoa 🇱🇦 &amp; &lt;b&gt;" in said
    assert "&lt;i&gt;unclosed &amp; 😀" in said


@pytest.mark.parametrize("typed", ["-5", "1e309", "99999999999999999999", "abc", "1,5", "🙂"])
async def test_bad_counts(tg: TelegramHarness, db: Database, clock: Clock, typed: str) -> None:
    user = await at_step(tg, db, clock, "participants")
    said = text(await user.send(typed))
    assert "⚠️" in said and "How many people took part on our side?" in said
    assert "participants_ours" not in await draft_values(db)


@pytest.mark.parametrize(("typed", "expected"), [
    ("31/02/2026", "not a date in the calendar"),
    ("32/13/2025", "not a date in the calendar"),
    ("25/12/2026", "cannot be in the future"),
    ("01/01/2020", "more than 90 days ago"),
    ("tomorrow-ish", "could not read that date"),
])
async def test_bad_dates(tg: TelegramHarness, db: Database, clock: Clock, typed: str, expected: str) -> None:
    user = await at_step(tg, db, clock, "date")
    said = text(await user.send(typed))
    assert expected in said and "When did it take place?" in said
    assert "date" not in await draft_values(db)


async def test_photo_sticker_and_file_where_text_is_expected(tg: TelegramHarness, db: Database,
                                                            clock: Clock) -> None:
    user = await at_step(tg, db, clock, "description")
    said = text(await user.photo("AgAC-x"))
    assert "expecting text" in said
    sticker = user.message("", sticker={"file_id": "CAAC", "file_unique_id": "u", "type": "regular",
                                        "width": 512, "height": 512, "is_animated": False,
                                        "is_video": False})
    del sticker["message"]["text"]
    said = text(await tg.feed(sticker))
    assert "expecting text" in said
    assert "description" not in await draft_values(db)


async def test_text_and_documents_where_photos_are_expected(tg: TelegramHarness, db: Database,
                                                           clock: Clock) -> None:
    user = await at_step(tg, db, clock, "photos")
    assert "Send photos here, or skip this step" in text(await user.send("đây là ảnh"))
    pdf = user.message("", document={"file_id": "BQAC", "file_unique_id": "d", "file_name": "a.pdf",
                                     "mime_type": "application/pdf", "file_size": 1000})
    del pdf["message"]["text"]
    assert "Only photos can be attached" in text(await tg.feed(pdf))
    image_file = user.message("", document={"file_id": "BQAC-png", "file_unique_id": "p", "file_name": "a.png",
                                            "mime_type": "image/png", "file_size": 2000})
    del image_file["message"]["text"]
    assert "Photo received" in text(await tg.feed(image_file))
    assert (await draft_values(db))["photos"][0]["file_id"] == "BQAC-png"


async def test_button_of_an_old_step_is_refused(tg: TelegramHarness, db: Database, clock: Clock) -> None:
    user = await at_step(tg, db, clock, "pair")
    stale = user.callback("Another partner")
    await tg.feed(stale)
    again = dict(stale)
    again["update_id"] += 1000
    calls = await tg.feed(again)
    assert notices(calls) == ["That button belongs to an earlier message."]
    assert "Type the partner's name" in text(calls)


async def test_a_command_in_the_middle_of_a_step(tg: TelegramHarness, db: Database, clock: Clock) -> None:
    user = await at_step(tg, db, clock, "participants")
    said = text(await user.send("/whoami"))
    assert "You are registered as officer" in said and "How many people took part on our side?" in said
    said = text(await user.send("/report"))
    assert "unfinished report" in said
    said = text(await user.tap("Continue"))
    assert "How many people took part on our side?" in said
    async with db.unit_of_work() as uow:
        assert (await uow.session.scalars(select(Report))).all() == []


def test_long_replies_split_on_lines_and_never_inside_markup() -> None:
    line = "<b>Mô tả:</b> " + "giao lưu &amp; hữu nghị " * 30
    pieces = split_lines("\n".join([line] * 20) + "\n" + "x" * 9000, 4096, lambda s: len(to_plain(s)))
    assert all(len(to_plain(p)) <= 4096 for p in pieces)
    assert all(p.count("<b>") == p.count("</b>") for p in pieces)
    assert all(not p.endswith("&amp") and "&am " not in p for p in pieces)
    assert "".join(to_plain(p) for p in pieces).replace("\n", "").count("x") == 9000
