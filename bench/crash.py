"""Crash benchmark: bot processes killed with SIGKILL at random moments while officers file reports, and
nothing the bot acknowledged may be lost.

    python bench/crash.py [--officers 20] [--kills 100] [--mode sqlite-polling|pg-webhook|both] [--seed N]
                          [--reports-each 3] [--think 4] [--answer-timeout 15] [--keep]

Two set-ups, each on a fresh database:

* ``sqlite-polling``: one bot process doing long polling against the loopback Bot API stand-in served by this
  process (tests/botapi_stub.py, with Telegram's offset semantics: ``getUpdates`` with ``offset`` confirms every
  update below it, an unconfirmed one is returned again), on a SQLite file in a temporary directory.
* ``pg-webhook``: two webhook processes (workers ``w1``, ``w2``) on PostgreSQL (database ``twinbot_crash``,
  dropped and created again at each run), behind a round-robin proxy in this process; a webhook sender here
  plays Telegram: it posts each update, in order per user, and posts it again until it gets HTTP 200.

N officers, registered through ``/start CODE`` invites, each file reports like a person: send one update, wait for
the answer, read its text and buttons (``--think`` seconds on average), answer from the table ``PROMPTS`` below.
Officers who are done keep filing reports until the last kill has happened. Meanwhile a bot process, chosen at
random, is killed (SIGKILL) after an exponentially distributed time up (its mean adapted so that ``--kills`` kills
fall while the officers work), at a random moment within ``KILL_WINDOW`` after an officer's update left, and
started again at once with the same worker id. An officer who gets no answer
within ``--answer-timeout`` seconds (from sending, or from the moment the last worker killed meanwhile was serving
again) counts an answer lost and resyncs with ``/report``, expecting "You have an unfinished report … Continue"
(a fresh start means the draft was lost, unless the database shows it was filed). An officer told "Sorry, that
did not work" resyncs the same way: a worker died five times while it had the officer's update in hand, so the
bot gave it up (``inbox.MAX_ATTEMPTS``), which the kills here can bring about. At the end every worker gets
SIGTERM once and must exit 0 within 15 s.

Restarts are forked from a warm "zygote" process that has imported the bot (aiogram's types alone take three
seconds of CPU to import on this machine, which a hundred restarts could not afford): each incarnation is a new
process that runs ``bot.serve.serve(settings, mode)`` from the start, with its settings from ``TWINBOT_*``.

Figures (per set-up): updates lost (acknowledged to the messenger, never handled), answers lost, duplicate
reports, drafts lost must all be 0, as must the inbox and outbox rows left, unexplained repeated answers,
errors the bots logged and benchmark errors. Repeated answers (one answer sent twice, allowed when a kill fell
between sending it and recording it) and updates given up with an apology (logged at ERROR by the bot, but
not counted among its errors) are counted separately. Exit status 0 when all are zero, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import datetime as dt
import importlib
import json
import math
import os
import random
import re
import select
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.loopback import install_loopback_guard  # noqa: E402

# --- what an officer answers to what ----------------------------------------------------------------
# The first phrase found in the bot's last message decides. Actions:
#   ("tap", "…suffix")  the inline button whose callback value ends with it; ("tap", n): the n-th inline button
#   ("press", "word")   the button whose label holds the word: inline, or on a reply keyboard (sends its label)
#   ("type", "text")    a message; {tag} is this report's own tag, so that every report is unique
#   ("filed", "")       the report went in ("✅ Report #12 submitted. Thank you!")
PROMPTS: list[tuple[str, tuple[str, str | int]]] = [
    ("Please check your report", ("tap", "rv:submit")),
    ("You have an unfinished report", ("tap", "rs:continue")),
    ("What kind of activity", ("tap", ":f:exchange")),
    ("When did it take place", ("tap", 0)),
    ("Which twinned partner", ("tap", 0)),
    ("Where was it held", ("tap", 0)),
    ("What kind of exchange", ("tap", 0)),
    ("How many", ("type", "12")),
    ("Describe", ("type", "Giao lưu bóng đá hữu nghị giữa hai đồn, trao quà cho học sinh hai bên ({tag}).")),
    ("Send photos", ("tap", "f:_skip")),
    ("Where exactly", ("press", "Skip")),
    ("submitted. Thank you", ("filed", "")),
    ("Sorry, that did not work", ("resync", "")),  # the update was given up: where am I?
]
FIRST_PROMPT = "What kind of activity"  # what a new draft asks first
APOLOGY = "Sorry, that did not work"  # an update given up (Core.give_up)
STEPS_PER_REPORT = 12  # /report and the answers above, for pacing the kills only

TOKEN = "123456:CRASH-not-a-real-token-abcdefghijklmno"
WEBHOOK_SECRET = "crash-bench-secret-0123456789"
BOT_USERNAME = "twinbot_test_bot"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "twinbot_crash"
NEVER = "0 0 30 2 *"  # digests and reminders on 30 February: none is ever planned
STOP_WITHIN = 15.0
RESEND_DELAY = 0.05  # the webhook sender's pause before posting an update again
# A kill falls this long at most after an officer's update left (an answer takes 10-50 ms when nothing is killed).
KILL_WINDOW = 0.04
MODES = ("sqlite-polling", "pg-webhook")


# --- the zygote: a warm process that forks bot processes ---------------------------------------------


def _die_with_parent(sig: int) -> None:
    """Linux: get ``sig`` when the parent dies, so that nothing outlives the benchmark."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, sig)  # PR_SET_PDEATHSIG


def _emit(message: dict[str, Any]) -> None:
    """One JSON line to the benchmark (a single write below PIPE_BUF, so lines of processes never mix)."""
    os.write(1, (json.dumps(message) + "\n").encode())


def zygote_main() -> int:
    """Import the bot once, then fork an incarnation per line read on stdin; report pids and exit codes."""
    install_loopback_guard()
    _die_with_parent(signal.SIGTERM)
    for module in ("bot.serve", "bot.channels.telegram", "bot.scheduler", "bot.redaction", "handlers.core",
                   "storage.migrate"):
        importlib.import_module(module)

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    _emit({"zygote": os.getpid()})
    pending = b""
    while True:
        readable, _, _ = select.select([0, wake_r], [], [])
        if wake_r in readable:
            with contextlib.suppress(BlockingIOError):
                os.read(wake_r, 512)
            _reap()
        if 0 in readable:
            chunk = os.read(0, 65536)
            if not chunk:
                return 0
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                command = json.loads(line)
                pid = os.fork()
                if pid == 0:
                    code = 1
                    try:
                        code = _incarnation(command, wake_r, wake_w)
                    except BaseException:
                        traceback.print_exc()
                    finally:
                        os._exit(code)
                _emit({"spawned": command["seq"], "pid": pid})
        _reap()


def _reap() -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _emit({"exited": pid, "code": os.waitstatus_to_exitcode(status)})


def _incarnation(command: dict[str, Any], wake_r: int, wake_w: int) -> int:
    """A bot process, as ``twinbot run`` / ``twinbot webhook`` starts it (settings from the environment)."""
    import asyncio
    import logging

    signal.set_wakeup_fd(-1)
    for fd in (wake_r, wake_w):
        os.close(fd)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    _die_with_parent(signal.SIGTERM)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    log = os.open(command["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 2)
    os.environ.update(command["env"])

    from bot.redaction import setup_logging
    from bot.serve import serve
    from bot.settings import load_settings

    settings = load_settings(env_file=None)
    secrets = [s.get_secret_value() for s in (settings.telegram_token, settings.webhook_secret) if s]
    setup_logging(settings.log_level, secrets)
    logging.getLogger("crash").warning("incarnation %s of %s, pid %s", command["seq"], command["name"], os.getpid())

    async def listening() -> None:
        _emit({"ready": command["seq"], "pid": os.getpid()})

    try:
        return asyncio.run(serve(settings, command["mode"], listening=listening))
    finally:
        logging.shutdown()


@dataclass
class Incarnation:
    seq: int
    worker: str
    pid: int = 0
    started_at: float = 0.0
    ready_at: float | None = None
    exit_code: int | None = None
    killed: bool = False
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    exited: asyncio.Event = field(default_factory=asyncio.Event)


class Zygote:
    """The benchmark's end of the zygote: spawn incarnations, learn when they are ready and how they ended."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None
        self.incarnations: dict[int, Incarnation] = {}
        self.by_pid: dict[int, Incarnation] = {}
        self._seq = 0
        self._started = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def start(self, within: float = 120) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TWINBOT_")}
        env["PYTHONPATH"] = str(ROOT)
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, str(SCRIPT), "--zygote", cwd=str(ROOT), env=env, stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=log)
        self._reader = asyncio.create_task(self._read())
        await asyncio.wait_for(self._started.wait(), within)

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            message = json.loads(line)
            now = time.monotonic()
            if "zygote" in message:
                self._started.set()
            elif "spawned" in message:
                inc = self.incarnations[message["spawned"]]
                inc.pid = message["pid"]
                self.by_pid[inc.pid] = inc
            elif "ready" in message:
                inc = self.incarnations[message["ready"]]
                inc.pid = message["pid"]
                self.by_pid[inc.pid] = inc
                inc.ready_at = now
                inc.ready.set()
            elif "exited" in message:
                found = self.by_pid.get(message["exited"])
                if found is not None:
                    found.exit_code = message["code"]
                    found.exited.set()

    def spawn(self, worker: str, mode: str, env: dict[str, str], log: Path) -> Incarnation:
        assert self.proc is not None and self.proc.stdin is not None
        self._seq += 1
        inc = Incarnation(self._seq, worker, started_at=time.monotonic())
        self.incarnations[inc.seq] = inc
        command = {"seq": inc.seq, "name": worker, "mode": mode, "env": env, "log": str(log)}
        self.proc.stdin.write((json.dumps(command) + "\n").encode())
        return inc

    async def close(self) -> None:
        if self.proc is None:
            return
        for inc in self.incarnations.values():
            if inc.pid and not inc.exited.is_set():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(inc.pid, signal.SIGKILL)
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)


class Worker:
    """One bot worker (a stable worker id): its current incarnation, killed and started again."""

    def __init__(self, zygote: Zygote, name: str, mode: str, env: dict[str, str], log: Path) -> None:
        self.zygote, self.name, self.mode, self.env, self.log = zygote, name, mode, env, log
        self.current: Incarnation | None = None
        self.restarts: list[float] = []  # seconds from SIGKILL to serving again
        self.unexpected_exits: list[str] = []  # incarnations that ended without being killed
        self.starting = asyncio.Lock()  # one start at a time: after a kill, or after an unexpected exit

    @property
    def up(self) -> bool:
        inc = self.current
        return (not self.starting.locked() and inc is not None and inc.ready.is_set() and not inc.killed
                and not inc.exited.is_set())

    async def start(self, within: float = 60, attempts: int = 5) -> Incarnation:
        """Start an incarnation and wait until it serves; one that exits first is recorded and started again."""
        async with self.starting:
            for _ in range(attempts):
                inc = self.zygote.spawn(self.name, self.mode, self.env, self.log)
                self.current = inc
                ready = asyncio.ensure_future(inc.ready.wait())
                exited = asyncio.ensure_future(inc.exited.wait())
                try:
                    await asyncio.wait({ready, exited}, timeout=within, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    ready.cancel()
                    exited.cancel()
                if inc.ready.is_set():
                    return inc
                self.unexpected(inc, "while starting")
            raise RuntimeError(f"worker {self.name} did not start {attempts} times; see {self.log}")

    def unexpected(self, inc: Incarnation, when: str) -> None:
        inc.killed = True  # recorded once
        self.unexpected_exits.append(f"{self.name} (pid {inc.pid}) exited by itself {when}, code {inc.exit_code}; "
                                     f"see {self.log}")
        print(f"  !! {self.unexpected_exits[-1]}", flush=True)

    def kill(self) -> Incarnation:
        inc = self.current
        assert inc is not None and inc.pid > 0
        inc.killed = True
        os.kill(inc.pid, signal.SIGKILL)
        return inc

    async def restart(self, killed: Incarnation, record: KillRecord) -> None:
        """Start again as soon as the killed incarnation is gone (its port free, its connections closed)."""
        await asyncio.wait_for(killed.exited.wait(), 10)
        started = await self.start()
        record.ready_at = started.ready_at
        self.restarts.append((started.ready_at or record.at) - record.at)

    async def terminate(self, within: float = STOP_WITHIN) -> tuple[int | None, float]:
        """SIGTERM once; the exit code (None: still running after ``within``) and the seconds it took."""
        inc = self.current
        assert inc is not None
        started = time.monotonic()
        if inc.exited.is_set():
            return inc.exit_code, 0.0
        os.kill(inc.pid, signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(inc.exited.wait(), within)
        return (inc.exit_code if inc.exited.is_set() else None), time.monotonic() - started


# --- kills -----------------------------------------------------------------------------------------


@dataclass
class KillRecord:
    worker: str
    at: float
    in_flight: int  # officers' updates sent and not answered yet
    ready_at: float | None = None


class Kills:
    def __init__(self) -> None:
        self.records: list[KillRecord] = []

    def deadline(self, pushed: float, timeout: float) -> float:
        """When an update sent at ``pushed`` must have been answered: ``timeout`` after it was sent, or after the
        end of any restart that was not over when it was sent and began before that deadline."""
        due = pushed + timeout
        for record in self.records:
            if record.at >= due:
                break
            if record.ready_at is None:
                return math.inf
            if record.ready_at > pushed:
                due = max(due, record.ready_at + timeout)
        return due

    def restart_between(self, first: float, again: float) -> bool:
        """Whether a process started between an answer's first copy and a second one, so that the second may
        come from a process that never learnt the first was sent. (The kill itself may come a moment before
        the first copy is recorded: a request already written reaches the stand-in after its sender died.)"""
        return any(r.at <= again and (r.ready_at is None or r.ready_at >= first) for r in self.records)


# --- the Bot API stand-in, the proxy and the webhook sender -------------------------------------------


def make_stub(observer: Any) -> Any:
    from tests.botapi_stub import BotApiStub

    class CrashStub(BotApiStub):  # type: ignore[misc, valid-type]
        """The loopback Bot API, telling the officers what the bot sent them, and keeping what getUpdates
        handed out (``delivered``) and what a later offset confirmed (``confirmed``)."""

        def __init__(self) -> None:
            super().__init__()
            self.delivered: set[int] = set()
            self.confirmed: set[int] = set()

        async def _result(self, spec: Any, call: Any) -> Any:
            result = await super()._result(spec, call)
            if spec.name != "getUpdates":
                observer(call, result)
            return result

        async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
            offset = int(params.get("offset") or 0)
            if offset > 0:
                self.confirmed.update(u["update_id"] for u in self._updates if u["update_id"] < offset)
            updates: list[dict[str, Any]] = await super()._get_updates(params)
            self.delivered.update(u["update_id"] for u in updates)
            return updates

    return CrashStub()


class RoundRobin:
    """A tiny reverse proxy: each request to the next backend in turn; a backend that does not answer is a 502."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self.turn = 0
        self.base_url = ""
        self.failed = 0
        self._runner: Any = None
        self._session: Any = None

    async def start(self) -> None:
        import aiohttp
        from aiohttp import web

        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def _forward(self, request: Any) -> Any:
        from aiohttp import web

        backend = self.backends[self.turn % len(self.backends)]
        self.turn += 1
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        try:
            async with self._session.request(request.method, backend + request.rel_url.path_qs, data=body,
                                             headers=headers) as answer:
                return web.Response(status=answer.status, body=await answer.read())
        except Exception:
            self.failed += 1
            return web.Response(status=502, text="bad gateway")

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()


class WebhookSender:
    """Telegram's side of a webhook: each update posted until it is answered with 200, in order per user."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.acknowledged: set[int] = set()
        self.posts = 0
        self.refusals: Counter[str] = Counter()
        self._last: dict[int, asyncio.Task[None]] = {}
        self._session: Any = None

    async def start(self) -> None:
        import aiohttp

        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))

    def post(self, user: int, update: dict[str, Any]) -> None:
        previous = self._last.get(user)
        self._last[user] = asyncio.create_task(self._deliver(previous, update))

    async def _deliver(self, previous: asyncio.Task[None] | None, update: dict[str, Any]) -> None:
        import aiohttp

        from bot.channels.telegram import SECRET_HEADER

        if previous is not None:
            await asyncio.wait([previous])
        while True:
            self.posts += 1
            try:
                async with self._session.post(self.url, json=update, headers={SECRET_HEADER: WEBHOOK_SECRET}) as r:
                    if r.status == 200:
                        self.acknowledged.add(update["update_id"])
                        return
                    self.refusals[str(r.status)] += 1
            except (aiohttp.ClientError, TimeoutError) as exc:
                self.refusals[type(exc).__name__] += 1
            await asyncio.sleep(RESEND_DELAY)

    async def close(self) -> None:
        tasks = list(self._last.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    @property
    def unacknowledged(self) -> int:
        return sum(1 for t in self._last.values() if not t.done())


# --- the officers -------------------------------------------------------------------------------------


@dataclass
class Shown:
    """A message the bot sent an officer, as the officer sees it."""

    text: str
    inline: list[tuple[str, str]]  # (label, callback_data)
    reply: list[str]  # labels of a reply keyboard
    message_id: int


@dataclass
class Step:
    officer: int
    label: str
    update_id: int
    pushed: float
    answered: float | None = None
    sent_at: str = field(default_factory=lambda: clock_time(time.time()))  # as the bots' logs write it


class Officer:
    """One officer at their phone: reads the bot's last message and answers it from ``PROMPTS``."""

    def __init__(self, run: SetupRun, number: int, user_id: int, invite: str) -> None:
        self.run, self.number, self.id, self.invite = run, number, user_id, invite
        self.queue: list[Shown] = []
        self.arrived = asyncio.Event()
        # Messages seen -> when first seen: a message seen before is a repeated answer. Inline buttons carry the
        # conversation's sequence number, so such a message never comes twice by right; one without (the
        # location question, on a reply keyboard) may be asked again in the next draft, or after a resync
        # (Continue asks the current question again). An apology is always in the same words: it is a new one
        # while an update of this officer's that the bot logged as given up has had none yet.
        self.seen: dict[str, float] = {}
        self.seen_unnumbered: dict[str, float] = {}
        self.sent: set[str] = set()  # update ids (event keys) of this officer's steps
        self.apologised_for: set[str] = set()
        self.first_apology: float | None = None  # a copy of any apology needs a restart after this
        self.apologies = 0
        self.tag = ""
        self.drafts = 0
        self.in_draft = False
        self.filed: list[str] = []  # tags of the reports this officer knows went in
        self.answers_lost = 0
        self.drafts_lost = 0
        self.late_found = 0  # reports found in the database after their answer was lost
        self.repeats = 0
        self.unexplained_repeats: list[str] = []
        self.extra_messages = 0
        self.resyncs = 0
        self.errors: list[str] = []
        self.pace = random.Random(f"{run.seed}:{number}")

    # what the stand-in tells the officer
    def shown(self, params: dict[str, Any], result: Any, now: float) -> None:
        from tests.botapi_stub import html_to_plain

        markup = params.get("reply_markup") or {}
        if isinstance(markup, str):
            markup = json.loads(markup)
        fingerprint = str(params.get("text")) + json.dumps(markup, sort_keys=True, ensure_ascii=False)
        if APOLOGY in str(params.get("text")) and not markup:
            owed = sorted((self.run.given_up_events() & self.sent) - self.apologised_for, key=int)
            if not owed and self.first_apology is None:
                self.errors.append(f"officer {self.number}: an apology, but no update of theirs was given up")
                return
            first = None if owed else self.first_apology
            if owed:
                self.apologised_for.add(owed[0])
                if self.first_apology is None:
                    self.first_apology = now
                self.apologies += 1
        else:
            seen = self.seen if markup.get("inline_keyboard") else self.seen_unnumbered
            first = seen.get(fingerprint)
            if first is None:
                seen[fingerprint] = now
        if first is not None:
            self.repeats += 1
            if not self.run.kills.restart_between(first, now):
                self.unexplained_repeats.append(f"officer {self.number}: {html_to_plain(str(params['text']))[:60]!r}")
            return
        inline = [(b["text"], str(b.get("callback_data", ""))) for row in markup.get("inline_keyboard", [])
                  for b in row]
        reply = [b["text"] if isinstance(b, dict) else str(b) for row in markup.get("keyboard", []) for b in row]
        message_id = int(result.get("message_id") or 0) if isinstance(result, dict) else 0
        self.queue.append(Shown(html_to_plain(str(params.get("text") or "")), inline, reply, message_id))
        self.arrived.set()

    # what the officer sends
    def message(self, text: str) -> dict[str, Any]:
        return self.run.stub.make_message(self.id, text, date=int(time.time()), language_code="en",
                                          first_name=f"Officer {self.number}")

    def tap(self, data: str, message_id: int) -> dict[str, Any]:
        return self.run.stub.make_callback(self.id, data, message_id=message_id, language_code="en",
                                           first_name=f"Officer {self.number}")

    async def step(self, label: str, update: dict[str, Any]) -> Shown | None:
        """Send one update and wait for the answer; None when none came in time (an answer lost)."""
        if self.run.args.think > 0:
            await asyncio.sleep(self.pace.expovariate(1 / self.run.args.think))  # reading, typing
        if self.queue:
            self.extra_messages += len(self.queue)
            self.queue.clear()
        step = Step(self.number, label, update["update_id"], time.monotonic())
        self.sent.add(str(update["update_id"]))
        self.run.steps.append(step)
        self.run.deliver(self.id, update)
        self.run.in_flight += 1
        self.run.pushed.set()
        try:
            timeout = self.run.args.answer_timeout
            while not self.queue:
                now = time.monotonic()
                due = self.run.kills.deadline(step.pushed, timeout)
                if now >= due:
                    self.answers_lost += 1
                    self.run.lost_steps.append(step)
                    return None
                self.arrived.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.arrived.wait(), min(due - now, 1.0))
        finally:
            self.run.in_flight -= 1
        step.answered = time.monotonic()
        return self.queue.pop(0)

    def new_draft(self) -> None:
        self.seen_unnumbered.clear()
        self.drafts += 1
        self.tag = f"crash {self.run.mode} officer {self.number} draft {self.drafts}"
        self.in_draft = True

    def done(self) -> bool:
        wanted = self.run.args.reports_each
        return len(self.filed) >= wanted and (self.run.kills_over.is_set() or len(self.filed) >= 4 * wanted)

    async def work(self) -> None:
        answer = await self.step("/start CODE", self.message(f"/start {self.invite}"))
        for _ in range(5):
            if answer is None or APOLOGY not in answer.text:
                break
            # The /start was given up, its invite not used: send it again.
            answer = await self.step("/start CODE (again)", self.message(f"/start {self.invite}"))
        if answer is not None and not any(data.endswith("menu:report") for _l, data in answer.inline):
            self.errors.append(f"officer {self.number} not registered: {answer.text[:120]!r}")
            return
        action: tuple[str, str | int] = ("type", "/report")
        while not self.done() and len(self.errors) < 5:
            built = self.build(action, answer)
            if built is None:
                answer = None
            else:
                answer = await self.step(*built)
            while answer is None and len(self.errors) < 5:
                answer = await self.resync()
            if answer is None:
                break
            action = self.decide(answer)

    async def resync(self) -> Shown | None:
        """After a lost answer: where am I? A person would look at the chat and tap again; we ask /report."""
        self.resyncs += 1
        self.seen_unnumbered.clear()
        answer = await self.step("/report (resync)", self.message("/report"))
        if answer is not None and FIRST_PROMPT in answer.text and self.in_draft:
            # A new draft: the one under way was either filed (its answer was lost) or lost.
            if await self.run.filed_with_tag(self.id, self.tag):
                self.filed.append(self.tag)
                self.late_found += 1
            else:
                self.drafts_lost += 1
                self.run.drafts_lost_detail.append(f"officer {self.number}: draft {self.tag!r} not offered again")
            self.new_draft()
        return answer

    def decide(self, answer: Shown) -> tuple[str, str | int]:
        for phrase, action in PROMPTS:
            if phrase not in answer.text:
                continue
            if action[0] == "filed":
                self.filed.append(self.tag)
                self.in_draft = False
                return ("type", "/report")
            if phrase == FIRST_PROMPT and not self.in_draft:
                self.new_draft()
            return action
        self.errors.append(f"officer {self.number}: unknown prompt {answer.text[:160]!r}")
        print(f"  !! officer {self.number}: unknown prompt {answer.text[:160]!r}", flush=True)
        return ("type", "/report")

    def build(self, action: tuple[str, str | int], answer: Shown | None) -> tuple[str, dict[str, Any]] | None:
        kind, arg = action
        if kind == "resync":
            return None  # no update to send: the caller resyncs
        if kind == "type":
            text = str(arg).format(tag=self.tag)
            return (text if text.startswith("/") else f"type {text[:12]}…", self.message(text))
        if answer is None:
            return None
        if kind == "tap":
            if isinstance(arg, int):
                chosen = answer.inline[arg] if arg < len(answer.inline) else None
            else:
                chosen = next((b for b in answer.inline if b[1].endswith(arg)), None)
            if chosen is not None:
                return (f"tap {chosen[1].partition(':')[2]}", self.tap(chosen[1], answer.message_id))
        elif kind == "press":
            for label, data in answer.inline:
                if str(arg) in label:
                    return (f"tap {data.partition(':')[2]}", self.tap(data, answer.message_id))
            for label in answer.reply:
                if str(arg) in label:
                    return (f"press {label}", self.message(label))
        self.errors.append(f"officer {self.number}: no button {arg!r} under {answer.text[:100]!r}")
        return None


class Observer:
    """Routes each recorded Bot API call to the officer it is for."""

    def __init__(self) -> None:
        self.officers: dict[int, Officer] = {}
        self.calls: Counter[str] = Counter()

    def __call__(self, call: Any, result: Any) -> None:
        self.calls[call.method] += 1
        if call.method == "sendMessage" and call.status == 200:
            officer = self.officers.get(_int(call.params.get("chat_id")))
            if officer is not None:
                officer.shown(call.params, result, time.monotonic())


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


# --- the database -------------------------------------------------------------------------------------


async def recreate_pg_database() -> str:
    import asyncpg

    connection = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        await connection.execute(f"CREATE DATABASE {PG_DATABASE}")
    finally:
        await connection.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{PG_DATABASE}"


async def prepare_database(url: str, officers: int, first_user_id: int) -> list[tuple[int, str]]:
    """Schema, the sample registry, and one officer invite per officer, over the units that have a pair."""
    from sqlalchemy import select

    from storage import migrate, people, registry
    from storage.db import Database
    from storage.models import TwinningPair, Unit

    db = Database(url)
    try:
        await migrate.upgrade(db)
        async with db.unit_of_work() as uow:
            await registry.seed_provinces(uow.session)
            await registry.apply_registry(uow.session, registry.load_registry_file(registry.SAMPLE_REGISTRY))
            await uow.commit()
        async with db.unit_of_work() as uow:
            units = (await uow.session.scalars(
                select(Unit).where(Unit.active, Unit.id.in_(
                    select(TwinningPair.unit_id).where(TwinningPair.active))).order_by(Unit.code))).all()
            now = dt.datetime.now(dt.UTC)
            invites = []
            for n in range(officers):
                invite = await people.create_invite(uow.session, role="officer", unit=units[n % len(units)],
                                                    now=now, days=7)
                invites.append((first_user_id + n, invite.code))
            await uow.commit()
        return invites
    finally:
        await db.dispose()


@dataclass
class Stored:
    inbox: int
    outbox: int
    processed: set[int]
    reports: list[tuple[str, str]]  # (author's telegram id, description)


async def read_database(db: Any) -> Stored:
    from sqlalchemy import func, select

    from storage.models import Identity, InboxEntry, OutboxEntry, ProcessedEvent, Report

    async with db.reader() as session:
        inbox = int(await session.scalar(select(func.count()).select_from(InboxEntry)) or 0)
        outbox = int(await session.scalar(select(func.count()).select_from(OutboxEntry)) or 0)
        keys = (await session.scalars(select(ProcessedEvent.event_key)
                                      .where(ProcessedEvent.channel == "telegram"))).all()
        reports = (await session.execute(
            select(Identity.external_id, Report.description)
            .join(Identity, (Identity.person_id == Report.author_person_id) & (Identity.channel == "telegram")))).all()
    return Stored(inbox, outbox, {int(k) for k in keys if k.isdigit()}, [(str(a), str(d)) for a, d in reports])


# --- one set-up ---------------------------------------------------------------------------------------


@dataclass
class Figures:
    mode: str
    officers: int = 0
    kills: int = 0
    kills_wanted: int = 0
    kills_in_flight: int = 0  # kills that fell while an officer's update was unanswered
    latencies: list[float] = field(default_factory=list)
    restarts: list[float] = field(default_factory=list)
    steps: int = 0
    reports_filed: int = 0
    reports_stored: int = 0
    acknowledged: int = 0
    updates_lost: int = 0
    answers_lost: int = 0
    answers_lost_stored: int = 0  # of which the update was stored (so handled: the inbox is empty at the end)
    duplicate_reports: int = 0
    drafts_lost: int = 0
    repeated_answers: int = 0
    unexplained_repeats: int = 0
    unexpected_reports: int = 0
    bot_errors: int = 0
    updates_given_up: int = 0  # a worker died on each of them MAX_ATTEMPTS times: apologised for
    apologies: int = 0  # apologies the officers got (not counting repeated copies)
    benchmark_errors: int = 0
    unexpected_exits: int = 0
    inbox_left: int = 0
    outbox_left: int = 0
    stops: dict[str, tuple[int | None, float]] = field(default_factory=dict)
    elapsed: float = 0.0
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class SetupRun:
    def __init__(self, mode: str, args: argparse.Namespace, workdir: Path, seed: int) -> None:
        self.mode, self.args, self.workdir, self.seed = mode, args, workdir, seed
        self.rng = random.Random(f"{seed}:{mode}")
        self.observer = Observer()
        self.stub = make_stub(self.observer)
        self.kills = Kills()
        self.kills_over = asyncio.Event()
        self.officers_done = asyncio.Event()
        self.steps: list[Step] = []
        self.in_flight = 0
        self.pushed = asyncio.Event()
        self.lost_steps: list[Step] = []
        self.drafts_lost_detail: list[str] = []
        self.workers: list[Worker] = []
        self.zygote = Zygote(workdir / f"{mode}-zygote.log")
        self.proxy: RoundRobin | None = None
        self.sender: WebhookSender | None = None
        self.db: Any = None
        self.url = ""
        self.figures = Figures(mode)

    # the messenger's side
    def deliver(self, user: int, update: dict[str, Any]) -> None:
        if self.sender is not None:
            self.sender.post(user, update)
        else:
            self.stub.push_update(update)

    def given_up_events(self) -> set[str]:
        """Update ids the bots logged as given up, so far."""
        return set().union(*(given_up(w.log) for w in self.workers))

    async def filed_with_tag(self, user: int, tag: str) -> bool:
        stored = await read_database(self.db)
        return any(author == str(user) and tag in text for author, text in stored.reports)

    async def start(self) -> list[tuple[int, str]]:
        from storage.db import Database

        if self.mode == "sqlite-polling":
            self.url = f"sqlite+aiosqlite:///{self.workdir}/twinbot.db"
        else:
            self.url = await recreate_pg_database()
        invites = await prepare_database(self.url, self.args.officers, 7_000_000_000)
        self.db = Database(self.url)
        await self.stub.start()
        await self.zygote.start()
        base = {"TWINBOT_TELEGRAM_TOKEN": TOKEN, "TWINBOT_TELEGRAM_API_BASE": self.stub.base_url,
                "TWINBOT_DATABASE_URL": self.url, "TWINBOT_BOT_USERNAME": BOT_USERNAME,
                "TWINBOT_LOG_LEVEL": "INFO",
                "TWINBOT_DIGEST_SCHEDULE": NEVER, "TWINBOT_REMINDER_SCHEDULE": NEVER}
        if self.mode == "sqlite-polling":
            self.workers = [Worker(self.zygote, "w1", "polling", {**base, "TWINBOT_WORKER_ID": "w1"},
                                   self.workdir / f"{self.mode}-w1.log")]
        else:
            ports = [free_port(self.rng), free_port(self.rng)]
            while ports[0] == ports[1]:
                ports[1] = free_port(self.rng)
            self.proxy = RoundRobin([f"http://127.0.0.1:{port}" for port in ports])
            await self.proxy.start()
            self.sender = WebhookSender(self.proxy.base_url + "/telegram/webhook")
            await self.sender.start()
            for n, port in enumerate(ports, 1):
                env = {**base, "TWINBOT_WORKER_ID": f"w{n}", "TWINBOT_WEBHOOK_URL": self.proxy.base_url,
                       "TWINBOT_WEBHOOK_SECRET": WEBHOOK_SECRET, "TWINBOT_HOST": "127.0.0.1",
                       "TWINBOT_PORT": str(port)}
                log = self.workdir / f"{self.mode}-w{n}.log"
                self.workers.append(Worker(self.zygote, f"w{n}", "webhook", env, log))
        await asyncio.gather(*(w.start() for w in self.workers))
        return invites

    async def close(self) -> None:
        await self.zygote.close()
        if self.sender is not None:
            await self.sender.close()
        if self.proxy is not None:
            await self.proxy.close()
        await self.stub.close()
        if self.db is not None:
            await self.db.dispose()

    # the killer
    def mean_gap(self, started: float) -> float:
        """Seconds a process stays up, on average, so that the kills left fall within the work left."""
        left = self.args.kills - len(self.kills.records)
        done = sum(1 for s in self.steps if s.answered is not None)
        expected = self.args.officers * (1 + self.args.reports_each * STEPS_PER_REPORT)
        elapsed = time.monotonic() - started
        if self.mode == "sqlite-polling":
            elapsed -= sum(self.workers[0].restarts)  # the work happens while the one worker is up
        guess = min(40.0, self.args.officers / (self.args.think + 0.05))  # steps/s, before any were measured
        rate = done / elapsed if done >= 20 and elapsed > 5 else guess
        remaining = max(expected - done, expected * 0.05) / rate
        return max(0.02, 0.8 * remaining / max(left, 1))

    async def killer(self, started: float) -> None:
        restarting: set[asyncio.Task[None]] = set()
        try:
            while len(self.kills.records) < self.args.kills and not self.officers_done.is_set():
                if not any(w.up for w in self.workers) and restarting:
                    await asyncio.wait(restarting, return_when=asyncio.FIRST_COMPLETED)
                gap = self.rng.expovariate(1 / self.mean_gap(started))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.officers_done.wait(), gap)
                await self.work_in_hand()
                if self.officers_done.is_set():
                    break
                up = [w for w in self.workers if w.up]
                if not up:
                    continue
                worker = self.rng.choice(up)
                record = KillRecord(worker.name, time.monotonic(), self.in_flight)
                self.kills.records.append(record)
                task = asyncio.create_task(worker.restart(worker.kill(), record))
                restarting.add(task)
                task.add_done_callback(restarting.discard)
                if len(self.workers) == 1:
                    await asyncio.gather(task, return_exceptions=True)
            await asyncio.gather(*restarting)
        finally:
            self.kills_over.set()

    async def work_in_hand(self) -> None:
        """Wait until an officer's update is on its way (a kill on an idle process proves little), then a moment
        more: from the update's arrival to just after its answer, when the answer's record is still unwritten."""
        if not self.in_flight:
            self.pushed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.pushed.wait(), 5)
        await asyncio.sleep(self.rng.uniform(0, KILL_WINDOW))

    async def watch_exits(self) -> None:
        """A worker that dies without being killed is a failure (and is started again)."""
        while True:
            await asyncio.sleep(0.2)
            for worker in self.workers:
                inc = worker.current
                if not worker.starting.locked() and inc is not None and inc.exited.is_set() and not inc.killed:
                    worker.unexpected(inc, "while serving")
                    await worker.start()

    async def progress(self, started: float, officers: list[Officer]) -> None:
        while True:
            await asyncio.sleep(10)
            answered = sum(1 for s in self.steps if s.answered is not None)
            print(f"  {time.monotonic() - started:6.0f} s  kills {len(self.kills.records)}/{self.args.kills}  "
                  f"steps {answered}  reports {sum(len(o.filed) for o in officers)}  "
                  f"answers lost {sum(o.answers_lost for o in officers)}  "
                  f"repeats {sum(o.repeats for o in officers)}", flush=True)

    async def settle(self, within: float = 30) -> Stored:
        """Wait until every worker is up and nothing is left in the inbox or the outbox."""
        deadline = time.monotonic() + within
        while True:
            stored = await read_database(self.db)
            if (stored.inbox == 0 and stored.outbox == 0 and all(w.up for w in self.workers)) \
                    or time.monotonic() > deadline:
                return stored
            await asyncio.sleep(0.25)

    async def run(self) -> Figures:
        figures = self.figures
        figures.officers, figures.kills_wanted = self.args.officers, self.args.kills
        began = time.monotonic()
        invites = await self.start()
        print(f"{self.mode}: {len(self.workers)} worker(s) up in {time.monotonic() - began:.1f} s on {self.url}; "
              f"{len(invites)} officers, {self.args.kills} kills to come", flush=True)
        officers = [Officer(self, n, uid, code) for n, (uid, code) in enumerate(invites, 1)]
        self.observer.officers = {o.id: o for o in officers}
        started = time.monotonic()
        killing = asyncio.create_task(self.killer(started))
        watching = asyncio.create_task(self.watch_exits())
        reporting = asyncio.create_task(self.progress(started, officers))
        outcomes = await asyncio.gather(*(o.work() for o in officers), return_exceptions=True)
        self.officers_done.set()
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                figures.failures.append(f"an officer failed: {type(outcome).__name__}: {outcome}")
        await killing
        reporting.cancel()
        stored = await self.settle()
        watching.cancel()
        await asyncio.gather(watching, reporting, return_exceptions=True)
        stops = await asyncio.gather(*(w.terminate() for w in self.workers))
        figures.stops = {w.name: stop for w, stop in zip(self.workers, stops, strict=True)}
        figures.elapsed = time.monotonic() - started
        stored = await read_database(self.db)
        self.account(officers, stored)
        return figures

    def account(self, officers: list[Officer], stored: Stored) -> None:
        f = self.figures
        f.kills = len(self.kills.records)
        f.kills_in_flight = sum(1 for r in self.kills.records if r.in_flight)
        f.latencies = sorted(s.answered - s.pushed for s in self.steps if s.answered is not None)
        f.restarts = [r for w in self.workers for r in w.restarts]
        f.steps = len(self.steps)
        f.reports_filed = sum(len(o.filed) for o in officers)
        f.inbox_left, f.outbox_left = stored.inbox, stored.outbox
        acknowledged = self.sender.acknowledged if self.sender is not None else self.stub.confirmed
        f.acknowledged = len(acknowledged)
        lost_updates = sorted(acknowledged - stored.processed)
        f.updates_lost = len(lost_updates)
        if lost_updates:
            f.failures.append(f"updates acknowledged and never handled: {lost_updates[:20]}")
        f.answers_lost = sum(o.answers_lost for o in officers)
        f.answers_lost_stored = sum(1 for s in self.lost_steps if s.update_id in stored.processed)
        for s in self.lost_steps[:20]:
            f.failures.append(f"no answer: officer {s.officer}, {s.label!r}, update {s.update_id} sent {s.sent_at} "
                              f"({'stored' if s.update_id in stored.processed else 'not stored'}, "
                              f"{'acknowledged' if s.update_id in acknowledged else 'not acknowledged'})")
        f.drafts_lost = sum(o.drafts_lost for o in officers)
        f.failures += self.drafts_lost_detail[:20]
        f.repeated_answers = sum(o.repeats for o in officers)
        unexplained = [r for o in officers for r in o.unexplained_repeats]
        f.unexplained_repeats = len(unexplained)
        f.failures += [f"answer repeated with no kill in between: {r}" for r in unexplained[:10]]
        # Reports: every stored one belongs to a draft an officer knows it filed, once.
        ours = {str(o.id): o for o in officers}
        stored_reports = [(a, d) for a, d in stored.reports if a in ours]
        f.reports_stored = len(stored_reports)
        copies = Counter(stored_reports)
        f.duplicate_reports = sum(n - 1 for n in copies.values() if n > 1)
        for (author, text), n in copies.items():
            if n > 1:
                f.failures.append(f"report filed {n} times by officer {ours[author].number}: {text[-60:]!r}")
        for author, text in copies:
            officer = ours[author]
            if not any(tag in text for tag in officer.filed):
                f.unexpected_reports += 1
                f.failures.append(f"a report officer {officer.number} never filed: {text[-60:]!r}")
        for officer in officers:
            missing = [t for t in officer.filed if not any(t in text for a, text in copies if a == str(officer.id))]
            f.failures += [f"officer {officer.number} filed {t!r}, not in the database" for t in missing]
        errors = [e for o in officers for e in o.errors]
        f.benchmark_errors = len(errors) + sum(1 for x in f.failures if x.startswith("an officer failed"))
        f.failures += errors[:10]
        for worker in self.workers:
            f.unexpected_exits += len(worker.unexpected_exits)
            f.failures += worker.unexpected_exits
            logged = bot_errors(worker.log)
            f.bot_errors += len(logged)
            f.failures += [f"{worker.name} logged: {line}" for line in logged[:8]]
        f.updates_given_up = len(self.given_up_events())
        f.apologies = sum(o.apologies for o in officers)
        for name, (code, seconds) in f.stops.items():
            if code != 0:
                f.failures.append(f"{name} after SIGTERM: exit code {code} after {seconds:.1f} s")
        for label, value in (("updates lost", f.updates_lost), ("answers lost", f.answers_lost),
                             ("duplicate reports", f.duplicate_reports), ("drafts lost", f.drafts_lost),
                             ("inbox rows at the end", f.inbox_left), ("outbox rows at the end", f.outbox_left)):
            if value:
                f.failures.append(f"{label}: {value}")
        if f.kills < f.kills_wanted:
            f.failures.append(f"only {f.kills} of {f.kills_wanted} kills happened while the officers worked")
        f.notes.append(f"reports stored for these officers: {f.reports_stored}; found in the database after a lost "
                       f"answer: {sum(o.late_found for o in officers)}; resyncs: {sum(o.resyncs for o in officers)}")
        extra = sum(o.extra_messages for o in officers)
        if extra:
            f.notes.append(f"{extra} message(s) came while no step was waiting for one")
        if self.sender is not None:
            f.notes.append(f"webhook posts {self.sender.posts} for {len(self.sender.acknowledged)} updates "
                           f"(refused or failed: {dict(self.sender.refusals)}); "
                           f"proxy 502s {self.proxy.failed if self.proxy else 0}; "
                           f"never answered with 200: {self.sender.unacknowledged}")
        else:
            f.notes.append(f"updates handed out by getUpdates {len(self.stub.delivered)}, "
                           f"confirmed {len(self.stub.confirmed)}")
        slowest = sorted((s for s in self.steps if s.answered is not None),
                         key=lambda s: s.pushed - (s.answered or 0.0))[:3]
        f.notes.append("slowest answers: " + "; ".join(f"{s.answered - s.pushed:.1f} s to officer {s.officer}'s "
                                                      f"{s.label!r} (update {s.update_id})"
                                                      for s in slowest if s.answered is not None))
        f.notes.append(f"Bot API calls: {dict(self.observer.calls.most_common(6))}")
        f.notes.append(f"logs: {self.workdir}")


# The runtime giving an update up after a worker died on it MAX_ATTEMPTS times (poison protection): logged at
# ERROR, apologised for, and intended, so counted apart from the bot's errors.
GIVEN_UP = re.compile(r" ERROR bot\.runtime: update \S+ \(event (\S+)\) given up after \d+ attempts$")


def _log_lines(log: Path) -> list[str]:
    try:
        return log.read_text(errors="replace").splitlines()
    except OSError:
        return []


def bot_errors(log: Path) -> list[str]:
    """ERROR and CRITICAL lines the bot logged, and the first line of any traceback printed without logging;
    not the updates given up."""
    return [line[:240] for line in _log_lines(log)
            if (re.search(r" (ERROR|CRITICAL) ", line) and not GIVEN_UP.search(line)) or line.startswith("Traceback")]


def given_up(log: Path) -> set[str]:
    """The update ids the bot gave up (one may be logged more than once: a kill before the apology committed)."""
    return {m.group(1) for line in _log_lines(log) if (m := GIVEN_UP.search(line))}


def clock_time(seconds: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(seconds)) + f",{int(seconds % 1 * 1000):03d}"


def percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))] if ordered else math.nan


def free_port(rng: random.Random) -> int:
    """A port below the ephemeral range: a worker restarting on it must not find it taken by some connection's
    local end (the proxy's, the bots' own) meanwhile."""
    for _ in range(200):
        port = rng.randrange(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port between 20000 and 32000")


# --- report -------------------------------------------------------------------------------------------


def print_figures(all_figures: list[Figures]) -> None:
    def row(label: str, *cells: str) -> None:
        print(f"  {label:<38}" + "".join(f"{c:>24}" for c in cells))

    def each(get: Any) -> list[str]:
        return [str(get(f)) for f in all_figures]

    print()
    row("", *(f.mode for f in all_figures))
    row("officers", *each(lambda f: f.officers))
    row("kills done", *each(lambda f: f"{f.kills}/{f.kills_wanted}"))
    row("restart, s (median / max)", *each(
        lambda f: f"{statistics.median(f.restarts):.2f} / {max(f.restarts):.2f}" if f.restarts else "-"))
    row("  with an update unanswered", *each(lambda f: f.kills_in_flight))
    row("steps (updates sent)", *each(lambda f: f.steps))
    row("answer time, s (median / p99 / max)", *each(
        lambda f: f"{percentile(f.latencies, 50):.2f} / {percentile(f.latencies, 99):.2f} / "
                  f"{f.latencies[-1]:.2f}" if f.latencies else "-"))
    row("updates acknowledged", *each(lambda f: f.acknowledged))
    row("reports filed", *each(lambda f: f.reports_filed))
    row("elapsed, s", *each(lambda f: f"{f.elapsed:.0f}"))
    print("  must be 0:")
    row("  updates lost", *each(lambda f: f.updates_lost))
    row("  answers lost", *each(lambda f: f.answers_lost))
    row("    of which the update was stored", *each(lambda f: f.answers_lost_stored))
    row("  duplicate reports", *each(lambda f: f.duplicate_reports))
    row("  drafts lost", *each(lambda f: f.drafts_lost))
    row("  reports nobody filed", *each(lambda f: f.unexpected_reports))
    row("  repeated answers, unexplained", *each(lambda f: f.unexplained_repeats))
    row("  inbox rows at the end", *each(lambda f: f.inbox_left))
    row("  outbox rows at the end", *each(lambda f: f.outbox_left))
    row("  bot errors logged", *each(lambda f: f.bot_errors))
    row("  bots exiting by themselves", *each(lambda f: f.unexpected_exits))
    row("  benchmark errors", *each(lambda f: f.benchmark_errors))
    row("  SIGTERM: exit codes != 0", *each(lambda f: sum(1 for c, _s in f.stops.values() if c != 0)))
    print("  allowed (a kill between sending and recording):")
    row("  repeated answers", *each(lambda f: f.repeated_answers))
    print("  allowed (a worker died five times with the update in hand: given up, apologised for):")
    row("  updates given up", *each(lambda f: f.updates_given_up))
    row("  apologies to officers", *each(lambda f: f.apologies))
    row("SIGTERM: exit code, seconds", *each(
        lambda f: " ".join(f"{n}:{c}/{s:.1f}" for n, (c, s) in f.stops.items())))
    for f in all_figures:
        print(f"\n  {f.mode}:")
        for note in f.notes:
            print(f"    {note}")


# --- main ---------------------------------------------------------------------------------------------


async def bench(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="twinbot-crash-"))
    modes = MODES if args.mode == "both" else (args.mode,)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    print(f"crash benchmark: modes {', '.join(modes)}; {args.officers} officers x {args.reports_each} reports; "
          f"{args.kills} kills each; seed {seed}; {os.cpu_count()} CPUs; work directory {workdir}", flush=True)
    results: list[Figures] = []
    began = time.monotonic()
    for mode in modes:
        run = SetupRun(mode, args, workdir, seed)
        try:
            results.append(await asyncio.wait_for(run.run(), args.max_seconds))
        except TimeoutError:
            run.figures.failures.append(f"did not finish within --max-seconds {args.max_seconds:.0f}")
            results.append(run.figures)
        finally:
            await run.close()
    print_figures(results)
    print(f"\n  whole run: {time.monotonic() - began:.0f} s")
    failed = [(f.mode, line) for f in results for line in f.failures]
    if failed:
        print("\nFAILED:")
        for mode, line in failed[:60]:
            print(f"  [{mode}] {line}")
        print(f"work directory kept: {workdir}")
        return 1
    print("\nOK: nothing acknowledged was lost")
    if args.keep:
        print(f"work directory kept: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--officers", type=int, default=20, help="officers at work at once (default 20)")
    parser.add_argument("--reports-each", type=int, default=3, help="reports each officer files, at least (default 3)")
    parser.add_argument("--kills", type=int, default=100, help="SIGKILLs per set-up (default 100)")
    parser.add_argument("--mode", choices=(*MODES, "both"), default="both")
    parser.add_argument("--seed", type=int, default=None, help="seed of the kill moments and victims")
    parser.add_argument("--think", type=float, default=4.0,
                        help="mean seconds an officer reads and types before each step (default 4; 0: back to back)")
    parser.add_argument("--answer-timeout", type=float, default=15.0,
                        help="seconds an officer waits for an answer once every killed worker is back (default 15)")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="give up on a set-up after this")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (databases, logs)")
    parser.add_argument("--zygote", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.officers < 1 or args.reports_each < 1 or args.kills < 0:
        parser.error("--officers and --reports-each must be at least 1, --kills at least 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.zygote:
        return zygote_main()
    install_loopback_guard()
    return asyncio.run(bench(args))


if __name__ == "__main__":
    sys.exit(main())
