"""PostgreSQL with one and with two worker processes of ``twinbot webhook --workers N``, 50 officers back to back
(or a burst).

    python bench/workers.py [--officers 50] [--reports-each 4] [--workers 1,2] [--database-url URL]
                            [--burst WINDOW [--seed N]]

For each N, this process starts the real command, ``python -m bot.cli webhook --workers N`` (a supervisor and N
workers sharing one port with SO_REUSEPORT, the kernel spreading the connections), configured through
``TWINBOT_*`` as in production, on PostgreSQL (by default the database ``twinbot_workers`` on 127.0.0.1:5432,
dropped and created again at each run). The loopback Bot API stand-in (tests/botapi_stub.py, through
bench/report_flow.py) records the bots' calls; a webhook sender here plays Telegram (bench/crash.py's): each update
is POSTed to the webhook with the secret header, in order per user, again until it is answered 200. Every
process the bot starts gets bench/loopback.py's guard, through a ``sitecustomize`` put first on PYTHONPATH.

The officers are bench/report_flow.py's, registered directly in the database (bench/burst.py): each files
``--reports-each`` reports back to back (the next update as soon as the whole answer to the last one is
recorded), all at once. Ten other officers file one report each first, untimed, to warm the workers up.
With ``--burst WINDOW`` they follow bench/burst.py's schedule instead: each begins one report at a moment of a
WINDOW-second window and pauses 1-3 s between steps (``--officers 1000 --burst 10`` is burst.py's 10 s window,
here through webhook workers), and burst.py's target for that window is printed as TARGET MET / MISSED.
Logging at WARNING (as report_flow's bot child): INFO logs a line per update.

Printed for each N and as the ratio 2 workers / 1: replies/s (steps answered per second), step latency p50/p99
(update posted -> whole answer recorded), the workers' CPU per step (all worker processes, from /proc), their
peak RSS; and the checks: every step answered (no answer lost), no answer sent twice (a step's same message or
callback answer recorded twice), exactly ``--reports-each`` reports per officer (none lost, none duplicated),
every update acknowledged with 200, no call the stand-in refused, no error logged by the bots, exit status 0
at SIGTERM.

Exit status: 1 if a run was wrong, 0 otherwise, whatever the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.burst import (  # noqa: E402
    PAUSE,
    ServerCpu,
    cpu_wait_seconds,
    recreate_pg_database,
    register_officers,
    rss_mb,
    schedule,
)
from bench.crash import WEBHOOK_SECRET, WebhookSender, bot_errors, free_port  # noqa: E402
from bench.loopback import install_loopback_guard  # noqa: E402
from bench.report_flow import (  # noqa: E402
    BOT_USERNAME,
    REPORT_SCRIPT,
    TOKEN,
    Observer,
    PhaseResult,
    SimUser,
    count_reports,
    cpu_seconds,
    exit_status,
    load_average,
    make_stub_class,
    percentile,
    process_cpu_seconds,
)

PG_DEFAULT_DATABASE = "twinbot_workers"
WARM_OFFICERS = 10
FIRST_USER_ID = 9_000_000_000
NEVER = "0 0 31 2 *"  # no scheduled digest or reminder during a run
SITECUSTOMIZE = "from bench.loopback import install_loopback_guard\n\ninstall_loopback_guard()\n"


def webhook_stub_class() -> type:
    watched = make_stub_class()

    class WebhookStub(watched):  # type: ignore[misc, valid-type]
        """The watched stand-in, but an update is POSTed to the bot's webhook instead of waiting for getUpdates."""

        sender: WebhookSender
        pushed = 0

        def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
            # make_message and make_callback number updates as they build them, and each is posted at once.
            self.pushed += 1
            sent = update.get("message") or update.get("callback_query") or {}
            self.sender.post(int(sent["from"]["id"]), update)
            return update

    return WebhookStub


@dataclass
class WorkersResult:
    workers: int
    phase: PhaseResult
    worker_pids: list[int] = field(default_factory=list)
    rss_peak_mb: list[float] = field(default_factory=list)
    cpu_by_worker: list[float] = field(default_factory=list)
    cpu_wait: float = float("nan")  # seconds the workers were runnable but had no CPU, in the measured part
    server_cpu: float = float("nan")  # PostgreSQL's backends for this database, in the measured part
    reports: int = 0
    wrong_officers: dict[int, int] = field(default_factory=dict)
    answered_twice: Counter[str] = field(default_factory=Counter)  # step name -> steps with an answer repeated
    posted: int = 0
    acknowledged: int = 0
    refusals: Counter[str] = field(default_factory=Counter)
    exit_code: int | None = None
    restarted: bool = False
    demand_peak: float = float("nan")  # --burst: steps offered in the busiest second, were every answer instant

    def failures(self, expected_reports: int) -> list[str]:
        p, name = self.phase, f"{self.workers} worker(s)"
        out = [f"{name}: {e}" for e in p.errors[:10]]
        out += [f"{name}: Bot API refusal: {v}" for v in p.violations[:10]]
        out += [f"{name}: bot log: {line}" for line in p.bot_errors[:8]]
        if self.reports != expected_reports or self.wrong_officers:
            wrong = dict(list(self.wrong_officers.items())[:10])
            out.append(f"{name}: expected {expected_reports} new reports, found {self.reports}; officers with another "
                       f"count: {wrong}")
        if self.answered_twice:
            out.append(f"{name}: answers sent twice, by step: {dict(self.answered_twice)}")
        if self.acknowledged != self.posted:
            out.append(f"{name}: {self.posted - self.acknowledged} update(s) never acknowledged with 200")
        if self.exit_code != 0:
            out.append(f"{name}: `twinbot webhook` exited with {self.exit_code} at SIGTERM")
        if self.restarted:
            out.append(f"{name}: a worker process was started again during the run")
        return out


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


async def run_workers(n: int, url: str, officers: list[tuple[int, str, str]], warm: list[tuple[int, str, str]],
                      args: argparse.Namespace, first_update_id: int, workdir: Path) -> WorkersResult:
    phase = PhaseResult(f"{n} worker(s)", len(officers))
    result = WorkersResult(n, phase)
    observer = Observer()
    stub = webhook_stub_class()(observer, first_update_id)
    await stub.start()
    port = free_port(random.Random())
    sender = WebhookSender(f"http://127.0.0.1:{port}/telegram/webhook")
    await sender.start()
    stub.sender = sender
    log = workdir / f"webhook-{n}.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(workdir / "guard"), str(ROOT),
                                                         os.environ.get("PYTHONPATH", "")]),
           "TWINBOT_TELEGRAM_TOKEN": TOKEN, "TWINBOT_TELEGRAM_API_BASE": stub.base_url,
           "TWINBOT_DATABASE_URL": url, "TWINBOT_BOT_USERNAME": BOT_USERNAME, "TWINBOT_DEFAULT_LOCALE": "vi",
           "TWINBOT_WEBHOOK_URL": f"http://127.0.0.1:{port}", "TWINBOT_WEBHOOK_SECRET": WEBHOOK_SECRET,
           "TWINBOT_HOST": "127.0.0.1", "TWINBOT_PORT": str(port), "TWINBOT_LOG_LEVEL": "WARNING",
           "TWINBOT_WORKER_ID": f"bench-{n}", "TWINBOT_DIGEST_SCHEDULE": NEVER,
           "TWINBOT_REMINDER_SCHEDULE": NEVER}
    with log.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "webhook", "--workers", str(n),
                                                    cwd=str(ROOT), env=env, stdin=asyncio.subprocess.DEVNULL,
                                                    stdout=out, stderr=out)
    before: dict[int, int] = {}
    try:
        deadline = time.monotonic() + 120
        while len(stub.calls_of("setWebhook")) < n:  # each worker sets the webhook once it listens
            if proc.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"`twinbot webhook --workers {n}` did not start (log: {log})")
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        result.worker_pids = children(proc.pid) if n > 1 else [proc.pid]
        users = [SimUser(uid, lang, f"Cán bộ {k}", stub, args.step_timeout)
                 for k, (uid, lang, _code) in enumerate(warm + officers, 1)]
        observer.users = {u.id: u for u in users}
        warm_users, timed = users[:len(warm)], users[len(warm):]
        _total, before = await count_reports(url, [uid for uid, _l, _c in officers])

        async def reports(user: SimUser, count: int, samples: list[Any], start_at: float = 0.0,
                          pace: random.Random | None = None) -> None:
            await asyncio.sleep(start_at)
            for _ in range(count):
                for k, (name, action, arg) in enumerate(REPORT_SCRIPT):
                    if k and pace is not None:
                        await asyncio.sleep(pace.uniform(*PAUSE))
                    samples.append(await user.twinbot_step(name, action, arg))

        async def everyone(jobs: list[Any]) -> None:
            for outcome in await asyncio.gather(*jobs, return_exceptions=True):
                if isinstance(outcome, BaseException):
                    phase.errors.append(f"{type(outcome).__name__}: {outcome}")

        def workers_cpu() -> list[float]:
            return [process_cpu_seconds(pid) for pid in result.worker_pids]

        async with asyncio.timeout(args.max_seconds):
            await everyone([reports(u, 1, []) for u in warm_users])
            await asyncio.sleep(0.5)
            for u in timed:
                u.recording = [[]]  # what each step brought, to find an answer sent twice
            calls0, cpu0, workers0 = sum(observer.calls.values()), cpu_seconds(), workers_cpu()
            wait0 = sum(cpu_wait_seconds(pid) for pid in result.worker_pids)
            server = ServerCpu(url)
            await server.start()
            started = time.perf_counter()
            if args.burst:
                # bench/burst.py's schedule: one report each, begun at a moment of the window, 1-3 s between steps.
                plan, result.demand_peak = schedule(args.seed, args.burst, timed)
                await everyone([reports(u, 1, phase.samples, at, pace) for u, at, pace in plan])
            else:
                await everyone([reports(u, args.reports_each, phase.samples) for u in timed])
            phase.wall = time.perf_counter() - started
            phase.driver_cpu = cpu_seconds() - cpu0
            result.cpu_wait = sum(cpu_wait_seconds(pid) for pid in result.worker_pids) - wait0
            result.server_cpu = await server.stop()
            result.cpu_by_worker = [b - a for a, b in zip(workers0, workers_cpu(), strict=True)]
            phase.bot_cpu = sum(result.cpu_by_worker)
            phase.api_calls = sum(observer.calls.values()) - calls0
            await asyncio.sleep(1.0)  # an answer sent twice would come now
        result.rss_peak_mb = [rss_mb(pid, "VmHWM") for pid in result.worker_pids]
        result.restarted = n > 1 and sorted(children(proc.pid)) != sorted(result.worker_pids)
        for u in timed:
            for k, step_calls in enumerate((u.recording or [])[1:]):
                seen = Counter((what, params.get("text")) for what, params in step_calls)
                if any(times > 1 for times in seen.values()):
                    result.answered_twice[REPORT_SCRIPT[k % len(REPORT_SCRIPT)][0]] += 1
    except TimeoutError:
        phase.errors.append(f"run did not finish within --max-seconds {args.max_seconds:.0f}")
    finally:
        result.posted, result.acknowledged, result.refusals = stub.pushed, len(sender.acknowledged), sender.refusals
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        try:
            result.exit_code = await asyncio.wait_for(proc.wait(), 60)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        await sender.close()
        phase.violations = list(stub.violations)
        phase.bot_errors, phase.bot_log = bot_errors(log), str(log)
        await stub.close()
    _total, after = await count_reports(url, [uid for uid, _l, _c in officers])
    result.reports = sum(after.values()) - sum(before.values())
    result.wrong_officers = {uid: after.get(uid, 0) - before.get(uid, 0) for uid, _l, _c in officers
                             if after.get(uid, 0) - before.get(uid, 0) != reports_each(args)}
    return result


def reports_each(args: argparse.Namespace) -> int:
    return 1 if args.burst else int(args.reports_each)


def print_results(args: argparse.Namespace, runs: list[WorkersResult]) -> None:
    def row(label: str, *cells: str) -> None:
        print(f"  {label:<40}" + "".join(f"{c:>16}" for c in cells))

    ratio = len(runs) == 2 and runs[0].phase.steps > 0 and runs[1].phase.steps > 0
    what = (f"a burst: {args.officers} officers each beginning one report within {args.burst:g} s, "
            f"{PAUSE[0]:g}-{PAUSE[1]:g} s between steps" if args.burst
            else f"{args.officers} officers back to back, {args.reports_each} reports each")
    print(f"\nPostgreSQL, `twinbot webhook --workers N`: {what}, {len(REPORT_SCRIPT)} steps per report; "
          f"{os.cpu_count()} CPUs")
    row("", *(f"{r.workers} worker(s)" for r in runs), *(["ratio 2nd/1st"] if ratio else []))

    def figures(label: str, get: Any, fmt: str) -> None:
        values = [get(r) for r in runs]
        cells = [format(v, fmt) for v in values]
        if ratio:
            cells.append(f"{values[1] / values[0]:.2f}x" if values[0] else "-")
        row(label, *cells)

    figures("steps answered", lambda r: r.phase.steps, "d")
    figures("wall time, s", lambda r: r.phase.wall, ".2f")
    figures("replies/s (steps answered/s)", lambda r: r.phase.replies_per_s, ".1f")
    figures("step latency p50, ms", lambda r: r.phase.pct(50), ".1f")
    figures("step latency p99, ms", lambda r: r.phase.pct(99), ".1f")
    figures("step latency max, ms", lambda r: r.phase.pct(100), ".1f")
    figures("workers' CPU per step, ms", lambda r: r.phase.bot_cpu / r.phase.steps * 1000 if r.phase.steps else 0,
            ".2f")
    figures("PostgreSQL server CPU per step, ms",
            lambda r: r.server_cpu / r.phase.steps * 1000 if r.phase.steps else 0, ".2f")
    figures("workers' CPU, s", lambda r: r.phase.bot_cpu, ".1f")
    figures("workers' CPU, share of one core", lambda r: r.phase.bot_cpu / r.phase.wall if r.phase.wall else 0, ".2f")
    figures("workers waiting for a CPU, share", lambda r: r.cpu_wait / r.phase.wall if r.phase.wall else 0, ".2f")
    figures("driver + stand-in CPU, share", lambda r: r.phase.driver_cpu / r.phase.wall if r.phase.wall else 0,
            ".2f")
    row("CPU by worker, s", *(" / ".join(f"{c:.1f}" for c in r.cpu_by_worker) for r in runs))
    row("peak RSS by worker, MB", *(" / ".join(f"{m:.0f}" for m in r.rss_peak_mb) for r in runs))
    row("reports filed (expected)", *(f"{r.reports} ({args.officers * reports_each(args)})" for r in runs))
    row("answers sent twice", *(str(sum(r.answered_twice.values())) for r in runs))
    row("updates acknowledged / posts", *(f"{r.acknowledged} / {r.posted}" for r in runs))
    row("webhook refusals", *(str(sum(r.refusals.values())) for r in runs))
    row("stand-in refusals", *(str(len(r.phase.violations)) for r in runs))
    row("exit status at SIGTERM", *(str(r.exit_code) for r in runs))
    print("  latency by step, p50 / p99 ms:")
    for name, _action, _arg in REPORT_SCRIPT:
        cells = []
        for r in runs:
            values = [s.full for s in r.phase.samples if s.step == name]
            cells.append(f"{percentile(values, 50) * 1000:.0f} / {percentile(values, 99) * 1000:.0f}")
        row(f"  {name}", *cells)


async def bench(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="twinbot-workers-"))
    (workdir / "guard").mkdir()
    (workdir / "guard" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    counts = [int(n) for n in args.workers.split(",")]
    run = int(time.time()) % 100_000
    failed: list[str] = []
    finished = False
    print(f"{args.officers} officers x {reports_each(args)} reports"
          f"{f' in a burst of {args.burst:g} s' if args.burst else ''}, workers {counts}; "
          f"load average {load_average()}", flush=True)
    try:
        url = args.database_url or await recreate_pg_database(PG_DEFAULT_DATABASE)
        everyone = await register_officers(url, args.officers + WARM_OFFICERS, FIRST_USER_ID + run * 10_000)
        warm, officers = everyone[:WARM_OFFICERS], everyone[WARM_OFFICERS:]
        runs = []
        for k, n in enumerate(counts):
            print(f"  {n} worker(s) … (load average {load_average()})", flush=True)
            # Each run's update ids apart from the others' (the bot rightly ignores an update id it has seen).
            spacing = (args.officers + WARM_OFFICERS) * reports_each(args) * len(REPORT_SCRIPT) + 1_000
            result = await run_workers(n, url, officers, warm, args, 300_000_000 + run * 10_000 + k * spacing,
                                       workdir)
            print(f"    {result.phase.replies_per_s:.1f} replies/s, p99 {result.phase.pct(99):.0f} ms", flush=True)
            runs.append(result)
            failed += result.failures(args.officers * reports_each(args))
        print_results(args, runs)
        if args.burst:
            print_burst_targets(args, runs)
        print("\nCORRECT: every step answered once, every report filed once, every update acknowledged, no refusals, "
              "no errors" if not failed else "\nWRONG (see below)")
        print(f"load average after the run: {load_average()}")
        finished = True
    finally:
        if failed or args.keep or not finished:
            print(f"work directory kept (bot logs): {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return exit_status(failed)


def print_burst_targets(args: argparse.Namespace, runs: list[WorkersResult]) -> None:
    """bench/burst.py's targets (issue 17): p99 step under 300 ms in a 10 s burst, under 50 ms in a 60 s one."""
    limit = 300.0 if args.burst <= 10 else 50.0
    for r in runs:
        p99 = r.phase.pct(99)
        verdict = "TARGET MET" if p99 < limit else "TARGET MISSED"
        print(f"{verdict}: {r.workers} worker(s), {args.burst:g} s burst ({r.demand_peak:.0f} steps offered in the "
              f"busiest second): p99 step {p99:.1f} ms vs < {limit:.0f} ms")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--officers", type=int, default=50)
    parser.add_argument("--reports-each", type=int, default=4)
    parser.add_argument("--workers", default="1,2", help="worker counts to run, comma-separated (default 1,2)")
    parser.add_argument("--database-url", default="",
                        help=f"PostgreSQL database to use as it is (default: {PG_DEFAULT_DATABASE} on 127.0.0.1, "
                             "created afresh)")
    parser.add_argument("--step-timeout", type=float, default=30.0)
    parser.add_argument("--max-seconds", type=float, default=300.0, help="give up on one run after this (s)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (bot logs)")
    parser.add_argument("--burst", type=float, default=0.0, metavar="WINDOW",
                        help="instead of back to back: each officer begins one report at a moment of a WINDOW-second "
                             "window, pausing as bench/burst.py's officers do (try --officers 1000 --burst 10)")
    parser.add_argument("--seed", type=int, default=17, help="seed of the burst's moments and pauses")
    args = parser.parse_args(argv)
    if args.database_url.rsplit("/", 1)[-1].split("?")[0] == "test":
        parser.error("refusing to use the database 'test' (the test runs truncate it)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    install_loopback_guard()
    return asyncio.run(bench(args))


if __name__ == "__main__":
    sys.exit(main())
