"""PostgreSQL against SQLite and the echo bot, in alternating rounds: the two PostgreSQL targets judged on
figures measured side by side, several times over.

    python bench/backends.py [--rounds 3] [--officers 50] [--reports-each 4] [--database-url URL]

A shared machine's speed swings by a third from one minute to the next, more than the difference these
targets are about; one run of each backend, minutes apart, says little. Here each round runs bench/report_flow.py's
three phases (the echo bot, twinbot on a fresh SQLite file, twinbot on PostgreSQL; 50 officers back to back,
each filing complete reports) one right after the other, in an order that turns from round to round, and
the ratios are taken within each round. Printed: each round's replies/s and bot CPU per step, its ratios,
and their medians over the rounds, against the targets of issue 17: PostgreSQL's replies/s at least 0.25× the
echo bot's, its CPU per step at most 1.2× SQLite's.

PostgreSQL: ``--database-url`` (used as it is: migrated, sample registry loaded; each round registers new
officers) or, by default, the database ``twinbot_backends`` on 127.0.0.1:5432, dropped and created afresh.

Exit status: 1 if a run was wrong (as report_flow: a step unanswered, a report missing or extra, a refused call,
a logged exception); 0 otherwise, whether or not the targets were met.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.burst import recreate_pg_database  # noqa: E402
from bench.loopback import install_loopback_guard  # noqa: E402
from bench.report_flow import (  # noqa: E402
    PhaseResult,
    count_reports,
    exit_status,
    load_average,
    prepare_database,
    run_phase,
)

TARGET_PG_OVER_ECHO = 0.25
TARGET_PG_CPU_OVER_SQLITE = 1.2
PHASES = ("echo", "sqlite", "pg")


def cpu_per_step_ms(phase: PhaseResult) -> float:
    return phase.bot_cpu / phase.steps * 1000 if phase.steps else float("nan")


def problems(phase: PhaseResult, label: str) -> list[str]:
    found = [f"{label}: {error}" for error in phase.errors[:5]]
    found += [f"{label}: Bot API refusal: {v}" for v in phase.violations[:5]]
    found += [f"{label}: bot logged: {line}" for line in phase.bot_errors[:5]]
    return found


async def bench(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="twinbot-backends-"))
    pg_url = args.database_url or await recreate_pg_database("twinbot_backends")
    print(f"{args.rounds} rounds of {args.officers} officers x {args.reports_each} reports, back to back; "
          f"PostgreSQL {pg_url}; load average {load_average()}", flush=True)
    failed: list[str] = []
    rounds: list[dict[str, PhaseResult]] = []
    try:
        for number in range(args.rounds):
            # Distinct people and update ids in every round and phase.
            base = 7_100_000_000 + (int(time.time()) % 10_000) * 100_000 + number * 10_000
            order = PHASES[number % 3:] + PHASES[:number % 3]
            results: dict[str, PhaseResult] = {}
            for kind in order:
                url = pg_url if kind == "pg" else f"sqlite+aiosqlite:///{workdir}/round{number}.db"
                first_user = base + PHASES.index(kind) * 1_000
                first_update = 200_000_000 + number * 1_000_000 + PHASES.index(kind) * 300_000
                if kind == "echo":  # the echo bot keeps nothing: officers need no invite
                    officers = [(first_user + n, "en" if n % 2 == 0 else "vi", "") for n in range(args.officers)]
                else:
                    officers, before = await prepare_database(url, args.officers, first_user)
                phase = await run_phase("echo" if kind == "echo" else "twinbot", officers, args.reports_each, url,
                                        args, first_update, workdir)
                failed += problems(phase, f"round {number + 1}, {kind}")
                if kind != "echo":
                    total, per_user = await count_reports(url, [uid for uid, _l, _c in officers])
                    expected = args.officers * args.reports_each
                    if total - before != expected or sum(per_user.values()) != expected:
                        failed.append(f"round {number + 1}, {kind}: {total - before} reports filed, {expected} "
                                      "expected")
                results[kind] = phase
            rounds.append(results)
            echo, sqlite, pg = results["echo"], results["sqlite"], results["pg"]
            print(f"round {number + 1} ({' -> '.join(order)}): replies/s echo {echo.replies_per_s:.0f}, "
                  f"SQLite {sqlite.replies_per_s:.0f}, PostgreSQL {pg.replies_per_s:.0f}; bot CPU per step, ms: "
                  f"echo {cpu_per_step_ms(echo):.2f}, SQLite {cpu_per_step_ms(sqlite):.2f}, PostgreSQL "
                  f"{cpu_per_step_ms(pg):.2f}; load average {load_average()}", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    def ratios(of: str, to: str, figure: str) -> list[float]:
        def value(phase: PhaseResult) -> float:
            return phase.replies_per_s if figure == "replies" else cpu_per_step_ms(phase)
        return [value(r[of]) / value(r[to]) for r in rounds if value(r[to])]

    print()
    lines = [("SQLite replies/s / echo's", ratios("sqlite", "echo", "replies"), None),
             ("PostgreSQL replies/s / echo's", ratios("pg", "echo", "replies"), (">=", TARGET_PG_OVER_ECHO)),
             ("PostgreSQL replies/s / SQLite's", ratios("pg", "sqlite", "replies"), None),
             ("PostgreSQL CPU per step / SQLite's", ratios("pg", "sqlite", "cpu"), ("<=", TARGET_PG_CPU_OVER_SQLITE))]
    verdicts = []
    for label, values, target in lines:
        median = statistics.median(values) if values else float("nan")
        print(f"  {label:<38} median {median:.2f}   rounds: {', '.join(f'{v:.2f}' for v in values)}")
        if target is not None:
            sign, bound = target
            met = median >= bound if sign == ">=" else median <= bound
            verdicts.append(f"TARGET {'MET' if met else 'MISSED'}: {label} (median of {len(values)} rounds) "
                            f"{median:.2f} {sign} {bound}")
    print()
    for verdict in verdicts:
        print(verdict)
    for problem in failed:
        print(f"WRONG: {problem}")
    print("CORRECT: every step answered, every report filed once, nothing refused or logged" if not failed else "")
    return exit_status(failed)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--officers", type=int, default=50)
    parser.add_argument("--reports-each", type=int, default=4)
    parser.add_argument("--database-url", default="",
                        help="PostgreSQL database to use as it is (default: twinbot_backends on 127.0.0.1, "
                             "created afresh)")
    parser.add_argument("--step-timeout", type=float, default=30.0)
    parser.add_argument("--max-seconds", type=float, default=240.0, help="give up on a phase after this (s)")
    args = parser.parse_args(argv)
    args.think = 0.0
    args.profile = None
    return args


if __name__ == "__main__":
    arguments = parse_args()
    install_loopback_guard()
    sys.exit(asyncio.run(bench(arguments)))
