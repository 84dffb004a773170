"""Charts, spreadsheets and documents are drawn in processes of their own, so that drawing never holds the
interpreter lock that every officer's step needs (``handlers.offload``)."""

from __future__ import annotations

import os

from handlers import offload


async def test_drawing_happens_in_another_process_or_on_a_thread_when_asked() -> None:
    assert await offload.run(os.getpid) != os.getpid()
    with offload.use_threads():
        assert await offload.run(os.getpid) == os.getpid()


async def test_a_drawing_process_that_dies_is_replaced() -> None:
    first = await offload.run(os.getpid)
    os.kill(first, 9)
    assert await offload.run(os.getpid) not in (first, os.getpid())


async def test_drawing_processes_run_at_the_lowest_priority() -> None:
    """A drawing process takes a core only when the conversations leave it one (bench/contention.py)."""
    assert await offload.run(os.nice, 0) == offload.NICENESS
