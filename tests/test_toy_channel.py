"""A messenger added from outside: a toy plugin, defined here and registered from here, serves a complete
report and a weekly digest through the same serving and delivery as Telegram and Zalo (no file of the bot
names it)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
from collections import defaultdict
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select

from bot import channels
from bot.app import App
from bot.channels.markup import render_plain
from bot.delivery import Part
from bot.digest_cli import digest as digest_command
from bot.runtime import Runtime
from bot.serve import serve
from bot.settings import Settings
from handlers.events import TYPED, Incoming, Outcome, Reply
from handlers.i18n import Translator
from storage.db import Database
from storage.digests import IsoWeek
from storage.inbox import Entry, Received
from storage.models import Identity, Report
from tests.conftest import TZ, Clock
from tests.reporting import figures
from tests.test_onboarding import make_invite

NAME = "toy"


class ToyChannel:
    """The runtime's side: a stored update read, a reply shown as plain text."""

    name = NAME

    def __init__(self, screens: dict[str, list[str]], shown: asyncio.Event) -> None:
        self.screens = screens
        self.shown = shown

    async def incoming(self, entry: Entry) -> tuple[Incoming | None, Any]:
        update = entry.payload
        return Incoming(channel=NAME, user_id=update["from"], chat_id=update["from"], text=update["text"],
                        sent_at=dt.datetime.fromisoformat(update["at"]), event_key=update["id"],
                        display_name=update["name"], language_code="vi", abilities=TYPED), None

    async def acknowledge(self, token: Any, outcome: Outcome | None) -> None:
        return None

    async def send(self, chat_id: str, reply: Reply, locale: str) -> None:
        self.screens[chat_id].append(render_plain(reply, Translator(locale, TZ)))
        self.shown.set()

    async def set_menu(self, chat_id: str, role: str | None, locale: str) -> None:
        return None

    async def working(self, chat_id: str, *, files: bool = True) -> None:
        return None


class ToySender:
    """The delivery worker's side: digests, as the parts a messenger would send."""

    channel = NAME

    def __init__(self, parts: dict[str, list[Part]]) -> None:
        self.parts = parts

    async def send(self, chat_id: str, part: Part) -> None:
        self.parts[chat_id].append(part)


class ToyService:
    def __init__(self, toy: ToyPlugin) -> None:
        self.toy = toy
        self.channel = ToyChannel(toy.screens, toy.shown)
        self.senders = {NAME: ToySender(toy.parts)}

    async def ready(self) -> None:
        return None

    async def poll(self, runtime: Runtime, stop: asyncio.Event) -> None:
        self.toy.runtime = runtime
        stopping = asyncio.ensure_future(stop.wait())
        while not stop.is_set():
            getting = asyncio.ensure_future(self.toy.updates.get())
            await asyncio.wait({getting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not getting.done():
                getting.cancel()
                break
            update = getting.result()
            await runtime.receive(NAME, [Received(update["id"], update["from"], update)])

    def routes(self, web_app: web.Application, runtime: Runtime) -> None:
        return None

    async def listening(self) -> None:
        return None


class ToyConnection:
    username = None

    def __init__(self, toy: ToyPlugin) -> None:
        self.toy = toy

    def service(self, app: App) -> ToyService:
        return ToyService(self.toy)

    async def close(self) -> None:
        return None


class ToyPlugin:
    name = NAME

    def __init__(self) -> None:
        self.updates: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.screens: dict[str, list[str]] = defaultdict(list)
        self.shown = asyncio.Event()
        self.parts: dict[str, list[Part]] = defaultdict(list)
        self.runtime: Runtime | None = None
        self._ids = itertools.count(1)

    def configured(self, settings: Settings) -> bool:
        return True

    def check(self, settings: Settings, mode: str) -> None:
        return None

    async def connect(self, settings: Settings) -> ToyConnection:
        return ToyConnection(self)

    async def say(self, user: str, text: str) -> str:
        """What ``user`` sees after typing ``text``: the bot's answers, once all were sent."""
        before = len(self.screens[user])
        self.updates.put_nowait({"id": f"toy-{next(self._ids)}", "from": user, "name": "Lò Văn Toy", "text": text,
                                 "at": dt.datetime.now(dt.UTC).isoformat()})
        async with asyncio.timeout(10):
            while len(self.screens[user]) == before:
                self.shown.clear()
                await self.shown.wait()
            assert self.runtime is not None
            await self.runtime.settle()
        shown = "\n\n".join(self.screens[user][before:])
        return shown


def number_of(screen: str, label: str) -> str:
    """The number a typed-options channel shows in front of ``label``."""
    line = next(line for line in screen.splitlines() if line.split(". ", 1)[-1] == label)
    return line.split(".", 1)[0]


@pytest.fixture
def toy() -> Any:
    plugin = ToyPlugin()
    unregister = channels.register(plugin)
    yield plugin
    unregister()


async def test_a_toy_messenger_serves_a_report_and_a_digest(toy: ToyPlugin, db: Database, db_url: str) -> None:
    settings = Settings(_env_file=None, database_url=db_url)  # type: ignore[call-arg]
    now = Clock(dt.datetime.now(dt.UTC))  # serving runs on the real clock
    officer_code = await make_invite(db, now)
    coordinator_code = await make_invite(db, now, role="coordinator", unit=None, cluster=2)
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(settings, "polling", stop=stop))
    try:
        said = await toy.say("u1", f"/start {officer_code}")
        said = await toy.say("u1", "/report")
        assert "Gõ số để chọn." in said and "bấm" not in said.lower()
        said = await toy.say("u1", number_of(said, "Tặng quà, hỗ trợ"))
        assert "Hoặc gõ: “hôm nay” · “hôm qua” · “quay lại”" in said
        said = await toy.say("u1", "hôm nay")
        said = await toy.say("u1", "1")  # the first twinned partner
        said = await toy.say("u1", "phía đối tác")  # an option's words work as well as its number
        assert "Phía Việt Nam có bao nhiêu người tham gia?" in said
        answers = iter(["12", "30", "Gạo và chăn ấm", "40 suất", "2tr5", "bỏ qua",
                        "Trao quà cho bà con bản đối diện", "bỏ qua", "Mốc 102"])
        while "kiểm tra lại báo cáo" not in said:
            said = await toy.say("u1", next(answers))
        said = await toy.say("u1", number_of(said, "✅ Gửi báo cáo"))
        assert "Đã gửi báo cáo #1" in said
        async with db.unit_of_work() as uow:
            [report] = (await uow.session.scalars(select(Report))).all()
        assert report.kind == "donation" and figures(report)["gift_packages"] == 40
        assert figures(report)["value_gifts"] == {"VND": 2_500_000}

        said = await toy.say("u9", f"/start {coordinator_code}")
        assert "điều phối viên cụm 2" in said
        async with db.unit_of_work() as uow:
            coordinator = await uow.session.scalar(select(Identity).where(Identity.channel == NAME,
                                                                          Identity.external_id == "u9"))
        assert coordinator is not None and coordinator.person.role == "coordinator"
    finally:
        stop.set()
        assert await asyncio.wait_for(serving, 10) == 0

    week = IsoWeek.of(dt.datetime.now(TZ).date())
    args = argparse.Namespace(digest_command="send", cluster=2, week=week)
    assert await digest_command(args, settings) == 0
    parts = toy.parts["u9"]
    # The text first, then the chart and the spreadsheet, as on Telegram.
    assert [p.kind for p in parts] == ["text", "photo", "document"]
    assert "2.500.000" in parts[0].text and "Đồn Biên phòng CKQT Lào Cai" in parts[0].text
    assert parts[2].file is not None and parts[2].file.filename.endswith(".xlsx")
    assert toy.parts.keys() == {"u9"}  # to the coordinator only
