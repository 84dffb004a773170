"""The field report, end to end through the console channel: what the officer sees, what the database holds."""

from __future__ import annotations

import asyncio
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
    assert "When did it take place?" in said and "Or type: “today” · “yesterday” · “back”" in said
    said = await me.send("hôm qua")
    assert "Which twinned partner was it with?" in said and "Trạm KSBP XNC Hà Khẩu (China)" in said
    said = await me.send("1")
    assert "Where was it held?" in said
    said = await me.send("2")
    assert "How many people took part on our side?" in said and "Or type: “skip” · “back”" in said
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


async def test_the_console_takes_a_photo_as_a_path_and_writes_files_to_a_folder(
        core: Core, db: Database, clock: Clock, tmp_path: object) -> None:
    import io
    from pathlib import Path

    from tests.reporting import person, report

    folder = Path(str(tmp_path))
    picture = folder / "mốc 102.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    me = await officer(core, db, clock)
    me.files_dir = folder / "out"
    for answer in ("/report", "Other activity", "hôm qua", "1", "On our side", "Skip", "Skip", "Gặp mặt"):
        said = await me.send(answer)
    assert "Send photos" in said
    stdout = io.StringIO()
    await me.repl(io.StringIO(f"/photo {picture}\nxong\n"), stdout)
    assert "Photo received" in stdout.getvalue() and "Where exactly?" in stdout.getvalue()

    await report(db, clock, "LCA-DBP-CKQT-LAO-CAI", day=clock().date())
    coordinator = await person(core, db, clock, "coord", "coordinator", cluster=2)
    coordinator.files_dir = folder / "out"
    stdout = io.StringIO()
    await coordinator.repl(io.StringIO("/export month\n"), stdout)
    [saved] = [line for line in stdout.getvalue().splitlines() if line.startswith("(saved ")]
    path = Path(saved.removeprefix("(saved ").removesuffix(")"))
    assert path.parent == folder / "out" and path.suffix == ".xlsx"
    assert (await asyncio.to_thread(path.read_bytes)).startswith(b"PK")
