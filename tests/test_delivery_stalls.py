"""A recipient whose channel keeps saying "wait" (a used-up Zalo quota) must not hold up everyone else."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.channels import telegram
from bot.channels.telegram import TelegramSender
from bot.channels.zalo import ZaloClient, ZaloSender
from bot.delivery import DeliveryWorker, RateLimiter
from bot.scheduler import Scheduler
from storage.db import Database
from storage.models import Delivery
from tests.botapi_stub import BotApiStub
from tests.conftest import TZ, Clock
from tests.telegram_harness import TOKEN as TELEGRAM_TOKEN
from tests.test_digest import add_person, known_week
from tests.test_scheduler import FakeTime
from tests.zalo_stub import TOKEN, ZaloApiStub


async def test_a_quota_that_never_recovers_does_not_stall_the_other_deliveries(db: Database, clock: Clock) -> None:
    await known_week(db)
    await add_person(db, "coordinator", "c0ffee00c0ffee00c0ff", cluster=4, channel="zalo", locale="en")
    await add_person(db, "coordinator", "401", cluster=4, channel="telegram", locale="en")
    async with ZaloApiStub() as zalo_stub, BotApiStub() as telegram_stub:
        bot = telegram.make_bot(TELEGRAM_TOKEN, telegram_stub.base_url)
        zalo_stub.fail_next("sendMessage", 429, "Quota exceeded", times=10_000)
        time = FakeTime()
        async with ZaloClient(TOKEN, zalo_stub.base_url) as client:
            senders = {
                "zalo": ZaloSender(client, db, tz=TZ, limiter=RateLimiter(clock=time.clock, sleep=time.sleep),
                                   quota_wait=30),
                "telegram": TelegramSender(bot, RateLimiter(clock=time.clock, sleep=time.sleep)),
            }
            worker = DeliveryWorker(db, senders, tz=TZ, clock=clock, batch=1)
            await asyncio.wait_for(Scheduler(db, worker, tz=TZ, clock=clock).tick(), timeout=20)
        await bot.session.close()
        async with db.unit_of_work() as uow:
            status = {d.recipient.split(":")[0]: d.status
                      for d in (await uow.session.scalars(select(Delivery))).all()}
        assert status == {"telegram": "sent", "zalo": "pending"}  # the Zalo one waits for a later pass
        assert telegram_stub.calls_of("sendMessage")


async def test_nothing_to_report_answers_only_this_week_or_the_last(core, db: Database, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    from storage.models import UnitWeek
    from tests.telegram_harness import TelegramHarness, notices

    await add_person(db, "officer", "601", unit="TNI-LHHN")
    async with TelegramHarness(core) as tg:
        user = tg.user(601)
        await user.send("/help")
        for week in ("2019-W05", "2031-W10", "2026-W47", "2026-W48"):
            await tg.feed(tg.stub.make_callback(601, f"0:rmn:{week}", language_code="en"))
        refused = notices(tg.stub.calls)
    async with db.unit_of_work() as uow:
        weeks = sorted(w.week for w in (await uow.session.scalars(select(UnitWeek))).all())
    assert weeks == ["2026-W47", "2026-W48"]
    assert refused.count("That reminder is too old to answer.") == 2


async def test_photo_downloads_check_every_redirect(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import httpx
    import pytest

    from bot.channels.zalo import MediaError, MediaStore

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "http://169.254.169.254/latest/meta-data"})

    store = MediaStore(tmp_path, transport=httpx.MockTransport(handler))
    store._check_host = _no_dns  # type: ignore[method-assign]  # the first host is public; no DNS in tests
    with pytest.raises(MediaError) as refused:
        await store.fetch("https://photo.example.vn/a.jpg", channel="zalo", name="m1")
    await store.close()
    assert refused.value.reason == "refused" and not list(tmp_path.rglob("*.jpg"))


async def _no_dns(url: str) -> None:
    return None


async def test_a_group_unbound_after_planning_gets_nothing(db: Database, clock: Clock) -> None:
    from sqlalchemy import delete

    from storage.models import GroupBinding
    from tests.test_scheduler import Api, FakeTime, digest_audience, rows, scheduler

    await digest_audience(db)
    async with BotApiStub() as stub:
        bot = telegram.make_bot(TELEGRAM_TOKEN, stub.base_url)
        api = Api(stub, bot, FakeTime())
        first = scheduler(db, api, clock)
        await first.plan_due()  # Monday 10:00: the digest is planned with the group still bound
        async with db.unit_of_work() as uow:
            await uow.session.execute(delete(GroupBinding).where(GroupBinding.chat_id == "-100200"))
            await uow.commit()
        await first.worker.drain()
        await bot.session.close()
    by_address = {d.recipient: d.status for d in await rows(db)}
    assert by_address["telegram:-100200"] == "skipped"
    assert by_address["telegram:401"] == "sent"
    assert not [c for c in stub.calls if str(c.params.get("chat_id")) == "-100200"]
