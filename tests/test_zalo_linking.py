"""One officer on two messengers: registered on Telegram, linked on Zalo with ``/link`` and ``/start CODE``,
reporting once on each, is one person in /recent, /users and the digest's rows."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

import handlers.linking  # noqa: F401  registers /link and the linking /start
from bot.channels.console import ConsoleChannel
from handlers.core import Core
from storage import digests
from storage.db import Database
from storage.digests import IsoWeek
from storage.models import Identity, Invite, Person, Report
from storage.scope import Scope
from tests.conftest import Clock
from tests.telegram_harness import TelegramHarness, text
from tests.test_onboarding import make_invite
from tests.test_telegram import fill_to_review
from tests.zalo_harness import ZaloHarness, option_number

ZALO_USER = "6ede9afa66b88fe6d6a9"


@pytest.fixture
async def tg(core: Core) -> AsyncIterator[TelegramHarness]:
    async with TelegramHarness(core) as harness:
        yield harness
        assert harness.stub.violations == []


@pytest.fixture
async def zalo(core: Core, tmp_path: Path) -> AsyncIterator[ZaloHarness]:
    async with ZaloHarness(core, tmp_path / "media") as harness:
        yield harness
        assert harness.stub.violations == []


def link_code(said: str) -> str:
    found = re.search(r"/start ([A-Z0-9]{10})", said)
    assert found, said
    return found.group(1)


async def test_one_officer_on_telegram_and_zalo_is_one_person(
        tg: TelegramHarness, zalo: ZaloHarness, core: Core, db: Database, clock: Clock) -> None:
    officer = tg.user(1001, first_name="Vàng A Chứ")
    await officer.send(f"/start {await make_invite(db, clock)}")
    await fill_to_review(officer)
    assert "✅ Report #1 submitted" in text(await officer.tap("Submit"))
    said = text(await officer.send("/link"))
    assert "Do not share it" in said
    code = link_code(said)

    on_zalo = zalo.user(ZALO_USER, display_name="Chứ Zalo")
    shown = await on_zalo.send(f"/start {code}")
    assert "✅ Linked: this account now belongs to Vàng A Chứ (officer of Đồn Biên phòng CKQT Lào Cai" in shown
    assert "1. " in shown  # the main menu, as on registration
    # The Zalo account speaks the person's language (English, from Telegram) and reports for the same unit.
    shown = await on_zalo.send("/report")
    assert "What kind of activity" in shown
    for answer in ("Donation", "today", "Hà Khẩu", "On our side", "20", "25", "Gạo", "100", "Skip", "Bà con bản",
                   "Tặng quà bà con", "Skip", "Skip"):
        try:
            answer = option_number(shown, answer)
        except AssertionError:
            pass
        shown = await on_zalo.send(answer)
    assert "Please check your report" in shown, shown
    assert "✅ Report #2 submitted" in await on_zalo.send(option_number(shown, "Submit"))
    # The code worked once.
    # A new Zalo account speaks Vietnamese: Zalo gives no language.
    assert "đã được sử dụng" in await zalo.user("ffffffffffffffffffff").send(f"/start {code}")

    admin = ConsoleChannel(core, user_id="admin", display_name="Admin", language_code="en", clock=clock)
    await admin.send(f"/start {await make_invite(db, clock, role='admin', unit=None)}")
    recent = await admin.send("/recent")
    assert "#2 · 23/11 · Đồn Biên phòng CKQT Lào Cai · Donation" in recent
    assert "#1 · 22/11 · Đồn Biên phòng CKQT Lào Cai · Visit" in recent
    users = await admin.send("/users")
    [line] = [row for row in users.splitlines() if "Vàng A Chứ" in row]
    assert "telegram" in line and "zalo" in line and "Chứ Zalo" not in users
    async with db.unit_of_work() as uow:
        reports = (await uow.session.scalars(select(Report).order_by(Report.id))).all()
        assert [r.channel for r in reports] == ["telegram", "zalo"]
        assert reports[0].author_person_id == reports[1].author_person_id
        officers = (await uow.session.scalars(select(Person).where(Person.role == "officer"))).all()
        assert len(officers) == 1
        identities = (await uow.session.scalars(select(Identity).where(Identity.person_id == officers[0].id))).all()
        assert sorted(i.channel for i in identities) == ["telegram", "zalo"]
        # The digest's spreadsheet rows name one author for both reports.
        week = IsoWeek.of(clock().date())
        rows = [row async for row in digests.report_rows(uow.session, start=week.previous.start, end=week.end,
                                                         scope=Scope(everything=True))]
        assert sorted((row.author_name, row.channel) for row in rows) == [("Vàng A Chứ", "telegram"),
                                                                          ("Vàng A Chứ", "zalo")]


async def test_link_codes_refuse_what_they_should(zalo: ZaloHarness, core: Core, db: Database,
                                                  clock: Clock) -> None:
    officer = ConsoleChannel(core, user_id="officer", display_name="Officer", language_code="en", clock=clock)
    await officer.send(f"/start {await make_invite(db, clock)}")
    # Someone else's registered Zalo account cannot be taken over.
    other = zalo.user("0123456789abcdef0123")
    await other.send(f"/start {await make_invite(db, clock)}")
    code = link_code(await officer.send("/link"))
    assert "đã được đăng ký cho người khác" in await other.send(f"/start {code}")
    # A new code replaces the old one; an expired code is refused; /link CODE works like /start CODE.
    newer = link_code(await officer.send("/link"))
    stranger = zalo.user("aaaaaaaaaaaaaaaaaaaa")
    assert "đã hết hạn" in await stranger.send(f"/link {code}")  # "expired", to a Vietnamese Zalo user
    clock.advance(hours=25)
    assert "đã hết hạn" in await stranger.send(f"/link {newer}")
    clock.advance(hours=-25)
    assert "không hợp lệ" in await stranger.send("/link NOTACODE99")
    # A plain invite still registers a new person; a link code is never an invite.
    unregistered = ConsoleChannel(core, user_id="nobody", language_code="en", clock=clock)
    assert "invite" in await unregistered.send("/link")
    async with db.unit_of_work() as uow:
        links = (await uow.session.scalars(select(Invite).where(Invite.role == "link"))).all()
        assert len(links) == 2 and all(i.used_at is None for i in links)
        assert (await uow.session.scalar(select(Identity).where(Identity.external_id == "aaaaaaaaaaaaaaaaaaaa"))) \
            is None
