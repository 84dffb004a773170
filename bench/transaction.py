"""What every chat event costs in the database before any handler runs, through twinbot's storage layer and
through plain sqlite3, on the same file.

    python bench/transaction.py [--events 3000]

The fixed part of an event: begin (SQLite's write lock), lock and read the conversation, record the update id,
read the sender, save the conversation, commit. twinbot runs it through SQLAlchemy's async layer on the inline
SQLite driver (storage/sqlite_inline.py); the second figure runs the same statements with sqlite3 alone, which
is the floor for any design that keeps one transaction per update. The gap is what the chosen stack costs.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.report_flow import prepare_database  # noqa: E402
from storage import conversations, senders  # noqa: E402
from storage.db import Database  # noqa: E402

USER = "7000000000"  # prepare_database's first officer (first_user_id below), registered by hand here
PARTS = ("begin", "lock", "update id", "sender", "save", "commit", "close")


async def through_twinbot(url: str, events: int) -> dict[str, list[float]]:
    db = Database(url)
    times: dict[str, list[float]] = defaultdict(list)
    try:
        for n in range(events):
            marks = [time.perf_counter()]
            async with db.unit_of_work() as uow:
                session = uow.session
                marks.append(time.perf_counter())
                state = await conversations.lock(session, "telegram", USER)
                marks.append(time.perf_counter())
                await conversations.first_time(session, "telegram", f"bench-{n}")
                marks.append(time.perf_counter())
                await senders.sender(session, "telegram", USER)
                marks.append(time.perf_counter())
                state.seq += 1
                await conversations.save(session, state)
                marks.append(time.perf_counter())
                await uow.commit()
                marks.append(time.perf_counter())
            marks.append(time.perf_counter())
            for part, start, end in zip(PARTS, marks[:-1], marks[1:], strict=True):
                times[part].append(end - start)
    finally:
        await db.dispose()
    return times


def through_sqlite3(path: str, events: int) -> list[float]:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    took = []
    try:
        for n in range(events):
            start = time.perf_counter()
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("SELECT id, flow, step, data, seq FROM conversations "
                               "WHERE channel = ? AND user_external_id = ?", ("telegram", USER)).fetchone()
            connection.execute("INSERT INTO processed_events (channel, event_key, processed_at) VALUES (?, ?, ?) "
                               "ON CONFLICT DO NOTHING", ("telegram", f"raw-{n}", "2026-11-23 00:00:00"))
            connection.execute(
                "SELECT * FROM identities JOIN people ON people.id = identities.person_id "
                "LEFT JOIN units ON units.id = people.unit_id "
                "LEFT JOIN provinces ON provinces.code = units.province_code "
                "LEFT JOIN clusters ON clusters.id = people.cluster_id "
                "WHERE identities.channel = ? AND identities.external_id = ?", ("telegram", USER)).fetchone()
            connection.execute("UPDATE conversations SET seq = seq + 1, data = ?, updated_at = ? "
                               "WHERE channel = ? AND user_external_id = ?",
                               ('{"draft": {}}', "2026-11-23 00:00:00", "telegram", USER))
            connection.execute("COMMIT")
            took.append(time.perf_counter() - start)
    finally:
        connection.close()
    return took


async def register(url: str, code: str) -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    from handlers.context import CoreConfig
    from handlers.core import Core
    from handlers.events import Incoming

    db = Database(url)
    try:
        core = Core(db, CoreConfig(tz=ZoneInfo("Asia/Ho_Chi_Minh")))
        outcome = await core.handle(Incoming(channel="telegram", user_id=USER, chat_id=USER,
                                             sent_at=dt.datetime.now(dt.UTC), text=f"/start {code}"))
        if not outcome.replies:
            raise SystemExit("could not register the benchmark's officer")
    finally:
        await db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=3000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="twinbot-bench-tx-"))
    path = str(workdir / "twinbot.db")
    url = f"sqlite+aiosqlite:///{path}"
    officers, _ = asyncio.run(prepare_database(url, 1, int(USER)))
    asyncio.run(register(url, officers[0][2]))
    asyncio.run(through_twinbot(url, 200))  # warm caches, both sides
    through_sqlite3(path, 200)
    parts = asyncio.run(through_twinbot(url, args.events))
    raw = through_sqlite3(path, args.events)

    def us(values: list[float]) -> str:
        return f"{statistics.median(values) * 1e6:7.0f} µs"

    print(f"the fixed work of one chat event, median of {args.events}:")
    for part in PARTS:
        print(f"  {part:<12}{us(parts[part])}")
    total = [sum(values) for values in zip(*(parts[p] for p in PARTS), strict=True)]
    print(f"  {'all':<12}{us(total)}   through twinbot's storage (SQLAlchemy async, inline SQLite)")
    print(f"  {'all':<12}{us(raw)}   the same statements with sqlite3 alone")
    print(f"  ratio {statistics.median(total) / statistics.median(raw):.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
