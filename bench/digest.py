"""How long one cluster's weekly digest takes on a database of a million reports, next to the bare SQL aggregate
it rests on.

    python bench/digest.py [--reports 1000000] [--cluster 2] [--week 2026-W47] [--repeat 5] [--keep FILE]

A temporary SQLite file is migrated, given the sample organisation (76 units in 5 clusters) and filled with
``--reports`` reports spread over the four years up to ``--week`` by one INSERT … SELECT (a few seconds).

Timed, warm, median of ``--repeat`` runs:

* **digest**: ``handlers.digest.read_digest``, what ``/digest`` does before its text goes out: a connection of
  its own, ``storage.digests.collect`` (every query the message needs: the week's and the previous week's
  figures, the eight-week trend, units and their answers, highlights, the year's reporting rates), the year's
  plan and its pace, what was delivered, and the message built in both languages
  (``handlers.digest.build_text``) – what a coordinator waits for before the text arrives;
* **bare aggregate**: one raw SQL statement (no ORM, same driver) grouping the cluster's reports of those eight
  weeks by day, province, partner, kind, venue and currency with the sums the digest shows – the least any
  digest must read;
* for information: the chart (matplotlib) and the XLSX of the week's rows (openpyxl, write-only).

Targets: digest under 300 ms, and under twice the bare aggregate. Exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from handlers.i18n import Translator  # noqa: E402
from storage import digests, migrate, registry  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.digests import IsoWeek  # noqa: E402

TARGET_SECONDS = 0.3  # issue 17: the text in under 300 ms on 1,000,000 reports
TARGET_RATIO = 2.0
YEARS = 4

KINDS = ("exchange", "donation", "visit", "delegation", "patrol", "medical", "outreach", "twinning", "other")
VENUES = ("ours", "partner", "both", "border")

GENERATE = """
WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < :count - 1),
units_numbered AS (
    SELECT u.id AS unit_id, ROW_NUMBER() OVER (ORDER BY u.id) - 1 AS k,
           p.id AS pair_id, COALESCE(p.partner_name, 'Đối tác ' || u.code) AS partner_name,
           COALESCE(p.partner_country, 'LA') AS partner_country, p.partner_province
    FROM units u LEFT JOIN twinning_pairs p ON p.id = (
        SELECT MIN(id) FROM twinning_pairs WHERE unit_id = u.id)
),
unit_count(c) AS (SELECT COUNT(*) FROM units_numbered)
INSERT INTO reports (draft_token, unit_id, author_person_id, channel, kind, activity_date, pair_id, partner_name,
                     partner_country, partner_province, venue, description, details,
                     latitude, longitude, status, status_reason, search_text, version, created_at, updated_at)
SELECT 'bench-' || n, un.unit_id, :author, 'telegram',
       CASE n % 9 WHEN 0 THEN 'exchange' WHEN 1 THEN 'donation' WHEN 2 THEN 'visit' WHEN 3 THEN 'delegation'
                  WHEN 4 THEN 'patrol' WHEN 5 THEN 'medical' WHEN 6 THEN 'outreach' WHEN 7 THEN 'twinning'
                  ELSE 'other' END,
       date(:last_day, '-' || ((n * 7919) % :days) || ' days'),
       un.pair_id, un.partner_name, un.partner_country, un.partner_province,
       CASE n % 5 WHEN 0 THEN 'partner' WHEN 1 THEN 'both' WHEN 2 THEN 'border' ELSE 'ours' END,
       'Hoạt động hữu nghị số ' || n || ' với đơn vị kết nghĩa bên kia biên giới', '{}',
       NULL, NULL, CASE WHEN n % 97 = 0 THEN 'withdrawn' ELSE 'submitted' END, NULL, '', 1,
       datetime(:last_day, '-' || ((n * 7919) % :days) || ' days', '+5 hours'),
       datetime(:last_day, '-' || ((n * 7919) % :days) || ' days', '+5 hours')
FROM seq JOIN unit_count JOIN units_numbered un ON un.k = (seq.n * 31) % unit_count.c
"""

# The figures of each report (``report_measures``), as the report flow stores them: participants on both
# sides for every report, gift packages and their value for donations, delegations for delegations, the
# value of medicines for medical care; a few values in USD or CNY.
MEASURES = """
INSERT INTO report_measures (report_id, measure, currency, amount, approx)
SELECT id, 'participants_ours', '', 5 + (id * 13) % 60, 0 FROM reports WHERE draft_token LIKE 'bench-%'
UNION ALL SELECT id, 'participants_partner', '', 3 + (id * 17) % 80, 0 FROM reports WHERE draft_token LIKE 'bench-%'
UNION ALL SELECT id, 'gift_packages', '', 20 + (id % 200), 0 FROM reports WHERE kind = 'donation'
UNION ALL SELECT id, 'delegations', '', 1 + id % 2, 0 FROM reports WHERE kind = 'delegation'
UNION ALL SELECT id, 'delegation_people', '', 5 + id % 20, 0 FROM reports WHERE kind = 'delegation'
UNION ALL SELECT id, CASE kind WHEN 'donation' THEN 'value_gifts' ELSE 'value_medicines' END,
                 CASE WHEN id % 23 = 0 THEN 'USD' WHEN id % 29 = 0 THEN 'CNY' ELSE 'VND' END,
                 (1 + id % 50) * 1000000, 0 FROM reports WHERE kind IN ('donation', 'medical')
"""

BARE = """
SELECT r.activity_date, u.province_code, r.partner_country, COALESCE(r.partner_province, ''), r.kind, r.venue,
       m.measure, m.currency, COUNT(DISTINCT r.id), SUM(m.amount)
FROM reports r JOIN units u ON u.id = r.unit_id JOIN provinces p ON p.code = u.province_code
     LEFT JOIN report_measures m ON m.report_id = r.id
WHERE p.cluster_id = :cluster AND r.status = 'submitted' AND r.activity_date >= :start AND r.activity_date <= :end
GROUP BY r.activity_date, u.province_code, r.partner_country, COALESCE(r.partner_province, ''), r.kind, r.venue,
         m.measure, m.currency
"""


def generate(path: Path, count: int, week: IsoWeek) -> float:
    started = time.perf_counter()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    # The FTS triggers would index a million empty texts one by one; the bench never searches.
    triggers = con.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'reports_fts_%'"
                           ).fetchall()
    for (sql,) in triggers:
        con.execute(f"DROP TRIGGER {sql.split()[2]}")
    con.execute("INSERT INTO people (display_name, role, created_at) VALUES ('Bench author', 'officer', "
                "'2026-01-01 00:00:00')")
    author = con.execute("SELECT max(id) FROM people").fetchone()[0]
    days = YEARS * 365
    con.execute(GENERATE, {"count": count, "author": author, "last_day": week.end.isoformat(), "days": days})
    con.execute(MEASURES)
    for (sql,) in triggers:
        con.execute(sql)
    con.commit()
    con.execute("ANALYZE")
    con.close()
    return time.perf_counter() - started


async def prepare(url: str) -> None:
    db = Database(url)
    await migrate.upgrade(db)
    async with db.unit_of_work() as uow:
        await registry.apply_registry(uow.session, registry.load_registry_file(registry.SAMPLE_REGISTRY))
        await uow.commit()
    await db.dispose()


async def timed(repeat: int, run) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    result = await run()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = await run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


async def measure(url: str, cluster_number: int, week: IsoWeek, repeat: int) -> dict[str, float]:
    from zoneinfo import ZoneInfo

    from handlers.digest import build_text, read_digest, summary_rows
    from handlers.digest_chart import render_chart
    from handlers.spreadsheet import write_reports_workbook
    from storage.scope import Scope

    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    db = Database(url)
    try:
        async with db.unit_of_work() as uow:
            cluster = await digests.cluster_by_number(uow.session, cluster_number)
            assert cluster is not None, f"no cluster {cluster_number}"
            cluster_id = cluster.id
            total = await uow.session.scalar(text("SELECT count(*) FROM reports"))

        async def digest() -> object:
            # What /digest does before its text goes out (in a drawing process there, on a thread here):
            # a connection of its own, the figures, the plan's pace, the week's rows, the text.
            read = await asyncio.to_thread(read_digest, url, cluster_id, str(week), tz, Translator("vi", tz))
            assert read is not None
            data = read[0]
            return data, [read[1], build_text(data, Translator("en", tz))]

        first = week.shift(-(digests.TREND_WEEKS - 1))

        async def bare() -> object:
            async with db.unit_of_work() as uow:
                return (await uow.session.execute(text(BARE), {
                    "cluster": cluster_id, "start": first.start, "end": week.end})).all()

        digest_time, (data, texts) = await timed(repeat, digest)  # type: ignore[misc]
        bare_time, bare_rows = await timed(repeat, bare)
        t = Translator("vi", tz)
        chart_time, _ = await timed(max(1, repeat // 2), lambda: asyncio.to_thread(render_chart, data, t))

        async def workbook() -> bytes:
            async with db.unit_of_work() as uow:
                rows = [row async for row in digests.report_rows(uow.session, start=week.start, end=week.end,
                                                                  scope=Scope.cluster(cluster_id))]
            return write_reports_workbook(rows, summary_rows(data, t), "vi", tz=tz)

        xlsx_time, xlsx = await timed(max(1, repeat // 2), workbook)
    finally:
        await db.dispose()
    print(f"reports in the database     {total:>12,}")
    print(f"cluster {cluster_number}, {week}: {data.current.total.reports:,} reports this week, "
          f"{sum(sum(c.values()) for _, c in data.trend):,} in the eight weeks, {len(bare_rows):,} aggregate rows, "
          f"{len(data.units)} units; message {len(texts[0]):,} characters")
    print(f"digest (queries + vi/en)    {digest_time * 1000:>9.1f} ms")
    print(f"bare SQL aggregate          {bare_time * 1000:>9.1f} ms")
    print(f"ratio                       {digest_time / bare_time:>9.2f} x")
    print(f"chart PNG (information)     {chart_time * 1000:>9.1f} ms")
    print(f"XLSX {data.current.total.reports:>5} rows (information) {xlsx_time * 1000:>7.1f} ms, "
          f"{len(xlsx) // 1024} KiB")  # type: ignore[arg-type]
    return {"digest": digest_time, "bare": bare_time}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--cluster", type=int, default=2)
    parser.add_argument("--week", type=IsoWeek.parse, default=IsoWeek(2026, 47))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build the database here (reused if it exists)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "bench.db"
        url = f"sqlite+aiosqlite:///{path}"
        if not (args.keep and path.exists()):
            asyncio.run(prepare(url))
            print(f"generated {args.reports:,} reports in {generate(path, args.reports, args.week):.1f} s "
                  f"({os.path.getsize(path) / 2**20:.0f} MiB)")
        times = asyncio.run(measure(url, args.cluster, args.week, args.repeat))
    ok = times["digest"] < TARGET_SECONDS and times["digest"] < TARGET_RATIO * times["bare"]
    print(f"targets: digest < {TARGET_SECONDS * 1000:.0f} ms and < {TARGET_RATIO:.0f}x the bare aggregate: "
          + ("met" if ok else "MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
