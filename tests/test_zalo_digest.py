"""Digests and reminders to Zalo recipients through the delivery worker and the Zalo sender: once each, within
2,000 characters, files as a note, 429 "quota exceeded" waited out without sending anything twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.channels.zalo import ZaloClient, ZaloSender
from bot.delivery import DeliveryWorker, RateLimiter
from bot.scheduler import Scheduler
from handlers.core import Core
from storage.db import Database
from storage.models import Delivery, UnitWeek
from tests.conftest import TZ, Clock
from tests.test_digest import add_person, known_week, many_silent_units
from tests.test_scheduler import FakeTime
from tests.zalo_harness import ZaloHarness
from tests.zalo_stub import TOKEN, ZaloApiStub

COORDINATOR = "c0ffee00c0ffee00c0ff"
OFFICER = "0ff1ce000ff1ce000ff1"


@pytest.fixture
async def stub() -> AsyncIterator[ZaloApiStub]:
    async with ZaloApiStub() as server:
        yield server
        assert server.violations == []


@pytest.fixture
async def client(stub: ZaloApiStub) -> AsyncIterator[ZaloClient]:
    async with ZaloClient(TOKEN, stub.base_url) as c:
        yield c


def scheduler(db: Database, client: ZaloClient, clock: Clock, time: FakeTime, **kwargs: str) -> Scheduler:
    sender = ZaloSender(client, db, tz=TZ, limiter=RateLimiter(clock=time.clock, sleep=time.sleep), quota_wait=30)
    worker = DeliveryWorker(db, {"zalo": sender}, tz=TZ, clock=clock)
    return Scheduler(db, worker, tz=TZ, clock=clock, **kwargs)  # type: ignore[arg-type]


async def test_digest_reaches_a_zalo_coordinator_once_with_a_note_for_the_files(
        db: Database, client: ZaloClient, stub: ZaloApiStub, clock: Clock) -> None:
    await known_week(db)
    await add_person(db, "coordinator", COORDINATOR, cluster=4, channel="zalo", locale="en")
    time = FakeTime()
    stub.fail_next("sendMessage", 429, "Quota exceeded")
    s = scheduler(db, client, clock, time)
    assert await s.tick() == {"digest:2026-W47": 1}
    texts = stub.sent_texts(COORDINATOR)
    assert len(texts) == 3 and all(1 <= len(t) <= 2000 for t in texts)
    assert "Reports: 3 (+1)" in texts[0] and texts[0].startswith("📊 Cluster 4 – week 16/11 – 22/11/2026")
    assert "Trao 200 suất quà <b>Tết</b> cho bà con" in texts[0]  # what a user typed, shown as typed
    assert ".png: the Zalo bot cannot send files" in texts[1]
    assert ".xlsx: the Zalo bot cannot send files" in texts[2]
    assert 30 in time.slept  # the 429 was waited out …
    assert [c.status for c in stub.calls_of("sendMessage")].count(429) == 1  # … and nothing sent twice
    [row] = (await _rows(db))
    assert (row.recipient, row.status) == (f"zalo:{COORDINATOR}", "sent")
    clock.advance(minutes=10)
    await s.tick()
    assert stub.sent_texts(COORDINATOR) == texts


async def test_a_long_digest_is_cut_at_2000_and_a_429_midway_repeats_no_piece(
        db: Database, client: ZaloClient, stub: ZaloApiStub, clock: Clock) -> None:
    await add_person(db, "coordinator", COORDINATOR, cluster=4, channel="zalo", locale="vi")
    await many_silent_units(db)
    sent_before_fault = 0

    class Midway(ZaloClient):
        async def send_message(self, chat_id: str, text: str):  # type: ignore[no-untyped-def]
            nonlocal sent_before_fault
            sent_before_fault += 1
            if sent_before_fault == 2:
                stub.fail_next("sendMessage", 429, "Quota exceeded")
            return await super().send_message(chat_id, text)

    midway = Midway(TOKEN, stub.base_url)
    try:
        await scheduler(db, midway, clock, FakeTime()).tick()
    finally:
        await midway.close()
    texts = stub.sent_texts(COORDINATOR)
    assert len(texts) >= 4 and all(len(t) <= 2000 for t in texts)
    joined = "\n".join(texts)
    assert joined.count("Ấp số") == 150 and "<Bến Cầu> & Tân Biên" in joined
    assert len(set(texts)) == len(texts)  # no piece twice
    assert [c.status for c in stub.calls_of("sendMessage")].count(429) == 1


async def test_a_zalo_officer_answers_the_reminder_by_its_number(
        db: Database, client: ZaloClient, stub: ZaloApiStub, clock: Clock, core: Core, tmp_path: Path) -> None:
    await add_person(db, "officer", OFFICER, unit="TNI-LHHN", channel="zalo", locale="en")
    await scheduler(db, client, clock, FakeTime(), reminder_schedule="0 8 * * 1").tick()
    [reminder] = stub.sent_texts(OFFICER)
    assert "Weekly reminder" in reminder and "\n1. 📝 Start a report\n2. ✅ Nothing to report this week" in reminder
    async with ZaloHarness(core, tmp_path) as zalo:
        shown = await zalo.user(OFFICER).send("2")
        assert "Noted: nothing to report" in shown
    async with db.unit_of_work() as uow:
        week = await uow.session.scalar(select(UnitWeek))
        assert week is not None and week.nothing_to_report_at is not None


async def _rows(db: Database) -> list[Delivery]:
    async with db.unit_of_work() as uow:
        return list((await uow.session.scalars(select(Delivery).order_by(Delivery.id))).all())


async def test_with_a_public_address_the_chart_is_a_photo_and_the_spreadsheet_a_signed_link(
        db: Database, client: ZaloClient, stub: ZaloApiStub, clock: Clock) -> None:
    """TWINBOT_PUBLIC_URL set: the files go by link, each opening that one file, until it expires."""
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from bot.channels.links import FileLinks
    from tests.test_zalo_serving import free_port

    await known_week(db)
    await add_person(db, "coordinator", COORDINATOR, cluster=4, channel="zalo", locale="en")
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    links = FileLinks(db, public, "link-secret-0123456789abcdef", days=7, clock=clock)
    web_app = web.Application()
    links.add_route(web_app)
    async with TestClient(TestServer(web_app, host="127.0.0.1", port=port)) as http:
        time = FakeTime()
        sender = ZaloSender(client, db, tz=TZ, limiter=RateLimiter(clock=time.clock, sleep=time.sleep), links=links)
        await Scheduler(db, DeliveryWorker(db, {"zalo": sender}, tz=TZ, clock=clock), tz=TZ, clock=clock).tick()

        [photo] = stub.calls_of("sendPhoto")
        assert photo.params["photo"].startswith(public + "/files/") and ".png?" in photo.params["photo"]
        texts = stub.sent_texts(COORDINATOR)
        assert "Reports: 3 (+1)" in texts[0] and "cannot send files" not in "\n".join(texts)
        [note] = [t for t in texts if ".xlsx:" in t]
        assert "(the link works until 30/11/2026)" in note
        link = next(word for word in note.split() if word.startswith(public))
        path = link.removeprefix(public)

        got = await http.get(path)
        assert got.status == 200 and (await got.read()).startswith(b"PK")  # an XLSX is a zip
        assert "digest-cluster4-2026-W47-en.xlsx" in got.headers["Content-Disposition"]
        forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
        assert (await http.get(forged)).status == 403
        other = path.replace(path.split("/")[2], "someone-elses-file")  # the same signature, another file
        assert (await http.get(other)).status == 403
        clock.advance(days=8)
        assert (await http.get(path)).status == 410
