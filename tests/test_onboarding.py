"""Registration by invite, language and help, through the console channel."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.channels.console import ConsoleChannel
from handlers.core import Core
from storage import people
from storage.db import Database
from storage.models import Identity, Invite, Person
from tests.conftest import Clock


async def make_invite(db: Database, clock: Clock, role: str = "officer", unit: str | None = "LCA-DBP-CKQT-LAO-CAI",
                      cluster: int | None = None, days: int = 7) -> str:
    async with db.unit_of_work() as uow:
        u = await people.unit_by_code(uow.session, unit) if unit and role == "officer" else None
        c = await people.cluster_by_number(uow.session, cluster) if cluster else None
        invite = await people.create_invite(uow.session, role=role, unit=u, cluster=c, now=clock(), days=days)
        await uow.commit()
        return invite.code


async def count(db: Database, model: type) -> int:
    async with db.unit_of_work() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def test_unregistered_start_explains_and_exposes_nothing(core: Core, db: Database) -> None:
    user = ConsoleChannel(core, user_id="stranger", language_code="en")
    said = await user.send("/start")
    assert "invite" in said
    assert "Lào Cai" not in said and "Đồn" not in said
    for probe in ("/invite admin", "/whoami", "hello"):
        answer = await user.send(probe)
        assert "invite" in answer and "Invite for" not in answer
    assert await count(db, Person) == 0


async def test_invite_registers_officer_and_greets_by_unit(core: Core, db: Database, clock: Clock) -> None:
    code = await make_invite(db, clock)
    user = ConsoleChannel(core, user_id="501", display_name="Thiếu tá Vàng A Chứ", language_code="en")
    said = await user.send(f"/start {code}")
    assert "Welcome, Thiếu tá Vàng A Chứ! You are now registered as officer of Đồn Biên phòng CKQT Lào Cai." in said
    async with db.unit_of_work() as uow:
        person = (await uow.session.scalars(select(Person))).one()
        assert (person.role, person.unit.code, person.locale) == ("officer", "LCA-DBP-CKQT-LAO-CAI", "en")
        invite = (await uow.session.scalars(select(Invite))).one()
        assert invite.used_by_person_id == person.id and invite.used_at == clock()
    assert "officer of Đồn Biên phòng CKQT Lào Cai (Lào Cai)" in await user.send("/whoami")


async def test_used_expired_and_unknown_codes_change_nothing(core: Core, db: Database, clock: Clock) -> None:
    code = await make_invite(db, clock)
    first = ConsoleChannel(core, user_id="1", language_code="en")
    await first.send(f"/start {code}")
    second = ConsoleChannel(core, user_id="2", language_code="en")
    assert "already been used" in await second.send(f"/start {code}")
    assert "not valid" in await second.send("/start NOPE123")
    assert "not valid" in await second.send("/start " + "x" * 500)
    late = await make_invite(db, clock, days=7)
    clock.advance(days=7, seconds=1)
    assert "expired on 30/11/2026" in await second.send(f"/start {late}")
    assert await count(db, Identity) == 1
    async with db.unit_of_work() as uow:
        assert (await uow.session.scalar(select(Invite).where(Invite.code == late))).used_at is None


async def test_codes_are_forgiving_about_case_and_spacing(core: Core, db: Database, clock: Clock) -> None:
    code = await make_invite(db, clock, role="coordinator", unit=None, cluster=2)
    user = ConsoleChannel(core, user_id="3", language_code="en")
    said = await user.send(f"/start  {code.lower()[:5]}-{code.lower()[5:]} ")
    assert "coordinator of cluster 2" in said


async def test_language_follows_telegram_code_then_the_user_choice(core: Core) -> None:
    english = ConsoleChannel(core, user_id="en", language_code="en-GB")
    assert "This bot is for border officers" in await english.send("/start")
    other = ConsoleChannel(core, user_id="fr", language_code="fr")
    vietnamese = await other.send("/start")
    assert "This bot is for border officers" not in vietnamese
    menu = await other.send("/lang")
    assert "1. Tiếng Việt" in menu and "2. English" in menu
    assert "Language set to English." in await other.send("2")
    assert "This bot is for border officers" in await other.send("/start")
    assert "Tiếng Việt" not in await other.send("/lang vi")


async def test_a_registered_person_s_language_is_kept_with_the_person(core: Core, db: Database,
                                                                       clock: Clock) -> None:
    officer = ConsoleChannel(core, user_id="kept", language_code="vi")
    assert "Chào mừng" in await officer.send(f"/start {await make_invite(db, clock)}")
    assert "Language set to English." in await officer.send("/lang en")
    async with db.unit_of_work() as uow:
        person = await uow.session.scalar(select(Person).join(Identity).where(Identity.external_id == "kept"))
        assert person is not None and person.locale == "en"
    # The messenger still says Vietnamese; the person chose English.
    assert "You are registered as" in await ConsoleChannel(core, user_id="kept", language_code="vi").send("/start")


async def test_admin_creates_invites_by_chat(core: Core, db: Database, clock: Clock) -> None:
    admin = ConsoleChannel(core, user_id="admin", language_code="en")
    await admin.send(f"/start {await make_invite(db, clock, role='admin', unit=None)}")
    said = await admin.send("/invite officer THO-BAN-KHEO")
    assert "Invite for a officer – Bản Khẹo" in said or "Invite for an officer" in said or "Bản Khẹo" in said
    assert "https://t.me/twinbot_test_bot?start=" in said
    code = said.split("?start=")[1].split()[0]
    officer = ConsoleChannel(core, user_id="officer", language_code="en")
    assert "officer of Bản Khẹo" in await officer.send(f"/start {code}")
    assert "no unit with the code" in (await admin.send("/invite officer NOPE")).lower()
    assert "no cluster number 9" in (await admin.send("/invite coordinator 9")).lower()
    assert "Usage" in await admin.send("/invite")
    assert "not available to you" in await officer.send("/invite admin")


async def test_unknown_command_and_plain_text(core: Core, db: Database, clock: Clock) -> None:
    user = ConsoleChannel(core, user_id="9", language_code="en")
    await user.send(f"/start {await make_invite(db, clock)}")
    assert "I don't know the command /frobnicate" in await user.send("/frobnicate")
    assert "What would you like to do?" in await user.send("xin chào")


async def test_admin_invites_an_officer_by_part_of_the_unit_name(core: Core, db: Database, clock: Clock) -> None:
    admin = ConsoleChannel(core, user_id="admin", language_code="vi", clock=clock)
    await admin.send(f"/start {await make_invite(db, clock, role='admin', unit=None)}")
    # One unit holds the words: the invite is made at once, whatever the accents.
    said = await admin.send("/invite officer song trang")
    assert "Đồn Biên phòng Sông Trăng" in said and "?start=" in said
    # Several do: they are offered, with their province, and the one picked gets the invite.
    said = await admin.send("/invite cán bộ Pha Long 14d")
    assert "Có nhiều đơn vị khớp với “Pha Long”" in said
    assert "Đồn Biên phòng Pha Long (Lào Cai)" in said and "Thôn Lồ Cố Chin, xã Pha Long (Lào Cai)" in said
    said = await admin.send(next(line.split(".")[0] for line in said.splitlines() if "Lồ Cố Chin" in line))
    assert "Thôn Lồ Cố Chin, xã Pha Long" in said and "?start=" in said
    code = said.split("?start=")[1].split()[0]
    async with db.unit_of_work() as uow:
        invite = await people.invite_by_code(uow.session, code)
        assert invite is not None and invite.unit is not None and invite.unit.code == "LCA-THON-LO-CO-CHIN"
        assert (invite.expires_at - clock()).days == 14
    assert "Không có đơn vị nào mang mã hoặc tên “Atlantis”" in await admin.send("/invite officer Atlantis")
