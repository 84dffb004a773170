"""How long the national annual report takes on a database of a million reports, next to the bare SQL aggregate
it rests on.

    python bench/annual.py [--reports 1000000] [--year 2026] [--repeat 5] [--keep FILE]

A temporary SQLite file is migrated, given the sample organisation (76 units in 5 clusters, 62 pairs) and filled
with ``--reports`` reports spread over the four years up to the end of ``--year`` (a quarter of them in that
year), each with the measures its kind carries (participants on both sides; gift packages and a value, a
delegation and its people with a direction, people examined and the medicines' value …), by INSERT … SELECT
(a minute or so).

Timed, warm, median of ``--repeat`` runs:

* **annual table**: ``handlers.annual_report.collect`` for the whole country and the year (the year's and the
  year before's figures, the organisation, reporting rates of every unit over every week, each pair's last
  activity) and every table built from it (``tables``) – what an admin waits for before the files are drawn;
* **bare aggregate**: the two raw SQL statements (no ORM, same driver) that read the year itself, grouping its
  reports and their measures by the cells the tables add up and by event (an event counts once) – the least
  any annual table must read, as plainly as SQL says it;
* for information: the DOCX (python-docx) and the XLSX (openpyxl) of the report.

Target: the annual table under 2 s. Exit status 1 if it is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
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

from bench.digest import prepare  # noqa: E402
from storage.db import Database  # noqa: E402

TARGET_SECONDS = 2.0
YEARS = 4

KINDS = ("exchange", "donation", "visit", "delegation", "patrol", "medical", "outreach", "twinning_review", "other")

GENERATE_REPORTS = """
WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < :count - 1),
units_numbered AS (
    SELECT u.id AS unit_id, ROW_NUMBER() OVER (ORDER BY u.id) - 1 AS k,
           p.id AS pair_id, COALESCE(p.partner_name, 'Đối tác ' || u.code) AS partner_name,
           COALESCE(p.partner_country, 'LA') AS partner_country, p.partner_province
    FROM units u LEFT JOIN twinning_pairs p ON p.id = (
        SELECT MIN(id) FROM twinning_pairs WHERE unit_id = u.id)
),
unit_count(c) AS (SELECT COUNT(*) FROM units_numbered)
INSERT INTO reports (id, draft_token, unit_id, author_person_id, channel, kind, activity_date, pair_id, partner_name,
                     partner_country, partner_province, venue, description, details, latitude, longitude, status,
                     status_reason, search_text, version, created_at, updated_at)
SELECT n + 1, 'bench-' || n, un.unit_id, :author, 'telegram',
       CASE n % 9 WHEN 0 THEN 'exchange' WHEN 1 THEN 'donation' WHEN 2 THEN 'visit' WHEN 3 THEN 'delegation'
                  WHEN 4 THEN 'patrol' WHEN 5 THEN 'medical' WHEN 6 THEN 'outreach' WHEN 7 THEN 'twinning_review'
                  ELSE 'other' END,
       date(:last_day, '-' || ((n * 7919) % :days) || ' days'),
       un.pair_id, un.partner_name, un.partner_country, un.partner_province,
       CASE n % 5 WHEN 0 THEN 'partner' WHEN 1 THEN 'both' WHEN 2 THEN 'border' ELSE 'ours' END,
       'Hoạt động hữu nghị số ' || n || ' với đơn vị kết nghĩa bên kia biên giới',
       CASE WHEN n % 9 = 3 THEN CASE WHEN n % 2 = 0 THEN '{"direction": "out"}' ELSE '{"direction": "in"}' END
            ELSE '{}' END,
       NULL, NULL, CASE WHEN n % 97 = 0 THEN 'withdrawn' ELSE 'submitted' END, NULL, '', 1,
       datetime(:last_day, '-' || ((n * 7919) % :days) || ' days', '+' || (n % 120) || ' hours'),
       datetime(:last_day, '-' || ((n * 7919) % :days) || ' days', '+' || (n % 120) || ' hours')
FROM seq JOIN unit_count JOIN units_numbered un ON un.k = (seq.n * 31) % unit_count.c
"""

# Each report's measures, by its kind (n = id - 1, as generated above).
GENERATE_MEASURES = (
    "INSERT INTO report_measures (report_id, measure, currency, amount, approx) "
    "SELECT id, 'participants_ours', '', 5 + (id * 13) % 60, 0 FROM reports",
    "INSERT INTO report_measures (report_id, measure, currency, amount, approx) "
    "SELECT id, 'participants_partner', '', 3 + (id * 17) % 80, 0 FROM reports",
    "INSERT INTO report_measures (report_id, measure, currency, amount, approx) "
    "SELECT id, 'gift_packages', '', 20 + id % 200, 0 FROM reports WHERE (id - 1) % 9 = 1",
    "INSERT INTO report_measures (report_id, measure, currency, amount, approx) "
    "SELECT id, 'value_gifts', CASE WHEN id % 23 = 0 THEN 'USD' ELSE 'VND' END, (1 + id % 50) * 1000000, 0 "
    "FROM reports WHERE (id - 1) % 9 = 1",
    "INSERT INTO report_measures (report_id, measure, currency, amount, approx) "
    "SELECT id, 'delegations', '', 1 + id % 2, 0 FROM reports WHERE (id - 1) % 9 = 3",
    "INSERT INTO report_measures (report_id, measure, currency, amount, approx) "
    "SELECT id, 'delegation_people', '', 5 + id % 20, 0 FROM reports WHERE (id - 1) % 9 = 3",
    "INSERT INTO report_measures (report_id, measure, currency, amount, approx) "
    "SELECT id, 'patients', '', 20 + id % 300, 0 FROM reports WHERE (id - 1) % 9 = 5",
    "INSERT INTO report_measures (report_id, measure, currency, amount, approx) "
    "SELECT id, 'value_medicines', 'VND', (1 + id % 30) * 1000000, 0 FROM reports WHERE (id - 1) % 9 = 5",
)

# The year's reports and the measures the shipped indicator file adds up, grouped by cell.
NEEDED = ("delegation_people", "delegations", "gift_packages", "patients", "scholarships", "value_cash", "value_gifts",
          "value_medicines", "value_works")
BARE = (
    """SELECT r.unit_id, r.pair_id, r.partner_country, COALESCE(r.partner_province, ''), r.kind, r.venue,
              COALESCE(json_extract(r.details, '$.direction'), ''), r.event_id, COUNT(r.id)
       FROM reports r WHERE r.status = 'submitted' AND r.activity_date >= :start AND r.activity_date <= :end
       GROUP BY 1, 2, 3, 4, 5, 6, 7, 8""",
    """SELECT r.unit_id, r.pair_id, r.partner_country, COALESCE(r.partner_province, ''), r.kind, r.venue,
              COALESCE(json_extract(r.details, '$.direction'), ''), r.event_id, m.measure, m.currency, SUM(m.amount)
       FROM report_measures m JOIN reports r ON r.id = m.report_id
       WHERE r.status = 'submitted' AND r.activity_date >= :start AND r.activity_date <= :end
             AND +m.measure IN ('""" + "', '".join(NEEDED) + """')
       GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10""",
)


def generate(path: Path, count: int, year: int) -> float:
    started = time.perf_counter()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    # The FTS triggers would index a million empty texts one by one; the bench never searches.
    triggers = con.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'reports_fts_%'"
                           ).fetchall()
    for (sql,) in triggers:
        con.execute(f"DROP TRIGGER {sql.split()[2]}")
    # Indexes built once from the finished tables rather than row by row (ix_reports_groups evaluates JSON).
    indexes = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                          "AND tbl_name IN ('reports', 'report_measures')").fetchall()
    for name, _sql in indexes:
        con.execute(f"DROP INDEX {name}")
    con.execute("INSERT INTO people (display_name, role, created_at) VALUES ('Bench author', 'officer', "
                "'2026-01-01 00:00:00')")
    author = con.execute("SELECT max(id) FROM people").fetchone()[0]
    con.execute(GENERATE_REPORTS, {"count": count, "author": author, "last_day": f"{year}-12-31",
                                   "days": YEARS * 365})
    for statement in GENERATE_MEASURES:
        con.execute(statement)
    for _name, sql in indexes:
        con.execute(sql)
    for (sql,) in triggers:
        con.execute(sql)
    con.commit()
    con.execute("ANALYZE")
    con.close()
    return time.perf_counter() - started


CPU: dict[str, float] = {}


async def timed(repeat: int, run, name: str = "") -> tuple[float, object]:  # type: ignore[no-untyped-def]
    """The median wall time of ``repeat`` warm runs; the median CPU time of the process (every thread, SQLite's
    included) goes to ``CPU[name]``: on a busy machine the wall time grows, the CPU time much less."""
    result = await run()  # warm-up
    times, cpu = [], []
    for _ in range(repeat):
        started, used = time.perf_counter(), time.process_time()
        result = await run()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    CPU[name] = statistics.median(cpu)
    return statistics.median(times), result


async def measure(url: str, year: int, repeat: int) -> dict[str, float]:
    from zoneinfo import ZoneInfo

    from handlers.annual import load_spec
    from handlers.annual_docx import render_docx
    from handlers.annual_report import collect, country_subject, tables
    from handlers.annual_xlsx import render_xlsx
    from handlers.filters import parse_period

    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    today = dt.date(year, 12, 31)
    db = Database(url)
    try:
        async with db.reader() as session:
            spec = await load_spec(session)
            total = await session.scalar(text("SELECT count(*) FROM reports"))
            measures = await session.scalar(text("SELECT count(*) FROM report_measures"))
        period = parse_period(str(year), today, year_start=spec.year_start)

        async def annual() -> object:
            async with db.reader() as session, db.reader() as side:
                report = await collect(session, country_subject(), period, spec, today=today, tz=tz, side=side)
            return report, tables(report)

        async def bare() -> object:
            async with db.reader() as session:
                return [(await session.execute(text(sql), {"start": period.start, "end": period.end})).all()
                        for sql in BARE]

        annual_time, (report, built) = await timed(repeat, annual, "annual")  # type: ignore[misc]
        bare_time, bare_rows = await timed(repeat, bare, "bare")
        docx_time, docx = await timed(max(1, repeat // 2), lambda: asyncio.to_thread(render_docx, report))
        xlsx_time, xlsx = await timed(max(1, repeat // 2), lambda: asyncio.to_thread(render_xlsx, report))
    finally:
        await db.dispose()
    activities = report.current.total["activities"].figure
    print(f"reports in the database     {total:>12,}  ({measures:,} measures)")
    print(f"year {year}, whole country: {activities:,} activities, {len(bare_rows[0]):,} + {len(bare_rows[1]):,} "
          f"aggregate rows, {len(report.rates)} units × {report.weeks} weeks, {len(report.pairs)} pairs, "
          f"{len(built)} tables")
    print(f"annual table (queries + tables) {annual_time * 1000:>8.1f} ms   (CPU {CPU['annual'] * 1000:.0f} ms)")
    print(f"bare SQL aggregate              {bare_time * 1000:>8.1f} ms   (CPU {CPU['bare'] * 1000:.0f} ms; the year "
          "itself, where the table also reads the year before, rates and pairs)")
    print(f"ratio                           {annual_time / bare_time:>8.2f} x")
    print(f"load average                    {os.getloadavg()[0]:>8.2f}      ({os.cpu_count()} CPUs)")
    print(f"DOCX (information)              {docx_time * 1000:>8.1f} ms, {len(docx) // 1024} KiB")  # type: ignore[arg-type]
    print(f"XLSX (information)              {xlsx_time * 1000:>8.1f} ms, {len(xlsx) // 1024} KiB")  # type: ignore[arg-type]
    return {"annual": annual_time, "bare": bare_time}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build the database here (reused if it exists)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "bench.db"
        url = f"sqlite+aiosqlite:///{path}"
        if not (args.keep and path.exists()):
            asyncio.run(prepare(url))
            print(f"generated {args.reports:,} reports in {generate(path, args.reports, args.year):.1f} s "
                  f"({os.path.getsize(path) / 2**20:.0f} MiB)")
        times = asyncio.run(measure(url, args.year, args.repeat))
    ok = times["annual"] < TARGET_SECONDS
    print(f"target: annual table < {TARGET_SECONDS:.0f} s: " + ("met" if ok else "MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
