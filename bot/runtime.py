"""Serving, whatever the messenger: what arrives is stored before it is acknowledged, handled in order per
conversation, and what an event owes is sent after its transaction committed.

    messenger ──> receive(): inbox (one short transaction) ──> acknowledge to the messenger
              ──> handle(): the core's transaction takes the entry out of the inbox and writes the outbox
              ──> send(): each outbox entry through its channel, then deleted (in batches)

A crash anywhere leaves the inbox or the outbox holding what is unfinished: the same worker resumes its
own entries when it starts again, and any worker takes over entries whose lease ran out. A stop (SIGTERM)
takes nothing new, finishes what is in hand within ``grace`` seconds, and hands the rest back.

Channels plug in through the small ``Channel`` protocol: how a stored payload becomes an ``Incoming``, how
a reply is shown, how a tap is acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

from sqlalchemy.exc import DBAPIError

from bot.working import showing_work
from handlers import jobs
from handlers.core import Core
from handlers.events import Incoming, Outcome, Reply, reply_of
from storage import inbox, outbox
from storage.inbox import Entry, Received
from storage.outbox import Outgoing

log = logging.getLogger(__name__)

# Updates handled at once by one process. More would only queue for the database (SQLite writes one at a
# time; PostgreSQL has its pool), and while the limit is reached polling waits, so the next getUpdates
# fetches a batch instead of one update per round trip.
CONCURRENCY = 16
# After a failed store, when to look for updates it stored all the same (seconds, one pause after another; each
# new failure starts over): by the last one the lease has about run out and the sweeper would find them anyway.
PICK_UP_PAUSES = (0.5, 1, 2, 4, 8, 15, 30)
# Deferred work (exports, digests' files) done at once by one process: each holds a read and a thread.
JOB_SLOTS = 2
SWEEP_INTERVAL = 2.0
GRACE = 10.0


class Unreachable(Exception):
    """The chat cannot be written to (the user blocked the bot, the group is gone): the answer is dropped."""


class Refused(Exception):
    """The messenger refused this answer for good (a bad request): sending it again would not help."""


class Channel(Protocol):
    name: str

    async def incoming(self, entry: Entry) -> tuple[Incoming | None, Any]:
        """The core's view of a stored update (None: nothing to answer), and what ``acknowledge`` needs."""

    async def acknowledge(self, token: Any, outcome: Outcome | None) -> None:
        """After the event was handled: stop a tapped button's spinner, show a passing notice."""

    async def send(self, chat_id: str, reply: Reply, locale: str) -> None:
        """Show one reply. Raise ``Unreachable`` or ``Refused`` when trying again cannot help; anything else
        is tried again later."""

    async def set_menu(self, chat_id: str, role: str | None, locale: str) -> None: ...

    async def working(self, chat_id: str, *, files: bool = True) -> None:
        """A sign that slow work is under way (a chat action), where the messenger has one; ``files``: the work
        ends in files ("sending a file…"), else in text ("typing…"). A channel whose sign fades may say how
        often to show it again while the work goes on, as ``working_every`` (seconds)."""


class Acks:
    """Outbox entries sent, deleted in one transaction a moment later rather than one transaction each: a
    crash in that moment sends them again (at least once), which is the promise."""

    def __init__(self, core: Core, *, delay: float = 0.02, most: int = 64) -> None:
        self.core = core
        self.delay = delay
        self.most = most
        self._pending: list[tuple[int, int]] = []
        self._flushing: asyncio.Task[None] | None = None

    def add(self, entry: Outgoing) -> None:
        self._pending.append((entry.id, entry.version))
        if len(self._pending) >= self.most or self._flushing is None or self._flushing.done():
            self._flushing = asyncio.ensure_future(self._flush_soon(0 if len(self._pending) >= self.most
                                                                     else self.delay))

    async def _flush_soon(self, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        await self.flush()

    async def flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            for attempt in (1, 2):
                try:
                    async with self.core.db.single_statement() as uow:
                        await outbox.done(uow.session, batch)
                        await uow.commit()
                    break
                except DBAPIError as exc:
                    # A connection the server closed meanwhile (a restart): pooled connections are not checked
                    # before use while busy (storage.db), so one more go, on a new one.
                    if attempt == 1 and exc.connection_invalidated:
                        continue
                    log.exception("could not record %d answers as sent", len(batch))
                except Exception:
                    # Not deleted: sent again later, which is the lesser harm.
                    log.exception("could not record %d answers as sent", len(batch))
                    break

    async def close(self) -> None:
        if self._flushing is not None:
            await asyncio.gather(self._flushing, return_exceptions=True)
        await self.flush()


class Runtime:
    def __init__(self, core: Core, channels: Iterable[Channel], *, concurrency: int = CONCURRENCY,
                 job_slots: int = JOB_SLOTS, sweep_interval: float = SWEEP_INTERVAL) -> None:
        self.core = core
        self.channels = {channel.name: channel for channel in channels}
        self.concurrency = concurrency
        self.sweep_interval = sweep_interval
        self.accepting = True
        self.acks = Acks(core)
        self._slots = asyncio.Semaphore(concurrency)
        self._job_slots = asyncio.Semaphore(job_slots)
        self._in_hand: dict[int, asyncio.Task[None]] = {}  # inbox entry id -> its task
        # the newest entry of each conversation in hand, and its task
        self._last: dict[tuple[str, str], tuple[int, asyncio.Task[None]]] = {}
        self._sending: set[asyncio.Task[None]] = set()  # deferred work and answers due later
        self._jobs_in_hand: dict[int, Outgoing] = {}
        self._roomy = asyncio.Event()
        self._sweeper: asyncio.Task[None] | None = None
        # Updates waiting to be stored (see ``receive``), and the task storing them.
        self._to_store: list[tuple[str, list[Received], asyncio.Future[list[Entry]]]] = []
        self._storing: asyncio.Task[None] | None = None
        # Updates of failed stores, perhaps stored all the same (see ``_pick_up_own``): (channel, event key) ->
        # until when to look for them (the loop's clock); the task looking, and the sign that there are more.
        self._to_pick_up: dict[tuple[str, str], float] = {}
        self._picking_up: asyncio.Task[None] | None = None
        self._more_to_pick_up = asyncio.Event()

    @property
    def config(self) -> Any:
        return self.core.config

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.channels)

    def _now(self) -> dt.datetime:
        return self.config.clock()  # type: ignore[no-any-return]

    # --- receiving ---------------------------------------------------------------------------------

    async def receive(self, channel: str, received: list[Received]) -> list[Entry]:
        """Store updates and start handling them. Returns once they are stored, so the caller may acknowledge
        them to the messenger; raises if they could not be stored (then it must not acknowledge them: the
        messenger will send them again).

        Updates that arrive while a store is under way wait for it and are stored together in the next
        transaction: under load each webhook post is a request of its own, and one commit then serves many
        (each caller still returns only once its own updates are committed)."""
        if not self.accepting:
            raise RuntimeError("stopping: not taking new updates")
        if not received:
            return []
        stored: asyncio.Future[list[Entry]] = asyncio.get_running_loop().create_future()
        self._to_store.append((channel, received, stored))
        if self._storing is None or self._storing.done():
            self._storing = asyncio.create_task(self._store_waiting(), name="twinbot-store")
        return await stored

    async def _store_waiting(self) -> None:
        while self._to_store:
            waiting, self._to_store = self._to_store, []
            try:
                for channel in dict.fromkeys(channel for channel, _received, _stored in waiting):
                    # One channel's updates of every caller in one store, in arrival order: all stored or none.
                    await self._store(channel, [(received, stored) for of, received, stored in waiting
                                                if of == channel])
            except BaseException:
                for _channel, _received, stored in waiting:
                    if not stored.done():
                        stored.set_exception(RuntimeError("store cut short"))
                raise

    async def _store(self, channel: str,
                     batch: list[tuple[list[Received], asyncio.Future[list[Entry]]]]) -> None:
        try:
            async with self.core.db.single_statement() as uow:
                entries = await inbox.store(uow.session, channel, [item for received, _stored in batch
                                                                   for item in received],
                                            owner=self.config.worker, now=self._now(), lease=self.config.lease)
                await uow.commit()
        except BaseException as exc:
            for _received, stored in batch:
                if not stored.done():
                    stored.set_exception(exc if isinstance(exc, Exception) else RuntimeError("store cut short"))
            if not isinstance(exc, Exception):
                raise
            self._pick_up_soon(channel, [item for received, _stored in batch for item in received])
            return
        for entry in entries:  # in the order stored
            self.submit(entry)
        for received, stored in batch:
            if not stored.done():  # its caller may have gone (a webhook request cut off): stored all the same
                # An entry carries the payload it was stored from: the caller's own (not those it repeated).
                payloads = {id(item.payload) for item in received}
                stored.set_result([entry for entry in entries if id(entry.payload) in payloads])

    def _pick_up_soon(self, channel: str, received: list[Received]) -> None:
        if not self.accepting:
            return
        until = asyncio.get_running_loop().time() + self.config.lease.total_seconds()
        for item in received:
            self._to_pick_up[(channel, item.event_key)] = until
        self._more_to_pick_up.set()
        if self._picking_up is None or self._picking_up.done():
            self._picking_up = asyncio.create_task(self._pick_up_own(), name="twinbot-pick-up")

    async def _pick_up_own(self) -> None:
        """After a store failed. It may have reached the database all the same (PostgreSQL ran the statement,
        or is still running it, and the connection broke before its answer came back): those updates are then
        stored, claimed by this worker, and their redelivery is recognised as seen, so nobody would handle them
        before this worker's lease ran out. This worker looks for them itself, soon and then less often, until
        that lease would have run out, and takes up those it finds."""
        step = 0
        while self._to_pick_up:
            self._more_to_pick_up.clear()
            try:
                async with asyncio.timeout(PICK_UP_PAUSES[min(step, len(PICK_UP_PAUSES) - 1)]):
                    await self._more_to_pick_up.wait()
                step = 0  # another store failed: its updates are looked for soon, then less often
                await asyncio.sleep(PICK_UP_PAUSES[0])
            except TimeoutError:
                step += 1
            now = asyncio.get_running_loop().time()
            self._to_pick_up = {key: until for key, until in self._to_pick_up.items() if until > now}
            by_channel: dict[str, list[str]] = {}
            for channel, event_key in self._to_pick_up:
                by_channel.setdefault(channel, []).append(event_key)
            for channel, event_keys in by_channel.items():
                try:
                    entries = await self._claim_inbox(resume=True, channels=(channel,), event_keys=event_keys)
                except Exception:
                    continue  # the database is not back yet
                for entry in entries:  # oldest first
                    if self.accepting and entry.id not in self._in_hand:
                        self.submit(entry)

    def submit(self, entry: Entry) -> None:
        """Handle an entry after the ones of its conversation already in hand (in the order submitted)."""
        if entry.id in self._in_hand:
            return
        key = (entry.channel, entry.user_key)
        newest = self._last.get(key)
        # Two stores racing may submit a newer entry first: the older one must then not queue behind it
        # (the newer one waits for it in the database, and each would wait for the other).
        older_in_hand = newest is not None and newest[0] > entry.id
        previous = None if newest is None or older_in_hand else newest[1]
        task = asyncio.create_task(self._run(previous, entry), name=f"twinbot-update-{entry.id}")
        if not older_in_hand:
            self._last[key] = (entry.id, task)
        self._in_hand[entry.id] = task

        def finished(done: asyncio.Task[None]) -> None:
            self._in_hand.pop(entry.id, None)
            if key in self._last and self._last[key][1] is done:
                del self._last[key]
            self._roomy.set()

        task.add_done_callback(finished)

    async def room(self) -> None:
        """Wait until fewer than ``concurrency`` updates are in hand (polling fetches the next batch then)."""
        while len(self._in_hand) >= self.concurrency:
            self._roomy.clear()
            await self._roomy.wait()

    async def _run(self, previous: asyncio.Task[None] | None, entry: Entry) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        try:
            async with self._slots:
                await self._handle(entry)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("update %s/%s failed", entry.channel, entry.id)

    async def _handle(self, entry: Entry) -> None:
        channel = self.channels.get(entry.channel)
        if channel is None:
            return
        attempts, stored_at = await self._beginning(entry) if entry.taken_over else (entry.attempts, None)
        if attempts == 0:
            return  # handled meanwhile (by the worker that had it, just before its lease ran out)
        incoming, token = await channel.incoming(entry)
        if incoming is None:
            await self._forget(entry)
            await channel.acknowledge(token, None)
            return
        incoming = dataclasses.replace(incoming, inbox_id=entry.id)
        if attempts > inbox.MAX_ATTEMPTS and stored_at is not None \
                and self._now() - stored_at >= inbox.GIVE_UP_AFTER:
            # A worker died each time it began this one, for minutes: apologise (so the sender knows to
            # try again differently) rather than lose it unsaid, and let the updates behind it through.
            outcome = await self.core.give_up(incoming)
            log.error("update %s/%s (event %s) given up after %d attempts", entry.channel, entry.id,
                      incoming.event_key, attempts)
            await asyncio.gather(channel.acknowledge(token, outcome), self.send_all(outcome.outgoing))
            return
        waited = 0.0
        while True:
            outcome = await self.core.handle(incoming)
            if outcome.waiting_for is None:
                break
            # An older update of this conversation is still stored: it goes first. Take it over if the
            # worker that had it is gone, otherwise give that worker a moment.
            older = await self._claim_inbox(entry_id=outcome.waiting_for)
            if older:
                await self._handle(older[0])
                continue
            waited += 0.05
            if waited > self.config.lease.total_seconds() * 2:
                log.warning("update %s/%s waited %.0f s for %s; handled anyway", entry.channel, entry.id,
                            waited, outcome.waiting_for)
                # Still taken out of the inbox by the transaction handling it: it was recorded as seen when
                # stored, so handled as an update from nowhere it would be dropped as a repeat, unanswered.
                incoming = dataclasses.replace(incoming, out_of_turn=True)
                continue
            in_hand = self._in_hand.get(outcome.waiting_for)
            if in_hand is not None:
                await asyncio.wait([in_hand], timeout=0.05)
            else:
                await asyncio.sleep(0.05)
        await asyncio.gather(channel.acknowledge(token, outcome), self.send_all(outcome.outgoing))

    async def _beginning(self, entry: Entry) -> tuple[int, dt.datetime | None]:
        async with self.core.db.unit_of_work() as uow:
            counted = await inbox.beginning(uow.session, entry.id)
            await uow.commit()
        return counted

    async def _forget(self, entry: Entry) -> None:
        async with self.core.db.unit_of_work() as uow:
            await inbox.done(uow.session, entry.id)
            await uow.commit()

    # --- sending -----------------------------------------------------------------------------------

    async def send_all(self, owed: list[Outgoing]) -> None:
        for entry in owed:
            delay = (entry.due_at - self._now()).total_seconds()
            if delay > 0:
                self._spawn(self._send_when_due(entry, delay))
            else:
                await self.send(entry)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send_when_due(self, owed: Outgoing, delay: float) -> None:
        await asyncio.sleep(delay)
        # Only as this event left it: a later event that replaced it has a timer of its own for it.
        for entry in await self._claim_outbox(entry_id=owed.id, version=owed.version,
                                              now=max(self._now(), owed.due_at)):
            await self.send(entry)

    async def send(self, entry: Outgoing) -> None:
        """Send an entry's items in order and mark it sent; deferred work goes on in the background."""
        channel = self.channels.get(entry.channel)
        if channel is None:
            log.warning("no channel %r to send outbox entry %s through", entry.channel, entry.id)
            return
        done = entry.parts_done
        try:
            while done < len(entry.items):
                item = entry.items[done]
                if "job" in item:
                    if done > entry.parts_done:
                        await self._progress(entry, done)
                    self._jobs_in_hand[entry.id] = entry
                    self._spawn(self._finish_with_job(channel, entry, done))
                    return
                await self._send_item(channel, entry.chat_id, item)
                done += 1
        except (Unreachable, Refused) as exc:
            log.info("answer %s to %s:%s dropped: %s", entry.id, entry.channel, entry.chat_id, exc)
        except Exception as exc:
            await self._later(entry, done, exc)
            return
        self.acks.add(entry)

    async def _send_item(self, channel: Channel, chat_id: str, item: dict[str, Any]) -> None:
        if "reply" in item:
            await channel.send(chat_id, reply_of(item), item.get("locale") or self.config.default_locale)
        elif "menu" in item:
            await channel.set_menu(chat_id, item["menu"].get("role"), item["menu"]["locale"])

    async def _finish_with_job(self, channel: Channel, entry: Outgoing, done: int) -> None:
        try:
            async with self._job_slots:
                heartbeat = asyncio.ensure_future(self._keep_claim(entry, done))
                try:
                    while done < len(entry.items):
                        item = entry.items[done]
                        if "job" in item:
                            locale = item.get("locale") or self.config.default_locale
                            sign = functools.partial(channel.working, entry.chat_id, files=jobs.sends_files(item))
                            async with showing_work(sign, getattr(channel, "working_every", None)) as sent:
                                async for reply in jobs.run(item, self.core.db, self.config):
                                    await channel.send(entry.chat_id, reply, locale)
                                    sent()
                        else:
                            await self._send_item(channel, entry.chat_id, item)
                        done += 1
                finally:
                    heartbeat.cancel()
        except (Unreachable, Refused) as exc:
            log.info("answer %s to %s:%s dropped: %s", entry.id, entry.channel, entry.chat_id, exc)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._later(entry, done, exc)
            return
        finally:
            self._jobs_in_hand.pop(entry.id, None)
        self.acks.add(entry)

    async def _keep_claim(self, entry: Outgoing, done: int) -> None:
        """Slow work keeps its entry claimed, so no other worker takes it over while it is under way."""
        every = self.config.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            async with self.core.db.unit_of_work() as uow:
                await outbox.progress(uow.session, entry, done, owner=self.config.worker,
                                      until=self._now() + self.config.lease)
                await uow.commit()

    async def _progress(self, entry: Outgoing, done: int) -> None:
        async with self.core.db.unit_of_work() as uow:
            await outbox.progress(uow.session, entry, done, owner=self.config.worker,
                                  until=self._now() + self.config.lease)
            await uow.commit()

    async def _later(self, entry: Outgoing, done: int, error: Exception) -> None:
        """Sending failed in a way that may pass (the network, the messenger's server): keep the entry, with
        what was sent already, for the sweeper to try again once the lease runs out."""
        log.warning("answer %s to %s:%s not sent yet (%s); will try again", entry.id, entry.channel,
                    entry.chat_id, error)
        if entry.attempts >= outbox.MAX_ATTEMPTS:
            log.error("answer %s to %s:%s given up after %d attempts", entry.id, entry.channel, entry.chat_id,
                      entry.attempts)
            self.acks.add(entry)
            return
        with contextlib.suppress(Exception):
            await self._progress(entry, done)

    # --- taking over and resuming ------------------------------------------------------------------

    async def _claim_inbox(self, *, resume: bool = False, entry_id: int | None = None,
                           channels: tuple[str, ...] | None = None,
                           event_keys: list[str] | None = None) -> list[Entry]:
        async with self.core.db.unit_of_work() as uow:
            entries = await inbox.claim(uow.session, owner=self.config.worker, now=self._now(),
                                        lease=self.config.lease, channels=channels or self.names, resume=resume,
                                        entry_id=entry_id, event_keys=event_keys,
                                        limit=max(100, len(event_keys or ())))
            await uow.commit()
        return entries

    async def _claim_outbox(self, *, resume: bool = False, entry_id: int | None = None, version: int | None = None,
                            now: dt.datetime | None = None) -> list[Outgoing]:
        async with self.core.db.unit_of_work() as uow:
            entries = await outbox.claim(uow.session, owner=self.config.worker, now=now or self._now(),
                                         lease=self.config.lease, channels=self.names, resume=resume,
                                         entry_id=entry_id, version=version)
            await uow.commit()
        return entries

    async def sweep(self, *, resume: bool = False) -> int:
        """Take over what nobody holds (or, with ``resume``, what this worker held before it restarted):
        stored updates are handled, answers sent. Returns how many were taken."""
        taken = 0
        for entry in await self._claim_inbox(resume=resume):
            if entry.id not in self._in_hand:
                self.submit(entry)
                taken += 1
        for owed in await self._claim_outbox(resume=resume):
            if owed.id not in self._jobs_in_hand:
                self._spawn(self.send(owed))
                taken += 1
        if taken:
            log.info("took over %d stored update(s) and answer(s)%s", taken, " of this worker" if resume else "")
        return taken

    async def start(self) -> None:
        """Resume what this worker left unfinished, then keep sweeping for what others left."""
        await self.sweep(resume=True)
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="twinbot-sweeper")

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_interval)
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sweeping the inbox and outbox failed; trying again")

    # --- stopping ----------------------------------------------------------------------------------

    async def settle(self) -> None:
        """Wait until nothing is in hand (tests, and a stop)."""
        if self._storing is not None:
            await asyncio.gather(self._storing, return_exceptions=True)
        while self._in_hand or self._sending:
            await asyncio.gather(*self._in_hand.values(), *self._sending, return_exceptions=True)
        await self.acks.close()

    async def stop(self, grace: float = GRACE) -> None:
        """Take nothing new; finish what is in hand within ``grace`` seconds; hand the rest back, so that this
        worker or another takes it at once."""
        self.accepting = False
        for background in (self._sweeper, self._picking_up):
            if background is not None:
                background.cancel()
                await asyncio.gather(background, return_exceptions=True)
        if self._storing is not None:
            # Updates being stored were taken: their callers answer once they are in (or failed).
            await asyncio.gather(self._storing, return_exceptions=True)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while (self._in_hand or self._sending) and loop.time() < deadline:
            # asyncio.wait, not wait_for: the time running out must not cancel the work before it is listed.
            await asyncio.wait([*self._in_hand.values(), *self._sending], timeout=deadline - loop.time())
        if self._in_hand or self._sending:
            unfinished = list(self._in_hand)
            unsent = list(self._jobs_in_hand)
            tasks = [*self._in_hand.values(), *self._sending]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            log.warning("stopping: %d update(s) and %d answer(s) not finished; handed back", len(unfinished),
                        len(unsent))
            try:
                async with self.core.db.unit_of_work() as uow:
                    await inbox.release(uow.session, unfinished)
                    await outbox.release(uow.session, unsent)
                    await uow.commit()
            except Exception:
                log.exception("could not hand back unfinished work; it is taken over when its lease runs out")
        await self.acks.close()


Sleep = Callable[[float], Awaitable[Any]]
