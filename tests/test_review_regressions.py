"""Regressions found in review: forged buttons, role changes, odd numbers, partner on the card."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from bot.channels.console import ConsoleChannel
from handlers.core import Core
from storage.db import Database
from storage.models import Report
from tests.conftest import Clock
from tests.reporting import person, report
from tests.test_report_console import all_reports, officer
from tests.test_report_kinds import COMMON, option_number, walk


async def tap(channel: ConsoleChannel, value: str) -> str:
    """A button press with whatever data a modified client may send."""
    incoming = dataclasses.replace(channel.incoming(), text=None, choice=value,
                                   choice_seq=await current_seq(channel))
    outcome = await channel.core.handle(incoming)
    return "\n".join([r.text for r in outcome.replies] + ([outcome.notice] if outcome.notice else []))


async def current_seq(channel: ConsoleChannel) -> int:
    from storage.models import Conversation

    async with channel.core.db.unit_of_work() as uow:
        conversation = await uow.session.scalar(select(Conversation).where(
            Conversation.channel == "console", Conversation.user_external_id == channel.user_id))
        return conversation.seq if conversation else 0


async def test_an_officer_cannot_move_a_draft_to_another_unit(core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock)
    said = await me.send("/report")
    said = await me.send(option_number(said, "Other activity"))
    said = await walk(me, COMMON, said)
    assert "Unit:" not in said
    await tap(me, "rv:fix:unit")
    await tap(me, "rv:fix:value")  # not a field of this kind either
    said = await me.send("Pha Long")
    assert "Please choose one of the options below." in said
    said = await me.send("/report")
    said = await me.send(option_number(said, "Continue"))
    await me.send(option_number(said, "Submit"))
    [saved] = await all_reports(db)
    assert saved.unit.code == "LCA-DBP-CKQT-LAO-CAI"


async def test_buttons_of_a_former_officer_no_longer_work(core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock)
    said = await me.send("/report")
    said = await me.send(option_number(said, "Other activity"))
    await walk(me, COMMON, said)
    admin = await person(core, db, clock, "admin", "admin")
    users = await admin.send("/users")
    officer_id = users.split("Vàng A Chứ")[0].rsplit("#", 1)[1].strip()
    assert "no longer has a role" in await admin.send(f"/role {officer_id} none")
    assert "not available to you" in await tap(me, "rv:submit")
    assert "not available to you" in await tap(me, "rc:older")
    assert await all_reports(db) == []


async def test_the_card_shows_the_reports_own_partner(core: Core, db: Database, clock: Clock) -> None:
    report_id = await report(db, clock, "THO-BAN-KHEO")
    admin = await person(core, db, clock, "admin", "admin")
    card = await admin.send(f"/report {report_id}")
    assert "Partner: Bản Thà Láu" in card


@pytest.mark.parametrize("typed", ["/report ²", "/report 99999999999999999999", "/recent ²", "/recent cluster:²",
                                   "/stats cluster:99999999999999999999", "/void ² x", "/users ²", "/users 0",
                                   "/role ² admin", "/role 99999999999999 admin", "/invite coordinator 99999999",
                                   "/stats 11/0000", "/stats 12/9999", "/stats 9999-W52", "²"])
async def test_odd_numbers_get_an_answer(core: Core, db: Database, clock: Clock, typed: str) -> None:
    admin = await person(core, db, clock, "admin", "admin")
    said = await admin.send(typed)
    assert said.strip() and "Sorry, that did not work" not in said, said


@pytest.mark.parametrize("value", ["f:2026-13-45", "f:-", "f:x-y", "my:²", "rp:99999999999999999999",
                                   "ec:1:value", "wy:abc", "f:", "rv:", "zz:1"])
async def test_forged_buttons_get_an_answer(core: Core, db: Database, clock: Clock, value: str) -> None:
    me = await officer(core, db, clock)
    said = await me.send("/report")
    await me.send(option_number(said, "Exchange"))
    answer = await tap(me, value)
    assert "Sorry, that did not work" not in answer
    async with db.unit_of_work() as uow:
        assert (await uow.session.scalars(select(Report))).all() == []


async def test_withdraw_works_while_a_draft_is_open(core: Core, db: Database, clock: Clock) -> None:
    me = await officer(core, db, clock)
    said = await me.send("/report")
    said = await me.send(option_number(said, "Other activity"))
    said = await walk(me, COMMON, said)
    await me.send(option_number(said, "Submit"))
    await me.send("/report")  # a new draft, left open
    await me.send("/myreports")
    said = await me.send("1")
    said = await me.send(option_number(said, "Withdraw"))
    said = await me.send(option_number(said, "Yes, withdraw"))
    assert "Report #1 was withdrawn." in said
