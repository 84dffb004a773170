"""Corrections after submitting: every field the officer entered, within 48 hours; after that the card says so
and whom to ask, and the cluster's coordinator or an admin corrects it, recorded in the report's history."""

from __future__ import annotations

from sqlalchemy import select

from bot.channels.console import ConsoleChannel
from handlers.core import Core
from handlers.events import Attachment
from storage.db import Database
from storage.models import ReportVersion
from tests.conftest import Clock
from tests.reporting import figures, person
from tests.test_report_console import all_reports, officer
from tests.test_report_kinds import COMMON, option_number, walk


async def submitted_exchange(me: ConsoleChannel) -> None:
    said = await me.send("/report")
    said = await me.send(option_number(said, "Exchange"))
    said = await walk(me, {**COMMON, "What kind of exchange?": "Sport"}, said)
    assert "✅ Report #1 submitted" in await me.send(option_number(said, "Submit"))


async def correct(me: ConsoleChannel, field: str, *, opener: str = "/myreports") -> str:
    said = await me.send(opener)
    if opener == "/myreports":
        said = await me.send("1")
    said = await me.send(option_number(said, "Correct a field"))
    return await me.send(option_number(said, field))


async def test_every_field_the_officer_entered_can_be_corrected(core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock)
    await submitted_exchange(me)
    # The kind: the new kind's own questions are asked before the old → new is shown.
    said = await correct(me, "Kind")
    said = await me.send(option_number(said, "Donation"))
    said = await me.send(option_number(said, "Yes, change the kind"))
    assert "What was given?" in said
    said = await walk(me, {"What was given?": "Gạo", "How many gift packages": "30", "gifts worth": "3 triệu",
                           "Who received it?": "Skip"}, said, until="Correct report #1?")
    assert "Kind: Exchange (giao lưu) → Donation / gifts" in said and "Gift packages: — → 30" in said
    assert "✅ Report #1 corrected (version 2)" in await me.send(option_number(said, "Save"))
    # The partner: "another partner" asks its name and country.
    said = await correct(me, "Partner")
    said = await me.send(option_number(said, "Another partner"))
    assert "Type the partner's name" in said
    said = await me.send("Tổ Điền Phòng")
    said = await me.send(option_number(said, "China"))
    assert "Correct report #1?" in said and "Partner name: — → Tổ Điền Phòng" in said
    await me.send(option_number(said, "Save"))
    # Photos and the position.
    said = await correct(me, "Photos")
    await me.send(attachment=Attachment("photo", file_id="p1", file_unique_id="u1"))
    said = await me.send("Done")
    assert "Photos: — → 1 photo" in said
    await me.send(option_number(said, "Save"))
    said = await correct(me, "Location")
    said = await me.send(attachment=Attachment("location", latitude=22.5, longitude=103.97))
    assert "Correct report #1?" in said and "Location: — → " in said
    await me.send(option_number(said, "Save"))
    [report] = await all_reports(db)
    assert (report.kind, report.partner_name, report.partner_country) == ("donation", "Tổ Điền Phòng", "CN")
    assert report.pair_id is None and report.details["gift_items"] == "Gạo" and "exchange_type" not in report.details
    assert figures(report)["gift_packages"] == 30 and len(report.photos) == 1
    assert (report.latitude, report.longitude) == (22.5, 103.97) and report.version == 5


async def test_after_48_hours_the_coordinator_corrects_and_the_history_names_them(
        core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock)
    await submitted_exchange(me)
    coordinator = await person(core, db, clock, "coord", "coordinator", cluster=2)
    other = await person(core, db, clock, "coord-1", "coordinator", cluster=1)
    admin = await person(core, db, clock, "admin", "admin")
    clock.advance(hours=49)
    said = await me.send("/myreports")
    said = await me.send("1")
    # The window closes with a word: until when, and who can still change it.
    assert "You could change this report until 25/11/2026 10:00." in said
    assert "Your cluster's coordinator (Coord) or an administrator can still correct it" in said
    assert "Correct a field" not in said and "Withdraw" not in said
    assert "You could change this report until" in await me.send("/report 1")
    # The coordinator of the report's cluster may correct any field, at any time.
    said = await correct(coordinator, "Participants (our side)", opener="/report 1")
    said = await coordinator.send("40")
    said = await coordinator.send(option_number(said, "Save"))
    assert "✅ Report #1 corrected (version 2)" in said
    # … and so may an admin; a coordinator of another cluster sees no such report.
    said = await correct(admin, "Held", opener="/report 1")
    said = await admin.send(option_number(said, "At the border line"))
    await admin.send(option_number(said, "Save"))
    said = await other.send("/report 1")
    assert "not available to you" in said and "Correct a field" not in said
    said = await me.send("/report 1")
    assert "v2 corrected by Coord" in said and "Participants (our side): 25 → 40" in said
    assert "v3 corrected by Admin" in said and "Held: On our side → At the border line" in said
    async with db.unit_of_work() as uow:
        versions = (await uow.session.scalars(select(ReportVersion).order_by(ReportVersion.version))).all()
    assert [v.changed_by_person_id is not None for v in versions] == [True, True, True]
    assert len({v.changed_by_person_id for v in versions}) == 3  # the officer, the coordinator, the admin
