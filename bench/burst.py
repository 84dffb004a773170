"""A burst: 1,000 registered officers all start a report within a short window, through the real bot.

    python bench/burst.py [--officers 1000] [--windows 10,60] [--backend sqlite|pg|both] [--database-url URL]
                          [--no-echo] [--profile PREFIX] [--seed N] [--pause MIN,MAX]

For each backend and window, a fresh bot process (``bot.serve`` with long polling, as bench/report_flow.py
runs it, against the loopback Bot API stand-in tests/botapi_stub.py) serves the officers. Each officer
begins at a uniformly random moment of the window and files one complete report (bench/report_flow.py's
REPORT_SCRIPT, 12 steps), pausing between steps as a person on a phone reads the answer and taps: uniformly
1-3 s (``PAUSE``; the first step, /report, comes at the officer's moment, with no pause). A report then takes
an officer about 22 s, so the 10 s window brings nearly all 1,000 at once, each stepping every 2 s on average
(about 550 steps in the busiest second, were every answer instant), and the 60 s window about a third of them
(about 230).

The yardstick, in the same run, is a bare aiogram echo bot (report_flow's) driven by the same schedule (same
seed: same moments, same pauses): what any bot on aiogram reaches under this burst on this machine.

Officers are registered directly in the database (``storage.people.create_invite`` then ``accept_invite``, what
``/start CODE`` does, without the chat), all at once before the first window; a few extra officers each file
one report back to back before the burst, so that the bot's first connections and caches are warm, as in a bot
that has been running. They are not counted in the figures.

Printed per window and backend: step latency p50/p99 (update pushed -> the bot's whole answer recorded by the
stand-in), bot CPU per step, the bot process's peak RSS (VmHWM), steps/s, and the checks: every step answered,
exactly one report per officer per window, no call the stand-in refused, no exception logged by the bot.
Targets (TARGET MET / TARGET MISSED): step p99 under 300 ms in the 10 s window and under 50 ms in the 60 s
window, on both backends. The driver (1,000 officers and the stand-in) shares the machine's cores with the
bot: its CPU share is printed, as is the load average, the time the bot was runnable but had no CPU (the run
queue, from /proc schedstat: other work on a shared machine) and, on PostgreSQL, the CPU of the database's
own backends. "Cores the busiest second needs" is the offered peak times the measured CPU per step: above
about 0.7 of one core (one process runs one event loop) answers queue, and the latency grows with the queue.

PostgreSQL: ``--database-url`` (used as it is: migrated, sample registry loaded) or, by default, the database
``twinbot_burst`` on 127.0.0.1:5432, dropped and created again at each run.

Exit status: 1 if a run was wrong (a step unanswered, a report missing or extra, a refused call, a logged
exception); 0 otherwise, whether or not the targets were met.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.loopback import install_loopback_guard  # noqa: E402
from bench.report_flow import (  # noqa: E402
    REPORT_SCRIPT,
    BotProcess,
    Observer,
    PhaseResult,
    Sample,
    SimUser,
    count_reports,
    cpu_seconds,
    exit_status,
    load_average,
    make_stub_class,
    percentile,
    prepare_database,
    print_profile,
    process_cpu_seconds,
)

PAUSE = (1.0, 3.0)  # seconds between an answer and the officer's next tap: read, think, tap
TARGET_P99_MS = {10.0: 300.0, 60.0: 50.0}
WARM_OFFICERS = 10
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DEFAULT_DATABASE = "twinbot_burst"
FIRST_USER_ID = 8_000_000_000


@dataclass
class BurstResult:
    backend: str  # "sqlite", "pg" or "echo"
    window: float
    phase: PhaseResult
    rss_peak_mb: float = float("nan")
    rss_start_mb: float = float("nan")
    in_flight_peak: int = 0  # officers whose step was unanswered at the same moment
    demand_peak: float = 0.0  # steps in the busiest second, were every answer instant
    cpu_wait: float = float("nan")  # seconds the bot was runnable but had no CPU, in the measured part
    server_cpu: float = float("nan")  # PostgreSQL's backends for this database, in the measured part
    reports: int = 0  # new reports by the burst's officers
    wrong_officers: dict[int, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.backend

    def failures(self) -> list[str]:
        p = self.phase
        out = [f"{self.backend} {self.window:g}s: {e}" for e in p.errors[:10]]
        if len(p.errors) > 10:
            out.append(f"{self.backend} {self.window:g}s: … and {len(p.errors) - 10} more errors")
        out += [f"{self.backend} {self.window:g}s: Bot API refusal: {v}" for v in p.violations[:10]]
        if p.bot_errors:
            out.append(f"{self.backend} {self.window:g}s: the bot logged exceptions (log: {p.bot_log}):")
            out += [f"    {line}" for line in p.bot_errors[:8]]
        if self.backend != "echo" and (self.reports != p.users or self.wrong_officers):
            wrong = dict(list(self.wrong_officers.items())[:10])
            out.append(f"{self.backend} {self.window:g}s: expected exactly {p.users} new reports (one per officer), "
                       f"found {self.reports}; officers with another count: {wrong}")
        return out


def cpu_wait_seconds(pid: int) -> float:
    """Seconds the process's threads so far spent runnable but waiting for a CPU (/proc schedstat: the run
    queue), which other work on a shared machine causes; NaN without /proc."""
    total = 0.0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError, IndexError):
                total += int((task / "schedstat").read_text().split()[1]) / 1e9
    except OSError:
        return float("nan")
    return total


class ServerCpu:
    """CPU of the PostgreSQL backends serving one database (found in pg_stat_activity), from /proc: the
    database's share of the work, on the same cores as the bot. A backend that exits between ``start`` and
    ``stop`` is not counted (the pool keeps its connections, so there should be none)."""

    def __init__(self, url: str) -> None:
        from sqlalchemy.engine import make_url

        self.database = make_url(url).database if url.startswith("postgresql") else None
        self.before: dict[int, float] = {}

    async def _pids(self) -> set[int]:
        import asyncpg

        connection = await asyncpg.connect(PG_ADMIN_URL)
        try:
            rows = await connection.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1 "
                                          "AND pid <> pg_backend_pid()", self.database)
        finally:
            await connection.close()
        return {int(row["pid"]) for row in rows}

    async def start(self) -> None:
        if self.database:
            self.before = {pid: process_cpu_seconds(pid) for pid in await self._pids()}

    async def stop(self) -> float:
        if not self.database:
            return float("nan")
        return sum(process_cpu_seconds(pid) - self.before.get(pid, 0.0) for pid in await self._pids())


def rss_mb(pid: int, field_name: str) -> float:
    """VmHWM (peak) or VmRSS of a process, in MB; NaN without /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return float("nan")


def schedule(seed: int, window: float, users: list[Any]) -> tuple[list[tuple[Any, float, random.Random]], float]:
    """Each officer's moment in the window and pace between steps, seeded per window (the same for every backend,
    the echo bot and bench/workers.py), and the steps offered in the busiest second (``peak_demand``)."""
    rng = random.Random(f"{seed}:{window}")
    moments = [(u, rng.uniform(0, window)) for u in users]

    def pace(user: Any) -> random.Random:
        return random.Random(f"{seed}:{window}:{user.id}")

    # Counted with paces of their own: the plan's are drawn from as the officers step.
    return [(u, at, pace(u)) for u, at in moments], peak_demand([(at, pace(u)) for u, at in moments])


def peak_demand(plan: list[tuple[float, random.Random]]) -> float:
    """Steps in the busiest second of the burst, were every answer instant: the load the schedule offers."""
    times = []
    for at, pace in plan:
        moment = at
        for n in range(len(REPORT_SCRIPT)):
            if n:
                moment += pace.uniform(*PAUSE)
            times.append(moment)
    times.sort()
    most, lo = 0, 0
    for hi, moment in enumerate(times):
        while times[lo] <= moment - 1.0:
            lo += 1
        most = max(most, hi - lo + 1)
    return float(most)


# --- the database ---------------------------------------------------------------------------


async def recreate_pg_database(name: str) -> str:
    import asyncpg

    if name == "test":
        raise SystemExit("refusing to use the database 'test' (the test runs truncate it)")
    connection = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def register_officers(url: str, officers: int, first_user_id: int) -> list[tuple[int, str, str]]:
    """Migrate, load the sample registry, and register `officers` Telegram officers over the units that have a
    twinning pair, as ``/start CODE`` would (an invite created and accepted), in one transaction."""
    registered, _reports = await prepare_database(url, officers, first_user_id, registered=True)
    return registered


# --- one burst --------------------------------------------------------------------------------


async def run_burst(backend: str, window: float, url: str, officers: list[tuple[int, str, str]],
                    warm: list[tuple[int, str, str]], args: argparse.Namespace, first_update_id: int,
                    workdir: Path) -> BurstResult:
    kind = "echo" if backend == "echo" else "twinbot"
    phase = PhaseResult(kind, len(officers))
    burst = BurstResult(backend, window, phase)
    observer = Observer()
    stub = make_stub_class()(observer, first_update_id)
    await stub.start()
    log = workdir / f"{backend}-{window:g}s-bot.log"
    profile = f"{args.profile}.{backend}-{window:g}s" if args.profile and kind == "twinbot" else None
    bot = BotProcess(kind, stub.base_url, url, max_seconds=args.max_seconds + 120, log=log, profile=profile)
    before: dict[int, int] = {}
    try:
        await bot.start(stub)
        assert bot.proc is not None
        users = [SimUser(uid, lang, f"Cán bộ {n}", stub, args.step_timeout)
                 for n, (uid, lang, _code) in enumerate(warm + officers, 1)]
        observer.users = {u.id: u for u in users}
        warm_users, burst_users = users[:len(warm)], users[len(warm):]
        if kind == "twinbot":
            _total, before = await count_reports(url, [uid for uid, _l, _c in officers])
        in_flight = 0

        async def one_report(user: SimUser, start_at: float, t0: float, pace: random.Random | None) -> None:
            nonlocal in_flight
            act = user.echo_step if kind == "echo" else user.twinbot_step
            await asyncio.sleep(max(0.0, t0 + start_at - time.perf_counter()))
            for n, (name, action, arg) in enumerate(REPORT_SCRIPT):
                if n and pace is not None:
                    await asyncio.sleep(pace.uniform(*PAUSE))
                in_flight += 1
                burst.in_flight_peak = max(burst.in_flight_peak, in_flight)
                try:
                    sample: Sample = await act(name, action, arg)
                finally:
                    in_flight -= 1
                phase.samples.append(sample)

        async def everyone(jobs: list[Any]) -> None:
            for outcome in await asyncio.gather(*jobs, return_exceptions=True):
                if isinstance(outcome, BaseException):
                    phase.errors.append(f"{type(outcome).__name__}: {outcome}")

        try:
            async with asyncio.timeout(args.max_seconds):
                now = time.perf_counter()
                await everyone([one_report(u, 0.0, now, None) for u in warm_users])
                warm_errors, phase.samples = list(phase.errors), []
                phase.errors = [f"warm-up: {e}" for e in warm_errors]
                await asyncio.sleep(0.5)
                burst.rss_start_mb = rss_mb(bot.proc.pid, "VmRSS")
                # The same moments and pauses for every backend and the echo bot (seeded per window).
                plan, burst.demand_peak = schedule(args.seed, window, burst_users)
                before_calls = sum(observer.calls.values())
                polls_before = len(stub.calls_of("getUpdates"))
                wait0 = cpu_wait_seconds(bot.proc.pid)
                server = ServerCpu(url)
                await server.start()
                cpu0, bot_cpu0, started = cpu_seconds(), bot.cpu_so_far(), time.perf_counter()
                await everyone([one_report(u, at, started, pace) for u, at, pace in plan])
                burst.cpu_wait = cpu_wait_seconds(bot.proc.pid) - wait0
                burst.server_cpu = await server.stop()
                phase.wall = time.perf_counter() - started
                phase.driver_cpu = cpu_seconds() - cpu0
                bot_cpu1 = bot.cpu_so_far()
                phase.bot_cpu, phase.bot_cpu_loop = bot_cpu1[0] - bot_cpu0[0], bot_cpu1[1] - bot_cpu0[1]
                phase.api_calls = sum(observer.calls.values()) - before_calls
                phase.polls = len(stub.calls_of("getUpdates")) - polls_before
                await asyncio.sleep(0.5)  # an answer sent twice would come now
                burst.rss_peak_mb = rss_mb(bot.proc.pid, "VmHWM")
        except TimeoutError:
            phase.errors.append(f"run did not finish within --max-seconds {args.max_seconds:.0f}")
    finally:
        await bot.stop()
        phase.bot_cpu_total = bot.cpu()
        phase.bot_errors, phase.bot_log = bot.errors(), str(log)
        phase.shutdown_errors = bot.errors(at_shutdown=True)
        phase.violations = list(stub.violations)
        phase.refused = sum(1 for c in stub.calls if c.status != 200)
        await stub.close()
    if kind == "twinbot":
        _total, after = await count_reports(url, [uid for uid, _l, _c in officers])
        burst.reports = sum(after.values()) - sum(before.values())
        burst.wrong_officers = {uid: after.get(uid, 0) - before.get(uid, 0) for uid, _l, _c in officers
                                if after.get(uid, 0) - before.get(uid, 0) != 1}
    return burst


# --- report ---------------------------------------------------------------------------------


def print_window(window: float, runs: list[BurstResult]) -> list[tuple[bool, str]]:
    def row(label: str, *cells: str) -> None:
        print(f"  {label:<44}" + "".join(f"{c:>14}" for c in cells))

    def busy(cpu: float, wall: float) -> str:
        return f"{cpu:.1f} ({cpu / wall:.0%})" if wall else "-"

    print(f"\n{window:g} s window: {runs[0].phase.users} officers, one report each ({len(REPORT_SCRIPT)} steps), "
          f"{PAUSE[0]:g}-{PAUSE[1]:g} s between steps")
    row("", *(r.backend for r in runs))
    row("steps answered", *(str(r.phase.steps) for r in runs))
    row("wall time (first start -> last answer), s", *(f"{r.phase.wall:.1f}" for r in runs))
    row("steps/s", *(f"{r.phase.replies_per_s:.1f}" for r in runs))
    row("steps offered in the busiest second", *(f"{r.demand_peak:.0f}" for r in runs))
    row("officers waiting at once, peak", *(str(r.in_flight_peak) for r in runs))
    for q in (50, 90, 99):
        row(f"step latency p{q}, ms", *(f"{r.phase.pct(q):.1f}" for r in runs))
    row("step latency max, ms", *(f"{r.phase.pct(100):.1f}" for r in runs))
    row("bot CPU per step, ms", *(f"{r.phase.bot_cpu / r.phase.steps * 1000:.2f}" if r.phase.steps else "-"
                                   for r in runs))
    row("PostgreSQL server CPU per step, ms", *(f"{r.server_cpu / r.phase.steps * 1000:.2f}"
                                                if r.phase.steps and r.server_cpu == r.server_cpu else "-"
                                                for r in runs))
    row("steps/s one core could serve at that CPU", *(f"{r.phase.steps / r.phase.bot_cpu:.0f}" if r.phase.bot_cpu
                                                      else "-" for r in runs))
    row("cores the busiest second needs at that CPU", *(f"{r.demand_peak * r.phase.bot_cpu / r.phase.steps:.2f}"
                                                        if r.phase.steps else "-" for r in runs))
    row("bot CPU, s (share of one core)", *(busy(r.phase.bot_cpu, r.phase.wall) for r in runs))
    row("bot waiting for a CPU (run queue), s", *(busy(r.cpu_wait, r.phase.wall) for r in runs))
    row("driver + stand-in CPU, s (share)", *(busy(r.phase.driver_cpu, r.phase.wall) for r in runs))
    row("bot RSS after warm-up / peak, MB", *(f"{r.rss_start_mb:.0f} / {r.rss_peak_mb:.0f}" for r in runs))
    row("reports filed (expected)", *(f"{r.reports} ({r.phase.users})" if r.backend != "echo" else "-"
                                       for r in runs))
    row("stand-in refusals", *(str(len(r.phase.violations)) for r in runs))
    echo = next((r for r in runs if r.backend == "echo"), None)
    if echo is not None and echo.phase.steps:
        row("p99 / echo's p99", *(f"{r.phase.pct(99) / echo.phase.pct(99):.1f}x" for r in runs))
        echo_cpu = echo.phase.bot_cpu / echo.phase.steps
        row("CPU per step / echo's", *(f"{r.phase.bot_cpu / r.phase.steps / echo_cpu:.1f}x" if r.phase.steps else "-"
                                       for r in runs))
    print("  latency by step, p50 / p99 ms:")
    for name, _action, _arg in REPORT_SCRIPT:
        cells = []
        for r in runs:
            values = [s.full for s in r.phase.samples if s.step == name]
            cells.append(f"{percentile(values, 50) * 1000:.0f} / {percentile(values, 99) * 1000:.0f}")
        row(f"  {name}", *cells)
    verdicts = []
    target = TARGET_P99_MS.get(window)
    if target is not None:
        for r in runs:
            if r.backend == "echo":
                continue
            p99 = r.phase.pct(99)
            verdicts.append((p99 < target,
                             f"{r.backend}, {window:g} s window: p99 step {p99:.1f} ms vs < {target:.0f} ms"))
    return verdicts


# --- main -----------------------------------------------------------------------------------


async def bench(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="twinbot-burst-"))
    backends = ["sqlite", "pg"] if args.backend == "both" else [args.backend]
    windows = [float(w) for w in args.windows.split(",")]
    run = int(time.time()) % 100_000
    first_update_id = 200_000_000 + run * 10_000
    failed: list[str] = []
    results: dict[float, list[BurstResult]] = {w: [] for w in windows}
    print(f"{args.officers} officers, windows {', '.join(f'{w:g} s' for w in windows)}, backends "
          f"{', '.join(backends)}{'' if args.no_echo else ' + echo yardstick'}; {os.cpu_count()} CPUs; "
          f"load average {load_average()}", flush=True)
    finished = False
    try:
        for backend in backends:
            if backend == "sqlite":
                url = f"sqlite+aiosqlite:///{workdir}/twinbot.db"
            elif args.database_url:
                url = args.database_url
            else:
                url = await recreate_pg_database(PG_DEFAULT_DATABASE)
            started = time.perf_counter()
            everyone = await register_officers(url, args.officers + WARM_OFFICERS, FIRST_USER_ID + run * 10_000)
            warm, officers = everyone[:WARM_OFFICERS], everyone[WARM_OFFICERS:]
            print(f"{backend}: {len(everyone)} officers registered in {time.perf_counter() - started:.1f} s "
                  f"({url.split('://', 1)[0]})", flush=True)
            for window in windows:
                print(f"  {backend}, {window:g} s window … (load average {load_average()})", flush=True)
                first_update_id += 50_000
                result = await run_burst(backend, window, url, officers, warm, args, first_update_id, workdir)
                results[window].append(result)
                print(f"    p50 {result.phase.pct(50):.0f} ms, p99 {result.phase.pct(99):.0f} ms, "
                      f"{result.phase.steps} steps in {result.phase.wall:.1f} s", flush=True)
        if not args.no_echo:
            for window in windows:
                print(f"  echo, {window:g} s window … (load average {load_average()})", flush=True)
                first_update_id += 50_000
                results[window].append(await run_burst("echo", window, "", officers, warm, args, first_update_id,
                                                       workdir))
        verdicts = []
        for window in windows:
            verdicts += print_window(window, results[window])
            for r in results[window]:
                failed += r.failures()
                if r.phase.shutdown_errors:
                    print(f"note: the {r.backend} bot logged {len(r.phase.shutdown_errors)} kind(s) of exception "
                          f"while stopping (log: {r.phase.bot_log}): {r.phase.shutdown_errors[0]}")
        print()
        for ok, text in verdicts:
            print(("TARGET MET: " if ok else "TARGET MISSED: ") + text)
        print("CORRECT: every step answered, one report per officer, no refusals, no exceptions" if not failed
              else "WRONG (see below)")
        print(f"load average after the run: {load_average()}")
        if args.profile:
            for window in windows:
                for r in results[window]:
                    if r.backend != "echo":
                        print_profile(f"{args.profile}.{r.backend}-{window:g}s")
        finished = True
    finally:
        if failed or args.keep_db or not finished:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return exit_status(failed)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--officers", type=int, default=1000, help="officers in the burst (default 1000)")
    parser.add_argument("--windows", default="10,60", help="window lengths in seconds, comma-separated (default 10,60)")
    parser.add_argument("--backend", choices=("sqlite", "pg", "both"), default="both")
    parser.add_argument("--database-url", default="",
                        help=f"PostgreSQL database to use as it is (default: {PG_DEFAULT_DATABASE} on 127.0.0.1, "
                             "created afresh)")
    parser.add_argument("--no-echo", action="store_true", help="skip the echo bot yardstick")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--pause", default=f"{PAUSE[0]:g},{PAUSE[1]:g}", metavar="MIN,MAX",
                        help="seconds between an answer and the officer's next step, uniformly (default "
                             f"{PAUSE[0]:g},{PAUSE[1]:g}: quick taps; 3,12 reads and types as on a phone)")
    parser.add_argument("--step-timeout", type=float, default=60.0, help="give up on one answer after this (s)")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="give up on one run after this (s)")
    parser.add_argument("--profile", metavar="PREFIX", default=None,
                        help="run each twinbot process under cProfile, stats to PREFIX.<backend>-<window>s, and print "
                             "a summary (slows the bot: for where the time goes, not for the figures)")
    parser.add_argument("--keep-db", action="store_true", help="keep the work directory (SQLite file, bot logs)")
    args = parser.parse_args(argv)
    if args.database_url and args.backend == "sqlite":
        parser.error("--database-url is the PostgreSQL database: use --backend pg or both")
    if args.database_url.rsplit("/", 1)[-1].split("?")[0] == "test":
        parser.error("refusing to use the database 'test' (the test runs truncate it)")
    return args


def main(argv: list[str] | None = None) -> int:
    global PAUSE
    args = parse_args(argv)
    low, _, high = args.pause.partition(",")
    PAUSE = (float(low), float(high or low))
    install_loopback_guard()
    if args.profile:
        args.profile = str(Path(args.profile).resolve())
    return asyncio.run(bench(args))


if __name__ == "__main__":
    sys.exit(main())
