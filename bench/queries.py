"""How fast admins and coordinators get answers on a large database.

Builds (or reuses) an SQLite file with N reports spread over the sample organisation and two years,
then times /recent, /find and /stats for a cluster coordinator through the real conversation core
(transaction, lock, rendering included), next to the bare query each rests on.

    python bench/queries.py                      # 1,000,000 reports in bench-queries.db
    python bench/queries.py --reports 200000 --database /tmp/q.db

Targets on SQLite: /recent and /find under 50 ms, /stats for a quarter under 500 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sqlite3
import statistics
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from handlers import jobs
from handlers.context import CoreConfig
from handlers.core import Core
from handlers.events import Incoming
from storage import lookup, migrate, people, registry, stats
from storage.db import Database
from storage.folding import fold
from storage.models import utcnow
from storage.scope import Scope

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
KINDS = ("exchange", "donation", "visit", "delegation", "patrol", "medical", "outreach", "twinning", "other")
VENUES = ("ours", "partner", "both", "border")
WORDS = ("giao lưu", "văn nghệ", "bóng đá", "tặng quà", "Tết", "thăm hỏi", "tuần tra", "mốc giới", "khám bệnh",
         "hữu nghị", "kết nghĩa", "sơ kết", "học bổng", "gạo", "chăn ấm", "Bunpimay")


async def prepare(path: Path, count: int) -> None:
    db = Database(f"sqlite+aiosqlite:///{path}")
    await migrate.upgrade(db)
    async with db.unit_of_work() as uow:
        await registry.apply_registry(uow.session, registry.load_registry_file(registry.SAMPLE_REGISTRY))
        await uow.commit()
    await db.dispose()
    conn = sqlite3.connect(path)
    units = conn.execute(
        "SELECT u.id, u.name, p.id, p.partner_name, p.partner_country, p.partner_province "
        "FROM units u JOIN twinning_pairs p ON p.unit_id = u.id").fetchall()
    conn.execute("INSERT INTO people (display_name, role, created_at) VALUES ('bench author', 'admin', ?)",
                 (utcnow().replace(tzinfo=None).isoformat(sep=" "),))
    author = conn.execute("SELECT max(id) FROM people").fetchone()[0]
    rng = random.Random(47)
    today = dt.date(2026, 11, 23)
    created = utcnow().replace(tzinfo=None).isoformat(sep=" ")
    batch = []
    started = time.perf_counter()
    for n in range(count):
        unit_id, unit_name, pair_id, partner, country, province = rng.choice(units)
        day = today - dt.timedelta(days=int(rng.random() ** 1.5 * 730))
        description = f"{rng.choice(WORDS)} {rng.choice(WORDS)} với {partner}"
        amount = rng.choice((None, None, rng.randrange(1, 500) * 1_000_000))
        batch.append((f"bench-{n}", unit_id, author, "console", rng.choice(KINDS), day.isoformat(), pair_id,
                      partner, country, province, rng.choice(VENUES), description,
                      fold(f"{description} {partner} {province or ''} {unit_name}"), created, created,
                      rng.randrange(0, 200), rng.randrange(0, 200), amount))
        if len(batch) == 50_000:
            _insert(conn, batch)
            batch = []
            print(f"  {n + 1:>9,} reports ({time.perf_counter() - started:.0f} s)", flush=True)
    if batch:
        _insert(conn, batch)
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()


def _insert(conn: sqlite3.Connection, rows: list[tuple[object, ...]]) -> None:
    """Reports, then their figures (``report_measures``): participants on both sides, and a value of gifts."""
    before = conn.execute("SELECT coalesce(max(id), 0) FROM reports").fetchone()[0]
    conn.executemany(
        "INSERT INTO reports (draft_token, unit_id, author_person_id, channel, kind, activity_date, pair_id, "
        "partner_name, partner_country, partner_province, venue, description, search_text, details, status, "
        "version, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', 'submitted', 1, ?, ?)", [row[:-3] for row in rows])
    ids = dict(conn.execute("SELECT draft_token, id FROM reports WHERE id > ?", (before,)).fetchall())
    measures = []
    for row in rows:
        report_id = ids[row[0]]
        ours, theirs, amount = row[-3:]
        measures += [(report_id, "participants_ours", "", ours), (report_id, "participants_partner", "", theirs)]
        if amount:
            measures.append((report_id, "value_gifts", "VND", amount))
    conn.executemany("INSERT INTO report_measures (report_id, measure, currency, amount, approx) "
                     "VALUES (?, ?, ?, ?, 0)", measures)
    conn.commit()


def timed(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms"


async def measure(path: Path, runs: int) -> None:
    db = Database(f"sqlite+aiosqlite:///{path}")
    clock = lambda: dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.UTC)  # noqa: E731
    core = Core(db, CoreConfig(tz=TZ, clock=clock))
    async with db.unit_of_work() as uow:
        cluster = await people.cluster_by_number(uow.session, 2)
        assert cluster is not None
        invite = await people.create_invite(uow.session, role="coordinator", cluster=cluster, now=clock(), days=7)
        await uow.commit()
        cluster_id = cluster.id
    user = f"bench-{time.time_ns()}"

    async def say(text: str) -> float:
        incoming = Incoming(channel="console", user_id=user, chat_id=user, sent_at=clock(), text=text,
                            language_code="vi")
        began = time.perf_counter()
        outcome = await core.handle(incoming)
        # Deferred work (/stats reads its figures after the event) is part of what the coordinator waits for.
        answers = list(outcome.replies)
        for owed in outcome.outgoing:
            for item in owed.items:
                if "job" in item:
                    answers += [reply async for reply in jobs.run(item, db, core.config)]
        elapsed = time.perf_counter() - began
        assert answers, text
        return elapsed

    await say(f"/start {invite.code}")
    scope = Scope.cluster(cluster_id)
    quarter_start = dt.date(2026, 10, 1)

    async def bare(fn) -> float:  # type: ignore[no-untyped-def]
        async with db.unit_of_work() as uow:
            began = time.perf_counter()
            await fn(uow.session)
            return time.perf_counter() - began

    cases = {
        "/recent": ("/recent", lambda s: lookup.recent(s, lookup.filtered(scope), limit=11)),
        "/find lao cai": ("/find lao cai", lambda s: lookup.search(s, scope, "lao cai")),
        "/find bunpimay": ("/find bunpimay", lambda s: lookup.search(s, scope, "bunpimay")),
        "/stats quarter": ("/stats quarter", lambda s: stats.figures(s, start=quarter_start,
                                                                   end=dt.date(2026, 11, 23), scope=scope)),
    }
    print(f"\n{'command':<16} {'through the bot':<36} bare query")
    for name, (text, query) in cases.items():
        await say(text)  # warm the caches once
        through = [await say(text) for _ in range(runs)]
        alone = [await bare(query) for _ in range(runs)]
        print(f"{name:<16} {timed(through):<36} {timed(alone)}")
    await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--database", type=Path, default=Path("bench-queries.db"))
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rebuild", action="store_true", help="build the database again even if it exists")
    args = parser.parse_args()
    if args.rebuild or not args.database.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{args.database}{suffix}").unlink(missing_ok=True)
        print(f"building {args.database} with {args.reports:,} reports …")
        asyncio.run(prepare(args.database, args.reports))
    else:
        print(f"reusing {args.database} (--rebuild to build it again)")
    asyncio.run(measure(args.database, args.runs))


if __name__ == "__main__":
    main()
