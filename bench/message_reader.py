"""How long reading one message as a report takes (``handlers.message_reader.read_message``), over the messages of
``tests/test_message_reader.py``, and over long ones (a whole description's worth, 1,000 characters).

    python bench/message_reader.py [--repeat 50]

Every message is read ``--repeat`` times, warm; each read is timed alone, in CPU time of the reading thread
(what the bot spends; a busy machine's preemptions would otherwise land on unlucky reads) and, for information, on
the wall clock. Target: p99 CPU time under 2 ms for the test messages, a fraction of the bot's own CPU time for one
ordinary step of the form (3.5–4.3 ms, bench/report_flow.py). Exit status 1 if it is missed.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from handlers.message_reader import read_message  # noqa: E402
from tests.test_message_reader import CASES, TODAY, UNITS  # noqa: E402

TARGET_MS = 2.0


def timed(messages: list[tuple[str, str]], repeat: int) -> tuple[list[float], list[float]]:
    """Milliseconds per read: CPU time, wall-clock time."""
    for text, unit in messages:  # warm: the vocabulary's tables and the regular expressions are built
        read_message(text, today=TODAY, pairs=UNITS[unit])
    cpu, wall = [], []
    gc.disable()  # a collection is the process's, not the reader's; it would land on one unlucky read
    try:
        for _ in range(repeat):
            for text, unit in messages:
                start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
                read_message(text, today=TODAY, pairs=UNITS[unit])
                cpu.append((time.thread_time_ns() - start_cpu) / 1e6)
                wall.append((time.perf_counter_ns() - start) / 1e6)
    finally:
        gc.enable()
    return cpu, wall


def p99(times: list[float]) -> float:
    return sorted(times)[min(len(times) - 1, int(len(times) * 0.99))]


def line(name: str, cpu: list[float], wall: list[float]) -> str:
    return (f"{name:<26} {len(cpu):>6} reads  CPU median {statistics.median(cpu):.3f} ms, p99 {p99(cpu):.3f} ms  "
            f"(wall clock median {statistics.median(wall):.3f} ms, p99 {p99(wall):.3f} ms)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    messages = [(case.text, case.unit) for case in CASES]
    long = [(((text + " ") * (1000 // len(text) + 1))[:1000], unit) for text, unit in messages[:20]]
    cpu, wall = timed(messages, args.repeat)
    print(line(f"{len(messages)} test messages", cpu, wall))
    print(line("1,000-character messages", *timed(long, max(1, args.repeat // 5))))
    if p99(cpu) > TARGET_MS:
        print(f"target missed: p99 {p99(cpu):.3f} ms > {TARGET_MS} ms")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
