"""The one-message report, from the message to the submitted report, on the console, Telegram and Zalo: what the
officer sees and what the database holds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from handlers.core import Core
from handlers.events import Attachment
from storage import people
from storage.db import Database
from storage.models import Conversation, ReportPhoto, TwinningPair
from tests.conftest import Clock
from tests.reporting import figures, person
from tests.telegram_harness import TelegramHarness, text
from tests.test_onboarding import make_invite
from tests.test_report_console import all_reports, officer
from tests.test_report_kinds import option_number
from tests.zalo_harness import ZaloHarness

HUONG_LAP = "QTR-DBP-HUONG-LAP"  # twinned with Đại đội Biên phòng 321 and Trạm Công an La Cồ (Laos)
BAN_KHEO = "THO-BAN-KHEO"  # twinned with Bản Thà Láu (Laos); the tests twin it with Bản Pa Tan too
MEDICAL = ("Hôm qua đồn phối hợp khám bệnh, cấp thuốc cho 150 người dân cụm bản La Cồ (Sê Pôn), trao 1.000 suất quà "
           "trị giá 500tr")
GIFTS = "tang 200 suat qua cho ban Pa Tan hom kia tai ban ban, 25 nguoi tham gia, 40tr"


async def twin_with_pa_tan(db: Database, unit_code: str = BAN_KHEO) -> int:
    async with db.unit_of_work() as uow:
        unit = await people.unit_by_code(uow.session, unit_code)
        assert unit is not None
        pair = TwinningPair(code=f"{unit_code}-PA-TAN", unit_id=unit.id, partner_name="Bản Pa Tan, huyện Sầm Tớ",
                            partner_country="LA", partner_province="Hủa Phăn", kind="ban_ban")
        uow.session.add(pair)
        await uow.session.flush()
        await uow.commit()
        return pair.id


async def state(db: Database, user: str = "officer-1") -> dict[str, Any]:
    async with db.unit_of_work() as uow:
        data = await uow.session.scalar(select(Conversation.data).where(Conversation.user_external_id == user))
    return dict(data or {})


# --- the console ---------------------------------------------------------------------------------------------


async def test_medical_care_with_gifts_in_one_message_console(core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock, unit=HUONG_LAP)
    said = await me.send(MEDICAL)
    # What was read comes back at once, formatted, then the one thing required and missing: where it was held.
    for line in ("📝 Read from your message: check the figures.", "Free medical care · 22/11/2026",
                 "Partner: Trạm Công an La Cồ (Laos, Xa Vẳn Na Khệt)", "People examined: 150",
                 "What was given: 1.000 suất quà", "Gift packages: 1,000", "Value of gifts: ₫500,000,000",
                 "Where was it held?"):
        assert line in said, said
    assert "Participants" not in said and "Description" not in said
    draft = (await state(db))["draft"]
    assert draft["values"]["kind"] == "medical" and draft["values"]["sets"] == ["gifts"]
    assert draft["history"] == [] and draft["read"] and len(draft["token"]) == 36
    said = await me.send(option_number(said, "On the partner's side"))
    # Nothing else is required: the review card, marked as read from the message; any field can be fixed.
    assert "Please check your report" in said and "📝 Read from your message: check the figures." in said
    assert "Held: On the partner's side" in said and f"Description: {MEDICAL}" in said
    said = await me.send(option_number(said, "✏️ Fix…"))
    assert "✏️ Participants (our side)" in said and "✏️ Value of medicines" in said
    said = await me.send(option_number(said, "Participants (our side)"))
    said = await me.send("25")
    assert "Participants (our side): 25" in said
    said = await me.send(option_number(said, "Submit"))
    assert "✅ Report #1 submitted" in said
    [report] = await all_reports(db)
    assert (report.kind, str(report.activity_date), report.venue) == ("medical", "2026-11-22", "partner")
    assert (report.partner_name, report.partner_country, report.partner_province) == (
        "Trạm Công an La Cồ", "LA", "Xa Vẳn Na Khệt")
    assert figures(report) == {"participants_ours": 25, "patients": 150, "gift_packages": 1000,
                               "value_gifts": {"VND": Decimal(500_000_000)}}
    assert report.details == {"gift_items": "1.000 suất quà"} and report.description == MEDICAL
    assert report.channel == "console" and report.photos == []


async def test_gifts_without_diacritics_asks_whose_the_participants_were(
        core: Core, db: Database, clock: Clock) -> None:
    await twin_with_pa_tan(db)
    me = await officer(core, db, clock, unit=BAN_KHEO)
    said = await me.send(GIFTS)
    assert "Donation / gifts · 21/11/2026" in said and "Held: On the partner's side" in said
    assert "Partner: Bản Pa Tan, huyện Sầm Tớ (Laos, Hủa Phăn)" in said and "Value of gifts: ₫40,000,000" in said
    # "25 nguoi tham gia" says no side: asked, with the figure offered.
    assert "Your message says 25 people took part. Were they all on our side?" in said
    said = await me.send(option_number(said, "Yes, 25"))
    assert "How many people took part on the partner's side?" in said
    said = await me.send("30")
    assert "Please check your report" in said and "Participants (partner side): 30" in said
    assert "What was given: 200 suat qua" in said and "Received by: ban Pa Tan" in said
    said = await me.send(option_number(said, "Submit"))
    assert "✅ Report #1 submitted" in said
    [report] = await all_reports(db)
    assert (report.kind, str(report.activity_date), report.venue, report.partner_name) == (
        "donation", "2026-11-21", "partner", "Bản Pa Tan, huyện Sầm Tớ")
    assert figures(report) == {"participants_ours": 25, "participants_partner": 30, "gift_packages": 200,
                               "value_gifts": {"VND": Decimal(40_000_000)}}
    assert report.details == {"gift_items": "200 suat qua", "recipients": "ban Pa Tan"}


async def test_a_doubtful_amount_and_a_vague_date_are_asked_with_their_readings(
        core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock, unit=HUONG_LAP)
    said = await me.send("Tuần trước đồn tặng 40 suất quà cho bản La Cồ tại bản bạn, trị giá 50")
    assert "⚠️ “Tuần trước” does not say which day." in said and "When did it take place?" in said
    said = await me.send("18/11")
    # Fifty thousand or fifty million: both offered, neither guessed.
    assert "Value of gifts" in said and "“50” can be read in more than one way" in said
    assert "₫50,000" in said and "₫50,000,000" in said
    said = await me.send(option_number(said, "₫50,000,000"))
    assert "What was given?" not in said  # "40 suất quà" was read
    assert "Please check your report" in said and "Value of gifts: ₫50,000,000" in said
    assert "Donation / gifts · 18/11/2026" in said
    await me.send(option_number(said, "Submit"))
    [report] = await all_reports(db)
    assert figures(report) == {"gift_packages": 40, "value_gifts": {"VND": Decimal(50_000_000)}}


async def test_when_unsure_it_asks_and_keeps_the_message_until_answered(
        core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock, unit=HUONG_LAP)
    said = await me.send("giao lưu văn nghệ")
    assert said == "Is this a report of an activity?\n1. ✅ Yes\n2. ❌ No\nType the number of your choice."
    assert (await state(db))["quick"]["text"] == "giao lưu văn nghệ"
    said = await me.send("no")
    assert "What would you like to do?" in said and "quick" not in await state(db)
    said = await me.send("giao lưu văn nghệ")
    said = await me.send(option_number(said, "Yes"))
    assert "\nExchange (giao lưu)\n" in said and "Type of exchange: Culture / arts" in said
    assert "When did it take place?" in said
    assert (await state(db))["draft"]["values"]["description"] == "giao lưu văn nghệ"


@pytest.mark.parametrize("message", [
    "ok", "cảm ơn đồng chí", "Làm sao để gửi ảnh?", "Tuần sau đồn sẽ giao lưu với Đại đội 321",
    "Báo cáo #3 sửa lại số người là 30", "Hôm nay trời mưa to",
])
async def test_what_is_not_a_report_gets_the_usual_answer(
        core: Core, db: Database, clock: Clock, message: str) -> None:
    me = await officer(core, db, clock, unit=HUONG_LAP)
    said = await me.send(message)
    assert said.startswith("What would you like to do?") and "Report an activity" in said
    assert "draft" not in await state(db) and "quick" not in await state(db)


async def test_a_long_answer_at_a_free_text_step_stays_the_answer(core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock, unit=HUONG_LAP)
    said = await me.send(MEDICAL)
    said = await me.send(option_number(said, "On the partner's side"))
    said = await me.send(option_number(said, "✏️ Fix…"))
    said = await me.send(option_number(said, "✏️ Description"))
    assert "Describe the activity" in said
    said = await me.send("Hôm qua đồn tặng 300 suất quà cho bản La Cồ, trị giá 90 triệu")
    assert "Description: Hôm qua đồn tặng 300 suất quà cho bản La Cồ, trị giá 90 triệu" in said
    assert "Gift packages: 1,000" in said  # the figures stay as they were: the text only describes
    assert "draft" in await state(db) and "quick" not in await state(db)


async def test_a_coordinator_is_asked_for_the_unit_first_then_its_partners_are_found(
        core: Core, db: Database, clock: Clock) -> None:
    coordinator = await person(core, db, clock, "coord3", "coordinator", cluster=3)
    said = await coordinator.send(MEDICAL)
    assert "📝 I will fill in a report from your message." in said and "Which unit is this report for?" in said
    said = await coordinator.send("Hướng Lập")
    assert "Partner: Trạm Công an La Cồ (Laos, Xa Vẳn Na Khệt)" in said and "Where was it held?" in said
    said = await coordinator.send(option_number(said, "On our side"))
    assert "Unit: Đồn Biên phòng Hướng Lập" in said
    said = await coordinator.send(option_number(said, "Submit"))
    assert "✅ Report #1 submitted" in said
    [report] = await all_reports(db)
    assert report.unit.code == HUONG_LAP and report.author.display_name == "Coord3"
    assert report.partner_name == "Trạm Công an La Cồ" and report.venue == "ours"


async def test_a_read_draft_is_a_draft_like_any_other(core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock, unit=HUONG_LAP)
    await me.send(MEDICAL)
    said = await me.send("/report")
    assert "You have an unfinished report from 23/11/2026 (Free medical care). Continue it or discard it?" in said
    said = await me.send(option_number(said, "Continue"))
    assert "Where was it held?" in said
    said = await me.send("/cancel")
    said = await me.send(option_number(said, "Yes, discard"))
    assert "The report was discarded" in said and await all_reports(db) == []


async def test_a_photo_with_its_caption_is_a_report_with_its_photo(core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock, unit=HUONG_LAP)
    photo = Attachment(kind="photo", file_id="cap-1", file_unique_id="u-1", file_size=120_000)
    said = await me.send(MEDICAL + " tại bản bạn", attachment=photo)
    assert "Photos: 1 photo" in said and "Please check your report" in said
    await me.send(option_number(said, "Submit"))
    [report] = await all_reports(db)
    assert [p.file_id for p in report.photos] == ["cap-1"] and report.venue == "partner"


async def test_an_album_waits_with_its_caption_while_asked_whether_it_is_a_report(
        core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock, unit=HUONG_LAP)

    def photo(n: int) -> Attachment:
        return Attachment(kind="photo", file_id=f"alb-{n}", file_unique_id=f"u-{n}", file_size=1000 + n,
                          media_group_id="g-7")

    said = await me.send("tặng quà", attachment=photo(0))
    assert said.startswith("Is this a report of an activity?")
    assert await me.send(attachment=photo(1)) == "" and await me.send(attachment=photo(2)) == ""
    assert [p["file_id"] for p in (await state(db))["quick"]["photos"]] == ["alb-0", "alb-1", "alb-2"]
    said = await me.send("1")
    assert "\nDonation / gifts\n" in said and "Photos: 3 photos" in said and "When did it take place?" in said
    assert await me.send(attachment=photo(3)) == ""  # a late one of the same album still joins the draft
    assert len((await state(db))["draft"]["values"]["photos"]) == 4


async def test_a_name_several_partners_share_is_asked_with_the_partners_as_options(
        core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock, unit="NAN-BAN-NHOT-LOT")
    said = await me.send("Hôm qua tặng quà cụm bản Mường Dương tại bản bạn")
    assert "⚠️ Your message may name any of these partners: Bản Huội Pá, cụm bản Mường Dương, huyện Mường Quắn; " \
           "Bản Thẩm Khướng, cụm bản Mường Dương, huyện Mường Quắn." in said
    assert "Which twinned partner was it with?" in said and "Bản Huội Ngua" in said
    said = await me.send(option_number(said, "Bản Huội Pá"))
    assert "What was given?" in said  # required by gifts, and not in the message


# --- Telegram -------------------------------------------------------------------------------------------------


@pytest.fixture
async def tg(core: Core) -> AsyncIterator[TelegramHarness]:
    async with TelegramHarness(core) as harness:
        yield harness
        assert harness.stub.violations == []


async def test_an_album_with_a_caption_becomes_one_report_telegram(
        tg: TelegramHarness, db: Database, clock: Clock) -> None:
    user = tg.user(1001)
    await user.send(f"/start {await make_invite(db, clock, unit=HUONG_LAP)}")
    # The caption comes on the first photo; the others of the album join the same draft without a word.
    album = [user.photo_update(f"AgAD-{n}", 150_000 + n, media_group_id="album-9",
                               caption=MEDICAL if n == 0 else None) for n in range(3)]
    calls = await tg.feed_batch(album)
    [answer] = [c for c in calls if c.method == "sendMessage"]
    said = answer.params["text"]
    assert "📝 Read from your message: check the figures." in said and "<b>Where was it held?</b>" in said
    assert "<b>People examined:</b> 150" in said and "<b>Value of gifts:</b> ₫500,000,000" in said
    assert [b["text"] for row in answer.params["reply_markup"]["inline_keyboard"] for b in row] == [
        "On our side", "On the partner's side", "On both sides", "At the border line"]
    said = text(await user.tap("On the partner's side"))
    assert "Please check your report" in said and "<b>Photos:</b> 3 photos" in said
    calls = await user.tap("Submit")
    assert "✅ Report #1 submitted" in text(calls)
    [report] = await all_reports(db)
    assert report.channel == "telegram" and report.kind == "medical" and report.venue == "partner"
    assert figures(report) == {"patients": 150, "gift_packages": 1000, "value_gifts": {"VND": Decimal(500_000_000)}}
    async with db.unit_of_work() as uow:
        photos = (await uow.session.scalars(select(ReportPhoto).order_by(ReportPhoto.position))).all()
    assert [(p.file_id, p.file_size) for p in photos] == [("AgAD-0", 150_000), ("AgAD-1", 150_001),
                                                         ("AgAD-2", 150_002)]


async def test_the_same_message_delivered_twice_makes_one_draft_telegram(
        tg: TelegramHarness, db: Database, clock: Clock) -> None:
    await twin_with_pa_tan(db)
    user = tg.user(1002)
    await user.send(f"/start {await make_invite(db, clock, unit=BAN_KHEO)}")
    update = user.message(GIFTS)
    said = text(await tg.feed(update))
    assert "Your message says 25 people took part. Were they all on our side?" in said
    assert text(await tg.feed(update)) == ""  # redelivered: nothing more
    await user.tap("Type it again")
    await user.send("10")
    said = text(await user.send("15"))
    assert "<b>Participants (our side):</b> 10" in said and "<b>Participants (partner side):</b> 15" in said
    await user.tap("Submit")
    [report] = await all_reports(db)
    assert figures(report)["participants_ours"] == 10 and report.partner_name == "Bản Pa Tan, huyện Sầm Tớ"


# --- Zalo -----------------------------------------------------------------------------------------------------


@pytest.fixture
async def zalo(core: Core, tmp_path: Path) -> AsyncIterator[ZaloHarness]:
    async with ZaloHarness(core, tmp_path / "media") as harness:
        yield harness
        assert harness.stub.violations == []


async def test_one_message_to_a_submitted_report_zalo(zalo: ZaloHarness, db: Database, clock: Clock) -> None:
    user = zalo.user("7fde9afa66b88fe6d6b1")
    await user.send(f"/start {await make_invite(db, clock, unit=HUONG_LAP)}")
    shown = await user.send("Hom qua giao luu bong da voi Dai doi 321 tai don, phia ta 22 nguoi, phia ban 20 nguoi")
    assert "<b>" not in shown and "Đọc từ tin nhắn của anh/chị: vui lòng kiểm tra các số liệu." in shown
    assert "Giao lưu · 22/11/2026" in shown
    assert "Hình thức giao lưu: Thể thao" in shown and "Đối tác: Đại đội Biên phòng 321 (Lào, Xa Vẳn Na Khệt)" in shown
    assert "Vui lòng kiểm tra lại báo cáo" in shown  # everything required was in the message: the review card
    shown = await user.choose(shown, "Gửi báo cáo")
    assert "✅ Đã gửi báo cáo #1" in shown
    [report] = await all_reports(db)
    assert report.channel == "zalo" and (report.kind, report.venue, report.details) == (
        "exchange", "ours", {"exchange_type": "sport"})
    assert figures(report) == {"participants_ours": 22, "participants_partner": 20}
