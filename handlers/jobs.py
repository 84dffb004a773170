"""Slow work asked for by an event (an export, a digest's chart and spreadsheet, figures over a long period),
done after the event's transaction, on a read-only session, with the CPU-heavy part in a drawing process
(``handlers.offload``).

A handler asks with ``ctx.defer("name", **args)``; the request is stored in the outbox with the event, so a
crash before the work is done does it again after the restart rather than never. Each job is an async
generator ``(JobContext, args)`` yielding replies, each sent as soon as it is ready (a digest's text before
its chart is drawn); jobs are registered here by name, and names are stored, so rename one only with care
(a stored request of an unknown name is answered with an apology).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from handlers.events import Reply
from handlers.i18n import Translator

if TYPE_CHECKING:
    from handlers.context import CoreConfig
    from storage.db import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobContext:
    db: Database
    config: CoreConfig
    t: Translator


Job = Callable[[JobContext, dict[str, Any]], AsyncIterator[Reply]]
JOBS: dict[str, Job] = {}
_TEXT_ONLY: set[str] = set()


def job(name: str, *, files: bool = True) -> Callable[[Job], Job]:
    """Registers a job; ``files``: whether it ends in files, which the messenger's sign of work then announces
    ("sending a file…" rather than "typing…")."""
    def register(function: Job) -> Job:
        if name in JOBS:
            raise ValueError(f"job {name!r} registered twice")
        JOBS[name] = function
        if not files:
            _TEXT_ONLY.add(name)
        return function

    return register


def sends_files(item: dict[str, Any]) -> bool:
    return item.get("job") not in _TEXT_ONLY


async def run(item: dict[str, Any], db: Database, config: CoreConfig) -> AsyncIterator[Reply]:
    """The replies of one stored job request as they come; a failure ends them with an apology."""
    t = Translator(item.get("locale") or config.default_locale, config.tz)
    function = JOBS.get(item["job"])
    try:
        if function is None:
            raise LookupError(f"no job named {item['job']!r}")
        async for reply in function(JobContext(db, config, t), dict(item.get("args") or {})):
            yield reply
    except Exception:
        log.exception("deferred work %s failed", item.get("job"))
        yield Reply(text=t("Sorry, that did not work. Please try again later."))
