"""Every figure is read right or asked about: what officers really type, at the steps of the report form,
with what the officer sees and what the draft or the report holds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.console import ConsoleChannel
from handlers.core import Core
from storage.db import Database
from storage.models import Conversation
from tests.conftest import Clock
from tests.reporting import figures
from tests.test_report_console import all_reports, officer
from tests.test_report_kinds import option_number, walk


async def draft(db: Database, user: str = "officer-1") -> dict[str, Any]:
    async with db.unit_of_work() as uow:
        data = await uow.session.scalar(select(Conversation.data).where(Conversation.user_external_id == user))
    assert data is not None
    return dict(data["draft"]["values"])


async def to_gift_value(me: ConsoleChannel) -> str:
    said = await me.send("/report")
    said = await me.send(option_number(said, "Donation"))
    return await walk(me, {"When did it take place?": "hôm qua", "Which twinned partner": "1",
                           "Where was it held?": "On our side", "on our side?": "10", "on the partner's side?": "40",
                           "What was given?": "Quà Tết", "How many gift packages": "40"}, said,
                      until="gifts worth")


@pytest.mark.parametrize(("typed", "stored"), [
    ("2tr5", "2500000"), ("1 tỷ 2", "1200000000"), ("1.500 triệu", "1500000000"), ("1.500k", "1500000"),
    ("1 triệu rưỡi", "1500000"), ("50trđ", "50000000"), ("hai triệu rưỡi", "2500000"), ("nửa tỷ", "500000000"),
    ("3 củ", "3000000"),
])
async def test_amounts_as_officers_type_them_are_read_and_echoed(
        core: Core, db: Database, clock: Clock, typed: str, stored: str) -> None:
    me = await officer(core, db, clock)
    await to_gift_value(me)
    said = await me.send(typed)
    assert "✓ Value of gifts: ₫" in said and "Who received it?" in said
    assert (await draft(db))["value_gifts"] == [{"amount": stored, "currency": "VND"}]


@pytest.mark.parametrize(("typed", "currency", "amount"), [
    ("5.000 NDT", "CNY", "5000.00"), ("2 vạn tệ", "CNY", "20000.00"), ("1 triệu kíp Lào", "LAK", "1000000"),
    ("200 đô", "USD", "200.00"),
])
async def test_currencies_by_name(core: Core, db: Database, clock: Clock, typed: str, currency: str,
                                  amount: str) -> None:
    me = await officer(core, db, clock)
    await to_gift_value(me)
    said = await me.send(typed)
    assert "Who received it?" in said
    assert (await draft(db))["value_gifts"] == [{"amount": amount, "currency": currency}]


async def test_an_amount_that_reads_two_ways_is_asked_with_both_as_options(
        core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock)
    await to_gift_value(me)
    said = await me.send("2 triệu 50")
    assert "“2 triệu 50” can be read in more than one way. Which did you mean?" in said
    assert "₫2,500,000" in said and "₫2,050,000" in said and "Type it again" in said
    assert "value_gifts" not in await draft(db)  # nothing is taken before the officer chooses
    said = await me.send(option_number(said, "₫2,050,000"))
    assert "✓ Value of gifts: ₫2,050,000" in said
    assert (await draft(db))["value_gifts"] == [{"amount": "2050000", "currency": "VND"}]


async def test_a_bare_small_number_asks_thousands_or_millions(core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock)
    await to_gift_value(me)
    said = await me.send("50")
    assert "₫50,000" in said and "₫50,000,000" in said
    said = await me.send(option_number(said, "Type it again"))
    assert "gifts worth" in said
    said = await me.send("50tr")
    assert "✓ Value of gifts: ₫50,000,000" in said


async def test_an_implausible_figure_is_confirmed_before_it_counts(core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock)
    await to_gift_value(me)
    said = await me.send("120 đồng")
    assert "₫120 is less than such a figure usually is. Is it right?" in said
    said = await me.send(option_number(said, "Yes, ₫120"))
    assert "✓ Value of gifts: ₫120" in said
    # A count far too large is confirmed too, and typing it again replaces it.
    said = await me.send("/report")
    said = await me.send(option_number(said, "Continue"))
    said = await me.send("Skip")  # who received it
    said = await walk(me, {"Describe": "Trao quà", "Send photos": "Skip", "Where exactly?": "Skip"}, said)
    said = await me.send(option_number(said, "Fix"))
    said = await me.send(option_number(said, "Participants (our side)"))
    said = await me.send("150.000")
    assert "150,000 is more than such a figure usually is" in said
    said = await me.send("150")
    assert "Please check your report" in said and "Participants (our side): 150" in said


async def test_households_and_goods_are_never_gift_packages(core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock)
    said = await me.send("/report")
    said = await me.send(option_number(said, "Donation"))
    said = await walk(me, {"When did it take place?": "hôm qua", "Which twinned partner": "1",
                           "Where was it held?": "On our side", "on our side?": "10", "on the partner's side?": "40",
                           "What was given?": "Gạo"}, said, until="How many gift packages")
    for typed in ("120 hộ", "2 tấn gạo", "100 thùng mì"):
        said = await me.send(typed)
        assert "are not gift packages (suất quà)" in said, said
    said = await me.send("1.000 suất")
    assert "✓ Gift packages: 1,000" in said


async def test_both_sides_together_is_asked_for_the_split_and_each_side_fills_both(
        core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock)
    said = await me.send("/report")
    said = await me.send(option_number(said, "Exchange"))
    said = await walk(me, {"When did it take place?": "hôm qua", "Which twinned partner": "1",
                           "Where was it held?": "On our side"}, said, until="on our side?")
    said = await me.send("hai bên 60")
    assert "60 is both sides together. How many on this side alone?" in said
    said = await me.send("mỗi bên 30")
    assert "What kind of exchange?" in said  # the partner's side was answered with it
    values = await draft(db)
    assert (values["participants_ours"], values["participants_partner"]) == (30, 30)


async def test_each_side_never_overwrites_the_side_already_given(core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock)
    said = await me.send("/report")
    said = await me.send(option_number(said, "Exchange"))
    said = await walk(me, {"When did it take place?": "hôm qua", "Which twinned partner": "1",
                           "Where was it held?": "On our side", "on our side?": "12"}, said,
                      until="on the partner's side?")
    said = await me.send("mỗi bên 30")
    assert "The other side was already given as 12. How many on this side alone?" in said
    assert (await draft(db))["participants_ours"] == 12 and "participants_partner" not in await draft(db)
    said = await me.send("30")
    values = await draft(db)
    assert (values["participants_ours"], values["participants_partner"]) == (12, 30)


async def test_typed_words_are_never_taken_for_a_button(core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock, lang="vi")
    said = await me.send("/report")
    said = await me.send(option_number(said, "Tặng quà"))
    said = await walk(me, {"diễn ra ngày nào": "hôm qua", "đối tác kết nghĩa nào": "1", "tổ chức ở đâu": "1",
                           "Phía Việt Nam có": "10", "Phía đối tác có": "40"}, said, until="Đã tặng những gì")
    assert "“quay lại”" in said
    said = await me.send("Quà")  # the beginning of "Quay lại" (back), but an answer here
    assert "suất quà" in said.lower()
    assert (await draft(db))["gift_items"] == "Quà"
    said = await me.send("quay lại")  # the whole word is the navigation
    assert "Đã tặng những gì" in said
    said = await me.send("bỏ qua")  # this question has no Skip: explained, never stored
    assert "không thể bỏ qua" in said.lower()
    assert (await draft(db))["gift_items"] == "Quà"


async def test_navigation_words_in_both_languages(core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock)
    said = await me.send("/report")
    said = await me.send(option_number(said, "Visit"))
    said = await me.send("hôm qua")
    said = await me.send("back")
    assert "When did it take place?" in said
    said = await me.send("hôm qua")
    said = await walk(me, {"Which twinned partner": "1", "Where was it held?": "On our side"}, said,
                      until="on our side?")
    said = await me.send("bo qua")  # without diacritics
    assert "on the partner's side?" in said
    said = await me.send("skip")
    said = await me.send("skip")  # the occasion
    said = await me.send("Chúc Tết")
    assert "Send photos" in said
    said = await me.send("xong")  # done, with no photo yet
    assert "No photo has come yet" in said
    said = await me.send("hủy")
    assert "Discard this report?" in said
    values = await draft(db)
    assert "participants_ours" in values and values["participants_ours"] is None
    assert "xong" not in str(values) and "huy" not in str(values)


@pytest.mark.parametrize(("today", "typed", "answer"), [
    (dt.date(2026, 12, 1), "5/12", "05/12/2026 has not come yet"),
    (dt.date(2027, 1, 5), "24/12", "Who was it with"),  # last December, the nearest past date
    (dt.date(2026, 12, 1), "30/11", "Who was it with"),
])
async def test_a_day_and_month_is_the_nearest_past_date_or_refused_as_to_come(
        core: Core, db: Database, clock: Clock, today: dt.date, typed: str, answer: str) -> None:
    clock.now = dt.datetime.combine(today, dt.time(3), tzinfo=dt.UTC)
    me = await officer(core, db, clock)
    said = await me.send("/report")
    said = await me.send(option_number(said, "Visit"))
    said = await me.send(typed)
    assert (answer if answer != "Who was it with" else "Which twinned partner") in said


async def test_a_removed_figure_no_longer_counts(core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock)
    said = await to_gift_value(me)
    said = await me.send("20tr")
    said = await walk(me, {"Who received it?": "Skip", "Describe": "Trao quà", "Send photos": "Skip",
                           "Where exactly?": "Skip"}, said)
    said = await me.send(option_number(said, "Fix"))
    said = await me.send(option_number(said, "Gift packages"))
    said = await me.send("Remove this figure")
    assert "Please check your report" in said and "Gift packages" not in said.split("Please check")[1].split(
        "1. ✏️")[0]
    await me.send(option_number(said, "Submit"))
    [report] = await all_reports(db)
    assert figures(report) == {"participants_ours": 10, "participants_partner": 40,
                               "value_gifts": {"VND": Decimal(20_000_000)}}
