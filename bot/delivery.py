"""Sending what ``storage.deliveries`` records as owed: a worker that claims due deliveries, builds each in the
recipient's language and sends it part by part through a channel's sender, within Telegram's limits.

Limits: about 30 messages a second overall, one a second per private chat and 20 a minute per group; a 429
pauses every send for its ``retry_after``. A 403 (the user blocked the bot, or it was removed from a group)
records the delivery as blocked and the person's identity as blocked until they write again. Any other
failure is retried later with a growing delay and, after ``MAX_ATTEMPTS``, recorded as failed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from handlers.events import OutFile, Reply
from handlers.i18n import Translator
from storage import deliveries, digests, send_budget
from storage.db import Database
from storage.deliveries import Claim

log = logging.getLogger(__name__)

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
# Telegram allows about 30 messages a second per bot; keeping a little under it leaves room for the
# answers to officers and for clocks that disagree by a few milliseconds.
TELEGRAM_PER_SECOND = 28.0
# One message a second per chat, three per group, with a margin: a send leaves on time but may arrive
# a few milliseconds before the previous one (a slower request), and the messenger counts arrivals.
CHAT_INTERVAL = 1.05
GROUP_INTERVAL = 3.1
LEASE = dt.timedelta(minutes=5)
# A 429 asking for a longer wait than this gives the delivery back instead of holding its lease.
LONGEST_INLINE_WAIT = 120.0


# --- what is sent -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One Bot API call's worth: a text (with the reply's buttons on its last piece), a photo or a document."""

    kind: str  # text | photo | document
    text: str = ""  # message text, or the file's caption
    file: OutFile | None = None
    reply: Reply | None = None  # the reply whose buttons go under this text


def parts_of(replies: list[Reply], *, text_limit: int = TEXT_LIMIT, caption_limit: int = CAPTION_LIMIT) -> list[Part]:
    """Replies as a list of single sends, in order: each reply's text (split cleanly at lines), then its files.
    Deterministic, so a restart resumes at the same part."""
    from bot.channels.markup import split_lines, to_plain

    def visible(markup: str) -> int:
        return len(to_plain(markup))

    parts: list[Part] = []
    for reply in replies:
        if reply.text.strip():
            chunks = split_lines(reply.text, text_limit, visible)
            for index, chunk in enumerate(chunks):
                last = index == len(chunks) - 1
                parts.append(Part("text", chunk, reply=reply if last and reply.options else None))
        for file in reply.files:
            caption = split_lines(file.caption, caption_limit, visible)[0] if file.caption.strip() else ""
            kind = "photo" if file.mime_type in ("image/png", "image/jpeg") else "document"
            parts.append(Part(kind, caption, file=file))
    return parts


# --- rate limits ----------------------------------------------------------------------------------


class SharedBudget:
    """The overall rate of one channel, shared through the database (``storage.send_budget``) by every
    worker: a time of the wall clock, the same for every process on the host (or NTP-synced hosts)."""

    def __init__(self, db: Database, channel: str) -> None:
        self.db = db
        self.channel = channel

    async def reserve(self, at: float, spacing: float) -> float:
        async with self.db.unit_of_work() as uow:
            start = await send_budget.reserve(uow.session, self.channel, at, spacing)
            await uow.commit()
        return start

    async def hold(self, until: float) -> None:
        async with self.db.unit_of_work() as uow:
            await send_budget.hold(uow.session, self.channel, until)
            await uow.commit()


class RateLimiter:
    """Spaces sends: ``per_second`` overall, ``chat_interval`` seconds per private chat, ``group_interval``
    per group (negative chat ids on Telegram). ``pause()`` holds everything back, for a 429. With a
    ``budget`` the overall rate is kept together with every other worker (its ``clock`` must then be the
    wall clock, ``time.time``)."""

    def __init__(self, *, per_second: float = 30.0, chat_interval: float = CHAT_INTERVAL,
                 group_interval: float = GROUP_INTERVAL,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep, budget: SharedBudget | None = None) -> None:
        self.spacing = 1.0 / per_second
        self.chat_interval = chat_interval
        self.group_interval = group_interval
        self.clock = clock
        self.sleep = sleep
        self.budget = budget
        self._next_any = 0.0
        self._next_chat: dict[str, float] = {}
        self._paused_until = 0.0
        self._holding: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()

    async def wait(self, chat_id: str) -> None:
        async with self._lock:
            now = self.clock()
            start = max(now, self._next_chat.get(chat_id, 0.0), self._paused_until)
            if self.budget is not None:
                start = await self.budget.reserve(start, self.spacing)
            else:
                start = max(start, self._next_any)
                self._next_any = start + self.spacing
            interval = self.group_interval if chat_id.startswith("-") else self.chat_interval
            self._next_chat[chat_id] = start + interval
        if start > now:
            await self.sleep(start - now)

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self.clock() + seconds)
        if self.budget is not None:
            # Every worker waits too: the messenger's limit is the bot's, not this process's.
            task = asyncio.ensure_future(self.budget.hold(self._paused_until))
            self._holding.add(task)
            task.add_done_callback(self._holding.discard)


# --- senders ----------------------------------------------------------------------------------------


class Blocked(Exception):
    """The recipient blocked the bot, or the bot is no longer in the group."""


class RetryAfter(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"flood control: retry after {seconds} s")
        self.seconds = seconds


class TemporaryFailure(Exception):
    """Worth trying again later (network, server error)."""


class PermanentFailure(Exception):
    """Trying again will not help (the request itself was refused)."""


class Sender(Protocol):
    channel: str

    async def send(self, chat_id: str, part: Part) -> None: ...


# --- the worker ---------------------------------------------------------------------------------------

Content = Callable[[Any, str, Translator], Awaitable[list[Reply] | None]]


def retry_delay(attempt: int) -> dt.timedelta:
    """1, 2, 4 … minutes, at most an hour."""
    return dt.timedelta(minutes=min(60, 2 ** max(0, attempt - 1)))


class DeliveryWorker:
    """Claims due deliveries and sends them; several workers (processes) may run on one database."""

    def __init__(self, db: Database, senders: Mapping[str, Sender], *, tz: dt.tzinfo, default_locale: str = "vi",
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC), content: Content | None = None,
                 lease: dt.timedelta = LEASE, batch: int = 30, owner: str = "local") -> None:
        if content is None:
            from handlers.digest import delivery_content

            content = delivery_content
        self.db = db
        self.senders = dict(senders)
        self.tz = tz
        self.default_locale = default_locale
        self.clock = clock
        self.content = content
        self.lease = lease
        self.batch = batch
        self.owner = owner
        self._built: dict[tuple[str, str], asyncio.Task[list[Reply] | None]] = {}

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(self.senders)

    async def drain(self, key: str | None = None) -> Counter[str]:
        """Send everything due now (or only what ``key`` owes); returns how each delivery ended (sent, blocked,
        retry, …)."""
        outcomes: Counter[str] = Counter()
        self._built = {}
        running: set[asyncio.Future[str]] = set()
        try:
            while True:
                # Claim as deliveries end, not batch by batch: one slow recipient (a 429, a big file) must
                # not hold up the rest of the fan-out.
                if len(running) < self.batch:
                    async with self.db.unit_of_work() as uow:
                        claims = await deliveries.claim(uow.session, now=self.clock(), lease=self.lease,
                                                        channels=self.channels, limit=self.batch - len(running),
                                                        key=key, owner=self.owner)
                        await uow.commit()
                    running |= {asyncio.ensure_future(self.deliver(claim)) for claim in claims}
                if not running:
                    return outcomes
                done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for finished in done:
                    outcomes[finished.result()] += 1
        finally:
            for task in running:
                task.cancel()
            self._built = {}

    async def _replies(self, key: str, locale: str) -> list[Reply] | None:
        # Each digest is built once per language per drain, however many recipients read that language.
        task = self._built.get((key, locale))
        if task is None:
            task = asyncio.ensure_future(self._build(key, locale))
            self._built[(key, locale)] = task
        return await asyncio.shield(task)

    async def _build(self, key: str, locale: str) -> list[Reply] | None:
        # A read-only session: on SQLite, building a digest must not hold the write lock everyone waits for.
        async with self.db.reader() as session:
            return await self.content(session, key, Translator(locale, self.tz))

    async def resume(self) -> None:
        """Take back at once what this worker was sending when it last stopped."""
        async with self.db.unit_of_work() as uow:
            resumed = await deliveries.resume(uow.session, self.owner)
            await uow.commit()
        if resumed:
            log.info("resuming %d delivery(ies) this worker had in hand", resumed)

    async def deliver(self, claim: Claim) -> str:
        try:
            return await self._deliver(claim)
        except Exception as exc:  # a bug or a lost database: retried later, never lost
            log.exception("delivery %s to %s failed", claim.key, claim.recipient)
            async with self.db.unit_of_work() as uow:
                await deliveries.retry_later(uow.session, claim, at=self.clock() + retry_delay(claim.token),
                                             error=f"{type(exc).__name__}: {exc}")
                await uow.commit()
            return "retry"

    async def _deliver(self, claim: Claim) -> str:
        sender = self.senders[claim.channel]
        async with self.db.reader() as session:
            owed = await digests.still_owed(session, claim.key, claim.recipient)
            locale = await digests.recipient_locale(session, claim.person_id, claim.recipient)
        if not owed:
            return await self._finish(claim, "skipped", "no longer in the audience")
        replies = await self._replies(claim.key, locale or self.default_locale)
        if replies is None:
            return await self._finish(claim, "skipped", "no longer owed")
        parts = parts_of(replies)
        done = claim.parts_done
        waited = 0.0
        while done < len(parts):
            try:
                await sender.send(claim.chat_id, parts[done])
            except RetryAfter as exc:
                # Wait inline for a short pause, but not for ever: a used-up daily quota (Zalo) would
                # otherwise keep this drain, and every other channel's deliveries, waiting with it.
                waited += exc.seconds
                if waited <= LONGEST_INLINE_WAIT:
                    # The sender's limiter holds every send back until then; keep the lease meanwhile.
                    async with self.db.unit_of_work() as uow:
                        until = self.clock() + self.lease + dt.timedelta(seconds=exc.seconds)
                        kept = await deliveries.extend(uow.session, claim, until=until)
                        await uow.commit()
                    if not kept:
                        return "lost"
                    continue
                async with self.db.unit_of_work() as uow:
                    await deliveries.retry_later(uow.session, claim, error=str(exc), count_attempt=False,
                                                 at=self.clock() + dt.timedelta(seconds=exc.seconds))
                    await uow.commit()
                return "retry"
            except Blocked as exc:
                async with self.db.unit_of_work() as uow:
                    await deliveries.mark_blocked(uow.session, claim, now=self.clock(), error=str(exc))
                    await uow.commit()
                log.info("%s blocked the bot; %s not delivered", claim.recipient, claim.key)
                return "blocked"
            except PermanentFailure as exc:
                return await self._finish(claim, "failed", str(exc))
            except TemporaryFailure as exc:
                async with self.db.unit_of_work() as uow:
                    await deliveries.retry_later(uow.session, claim, error=str(exc),
                                                 at=self.clock() + retry_delay(claim.token))
                    await uow.commit()
                return "retry"
            done += 1
            if done < len(parts):
                async with self.db.unit_of_work() as uow:
                    kept = await deliveries.progress(uow.session, claim, done, now=self.clock(), lease=self.lease)
                    await uow.commit()
                if not kept:
                    log.warning("lost the claim on delivery %s to %s", claim.key, claim.recipient)
                    return "lost"
        return await self._finish(claim, "sent")

    async def _finish(self, claim: Claim, status: str, error: str | None = None) -> str:
        async with self.db.unit_of_work() as uow:
            kept = await deliveries.finish(uow.session, claim, status, now=self.clock(), error=error)
            kind, ident, week = digests.parse_key(claim.key)
            if kept and status == "sent" and kind == "reminder":
                await digests.record_reminded(uow.session, ident, week, self.clock())
            await uow.commit()
        return status if kept else "lost"
