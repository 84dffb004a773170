"""The field report, end to end through the console channel: what the officer sees, what the database holds."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from bot.channels.console import ConsoleChannel
from handlers.core import Core
from storage.db import Database
from storage.models import Report, ReportVersion
from tests.conftest import Clock
from tests.reporting import figures
from tests.test_onboarding import make_invite


async def officer(core: Core, db: Database, clock: Clock, unit: str = "LCA-DBP-CKQT-LAO-CAI",
                  user: str = "officer-1", lang: str = "en") -> ConsoleChannel:
    channel = ConsoleChannel(core, user_id=user, display_name="Vàng A Chứ", language_code=lang, clock=clock)
    await channel.send(f"/start {await make_invite(db, clock, unit=unit)}")
    return channel


async def all_reports(db: Database) -> list[Report]:
    async with db.unit_of_work() as uow:
        return list((await uow.session.scalars(select(Report).order_by(Report.id))).all())


async def test_donation_report_end_to_end(core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock)
    said = await me.send("/report")
    assert "What kind of activity was it?" in said and "2. Donation / gifts" in said
    said = await me.send("2")
    assert "When did it take place?" in said and "(Today (23/11) · Yesterday (22/11) · ⬅️ Back)" in said
    said = await me.send("hôm qua")
    assert "Which twinned partner was it with?" in said and "Trạm KSBP XNC Hà Khẩu (China)" in said
    said = await me.send("1")
    assert "Where was it held?" in said
    said = await me.send("2")
    assert "How many people took part on our side?" in said and "(⏭ Skip · ⬅️ Back)" in said
    assert "whole number" in (await me.send("-5"))
    said = await me.send("12")
    assert "partner's side" in said
    said = await me.send("40")
    assert "What was given?" in said
    said = await me.send("Gạo, mì tôm và chăn ấm")
    assert "How many gift packages" in said
    said = await me.send("200")
    assert "gifts worth" in said
    said = await me.send("350 triệu đồng")
    assert "✓ Value of gifts: ₫350,000,000" in said and "Who received it?" in said
    said = await me.send("Skip")
    assert "Describe the activity" in said
    said = await me.send("Trao 200 suất quà Tết cho bà con <b>bản</b> đối diện")
    assert "Send photos" in said
    said = await me.send("Skip")
    assert "Where exactly?" in said
    said = await me.send("Cầu Hồ Kiều 2")
    assert "Please check your report" in said
    # The compact card: kind and date on one line, and nothing for what was skipped.
    assert "Donation / gifts · 22/11/2026" in said
    assert "Value of gifts: ₫350,000,000" in said and "Received by" not in said
    assert "<b>bản</b>" in said  # the user's own text comes back as they typed it
    numbered = said.split("\n")
    submit_no = next(line.split(".")[0] for line in numbered if line.endswith("✅ Submit"))
    said = await me.send(submit_no)
    assert "✅ Report #1 submitted" in said and "22/11/2026 · Donation / gifts · Trạm KSBP XNC Hà Khẩu" in said
    [report] = await all_reports(db)
    assert (report.kind, str(report.activity_date), report.venue) == ("donation", "2026-11-22", "partner")
    assert figures(report) == {"participants_ours": 12, "participants_partner": 40, "gift_packages": 200,
                               "value_gifts": {"VND": Decimal("350000000")}}
    assert report.partner_country == "CN" and report.partner_province == "Vân Nam"
    assert report.description == "Trao 200 suất quà Tết cho bà con <b>bản</b> đối diện"
    assert report.details["gift_items"] == "Gạo, mì tôm và chăn ấm" and report.details["place"] == "Cầu Hồ Kiều 2"
    async with db.unit_of_work() as uow:
        versions = (await uow.session.scalars(select(ReportVersion))).all()
        assert [(v.version, v.action) for v in versions] == [(1, "submitted")]
