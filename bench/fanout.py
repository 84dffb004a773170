"""The Monday fan-out: one digest (text, chart, spreadsheet) to 500 recipients, by one or two delivery
workers, against a Bot API stand-in that enforces Telegram's limits (30 messages a second per bot, one a
second per chat) by answering 429 with retry_after, as Telegram does.

    python bench/fanout.py [--recipients 500] [--workers 1|2] [--database-url URL]

Prints the time against the minimum the limit allows (recipients x 3 messages / 30 per second), the 429s,
duplicates and misses. Targets: within 1.2x the minimum, at most 5 429s, 0 duplicates, 0 misses. Two
workers are two processes (PostgreSQL: --database-url postgresql+asyncpg://…); they share one send budget
through the database, as `twinbot webhook --workers 2` does.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import tempfile
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TOKEN = "123456:BENCH-not-a-real-token-abcdefghijklmno"
SENDS = {"sendmessage", "sendphoto", "senddocument"}
PER_SECOND = 30
PARTS = 3
CLUSTER = 2
WEEK = "2026-W47"


def limited_stub_class() -> type:
    from aiohttp import web

    from tests.botapi_stub import BotApiStub, _error

    class Throttled(Exception):
        def __init__(self, call: Any) -> None:
            self.call = call

    class LimitedStub(BotApiStub):
        """Answers 429 (retry after 1 s) to a send over 30 in the last second, or within a second of the
        last one to the same chat."""

        def __init__(self) -> None:
            super().__init__()
            self.recent: deque[float] = deque()
            self.last_in_chat: dict[str, float] = {}
            self.throttled = 0
            self.first = self.last = 0.0

        async def _handle(self, request: web.Request) -> web.Response:
            try:
                return await super()._handle(request)
            except Throttled as stop:
                stop.call.status = 429
                self.throttled += 1
                return _error(429, "Too Many Requests: retry after 1", {"retry_after": 1})

        async def _result(self, spec: Any, call: Any) -> Any:
            if spec.name.lower() in SENDS:
                now = time.monotonic()
                while self.recent and now - self.recent[0] >= 1.0:
                    self.recent.popleft()
                chat = str(call.params.get("chat_id"))
                if len(self.recent) >= PER_SECOND or now - self.last_in_chat.get(chat, -10.0) < 1.0:
                    raise Throttled(call)
                self.recent.append(now)
                self.last_in_chat[chat] = now
                self.first = self.first or now
                self.last = now
            return await super()._result(spec, call)

    return LimitedStub


async def prepare(database_url: str, recipients: int) -> None:
    from sqlalchemy import text

    from storage import digests, migrate, people, registry
    from storage.db import Database
    from storage.digests import IsoWeek
    from storage.models import Identity, Person, utcnow
    from tests.reporting import report

    db = Database(database_url)
    if not db.is_sqlite:
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await migrate.upgrade(db)
    async with db.unit_of_work() as uow:
        await registry.seed_provinces(uow.session)
        await registry.apply_registry(uow.session, registry.load_registry_file(registry.SAMPLE_REGISTRY))
        cluster = await people.cluster_by_number(uow.session, CLUSTER)
        assert cluster is not None
        for n in range(recipients):
            person = Person(display_name=f"Coordinator {n}", role="coordinator", cluster_id=cluster.id, locale="vi")
            uow.session.add(person)
            await uow.session.flush()
            uow.session.add(Identity(person_id=person.id, channel="telegram", external_id=str(10_000 + n),
                                     chat_id=str(10_000 + n)))
        await uow.commit()

    class Clock:
        def __call__(self) -> dt.datetime:
            return dt.datetime(2026, 11, 20, 3, tzinfo=dt.UTC)

    for unit in ("LCA-DBP-CKQT-LAO-CAI", "LCA-THON-COC-PHUONG"):
        await report(db, Clock(), unit, kind="donation", amount="35000000", packages=40)  # type: ignore[arg-type]
    async with db.unit_of_work() as uow:
        planned = await digests.plan_digest(uow.session, cluster.id, IsoWeek.parse(WEEK), ["telegram"], now=utcnow())
        await uow.commit()
    assert planned == recipients, planned
    await db.dispose()


async def work(database_url: str, api_base: str, name: str) -> dict[str, Any]:
    """One delivery worker (a process of its own), sending until nothing is owed."""
    from bot.channels.telegram import TelegramSender, make_bot
    from bot.delivery import TELEGRAM_PER_SECOND, DeliveryWorker, RateLimiter, SharedBudget
    from storage.db import Database
    from tests.conftest import TZ

    db = Database(database_url)
    bot = make_bot(TOKEN, api_base)
    limiter = RateLimiter(per_second=TELEGRAM_PER_SECOND, clock=time.time, budget=SharedBudget(db, "telegram"))
    worker = DeliveryWorker(db, {"telegram": TelegramSender(bot, limiter)}, tz=TZ, owner=name)
    try:
        outcomes = await worker.drain()
    finally:
        await bot.session.close()
        await db.dispose()
    return dict(outcomes)


async def run(args: argparse.Namespace) -> int:
    database_url = args.database_url or f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='twinbot-fanout-')}/db.sqlite"
    await prepare(database_url, args.recipients)
    stub = limited_stub_class()()
    await stub.start()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--child", f"worker-{n}", "--database-url", database_url, "--api-base",
        stub.base_url, env=env, stdout=asyncio.subprocess.PIPE) for n in range(args.workers)]
    results = [json.loads((await child.communicate())[0].decode().strip().splitlines()[-1]) for child in children]
    # From the first send to the last: workers are running long before a digest is due, so their
    # start-up (imports, opening the database) is not part of a fan-out.
    elapsed = stub.last - stub.first
    await stub.close()

    sent = Counter((str(c.params.get("chat_id")), c.method) for c in stub.calls
                   if c.method.lower() in SENDS and c.status == 200)
    chats = {str(10_000 + n) for n in range(args.recipients)}
    duplicates = sum(n - 1 for n in sent.values() if n > 1)
    misses = sum(1 for chat in chats for method in ("sendMessage", "sendPhoto", "sendDocument")
                 if sent[(chat, method)] == 0)
    minimum = args.recipients * PARTS / PER_SECOND
    ratio = elapsed / minimum
    print(f"fan-out of {args.recipients} recipients x {PARTS} messages with {args.workers} worker(s), "
          f"{'SQLite' if database_url.startswith('sqlite') else 'PostgreSQL'}")
    print(f"  time                 {elapsed:7.1f} s  (minimum at {PER_SECOND}/s: {minimum:.1f} s; ratio {ratio:.2f})")
    print(f"  429s                 {stub.throttled:7d}")
    print(f"  duplicates           {duplicates:7d}")
    print(f"  misses               {misses:7d}")
    print(f"  workers' outcomes    {results}")
    met = ratio <= 1.2 and stub.throttled <= 5 and duplicates == 0 and misses == 0
    print("TARGET MET" if met else "TARGET MISSED", "(within 1.2x the minimum, at most 5 429s, 0 duplicates, 0 misses)")
    return 0 if duplicates == 0 and misses == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=500)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--api-base", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        outcome = asyncio.run(work(args.database_url, args.api_base, args.child))
        print(json.dumps(outcome))
        return 0
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
