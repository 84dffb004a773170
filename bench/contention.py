"""Do a coordinator's /digest and an admin's /export of a year hold other officers up?

    python bench/contention.py [--backend sqlite|pg|both] [--reports 100000] [--officers 20] [--phase-seconds 60]
                               [--think 1.0] [--phases ADBC] [--stacks] [--profile FILE] [--loop-debug]

On a database of ``--reports`` reports (filled in seconds by one INSERT … SELECT, spread over the 365 days up to
today), the real bot runs in a child process as in production (``bot.serve``, long polling against the
loopback Bot API stand-in ``tests/botapi_stub.py``; the machinery is ``bench/report_flow.py``'s). ``--officers``
officers file reports through it, one step at a time, each pausing a random 0–2×``--think`` seconds (uniform,
1 s on average) before each step, as a person reading and typing would: a moderate load (about
officers/think steps a second), not the back-to-back stress of report_flow.py. Then three phases of
``--phase-seconds`` each, officers filing all along:

* **A**, nobody else: the officers' step latency without a long command (the yardstick);
* **B**, a coordinator of the cluster with the most reports sends ``/digest last`` (last week, a whole one),
  waits until the text and then the chart and the spreadsheet have arrived, and sends it again;
* **C**, an admin sends ``/export year`` (this calendar year, every report of it: most of the database),
  waits for the spreadsheet, and sends it again;
* **D**, the control (run after A): officers while a process of no use spins one core, as a drawing process
  keeps one busy. No target: on a 2-core machine it shows how much of B's and C's figure a busy core alone
  explains, before any waiting on the bot's event loop or a lock. **E** (only if asked, ``--phases ADEBC``): the
  same spinner at nice 19, what a lower priority for the drawing processes would give.

B and C last at least ``--phase-seconds`` and at least one command, whichever is longer; the officers' steps
counted are those begun before the phase's last command was answered. Printed per phase: officers' step p50 /
p99, how long the coordinator waited for the digest's text and for its files (B) or for the export's file (C),
the bot's CPU (event-loop thread, and its drawing processes), the event-loop stalls the bot noticed, and the
ratios p99(B)/p99(A), p99(C)/p99(A) against the target (<= 2x, issue 17) as TARGET MET / TARGET MISSED.

Where the time goes: the bot logs every event-loop stall over --stall-ms (50 ms; counted per phase). ``--stacks`` also
samples, at each stall, where the loop's thread is (twinbot's innermost frames, and the innermost of all): a
stall caught in ``selectors.select`` means the loop was idle and the process was waiting for a core, not
blocked by code. ``--loop-debug`` (asyncio debug mode: the task whose step ran too long) and ``--profile``
(cProfile of the bot) slow the bot down: for finding causes, not for the figures.

Correct or not: every officer's step answered, every command's text and files arrived (PNG chart, XLSX files,
the export listing the year's reports), no stand-in violation, no exception in the bot's log, the reports in
the database exactly those the officers completed. Exit status 1 if not; 0 otherwise, targets met or not.

PostgreSQL: the database ``--pg-database`` (default twinbot_contention) on 127.0.0.1:5432 is dropped and made
again for each run. The machine is shared: the load average is printed before and after each phase.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import json
import logging
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.loopback import install_loopback_guard  # noqa: E402
from bench.report_flow import (  # noqa: E402
    REPORT_SCRIPT,
    BotProcess,
    Observer,
    Sample,
    SimUser,
    StepFailed,
    count_reports,
    exit_status,
    load_average,
    make_stub_class,
    percentile,
    prepare_database,
    process_cpu_seconds,
    serve_twinbot,
)

TARGET_RATIO = 2.0
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAYS = 365
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
NEVER = "0 0 30 2 *"  # no scheduled digest or reminder during the run: only the commands measured
STALL_MS = 50.0  # the bot logs every event-loop stall longer than this
STALL_LINE = re.compile(r"event loop stalled (\d+) ms")
SLOW_CALLBACK = re.compile(r"Executing (.*) took (\d+\.\d+) seconds")
BLOCKED_AT = re.compile(r"loop blocked at: (.*)")
DIGEST = "/digest last"
EXPORT = "/export year"
COMMAND_TIMEOUT = 600.0

# --- the database: reports in bulk ----------------------------------------------------------------

# Every unit in turn (n * 31 modulo the number of units), kinds and venues in turn, dates spread evenly over the
# DAYS days up to :last_day; one report in 97 withdrawn. As bench/digest.py, in each dialect.
_UNITS = """
units_numbered AS (
    SELECT u.id AS unit_id, ROW_NUMBER() OVER (ORDER BY u.id) - 1 AS k,
           p.id AS pair_id, COALESCE(p.partner_name, 'Đối tác ' || u.code) AS partner_name,
           COALESCE(p.partner_country, 'LA') AS partner_country, p.partner_province
    FROM units u LEFT JOIN twinning_pairs p ON p.id = (SELECT MIN(id) FROM twinning_pairs WHERE unit_id = u.id)
    WHERE u.active
),
unit_count(c) AS (SELECT COUNT(*) FROM units_numbered)"""
_COLUMNS = """
INSERT INTO reports (draft_token, unit_id, author_person_id, channel, kind, activity_date, pair_id, partner_name,
                     partner_country, partner_province, venue, description, details,
                     latitude, longitude, status, status_reason, search_text, version, created_at, updated_at)"""
_VALUES = """
SELECT 'bench-' || n, un.unit_id, :author, 'telegram',
       CASE n % 9 WHEN 0 THEN 'exchange' WHEN 1 THEN 'donation' WHEN 2 THEN 'visit' WHEN 3 THEN 'delegation'
                  WHEN 4 THEN 'patrol' WHEN 5 THEN 'medical' WHEN 6 THEN 'outreach' WHEN 7 THEN 'twinning'
                  ELSE 'other' END,
       {day}, un.pair_id, un.partner_name, un.partner_country, un.partner_province,
       CASE n % 5 WHEN 0 THEN 'partner' WHEN 1 THEN 'both' WHEN 2 THEN 'border' ELSE 'ours' END,
       'Hoạt động hữu nghị số ' || n || ' với đơn vị kết nghĩa bên kia biên giới', '{{}}',
       NULL, NULL, CASE WHEN n % 97 = 0 THEN 'withdrawn' ELSE 'submitted' END, NULL, '', 1, {at}, {at}"""
GENERATE = {
    "sqlite": "WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < :count - 1)," + _UNITS
    + _COLUMNS + _VALUES.format(day="date(:last_day, '-' || ((n * 7919) % :days) || ' days')",
                                at="datetime(:last_day, '-' || ((n * 7919) % :days) || ' days', '-2 hours')")
    + "\nFROM seq JOIN unit_count JOIN units_numbered un ON un.k = (seq.n * 31) % unit_count.c",
    "postgresql": "WITH" + _UNITS + _COLUMNS + _VALUES.format(
        day="CAST(:last_day AS date) - (n * 7919) % :days",
        at="CAST(:last_day AS timestamp) - ((n * 7919) % :days) * interval '1 day' - interval '2 hours'")
    + "\nFROM generate_series(0, :count - 1) AS seq(n) CROSS JOIN unit_count "
    "JOIN units_numbered un ON un.k = (seq.n * 31) % unit_count.c",
}
# The figures of each report, as the report flow stores them (bench/digest.py).
MEASURES = """
INSERT INTO report_measures (report_id, measure, currency, amount, approx)
SELECT id, 'participants_ours', '', 5 + (id * 13) % 60, {no} FROM reports WHERE draft_token LIKE 'bench-%'
UNION ALL SELECT id, 'participants_partner', '', 3 + (id * 17) % 80, {no} FROM reports WHERE draft_token LIKE 'bench-%'
UNION ALL SELECT id, 'gift_packages', '', 20 + (id % 200), {no} FROM reports
          WHERE kind = 'donation' AND draft_token LIKE 'bench-%'
UNION ALL SELECT id, CASE kind WHEN 'donation' THEN 'value_gifts' ELSE 'value_medicines' END,
                 CASE WHEN id % 23 = 0 THEN 'USD' WHEN id % 29 = 0 THEN 'CNY' ELSE 'VND' END,
                 (1 + id % 50) * 1000000, {no} FROM reports
          WHERE kind IN ('donation', 'medical') AND draft_token LIKE 'bench-%'
"""


@dataclass
class World:
    url: str
    officers: list[tuple[int, str, str]]  # (telegram user id, language, invite code)
    coordinator: tuple[int, str]  # (telegram user id, invite code)
    admin: tuple[int, str]
    reports_before: int
    cluster_number: int
    week_reports: int  # the coordinator's cluster, last week
    year_reports: int  # what /export year lists
    fill_seconds: float


async def recreate_pg_database(name: str) -> str:
    import asyncpg

    if name in ("test", "postgres"):
        raise SystemExit(f"refusing to drop the database {name!r}")
    connection = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def build_world(url: str, args: argparse.Namespace, first_user_id: int) -> World:
    """Migrated, sample registry, officers invited (report_flow's ``prepare_database``), then a coordinator of the
    cluster with the most units, an admin, and ``--reports`` reports with their figures."""
    from sqlalchemy import func, select, text

    from storage import people
    from storage.db import Database
    from storage.digests import IsoWeek, report_rows_query
    from storage.models import Cluster, Province, Unit
    from storage.scope import Scope

    officers, _ = await prepare_database(url, args.officers, first_user_id)
    today = dt.datetime.now(TZ).date()
    db = Database(url)
    try:
        async with db.unit_of_work() as uow:
            session = uow.session
            biggest = (await session.execute(
                select(Cluster, func.count(Unit.id)).join(Province, Province.cluster_id == Cluster.id)
                .join(Unit, Unit.province_code == Province.code).where(Unit.active)
                .group_by(Cluster.id).order_by(func.count(Unit.id).desc(), Cluster.number).limit(1))).first()
            assert biggest is not None, "the sample registry has no cluster with units"
            cluster = biggest[0]
            now = dt.datetime.now(dt.UTC)
            coordinator = await people.create_invite(session, role="coordinator", cluster=cluster, now=now, days=7)
            admin = await people.create_invite(session, role="admin", now=now, days=7)
            await uow.commit()
            cluster_number, cluster_id = cluster.number, cluster.id
            codes = coordinator.code, admin.code
        started = time.perf_counter()
        async with db.engine.begin() as connection:
            dialect = connection.dialect.name
            author_id = (await connection.execute(text(
                "INSERT INTO people (display_name, role, created_at) VALUES ('Bench author', 'officer', :at) "
                "RETURNING id"), {"at": now.replace(tzinfo=None)})).scalar_one()
            await connection.execute(text(GENERATE[dialect]), {
                "count": args.reports, "author": author_id, "days": DAYS,
                "last_day": today if dialect == "postgresql" else today.isoformat()})
            await connection.execute(text(MEASURES.format(no="false" if dialect == "postgresql" else "0")))
            await connection.execute(text("ANALYZE"))
        fill_seconds = time.perf_counter() - started
        last_week = IsoWeek.of(today).shift(-1)
        async with db.reader() as session:
            week_reports = int(await session.scalar(select(func.count()).select_from(report_rows_query(
                start=last_week.start, end=last_week.end, scope=Scope.cluster(cluster_id)).subquery())) or 0)
            year_reports = int(await session.scalar(select(func.count()).select_from(report_rows_query(
                start=today.replace(month=1, day=1), end=today, scope=Scope(everything=True)).subquery())) or 0)
            reports_before = int(await session.scalar(text("SELECT count(*) FROM reports")) or 0)
    finally:
        await db.dispose()
    coordinator_id, admin_id = first_user_id + args.officers, first_user_id + args.officers + 1
    return World(url, officers, (coordinator_id, codes[0]), (admin_id, codes[1]), reports_before, cluster_number,
                 week_reports, year_reports, fill_seconds)


# --- the bot process ------------------------------------------------------------------------------


def child_main(args: argparse.Namespace) -> int:
    """The bot: report_flow's twinbot (``bot.serve``, long polling), no scheduled digests, and a watch on its
    event loop that logs every stall longer than --stall-ms (and, with --loop-debug, asyncio's own report of the
    callback that ran too long)."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="[twinbot bot] %(asctime)s %(levelname)s %(name)s: %(message)s")
    install_loopback_guard()
    os.environ["TWINBOT_DIGEST_SCHEDULE"] = os.environ["TWINBOT_REMINDER_SCHEDULE"] = NEVER
    stall_log = logging.getLogger("bench.loop")

    beat = [time.monotonic()]

    async def watch_loop() -> None:
        loop = asyncio.get_running_loop()
        interval = 0.01
        while True:
            before = loop.time()
            await asyncio.sleep(interval)
            beat[0] = time.monotonic()
            late = (loop.time() - before - interval) * 1000
            if late > args.stall_ms:
                stall_log.warning("event loop stalled %.0f ms", late)

    if args.stacks:
        threading.Thread(target=sample_stalls, args=(beat, threading.main_thread().ident, args.stall_ms),
                         daemon=True, name="bench-stall-sampler").start()

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        if args.loop_debug:
            loop.set_debug(True)
            loop.slow_callback_duration = args.stall_ms / 1000
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        loop.call_later(args.max_seconds, stop.set)  # never outlive a parent that went away
        watcher = asyncio.create_task(watch_loop())
        try:
            await serve_twinbot(args.api_base, args.database_url, stop)
        finally:
            watcher.cancel()

    started = time.perf_counter()
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    try:
        asyncio.run(run())
    finally:
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        usage = os.times()
        print(json.dumps({"cpu": usage.user + usage.system, "wall": time.perf_counter() - started}), flush=True)
    return 0


def sample_stalls(beat: list[float], thread: int | None, threshold_ms: float) -> None:
    """--stacks: whenever the event loop has not come round for ``threshold_ms``, log where its thread is, once per
    stall: the innermost frames of twinbot's own code (bot/, handlers/, storage/) and the innermost one of all.
    A statistical answer to "what blocks the loop", without the profiler's overhead on every call."""
    log = logging.getLogger("bench.loop")
    ours = re.compile(r"/(bot|handlers|storage)/[^/]+\.py$")
    reported = 0.0
    while True:
        time.sleep(0.005)
        stalled = time.monotonic() - beat[0]
        if stalled * 1000 < threshold_ms or beat[0] == reported:
            continue
        frame = sys._current_frames().get(thread or 0)
        if frame is None:
            continue
        reported = beat[0]
        stack = traceback.extract_stack(frame)
        own = [f"{Path(f.filename).parent.name}/{Path(f.filename).name}:{f.lineno} {f.name}" for f in stack
               if ours.search(f.filename)][-3:]
        last = stack[-1]
        log.warning("loop blocked at: %s | innermost %s:%s %s", " < ".join(reversed(own)) or "-",
                    last.filename.split("site-packages/")[-1], last.lineno, last.name)


def descendants_cpu(pid: int) -> float:
    """CPU seconds so far of the processes started by ``pid`` (the drawing processes), as far as /proc tells:
    those alive, and those gone and waited for (a drawing process is replaced after 50 tasks)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    # cutime and cstime (fields 16 and 17 of stat; 14 and 15 after the name): children already reaped.
    total = (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    for child in children:
        total += process_cpu_seconds(int(child)) + descendants_cpu(int(child))
    return total


# --- the people -----------------------------------------------------------------------------------


@dataclass
class Seen:
    at: float
    method: str
    params: dict[str, Any]


class Leader(SimUser):
    """A coordinator or an admin: sends a command and waits for everything it brings (texts and files)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen_calls: list[Seen] = []
        self.changed = asyncio.Event()

    def record(self, at: float, method: str, params: dict[str, Any]) -> None:
        self.seen_calls.append(Seen(at, method, params))
        self.changed.set()

    async def command(self, words: str, complete: Callable[[list[Seen]], bool],
                      within: float) -> tuple[float, list[Seen]]:
        """(when the update was pushed, the calls to this chat since), once ``complete`` says all has come."""
        first = len(self.seen_calls)
        pushed = time.perf_counter()
        self.stub.push_update(self.message(words))
        async with asyncio.timeout(within):
            while True:
                got = self.seen_calls[first:]
                if complete(got):
                    return pushed, got
                for call in got:
                    if call.method == "sendMessage" and "Sorry" in str(call.params.get("text")):
                        raise StepFailed(f"{words!r} was answered with an apology: {call.params['text'][:200]!r}")
                self.changed.clear()
                await self.changed.wait()


def of(calls: list[Seen], method: str) -> list[Seen]:
    return [c for c in calls if c.method == method]


def upload(call: Seen, key: str) -> dict[str, Any]:
    value = call.params.get(key)
    return value if isinstance(value, dict) else {}


@dataclass
class Wait:
    """One long command, as its sender lived it (seconds from the update pushed)."""
    text: float  # the first answer: the digest's text, or the export's "preparing …"
    files: float  # the last file
    problems: list[str] = field(default_factory=list)


async def one_digest(leader: Leader, week_reports: int) -> Wait:
    def complete(calls: list[Seen]) -> bool:
        return (len(of(calls, "sendMessage")) >= 2 and bool(of(calls, "sendPhoto"))
                and bool(of(calls, "sendDocument")))

    pushed, calls = await leader.command(DIGEST, complete, COMMAND_TIMEOUT)
    text, photo, document = of(calls, "sendMessage")[0], of(calls, "sendPhoto")[0], of(calls, "sendDocument")[0]
    wait = Wait(text.at - pushed, max(photo.at, document.at) - pushed)
    if text.at > photo.at:
        wait.problems.append("the digest's chart came before its text")
    body = str(text.params.get("text"))
    if "Cluster" not in body and "cluster" not in body:
        wait.problems.append(f"the digest's text is not a digest: {body[:200]!r}")
    for call, key, suffix in ((photo, "photo", ".png"), (document, "document", ".xlsx")):
        info = upload(call, key)
        if not str(info.get("filename", "")).endswith(suffix) or not info.get("size"):
            wait.problems.append(f"the digest's {key} is not a {suffix} file: {info}")
    if week_reports == 0:
        wait.problems.append("the digest's week has no reports: a light digest measures nothing")
    return wait


async def one_export(leader: Leader, year_reports: int, filed: Callable[[], int]) -> Wait:
    """``filed()``: at most how many reports officers have submitted so far (those completed, and one each in
    flight); the export lists the year's reports and these."""
    def complete(calls: list[Seen]) -> bool:
        return len(of(calls, "sendMessage")) >= 2 and bool(of(calls, "sendDocument"))

    pushed, calls = await leader.command(EXPORT, complete, COMMAND_TIMEOUT)
    preparing, document = of(calls, "sendMessage")[0], of(calls, "sendDocument")[0]
    wait = Wait(preparing.at - pushed, document.at - pushed)
    info = upload(document, "document")
    if not str(info.get("filename", "")).endswith(".xlsx") or not info.get("size"):
        wait.problems.append(f"the export is not an .xlsx file: {info}")
    caption = str(document.params.get("caption") or "")
    listed = int(re.sub(r"[^\d]", "", caption.split(" report")[0]) or 0)
    if not year_reports <= listed <= year_reports + filed():
        wait.problems.append(f"the export lists {listed} reports ({caption!r}); the year has {year_reports} "
                             f"and officers filed {filed()} more")
    return wait


# --- one run: a database, a bot, three phases ------------------------------------------------------


@dataclass
class Phase:
    name: str
    what: str
    samples: list[Sample] = field(default_factory=list)
    waits: list[Wait] = field(default_factory=list)
    wall: float = 0.0
    load_before: str = ""
    load_after: str = ""
    bot_cpu: float = float("nan")
    loop_cpu: float = float("nan")
    drawing_cpu: float = float("nan")
    stalls: list[int] = field(default_factory=list)  # ms
    slow_callbacks: list[str] = field(default_factory=list)
    blocked_at: list[str] = field(default_factory=list)  # --stacks

    def p(self, q: float) -> float:
        return percentile([s.full for s in self.samples], q) * 1000


@dataclass
class Run:
    backend: str
    world: World
    phases: list[Phase] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    completed_reports: int = 0
    bot_log: str = ""


async def run_backend(backend: str, args: argparse.Namespace, workdir: Path) -> Run:
    if backend == "pg":
        url = await recreate_pg_database(args.pg_database)
    else:
        url = f"sqlite+aiosqlite:///{workdir}/contention.db"
    stamp = int(time.time()) % 1_000_000
    first_user_id, first_update_id = 7_000_000_000 + stamp * 10_000, 100_000_000 + stamp * 1_000
    print(f"\n=== {backend}: filling {args.reports:,} reports …", flush=True)
    world = await build_world(url, args, first_user_id)
    print(f"{world.reports_before:,} reports in {world.fill_seconds:.1f} s; cluster {world.cluster_number}: "
          f"{world.week_reports:,} reports last week; {world.year_reports:,} reports this year", flush=True)
    run = Run(backend, world)

    observer = Observer()
    leaders: dict[int, Leader] = {}

    def observe(call: Any, result: Any) -> None:
        observer(call, result)
        chat = call.params.get("chat_id")
        leader = leaders.get(int(chat)) if str(chat).lstrip("-").isdigit() else None
        if leader is not None:
            leader.record(time.perf_counter(), call.method, call.params)

    stub = make_stub_class()(observe, first_update_id)
    await stub.start()
    log = workdir / f"{backend}-bot.log"
    run.bot_log = str(log)
    extra = (*(["--loop-debug"] if args.loop_debug else []), *(["--stacks"] if args.stacks else []),
             "--stall-ms", str(args.stall_ms))
    profile = f"{args.profile}.{backend}" if args.profile else None  # main() made args.profile absolute
    bot = BotProcess("twinbot", stub.base_url, url, max_seconds=args.phase_seconds * 3 + 1200, log=log,
                     profile=profile, script=SCRIPT, extra=extra)
    try:
        await bot.start(stub)
        officers = [SimUser(uid, lang, f"Cán bộ {n}", stub, args.step_timeout)
                    for n, (uid, lang, _code) in enumerate(world.officers, 1)]
        coordinator = Leader(world.coordinator[0], "en", "Điều phối", stub, args.step_timeout)
        admin = Leader(world.admin[0], "en", "Quản trị", stub, args.step_timeout)
        leaders.update({coordinator.id: coordinator, admin.id: admin})
        observer.users = {u.id: u for u in [*officers, coordinator, admin]}
        codes = {uid: code for uid, _lang, code in world.officers}
        codes.update({coordinator.id: world.coordinator[1], admin.id: world.admin[1]})

        async def register(user: SimUser) -> None:
            await user.step("/start CODE", user.message(f"/start {codes[user.id]}"), {"message", "commands"})

        outcomes = await asyncio.gather(*(register(u) for u in observer.users.values()), return_exceptions=True)
        run.errors += [f"registration: {o}" for o in outcomes if isinstance(o, BaseException)]
        if run.errors:
            return run
        completed: dict[int, int] = {u.id: 0 for u in officers}

        def submitted() -> int:
            return sum(completed.values()) + len(officers)  # at most: one more each may be in flight

        def bot_cpu() -> tuple[float, float, float]:
            """CPU seconds so far of the bot: whole process, its event-loop thread, its drawing processes."""
            pid = bot.proc.pid if bot.proc else 0
            return process_cpu_seconds(pid), process_cpu_seconds(pid, pid), descendants_cpu(pid)

        async def phase(name: str, what: str, leader: Callable[[], Any] | None) -> Phase:
            result = Phase(name, what, load_before=load_average())
            stop = asyncio.Event()
            end_of_window = [float("inf")]

            async def officer(user: SimUser) -> None:
                pace = random.Random(f"{user.id}-{name}")
                while not stop.is_set():
                    for step, action, arg in REPORT_SCRIPT:
                        await asyncio.sleep(pace.uniform(0, 2 * args.think))
                        sample = await user.twinbot_step(step, action, arg)
                        if time.perf_counter() - sample.full < end_of_window[0]:
                            result.samples.append(sample)
                    completed[user.id] += 1

            log_from = log.stat().st_size
            cpu0 = bot_cpu()
            started = time.perf_counter()
            tasks = [asyncio.create_task(officer(u)) for u in officers]
            try:
                await asyncio.sleep(min(5.0, args.phase_seconds / 4))  # officers under way first
                if leader is None:
                    await asyncio.sleep(args.phase_seconds)
                else:
                    deadline = time.perf_counter() + args.phase_seconds
                    while True:
                        result.waits.append(await leader())
                        if time.perf_counter() >= deadline:
                            break
                        await asyncio.sleep(0.5)
                end_of_window[0] = time.perf_counter()
                result.wall = end_of_window[0] - started
                cpu1 = bot_cpu()
                result.bot_cpu, result.loop_cpu, result.drawing_cpu = (b - a for a, b in zip(cpu0, cpu1, strict=True))
                stop.set()
                await asyncio.gather(*tasks)
            except BaseException:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise
            result.load_after = load_average()
            text = log.read_bytes()[log_from:].decode(errors="replace")
            result.stalls = [int(m.group(1)) for m in STALL_LINE.finditer(text)]
            result.blocked_at = [m.group(1) for m in BLOCKED_AT.finditer(text)]
            result.slow_callbacks = [f"{float(m.group(2)) * 1000:.0f} ms: {m.group(1)[:300]}"
                                     for m in SLOW_CALLBACK.finditer(text)]
            for wait in result.waits:
                run.errors += [f"phase {name}: {p}" for p in wait.problems]
            print(f"  phase {name} ({what}): {len(result.samples)} steps in {result.wall:.0f} s, p50 "
                  f"{result.p(50):.0f} ms, p99 {result.p(99):.0f} ms; load {result.load_before} -> "
                  f"{result.load_after}", flush=True)
            return result

        async def spin(nice: int = 0) -> Wait:
            """The control: a process doing nothing but keep one core busy for the phase, as a drawing process
            does; no database, no bot work. What a busy core alone does to the officers' steps."""
            spinner = await asyncio.create_subprocess_exec(
                sys.executable, "-c", f"import os, time\nos.nice({nice})\nend = time.time() + {args.phase_seconds}\n"
                "while time.time() < end: pass")
            started = time.perf_counter()
            await spinner.wait()
            return Wait(0.0, time.perf_counter() - started)

        try:
            if "A" in args.phases:
                run.phases.append(await phase("A", "officers only", None))
            if "D" in args.phases:
                run.phases.append(await phase("D", "control: a process spinning a core", spin))
            if "E" in args.phases:
                run.phases.append(await phase("E", "control: the same, spinning at nice 19", lambda: spin(19)))
            if "B" in args.phases:
                run.phases.append(await phase("B", f"a coordinator repeating {DIGEST}",
                                              lambda: one_digest(coordinator, world.week_reports)))
            if "C" in args.phases:
                run.phases.append(await phase("C", f"an admin repeating {EXPORT}",
                                              lambda: one_export(admin, world.year_reports, submitted)))
        except (StepFailed, TimeoutError) as exc:
            run.errors.append(f"{type(exc).__name__}: {exc}")
        run.completed_reports = sum(completed.values())
        await asyncio.sleep(0.5)  # trailing calls
        total, per_user = await count_reports(url, [u.id for u in officers])
        mine = sum(per_user.values())
        if mine != run.completed_reports or total - world.reports_before != run.completed_reports:
            run.errors.append(f"officers completed {run.completed_reports} reports; the database has {mine} by "
                              f"them and {total - world.reports_before} new in all")
        wrong = {u: (per_user.get(u, 0), n) for u, n in completed.items() if per_user.get(u, 0) != n}
        if wrong:
            run.errors.append(f"officers whose reports (stored, completed) differ: {dict(list(wrong.items())[:5])}")
    finally:
        await bot.stop()
        run.errors += [f"Bot API refusal: {v}" for v in stub.violations[:10]]
        errors = bot.errors()
        if errors:
            run.errors.append(f"the bot logged exceptions (log: {log}):")
            run.errors += [f"    {line}" for line in errors[:8]]
        await stub.close()
    return run


# --- report ---------------------------------------------------------------------------------------


def ms(seconds: list[float], q: float) -> str:
    return f"{percentile(seconds, q) * 1000:.0f}" if seconds else "-"


def print_run(run: Run, args: argparse.Namespace) -> list[str]:
    """The figures of one backend; the lines of its verdicts."""
    w = run.world
    print(f"\n{run.backend}: {w.reports_before:,} reports, {args.officers} officers pausing 0–{2 * args.think:g} s "
          f"before each step, phases of {args.phase_seconds:g} s; {os.cpu_count()} CPUs")
    print(f"  {'phase':<44}{'steps':>7}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'runs':>6}"
          f"{'text ms':>16}{'files ms':>18}")
    for p in run.phases:
        texts, files = ([x.text for x in p.waits], [x.files for x in p.waits]) if p.name not in "DE" else ([], [])
        text = f"{ms(texts, 50)}/{ms(texts, 100)}" if texts else "-"
        file = f"{ms(files, 50)}/{ms(files, 100)}" if files else "-"
        print(f"  {p.name}: {p.what:<41}{len(p.samples):>7}{p.p(50):>8.0f}{p.p(99):>8.0f}{p.p(100):>8.0f}"
              f"{len(p.waits) or '-':>6}{text:>16}{file:>18}")
    print("  (text / files: the leader's wait, median/max over the runs; B's text is the digest, C's the export's "
          "\"preparing\" message; files: the chart and spreadsheet, or the export)")
    print(f"  {'phase':<8}{'bot CPU s':>10}{'of it loop':>12}{'drawing CPU s':>15}{f'stalls>{args.stall_ms:g}ms':>18}"
          f"{'longest ms':>12}   load average before -> after")
    for p in run.phases:
        print(f"  {p.name:<8}{p.bot_cpu:>10.1f}{p.loop_cpu:>12.1f}{p.drawing_cpu:>15.1f}{len(p.stalls):>18}"
              f"{max(p.stalls, default=0):>12}   {p.load_before} -> {p.load_after}")
    for p in run.phases:
        if p.slow_callbacks:
            print(f"  asyncio slow callbacks in phase {p.name} ({len(p.slow_callbacks)}), longest first:")
            for line in sorted(p.slow_callbacks, key=lambda s: -float(s.split()[0]))[:8]:
                print(f"    {line}")
    for p in run.phases:
        if p.blocked_at:
            print(f"  where the bot's loop was when it stalled in phase {p.name} ({len(p.blocked_at)} samples), "
                  "most frequent first:")
            for where, n in Counter(p.blocked_at).most_common(12):
                print(f"    {n:>4} x {where[:400]}")
    verdicts = []
    base = next((p for p in run.phases if p.name == "A"), None)
    for p in run.phases:
        if base is None or p is base:
            continue
        ratio = p.p(99) / base.p(99) if base.p(99) else float("nan")
        if p.name in ("D", "E"):
            print(f"  control (no target): officers' p99 while a process spins one core"
                  f"{' at nice 19' if p.name == 'E' else ''}: {p.p(99):.0f} ms = {ratio:.2f} x without")
            continue
        verdict = (f"{'TARGET MET' if ratio <= TARGET_RATIO else 'TARGET MISSED'}: {run.backend} officers' p99 "
                   f"while {p.what.split('repeating ')[-1]} runs: {p.p(99):.0f} ms = {ratio:.2f} x "
                   f"without ({base.p(99):.0f} ms); target <= {TARGET_RATIO:g} x")
        print(f"  {verdict}")
        verdicts.append(verdict)
    return verdicts


def print_profile(path: str, limit: int = 30) -> None:
    import pstats

    print(f"\n--- cProfile of the bot process ({path}); its timings are inflated by the profiler ---")
    stats = pstats.Stats(path)
    stats.sort_stats("tottime").print_stats(limit)
    stats.sort_stats("cumulative").print_stats(r"(handlers|storage|bot)/", limit)


# --- main -----------------------------------------------------------------------------------------


async def bench(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="twinbot-contention-"))
    backends = ("sqlite", "pg") if args.backend == "both" else (args.backend,)
    failed: list[str] = []
    verdicts: list[str] = []
    finished = False
    print(f"load average at the start: {load_average()}; work directory {workdir}")
    try:
        for backend in backends:
            run = await run_backend(backend, args, workdir)
            verdicts += print_run(run, args)
            if run.errors:
                failed.append(f"{backend} (bot log {run.bot_log}):")
                failed += [f"  {e}" for e in run.errors[:20]]
            else:
                print(f"  {backend}: correct (every step answered, every file arrived, "
                      f"{run.completed_reports} reports stored as completed, no refusal, no exception)")
            if args.profile:
                print_profile(f"{args.profile}.{backend}")
        print()
        for line in verdicts:
            print(line)
        print(f"load average at the end: {load_average()}")
        finished = True
    finally:
        if failed or args.keep or not finished:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return exit_status(failed)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--backend", choices=("sqlite", "pg", "both"), default="both")
    parser.add_argument("--reports", type=int, default=100_000, help="reports in the database (default 100,000)")
    parser.add_argument("--officers", type=int, default=20, help="officers filing reports (default 20)")
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean pause of an officer before each step, s (uniform 0 to twice it; default 1)")
    parser.add_argument("--phase-seconds", type=float, default=60.0,
                        help="length of each phase (B and C: at least one whole command more); default 60")
    parser.add_argument("--pg-database", default="twinbot_contention",
                        help="PostgreSQL database on 127.0.0.1:5432, dropped and created again (default "
                             "twinbot_contention)")
    parser.add_argument("--step-timeout", type=float, default=60.0, help="give up on an officer's answer after (s)")
    parser.add_argument("--profile", metavar="FILE", default=None,
                        help="run the bot under cProfile, stats in FILE.<backend>, summary printed (slows it)")
    parser.add_argument("--loop-debug", action="store_true",
                        help="asyncio debug mode in the bot: each callback over --stall-ms logged, listed (slows it)")
    parser.add_argument("--phases", default="ADBC", type=str.upper,
                        help="the phases to run, in this order: A, D and E (the controls), B, C; e.g. AB to look "
                             "into the digest alone (default ADBC)")
    parser.add_argument("--stacks", action="store_true",
                        help="sample where the bot's event-loop thread is whenever the loop stalls (--stall-ms)")
    parser.add_argument("--stall-ms", type=float, default=STALL_MS,
                        help=f"log (and with --stacks sample) event-loop stalls over this (default {STALL_MS:g})")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (SQLite file, bot logs)")
    # Internal: the bot process (as report_flow's BotProcess starts it).
    parser.add_argument("--child", choices=("twinbot",), help=argparse.SUPPRESS)
    parser.add_argument("--api-base", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--max-seconds", type=float, default=3600, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.pg_database in ("test", "postgres"):
        parser.error(f"--pg-database {args.pg_database} is not this benchmark's to drop")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child_main(args)
    install_loopback_guard()
    if args.profile:
        args.profile = str(Path(args.profile).resolve())
    return asyncio.run(bench(args))


if __name__ == "__main__":
    sys.exit(main())
