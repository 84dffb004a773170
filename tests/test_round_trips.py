"""Statements per event on the hot path: on PostgreSQL each one is a round trip to the server, which costs more
than the work it asks for (bench/report_flow.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.pool import NullPool

from bot.channels import telegram
from bot.runtime import Acks, Runtime
from handlers.context import CoreConfig
from handlers.core import Core
from storage import conversations, inbox, outbox, people, senders
from storage import db as db_module
from storage.db import Database
from storage.models import InboxEntry, OutboxEntry
from tests.conftest import NOW, TEST_DB_URL, Clock
from tests.telegram_harness import TelegramHarness, texts
from tests.test_contention import until
from tests.test_onboarding import make_invite

LEASE = dt.timedelta(seconds=60)


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The statements ``db`` runs meanwhile (BEGIN and COMMIT aside)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA"):
            seen.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


def update(update_id: int, user: int) -> inbox.Received:
    return inbox.Received(str(update_id), str(user), {"update_id": update_id, "message": {"from": {"id": user}}})


async def test_a_batch_of_updates_is_stored_in_two_statements_one_on_postgresql_in_the_order_received(
        db: Database, clock: Clock) -> None:
    async with db.unit_of_work() as uow:
        await inbox.store(uow.session, "telegram", [update(7, 1)], owner="w", now=clock(), lease=LEASE)
        await uow.commit()
    batch = [update(10, 1), update(11, 2), update(7, 1), update(12, 1), update(11, 2), update(13, 3)]
    with statements(db) as seen:
        async with db.unit_of_work() as uow:
            entries = await inbox.store(uow.session, "telegram", batch, owner="w", now=clock(), lease=LEASE)
            await uow.commit()
    assert len(seen) == (1 if TEST_DB_URL else 2)
    # 7 was stored before, 11 came twice: each update once, in the order it came.
    assert [(e.payload["update_id"], e.user_key) for e in entries] == [(10, "1"), (11, "2"), (12, "1"), (13, "3")]
    assert [e.id for e in entries] == sorted(e.id for e in entries)
    async with db.unit_of_work() as uow:
        stored = (await uow.session.execute(select(InboxEntry.id, InboxEntry.event_key))).all()
    assert sorted(key for _id, key in stored) == ["10", "11", "12", "13", "7"]
    assert {e.id for e in entries} == {i for i, key in stored if key != "7"}
    async with db.unit_of_work() as uow:
        again = await inbox.store(uow.session, "telegram", batch, owner="w", now=clock(), lease=LEASE)
    assert again == []


@pytest.mark.skipif(not TEST_DB_URL, reason="PostgreSQL's round trips")
async def test_on_postgresql_a_batch_is_stored_in_one_round_trip_without_a_transaction_around_it(
        db: Database, clock: Clock) -> None:
    async with db.single_statement() as uow:
        entries = await inbox.store(uow.session, "telegram", [update(20, 1), update(21, 2)], owner="w", now=clock(),
                                    lease=LEASE)
        raw = (await (await uow.session.connection()).get_raw_connection()).driver_connection
        assert raw is not None and not raw.is_in_transaction()  # no BEGIN was sent, no COMMIT is owed
    # Committed as it ran: another connection sees both, claimed by the worker that stored them.
    async with db.unit_of_work() as uow:
        stored = (await uow.session.execute(select(InboxEntry.id, InboxEntry.owner).order_by(InboxEntry.id))).all()
    assert stored == [(entry.id, "w") for entry in entries] and len(entries) == 2


@pytest.mark.skipif(not TEST_DB_URL, reason="PostgreSQL's pool")
async def test_a_connection_is_checked_only_after_it_sat_idle_and_a_dead_one_is_replaced(
        monkeypatch: pytest.MonkeyPatch) -> None:
    database = Database(TEST_DB_URL, pool_size=1)
    pings: list[object] = []
    real_ping = database.engine.dialect.do_ping

    def ping(dbapi_connection: Any) -> bool:
        pings.append(dbapi_connection)
        return real_ping(dbapi_connection)

    monkeypatch.setattr(database.engine.dialect, "do_ping", ping)

    async def backend() -> int:
        async with database.unit_of_work() as uow:
            return int(await uow.session.scalar(text("SELECT pg_backend_pid()")) or 0)

    try:
        first = await backend()
        assert await backend() == first and pings == []  # in use a moment ago: not checked
        killer = Database(TEST_DB_URL, poolclass=NullPool)
        async with killer.engine.connect() as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        await killer.dispose()
        monkeypatch.setattr(db_module, "PING_AFTER_IDLE_S", 0.0)
        # The idle connection is checked, found dead and replaced: the event never sees it.
        assert await backend() != first and pings
    finally:
        await database.dispose()


async def test_a_step_of_a_report_reads_the_sender_once_in_two_statements_on_postgresql_four_on_sqlite(
        core: Core, db: Database, clock: Clock) -> None:
    async with TelegramHarness(core) as tg:
        user = tg.user(1001)
        await user.send(f"/start {await make_invite(db, clock)}")
        await user.tap("Report an activity")
        with statements(db) as seen:
            said = await user.tap("Donation / gifts")
        assert "When did it take place?" in "\n".join(texts(said))
    # Storing the update (two) and deleting the answer sent (one) are shared with the other updates of a batch.
    own = [s for s in seen if not (s.startswith(("INSERT INTO processed_events", "DELETE FROM outbox"))
                                   or "INSERT INTO inbox" in s)]
    # The conversation locked, the update taken out of the inbox and the sender read, the conversation saved
    # and the answer owed. On PostgreSQL, the lock goes with BEGIN: the conversation read with the sender and
    # the taking, then the saving with the answer. On SQLite, where the transaction holds the lock from its
    # start: the conversation read with the sender, the taking, the saving, the answer.
    assert len(own) == (2 if TEST_DB_URL else 4), own
    assert not any("pg_advisory" in s for s in own)  # not a statement of its own
    assert sum("UPDATE conversations" in s for s in own) == 1
    assert not any("SET channel" in s for s in own)  # only what the conversation holds is written back
    assert sum(" identities " in s for s in own) == 1


@pytest.mark.skipif(not TEST_DB_URL, reason="PostgreSQL's pool")
async def test_answers_sent_are_recorded_even_when_the_server_closed_the_connection_meanwhile(
        config: CoreConfig, caplog: pytest.LogCaptureFixture) -> None:
    database = Database(TEST_DB_URL, pool_size=1)
    try:
        async with database.unit_of_work() as uow:
            pid = int(await uow.session.scalar(text("SELECT pg_backend_pid()")) or 0)
            owed = await outbox.add(uow.session, "telegram", "42", [{"text": "hi"}], owner="w", now=NOW, lease=LEASE)
            await uow.commit()
        killer = Database(TEST_DB_URL, poolclass=NullPool)
        async with killer.engine.connect() as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await killer.dispose()
        acks = Acks(Core(database, config))
        acks.add(owed)
        await acks.close()
        async with database.unit_of_work() as uow:
            assert await uow.session.scalar(select(func.count()).select_from(OutboxEntry)) == 0
        assert "could not record" not in caplog.text
    finally:
        await database.dispose()


@contextmanager
def store_transactions(db: Database) -> Iterator[list[int]]:
    """For each transaction committed meanwhile that stored updates, its statements storing them."""
    stored: list[int] = []
    pending = [0]

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if "INSERT INTO inbox" in sql:
            pending[0] += 1

    def commit(_conn: Any) -> None:
        if pending[0]:
            stored.append(pending[0])
            pending[0] = 0

    event.listen(db.engine.sync_engine, "before_cursor_execute", statement)
    event.listen(db.engine.sync_engine, "commit", commit)
    try:
        yield stored
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", statement)
        event.remove(db.engine.sync_engine, "commit", commit)


async def test_webhook_posts_arriving_together_are_stored_in_one_transaction_and_each_is_answered(
        core: Core, db: Database) -> None:
    async with TelegramHarness(core) as tg:
        users = [tg.user(2000 + n) for n in range(12)]
        # Twelve webhook requests at once, each with its own update, as Telegram posts them under load.
        with store_transactions(db) as stored:
            await asyncio.gather(*(tg.runtime.receive(telegram.CHANNEL, [telegram.received(u.message("/help"))])
                                   for u in users))  # type: ignore[list-item]
        await tg.runtime.settle()
        assert stored == [1]  # one transaction, storing the twelve as one batch
        answered = {int(call.params["chat_id"]) for call in tg.stub.calls if call.method == "sendMessage"}
        assert answered == {u.id for u in users}
    async with db.unit_of_work() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(InboxEntry)) == 0


async def test_when_a_store_fails_every_update_waiting_for_it_is_refused_and_none_is_kept(
        core: Core, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    real_store = inbox.store
    failures = [1]

    async def failing_once(*args: Any, **kwargs: Any) -> Any:
        if failures:
            failures.pop()
            if not TEST_DB_URL:
                # Written, then the transaction fails: rolled back. (On PostgreSQL the store is one statement in
                # autocommit, which fails whole.)
                await real_store(*args, **kwargs)
            raise RuntimeError("disk full")
        return await real_store(*args, **kwargs)

    monkeypatch.setattr(inbox, "store", failing_once)
    async with TelegramHarness(core) as tg:
        users = [tg.user(3000 + n) for n in range(5)]
        outcomes = await asyncio.gather(*(tg.runtime.receive(telegram.CHANNEL, [telegram.received(u.message("/help"))])
                                          for u in users), return_exceptions=True)  # type: ignore[list-item]
        # Not one may be acknowledged: each caller (a webhook request) answers 500 and the update comes again.
        assert all(isinstance(outcome, RuntimeError) for outcome in outcomes), outcomes
        await tg.runtime.settle()
        assert not [call for call in tg.stub.calls if call.method == "sendMessage"]
        async with db.unit_of_work() as uow:
            assert await uow.session.scalar(select(func.count()).select_from(InboxEntry)) == 0
        # The next post is stored and answered as usual.
        calls = await tg.feed(users[0].message("/help"))
        assert [call for call in calls if call.method == "sendMessage"]


def losing_the_answer_of(stores: list[int]) -> Any:
    """``inbox.store`` whose answer is lost (after it committed) each time ``stores`` has an item to pop."""
    real_store = inbox.store

    async def store(session: Any, *args: Any, **kwargs: Any) -> Any:
        entries = await real_store(session, *args, **kwargs)
        if stores:
            stores.pop()
            await session.commit()
            raise ConnectionResetError("connection lost")
        return entries

    return store


async def test_a_store_that_failed_after_reaching_the_database_is_answered_at_once_and_only_once(
        core: Core, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store ran, then its answer was lost (the connection broke): the caller is told it failed, the update
    is stored all the same, claimed by this worker, and its redelivery is recognised as seen. The worker takes
    it up as soon as the database answers, not a lease later, and answers it once."""
    monkeypatch.setattr(inbox, "store", losing_the_answer_of([1]))
    async with TelegramHarness(core) as tg:
        user = tg.user(3010)
        update = user.message("/help")
        with pytest.raises(ConnectionResetError):  # not acknowledged: the messenger sends it again
            await tg.runtime.receive(telegram.CHANNEL, [telegram.received(update)])  # type: ignore[list-item]
        await until(lambda: texts(tg.stub.calls))  # the clock stands still: no lease runs out meanwhile
        again = await tg.feed(update)  # the redelivery
        assert texts(again) == []
        assert len(texts(tg.stub.calls)) == 1
        async with db.unit_of_work() as uow:
            assert await uow.session.scalar(select(func.count()).select_from(InboxEntry)) == 0


async def test_a_failed_store_is_looked_for_by_its_own_updates_behind_a_hundred_in_hand(
        core: Core, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = asyncio.Event()
    real_handle = Core.handle

    async def held_back(self: Core, incoming: Any) -> Any:
        await gate.wait()
        return await real_handle(self, incoming)

    monkeypatch.setattr(Core, "handle", held_back)
    lose = []
    monkeypatch.setattr(inbox, "store", losing_the_answer_of(lose))
    async with TelegramHarness(core) as tg:
        busy = [tg.user(5000 + n) for n in range(100)]
        await tg.runtime.receive(telegram.CHANNEL, [telegram.received(u.message("/help")) for u in busy])  # type: ignore[misc]
        late = tg.user(4999).message("/help")
        lose.append(1)
        with pytest.raises(ConnectionResetError):
            await tg.runtime.receive(telegram.CHANNEL, [telegram.received(late)])  # type: ignore[list-item]
        await asyncio.sleep(1)  # the first look (after 0.5 s) found it among a hundred older entries in hand
        gate.set()
        await until(lambda: [c for c in tg.stub.calls if c.method == "sendMessage" and c.params.get("chat_id") == 4999])
        await tg.runtime.settle()
        assert texts(await tg.feed(late)) == []  # the redelivery
        assert len([c for c in tg.stub.calls if c.method == "sendMessage" and c.params.get("chat_id") == 4999]) == 1


async def test_a_store_failing_while_the_last_ones_are_looked_for_is_looked_for_too(
        core: Core, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    lose = [1]
    monkeypatch.setattr(inbox, "store", losing_the_answer_of(lose))
    async with TelegramHarness(core) as tg:
        first, second = tg.user(3010).message("/help"), tg.user(3011).message("/help")
        real_claim = Runtime._claim_inbox
        raced: list[int] = []

        async def claim(self: Runtime, **kwargs: Any) -> Any:
            entries = await real_claim(self, **kwargs)
            if kwargs.get("event_keys") and not raced:
                # The look has read the inbox; meanwhile another store reaches the database, its answer lost.
                raced.append(1)
                lose.append(1)
                with pytest.raises(ConnectionResetError):
                    await tg.runtime.receive(telegram.CHANNEL, [telegram.received(second)])  # type: ignore[list-item]
            return entries

        monkeypatch.setattr(Runtime, "_claim_inbox", claim)
        with pytest.raises(ConnectionResetError):
            await tg.runtime.receive(telegram.CHANNEL, [telegram.received(first)])  # type: ignore[list-item]
        await until(lambda: [1] if {c.params.get("chat_id") for c in tg.stub.calls
                                    if c.method == "sendMessage"} == {3010, 3011} else [])
        assert raced


@pytest.mark.skipif(not TEST_DB_URL, reason="PostgreSQL's lock")
async def test_on_postgresql_an_event_waits_for_the_conversation_and_then_reads_what_the_last_one_committed(
        db: Database, clock: Clock) -> None:
    code = await make_invite(db, clock)
    async with db.unit_of_work() as first:
        await conversations.take_lock(first.session, "telegram", "555")
        state, sender = await senders.conversation_and_sender(first.session, "telegram", "555")
        assert sender is None and state.flow is None

        async def next_event() -> tuple[conversations.ConversationState, senders.Sender | None]:
            async with db.unit_of_work() as uow:
                await conversations.take_lock(uow.session, "telegram", "555")
                return await senders.conversation_and_sender(uow.session, "telegram", "555")

        waiting = asyncio.create_task(next_event())
        await asyncio.sleep(0.3)
        assert not waiting.done()  # held up by the lock the first one took with BEGIN
        invite = await people.invite_by_code(first.session, code)
        assert invite is not None
        await people.accept_invite(first.session, invite, channel="telegram", external_id="555", chat_id="555",
                                   display_name="Lò Văn Páo", username=None, locale="vi", now=clock())
        state.flow = "report"
        await conversations.save(first.session, state)
        await first.commit()
    # The registration and the conversation as the first event left them: read after the lock, not before.
    state, sender = await asyncio.wait_for(waiting, 10)
    assert state.flow == "report" and sender is not None and sender.display_name == "Lò Văn Páo"


@pytest.mark.skipif(not TEST_DB_URL, reason="PostgreSQL's lock")
async def test_a_lock_asked_for_and_never_sent_does_not_fall_on_the_next_transaction() -> None:
    database = Database(TEST_DB_URL, pool_size=1, max_overflow=0)
    try:
        async with database.unit_of_work() as uow:
            await conversations.take_lock(uow.session, "telegram", "556")  # and then nothing is run
        async with database.unit_of_work() as uow:  # the same pooled connection
            await uow.session.execute(text("SELECT 1"))
            held = await uow.session.scalar(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"))
        assert held == 0
    finally:
        await database.dispose()


@pytest.mark.skipif(not TEST_DB_URL, reason="PostgreSQL's lock")
async def test_events_lock_and_read_committed_whatever_the_servers_default_isolation() -> None:
    """A server (or database, or role) whose default is REPEATABLE READ: events still run READ COMMITTED, so
    the read after the lock sees the previous event's commit, and hold the lock, also on a connection a long
    read used before; a lock asked for in a reader's transaction is taken all the same, never dropped."""
    held = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
    database = Database(TEST_DB_URL, pool_size=1, max_overflow=0, connect_args={
        "timeout": 10, "server_settings": {"default_transaction_isolation": "repeatable read"}})
    try:
        for _ in range(2):  # a fresh connection, then the one the reader below used
            async with database.unit_of_work() as uow:
                await conversations.take_lock(uow.session, "telegram", "557")
                assert await uow.session.scalar(text("SHOW transaction_isolation")) == "read committed"
                assert await uow.session.scalar(held) == 1
                await uow.commit()
            async with database.reader() as session:
                assert await session.scalar(text("SHOW transaction_isolation")) == "repeatable read"
        async with database.reader() as session:
            await conversations.take_lock(session, "telegram", "557")
            await session.execute(text("SELECT 1"))
            assert await session.scalar(held) == 1
    finally:
        await database.dispose()
