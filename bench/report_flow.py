"""Throughput and latency of whole reports through the real Telegram path, against a bare aiogram echo bot.

    python bench/report_flow.py [--officers 50] [--reports-each 4] [--database-url URL] [--profile FILE]

What runs where:

* this process builds a fresh database (SQLite in a temporary directory unless --database-url), serves the
  loopback Bot API stand-in (tests/botapi_stub.py) on 127.0.0.1 and plays N officers at once;
* the bot runs in a child process, as in production: ``bot.serve.serve`` (long polling with getUpdates
  against the stand-in, each batch stored in the inbox before the next offset, update handling as tasks)
  on the real core. A second child
  then runs a bare aiogram echo bot the same way, driven by the same script, as the yardstick.
* a third child, the replay bot, is aiogram with twinbot's serving set-up but without twinbot: at each step
  it sends each user what twinbot sent them there (same texts, same keyboards, recorded in the first phase).
  Its figure is the most any bot giving twinbot's answers through aiogram can reach on this machine, so
  the gap between it and twinbot is twinbot's own cost (database, flows), and the gap between it and the
  echo bot is the cost of the answers themselves (more calls per step, bigger messages).

Each simulated officer behaves like a person: push one update, wait until the stand-in has recorded the bot's
answer to it (the sendMessage to that chat, and for a button press also the answerCallbackQuery of that
query), then push the next. A step's latency is "update pushed" -> "last expected answer recorded";
"replies/s" is steps answered per second (one step = one update and the bot's whole answer to it).

Targets (printed as TARGET MET / TARGET MISSED): twinbot replies/s >= 0.60 x the echo bot's, step p99 < 150 ms.
Both bots share this machine with the driver, so a busy machine (see the load average printed) skews both.

Exit status: 1 if the run was wrong (a step went unanswered, a report is missing or extra, the stand-in saw
calls real Telegram would refuse, the bot logged an exception while serving); 0 otherwise, whether or not
the performance targets were met.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import datetime as dt
import itertools
import json
import os
import pstats
import random
import resource
import shutil
import signal
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.loopback import install_loopback_guard  # noqa: E402

TOKEN = "123456:BENCH-not-a-real-token-abcdefghijklmno"
BOT_USERNAME = "twinbot_test_bot"
TARGET_RATIO = 0.60
TARGET_P99_MS = 150.0

# One report, as an officer taps and types it. ("text", words) sends a message; ("tap", value) presses the
# inline button whose callback value is `value` (an int: the button at that position); ("reply", n) presses
# the n-th button of a reply keyboard, which sends its label as text.
REPORT_SCRIPT: list[tuple[str, str, str | int]] = [
    ("/report", "text", "/report"),
    ("kind", "tap", "f:exchange"),
    ("date", "tap", 0),  # Today
    ("pair", "tap", 0),  # the unit's first twinning pair
    ("venue", "tap", "f:border"),
    ("ours", "text", "45"),
    ("partner", "text", "1.200"),
    ("type", "tap", "f:sport"),
    ("description", "text", "Giao lưu bóng đá hữu nghị giữa hai đồn, trao quà cho học sinh hai bên."),
    ("skip photos", "tap", "f:_skip"),
    ("skip location", "reply", 1),  # [📍 Send my location] [⏭ Skip] [⬅️ Back]
    ("submit", "tap", "rv:submit"),
]


def exit_status(failed: list[str]) -> int:
    """1 after listing what went wrong in a run, on stderr; 0 if nothing did."""
    if not failed:
        return 0
    print("\nFAILED:", file=sys.stderr)
    for line in failed:
        print(f"  {line}", file=sys.stderr)
    return 1


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every thread of this process (aiosqlite's too)
    return usage.ru_utime + usage.ru_stime


def process_cpu_seconds(pid: int, thread: int | None = None) -> float:
    """CPU time (user + system) of another process so far, all its threads or one; NaN without /proc."""
    path = f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat"
    try:
        fields = Path(path).read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


# --- the bot processes ------------------------------------------------------------------------


async def serve_twinbot(api_base: str, database_url: str, stop: asyncio.Event) -> None:
    from bot.serve import serve
    from bot.settings import Settings

    settings = Settings(_env_file=None, telegram_token=TOKEN, telegram_api_base=api_base,  # type: ignore[call-arg,arg-type]
                        database_url=database_url, default_locale="vi", bot_username=BOT_USERNAME)
    await serve(settings, "polling", stop=stop)


async def serve_echo(api_base: str, stop: asyncio.Event) -> None:
    from aiogram import Dispatcher, Router
    from aiogram.types import CallbackQuery, Message

    from bot.channels import telegram

    router = Router(name="echo")

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "…")

    @router.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        await query.answer()

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    # aiogram's own polling set-up, without twinbot's concurrency limit.
    await poll_until(dispatcher, telegram.make_bot(TOKEN, api_base), stop)


async def poll_until(dispatcher: Any, bot: Any, stop: asyncio.Event, *, freeze: bool = False,
                     **polling: Any) -> None:
    """aiogram's long polling until ``stop``; ``freeze`` as twinbot does after start-up."""
    from bot.serve import freeze_startup_objects

    try:
        await bot.delete_webhook(drop_pending_updates=False)
        if freeze:
            freeze_startup_objects()
        task = asyncio.create_task(
            dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False,
                                     allowed_updates=dispatcher.resolve_used_update_types(), **polling)
        )
        await stop.wait()
        await dispatcher.stop_polling()
        await task
    finally:
        await bot.session.close()


async def serve_replay(api_base: str, recorded: str, stop: asyncio.Event) -> None:
    """aiogram giving each user the answers twinbot gave them, step by step, with no database and no logic."""
    from aiogram import Dispatcher, Router
    from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardMarkup

    from bot.channels import telegram
    from bot.runtime import CONCURRENCY

    answers: dict[int, list[list[list[Any]]]] = {int(k): v for k, v in json.loads(recorded).items()}
    router = Router(name="replay")

    def markup(params: dict[str, Any]) -> Any:
        raw = params.get("reply_markup")
        data = json.loads(raw) if isinstance(raw, str) else raw
        if not data:
            return None
        return (InlineKeyboardMarkup if "inline_keyboard" in data else ReplyKeyboardMarkup).model_validate(data)

    async def replay(user_id: int, query: CallbackQuery | None) -> None:
        step = answers[user_id].pop(0) if answers.get(user_id) else []
        for what, params in step:
            if what == "answer" and query is not None:
                await query.answer(text=params.get("text"))
            elif what == "message":
                await bot.send_message(user_id, params["text"], reply_markup=markup(params))

    @router.message()
    async def on_message(message: Message) -> None:
        assert message.from_user is not None
        if message.text == "/start":  # the warm-up, as the echo bot has it
            await message.answer("…")
            return
        await replay(message.from_user.id, None)

    @router.callback_query()
    async def on_callback(query: CallbackQuery) -> None:
        await replay(query.from_user.id, query)

    dispatcher = Dispatcher(disable_fsm=True)
    dispatcher.include_router(router)
    bot = telegram.make_bot(TOKEN, api_base)
    # twinbot's serving limits (bot.runtime), so that only twinbot itself is left out.
    await poll_until(dispatcher, bot, stop, freeze=True, tasks_concurrency_limit=CONCURRENCY)


def child_main(args: argparse.Namespace) -> int:
    """A bot process: serve until SIGTERM (or --max-seconds), then print its CPU use as JSON."""
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format=f"[{args.child} bot] %(levelname)s %(name)s: %(message)s")
    install_loopback_guard()
    recorded = Path(args.replay).read_text() if args.replay else ""

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        loop.call_later(args.max_seconds, stop.set)  # never outlive a parent that went away
        if args.child == "twinbot":
            await serve_twinbot(args.api_base, args.database_url, stop)
        elif args.child == "replay":
            await serve_replay(args.api_base, recorded, stop)
        else:
            await serve_echo(args.api_base, stop)

    started, cpu0 = time.perf_counter(), cpu_seconds()
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    try:
        asyncio.run(run())
    finally:
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        print(json.dumps({"cpu": cpu_seconds() - cpu0, "wall": time.perf_counter() - started}), flush=True)
    return 0


class BotProcess:
    """A bot child process. ``script`` is the benchmark whose ``--child`` mode serves (another benchmark may
    reuse this class with its own child), ``extra`` more arguments for it."""

    def __init__(self, kind: str, api_base: str, database_url: str, max_seconds: float, log: Path,
                 profile: str | None = None, replay: Path | None = None, *, script: Path = SCRIPT,
                 extra: tuple[str, ...] = ()) -> None:
        self.kind, self.api_base, self.database_url, self.replay = kind, api_base, database_url, replay
        self.script, self.extra = script, extra
        self.max_seconds, self.profile, self.log = max_seconds, profile, log
        self.proc: asyncio.subprocess.Process | None = None
        self.usage: dict[str, float] = {}
        self.log_size_at_stop: int | None = None

    async def start(self, stub: Any, within: float = 60) -> None:
        argv = [sys.executable, str(self.script), "--child", self.kind, "--api-base", self.api_base,
                "--database-url", self.database_url, "--max-seconds", str(self.max_seconds), *self.extra]
        if self.profile:
            argv += ["--profile", self.profile]
        if self.replay:
            argv += ["--replay", str(self.replay)]
        with self.log.open("ab") as log:  # the child keeps its own descriptor
            self.proc = await asyncio.create_subprocess_exec(*argv, cwd=str(ROOT), stdin=asyncio.subprocess.DEVNULL,
                                                             stdout=asyncio.subprocess.PIPE, stderr=log)
        deadline = time.monotonic() + within
        while not stub.calls_of("getUpdates"):  # polling has begun
            if self.proc.returncode is not None:
                raise RuntimeError(f"the {self.kind} bot process exited with {self.proc.returncode} before polling")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {self.kind} bot did not start polling within {within:.0f}s")
            await asyncio.sleep(0.05)

    def cpu(self) -> float:
        return self.usage.get("cpu", float("nan"))

    def cpu_so_far(self) -> tuple[float, float]:
        """(whole process, event-loop thread) CPU seconds so far."""
        if self.proc is None:
            return float("nan"), float("nan")
        return process_cpu_seconds(self.proc.pid), process_cpu_seconds(self.proc.pid, self.proc.pid)

    async def stop(self, within: float = 20) -> None:
        proc = self.proc
        if proc is None:
            return
        with contextlib.suppress(OSError):
            self.log_size_at_stop = self.log.stat().st_size  # what comes after is shutdown noise
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), within)
        except TimeoutError:
            print(f"!! the {self.kind} bot did not stop within {within:.0f}s; killing it", file=sys.stderr)
            proc.kill()
            out, _ = await proc.communicate()
        for line in reversed((out or b"").decode(errors="replace").splitlines()):
            with contextlib.suppress(ValueError):
                self.usage = json.loads(line)
                break
        self.proc = None

    def errors(self, *, at_shutdown: bool = False) -> list[str]:
        """The exceptions the bot logged while serving (or, at_shutdown, while stopping), most frequent first."""
        try:
            data = self.log.read_bytes()
        except OSError:
            return []
        cut = len(data) if self.log_size_at_stop is None else self.log_size_at_stop
        lines = (data[cut:] if at_shutdown else data[:cut]).decode(errors="replace").splitlines()
        found: defaultdict[str, int] = defaultdict(int)
        for line in lines:
            head = line.split(":", 1)[0]
            if line and not line[0].isspace() and head.rsplit(".", 1)[-1].endswith(("Error", "Exception")):
                found[line[:200]] += 1
        return [f"{n} x {text}" for text, n in sorted(found.items(), key=lambda kv: -kv[1])]


# --- the Bot API stand-in, watched ----------------------------------------------------------------


def make_stub_class() -> type:
    from tests.botapi_stub import BotApiStub

    class WatchedStub(BotApiStub):  # type: ignore[misc, valid-type]
        """The loopback Bot API, telling the simulated users about every answered call as it records it."""

        def __init__(self, observer: Callable[[Any, Any], None], first_update_id: int) -> None:
            super().__init__()
            self.observer = observer
            # Update ids double as the bot's idempotency keys: start high so that a reused database
            # (--database-url) does not take this run's updates for redeliveries of an earlier run's.
            self._update_ids = itertools.count(first_update_id)

        async def _result(self, spec: Any, call: Any) -> Any:
            result = await super()._result(spec, call)
            if spec.name != "getUpdates":
                self.observer(call, result)
            return result

    return WatchedStub


class StepFailed(Exception):
    pass


@dataclass
class Sample:
    step: str
    first: float  # seconds to the first answer of the step
    full: float  # seconds to the last expected answer


class SimUser:
    """One officer at their phone: sees what the bot sent them, presses, types, waits for the answer."""

    def __init__(self, uid: int, language: str, name: str, stub: Any, step_timeout: float) -> None:
        self.id, self.language, self.name = uid, language, name
        self.stub, self.step_timeout = stub, step_timeout
        self.inline: list[tuple[str, str]] = []  # (label, callback_data) of the latest inline keyboard
        self.inline_message_id = 0
        self.reply_keyboard: list[str] = []
        self.last_message_id = 0
        self.last_text = ""
        self.last_notice = ""
        # With a list here, what the bot sent at each step is kept, for the replay bot to send again.
        self.recording: list[list[list[Any]]] | None = None
        self._need: set[str] = set()
        self._first: float | None = None
        self._done: asyncio.Future[float] | None = None

    # what the stand-in tells us
    def seen(self, what: str, now: float, params: dict[str, Any], result: Any) -> None:
        if what == "message" and isinstance(result, dict):
            self.last_message_id = int(result.get("message_id") or 0)
            self.last_text = str(params.get("text") or "")
            markup = params.get("reply_markup") or {}
            if isinstance(markup, str):
                markup = json.loads(markup)
            if markup.get("inline_keyboard"):
                self.inline = [(b["text"], str(b.get("callback_data", ""))) for row in markup["inline_keyboard"]
                               for b in row]
                self.inline_message_id = self.last_message_id
                self.reply_keyboard = []
            elif markup.get("keyboard"):
                self.reply_keyboard = [b["text"] if isinstance(b, dict) else str(b)
                                       for row in markup["keyboard"] for b in row]
        elif what == "answer":
            self.last_notice = str(params.get("text") or "")
        if self.recording and what in ("message", "answer"):
            kept = {k: params[k] for k in ("text", "reply_markup") if params.get(k) is not None}
            self.recording[-1].append([what, kept])
        if what in self._need:
            self._need.discard(what)
            if self._first is None:
                self._first = now
            if not self._need and self._done is not None and not self._done.done():
                self._done.set_result(now)

    # what the user does
    def message(self, text: str) -> dict[str, Any]:
        return self.stub.make_message(self.id, text, date=int(time.time()), language_code=self.language,
                                      first_name=self.name)

    def press(self, data: str, message_id: int) -> dict[str, Any]:
        return self.stub.make_callback(self.id, data, message_id=message_id, language_code=self.language,
                                       first_name=self.name)

    async def step(self, name: str, update: dict[str, Any], need: set[str]) -> Sample:
        loop = asyncio.get_running_loop()
        self._need, self._first, self._done = set(need), None, loop.create_future()
        if self.recording is not None:
            self.recording.append([])
        pushed = time.perf_counter()
        self.stub.push_update(update)
        try:
            done = await asyncio.wait_for(self._done, self.step_timeout)
        except TimeoutError:
            raise StepFailed(f"user {self.id}: no answer to step {name!r} within {self.step_timeout:g}s "
                             f"(still waiting for {sorted(self._need)})") from None
        finally:
            self._done = None
        first = self._first if self._first is not None else done
        return Sample(name, first - pushed, done - pushed)

    def button(self, wanted: str | int) -> tuple[int, str]:
        if isinstance(wanted, int):
            if wanted >= len(self.inline):
                raise StepFailed(f"user {self.id}: no button #{wanted} under {self.last_text[:80]!r}")
            return self.inline_message_id, self.inline[wanted][1]
        for _label, data in self.inline:
            if data.partition(":")[2] == wanted:
                return self.inline_message_id, data
        raise StepFailed(f"user {self.id}: no button {wanted!r} among {[lbl for lbl, _ in self.inline]} "
                         f"under {self.last_text[:80]!r}")

    async def twinbot_step(self, name: str, action: str, arg: str | int) -> Sample:
        if action == "text":
            return await self.step(name, self.message(str(arg)), {"message"})
        if action == "reply":
            if not isinstance(arg, int) or arg >= len(self.reply_keyboard):
                raise StepFailed(f"user {self.id}: no reply-keyboard button #{arg} in {self.reply_keyboard}")
            return await self.step(name, self.message(self.reply_keyboard[arg]), {"message"})
        message_id, data = self.button(arg)
        update = self.press(data, message_id)
        return await self.step(name, update, {"message", "answer"})

    async def echo_step(self, name: str, action: str, arg: str | int) -> Sample:
        if action == "text":
            return await self.step(name, self.message(str(arg)), {"message"})
        if action == "reply":
            return await self.step(name, self.message("⏭ Skip"), {"message"})
        return await self.step(name, self.press("1:x", self.last_message_id or 1), {"answer"})


class Observer:
    """Routes each recorded call to the user it answers: by chat id, or by callback query id."""

    def __init__(self) -> None:
        self.users: dict[int, SimUser] = {}
        self.calls: defaultdict[str, int] = defaultdict(int)

    def __call__(self, call: Any, result: Any) -> None:
        now = time.perf_counter()
        self.calls[call.method] += 1
        params = call.params
        if call.method == "sendMessage":
            user = self.users.get(_int(params.get("chat_id")))
            if user is not None:
                user.seen("message", now, params, result)
        elif call.method == "answerCallbackQuery":
            # make_callback's query ids are "<user id><6-digit sequence>"
            user = self.users.get(_int(str(params.get("callback_query_id", ""))[:-6]))
            if user is not None:
                user.seen("answer", now, params, result)
        elif call.method == "setMyCommands":
            scope = params.get("scope") or {}
            if isinstance(scope, dict):
                user = self.users.get(_int(scope.get("chat_id")))
                if user is not None:
                    user.seen("commands", now, params, result)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


# --- phases -----------------------------------------------------------------------------------


@dataclass
class PhaseResult:
    label: str
    users: int
    samples: list[Sample] = field(default_factory=list)
    warmup: list[Sample] = field(default_factory=list)
    wall: float = 0.0
    api_calls: int = 0
    polls: int = 0  # getUpdates calls in the measured part
    bot_cpu: float = float("nan")  # in the measured part
    bot_cpu_loop: float = float("nan")  # of which the event-loop (main) thread
    bot_cpu_total: float = float("nan")
    driver_cpu: float = 0.0
    errors: list[str] = field(default_factory=list)
    bot_errors: list[str] = field(default_factory=list)
    bot_log: str = ""
    shutdown_errors: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    refused: int = 0

    @property
    def steps(self) -> int:
        return len(self.samples)

    @property
    def replies_per_s(self) -> float:
        return self.steps / self.wall if self.wall else 0.0

    def pct(self, q: float, attr: str = "full") -> float:
        return percentile([getattr(s, attr) for s in self.samples], q) * 1000


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


async def run_phase(kind: str, officers: list[tuple[int, str, str]], reports_each: int, database_url: str,
                    args: argparse.Namespace, first_update_id: int, workdir: Path,
                    profile: str | None = None) -> PhaseResult:
    """officers: (telegram user id, language, invite code). kind: "twinbot", "echo" or "replay" (which sends
    what twinbot sent in its phase, kept in workdir/replay.json)."""
    result = PhaseResult(kind, len(officers))
    observer = Observer()
    stub = make_stub_class()(observer, first_update_id)
    await stub.start()
    log = workdir / f"{kind}-bot.log"
    recording = workdir / "replay.json"
    bot = BotProcess(kind, stub.base_url, database_url, max_seconds=args.max_seconds + 120, log=log, profile=profile,
                     replay=recording if kind == "replay" else None)
    try:
        await bot.start(stub)
        users = [SimUser(uid, lang, f"Cán bộ {n}", stub, args.step_timeout)
                 for n, (uid, lang, _code) in enumerate(officers, 1)]
        observer.users = {u.id: u for u in users}
        codes = {uid: code for uid, _lang, code in officers}

        async def warm_up(user: SimUser) -> Sample:
            if kind == "twinbot":  # registration through the real dispatcher: /start CODE
                sample = await user.step("/start CODE", user.message(f"/start {codes[user.id]}"),
                                         {"message", "commands"})
                if "menu:report" not in " ".join(data for _l, data in user.inline):
                    raise StepFailed(f"user {user.id} was not registered: {user.last_text[:200]!r}")
                return sample
            return await user.step("/start", user.message("/start"), {"message"})

        async def officer(user: SimUser) -> None:
            act = user.echo_step if kind == "echo" else user.twinbot_step
            if kind == "twinbot":
                user.recording = []
            pace = random.Random(user.id)
            for _ in range(reports_each):
                for name, action, arg in REPORT_SCRIPT:
                    if args.think > 0:
                        # A person reads the answer and types: uniform around the mean, same seed per officer
                        # for both bots.
                        await asyncio.sleep(pace.uniform(0, 2 * args.think))
                    result.samples.append(await act(name, action, arg))

        async def everyone(job: Callable[[SimUser], Any]) -> list[Any]:
            outcomes = await asyncio.gather(*(job(u) for u in users), return_exceptions=True)
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    result.errors.append(f"{type(outcome).__name__}: {outcome}")
            return [o for o in outcomes if not isinstance(o, BaseException)]

        try:
            async with asyncio.timeout(args.max_seconds):
                result.warmup = await everyone(warm_up)
                await asyncio.sleep(0.2)  # let trailing calls of the warm-up (setMyCommands) settle
                before_calls = sum(observer.calls.values())
                polls_before = len(stub.calls_of("getUpdates"))
                cpu0, bot_cpu0, started = cpu_seconds(), bot.cpu_so_far(), time.perf_counter()
                await everyone(officer)
                result.wall = time.perf_counter() - started
                result.driver_cpu = cpu_seconds() - cpu0
                bot_cpu1 = bot.cpu_so_far()
                result.bot_cpu, result.bot_cpu_loop = bot_cpu1[0] - bot_cpu0[0], bot_cpu1[1] - bot_cpu0[1]
                result.api_calls = sum(observer.calls.values()) - before_calls
                result.polls = len(stub.calls_of("getUpdates")) - polls_before
                if kind == "twinbot":
                    recording.write_text(json.dumps({u.id: u.recording for u in users}))
        except TimeoutError:
            result.errors.append(f"phase did not finish within --max-seconds {args.max_seconds:.0f}")
    finally:
        await bot.stop()
        result.bot_cpu_total = bot.cpu()
        result.bot_errors, result.bot_log = bot.errors(), str(log)
        result.shutdown_errors = bot.errors(at_shutdown=True)
        result.violations = list(stub.violations)
        result.refused = sum(1 for c in stub.calls if c.status != 200)
        await stub.close()
    return result


# --- the database ---------------------------------------------------------------------------


async def prepare_database(url: str, officers: int, first_user_id: int, *,
                           registered: bool = False) -> tuple[list[tuple[int, str, str]], int]:
    """Migrate, load the sample registry, invite `officers` officers spread over units that have pairs; with
    ``registered``, accept each invite at once, as ``/start CODE`` would (their codes then come back empty)."""
    from sqlalchemy import func, select

    from storage import migrate, people, registry
    from storage.db import Database
    from storage.models import Report, TwinningPair, Unit

    db = Database(url)
    try:
        await migrate.upgrade(db)
        async with db.unit_of_work() as uow:
            await registry.seed_provinces(uow.session)
            await registry.apply_registry(uow.session, registry.load_registry_file(registry.SAMPLE_REGISTRY))
            await uow.commit()
        async with db.unit_of_work() as uow:
            session = uow.session
            units = (await session.scalars(
                select(Unit).where(Unit.active, Unit.id.in_(
                    select(TwinningPair.unit_id).where(TwinningPair.active))).order_by(Unit.code)
            )).all()
            if not units:
                raise SystemExit("the sample registry has no unit with an active twinning pair")
            now = dt.datetime.now(dt.UTC)
            result = []
            for n in range(officers):
                uid, language = first_user_id + n, "en" if n % 2 == 0 else "vi"
                invite = await people.create_invite(session, role="officer", unit=units[n % len(units)], now=now,
                                                    days=7)
                if registered:
                    await people.accept_invite(session, invite, channel="telegram", external_id=str(uid),
                                               chat_id=str(uid), display_name=f"Cán bộ {n + 1}", username=None,
                                               locale=language, now=now)
                result.append((uid, language, "" if registered else invite.code))
            reports_before = int(await session.scalar(select(func.count()).select_from(Report)) or 0)
            await uow.commit()
        return result, reports_before
    finally:
        await db.dispose()  # the last connection folds SQLite's WAL back into the file


async def count_reports(url: str, user_ids: list[int]) -> tuple[int, dict[int, int]]:
    from sqlalchemy import func, select

    from storage.db import Database
    from storage.models import Identity, Report

    db = Database(url)
    try:
        async with db.unit_of_work() as uow:
            total = int(await uow.session.scalar(select(func.count()).select_from(Report)) or 0)
            rows = (await uow.session.execute(
                select(Identity.external_id, func.count(Report.id))
                .join(Report, Report.author_person_id == Identity.person_id)
                .where(Identity.channel == "telegram", Identity.external_id.in_([str(u) for u in user_ids]))
                .group_by(Identity.external_id)
            )).all()
        return total, {int(ext): int(n) for ext, n in rows}
    finally:
        await db.dispose()


# --- report ---------------------------------------------------------------------------------


def print_results(args: argparse.Namespace, tw: PhaseResult, echo: PhaseResult, replay: PhaseResult, reports: int,
                  db_ok: bool) -> None:
    ratio = tw.replies_per_s / echo.replies_per_s if echo.replies_per_s else float("nan")
    p99 = tw.pct(99)
    reports_per_s = reports / tw.wall if tw.wall else 0.0
    phases = (tw, echo, replay)

    def row(label: str, *cells: str) -> None:
        print(f"  {label:<34}" + "".join(f"{c:>14}" for c in cells))

    def each(figure: Callable[[PhaseResult], str]) -> list[str]:
        return [figure(p) for p in phases]

    def per_s(count: float, wall: float) -> str:
        return f"{count / wall:.1f}" if wall else "-"

    def busy(cpu: float, wall: float) -> str:
        return f"{cpu:.1f} ({cpu / wall:.0%})" if wall else "-"

    print()
    print(f"officers {tw.users}, reports {reports} ({args.reports_each} each), "
          f"{len(REPORT_SCRIPT)} steps per report, {os.cpu_count()} CPUs, db {args.db_label}")
    print("  replay = a bare aiogram bot sending, at each step, what twinbot sent there (no database, no logic)")
    row("", "twinbot", "echo", "replay")
    row("concurrent users", *each(lambda p: str(p.users)))
    row("steps answered", *each(lambda p: str(p.steps)))
    row("wall time, s", *each(lambda p: f"{p.wall:.2f}"))
    row("replies/s (steps answered/s)", *each(lambda p: f"{p.replies_per_s:.1f}"))
    row("reports/s", f"{reports_per_s:.2f}", "-", "-")
    row("Bot API calls/s", *each(lambda p: per_s(p.api_calls, p.wall)))
    row("updates per getUpdates", *each(lambda p: f"{p.steps / p.polls:.1f}" if p.polls else "-"))
    for q in (50, 90, 99):
        row(f"step latency p{q}, ms", *each(lambda p, q=q: f"{p.pct(q):.1f}"))  # type: ignore[misc]
    row("step latency max, ms", *each(lambda p: f"{p.pct(100):.1f}"))
    row("first answer p50 / p99, ms", *each(lambda p: f"{p.pct(50, 'first'):.0f} / {p.pct(99, 'first'):.0f}"))
    print("  CPU seconds in the measured part (share of one core):")
    row("  bot process", *each(lambda p: busy(p.bot_cpu, p.wall)))
    row("    its event-loop thread", *each(lambda p: busy(p.bot_cpu_loop, p.wall)))
    row("  bot CPU per step, ms", *each(lambda p: f"{p.bot_cpu / p.steps * 1000:.2f}" if p.steps else "-"))
    row("  driver + Bot API stand-in", *each(lambda p: busy(p.driver_cpu, p.wall)))
    reg = tw.warmup
    if reg:
        times = [s.full for s in reg]
        print(f"  registration (/start CODE, {len(reg)} at once): p50 {percentile(times, 50) * 1000:.0f} ms, "
              f"p99 {percentile(times, 99) * 1000:.0f} ms")

    print("\n  twinbot latency by step (ms):      p50     p90     p99     max")
    by_step: dict[str, list[float]] = defaultdict(list)
    for s in tw.samples:
        by_step[s.step].append(s.full)
    for name, _action, _arg in REPORT_SCRIPT:
        v = by_step.get(name, [])
        print(f"    {name:<30}" + "".join(f"{percentile(v, q) * 1000:8.1f}" for q in (50, 90, 99, 100)))

    print()
    if echo.replies_per_s:
        print(f"  ratio replies/s replay/echo: {replay.replies_per_s / echo.replies_per_s:.2f}  (the most any bot "
              f"answering as twinbot does through aiogram could reach)")
    print(f"  ratio replies/s twinbot/echo: {ratio:.2f}  (target >= {TARGET_RATIO:.2f})")
    print(f"  step latency p99: {p99:.1f} ms  (target < {TARGET_P99_MS:.0f} ms)")
    print(("TARGET MET" if ratio >= TARGET_RATIO else "TARGET MISSED")
          + f": throughput ratio {ratio:.2f} vs >= {TARGET_RATIO:.2f}")
    print(("TARGET MET" if p99 < TARGET_P99_MS else "TARGET MISSED")
          + f": p99 step latency {p99:.1f} ms vs < {TARGET_P99_MS:.0f} ms")
    print("DATABASE OK" if db_ok else "DATABASE WRONG (see above)")


def print_profile(path: str, limit: int = 25) -> None:
    print(f"\n--- cProfile of the twinbot process ({path}); the timings above are inflated by it ---")
    stats = pstats.Stats(path)
    stats.sort_stats("tottime").print_stats(limit)
    stats.sort_stats("cumulative").print_stats(r"(twinbot|handlers|storage|bot)/", limit)


# --- main -----------------------------------------------------------------------------------


async def bench(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="twinbot-bench-"))  # the SQLite file (by default) and the bots' logs
    if args.database_url:
        url = args.database_url
        args.db_label = url.split("://", 1)[0]
    else:
        url = f"sqlite+aiosqlite:///{workdir}/twinbot.db"
        args.db_label = "fresh SQLite file (WAL)"
    # Distinct ids per run, so a reused --database-url gets new people and new update ids.
    run = int(time.time()) % 1_000_000
    first_user_id = 7_000_000_000 + run * 10_000
    first_update_id = 100_000_000 + run * 1_000

    failed: list[str] = []
    finished = False
    load_before = load_average()
    try:
        started = time.perf_counter()
        officers, reports_before = await prepare_database(url, args.officers, first_user_id)
        print(f"database ready in {time.perf_counter() - started:.1f}s: {url}; {len(officers)} invites; "
              f"load average {load_before}")

        print("twinbot: registering and reporting …", flush=True)
        tw = await run_phase("twinbot", officers, args.reports_each, url, args, first_update_id, workdir,
                             profile=args.profile)
        print("echo bot: same users, same steps …", flush=True)
        echo = await run_phase("echo", officers, args.reports_each, url, args, first_update_id + 500_000, workdir)
        print("replay bot: twinbot's answers sent again by aiogram, without twinbot …", flush=True)
        replay = await run_phase("replay", officers, args.reports_each, url, args, first_update_id + 900_000,
                                 workdir)

        expected = args.officers * args.reports_each
        total, per_user = await count_reports(url, [uid for uid, _l, _c in officers])
        mine = sum(per_user.values())
        print(f"\nreports in the database: {total - reports_before} new ({total} in all), {mine} by this run's "
              f"officers; expected {expected}")
        wrong_users = {u: per_user.get(u, 0) for u, _l, _c in officers if per_user.get(u, 0) != args.reports_each}
        if total - reports_before != expected or mine != expected or wrong_users:
            failed.append(f"expected exactly {expected} new reports ({args.reports_each} per officer), found "
                          f"{total - reports_before}; officers with a wrong count: "
                          f"{dict(list(wrong_users.items())[:10])}")
        for phase in (tw, echo, replay):
            failed += [f"{phase.label}: {error}" for error in phase.errors[:10]]
            if len(phase.errors) > 10:
                failed.append(f"{phase.label}: … and {len(phase.errors) - 10} more errors")
            failed += [f"{phase.label}: Bot API refusal: {v}" for v in phase.violations[:10]]
            if phase.bot_errors:
                failed.append(f"{phase.label} bot logged exceptions (log: {phase.bot_log}):")
                failed += [f"    {line}" for line in phase.bot_errors[:8]]
        for phase in (tw, echo, replay):
            if phase.shutdown_errors:
                print(f"note: the {phase.label} bot logged {len(phase.shutdown_errors)} kind(s) of exception while "
                      f"stopping (log: {phase.bot_log}): {phase.shutdown_errors[0]}")
        if tw.refused:
            print(f"note: the stand-in answered {tw.refused} twinbot call(s) with an error status")

        print_results(args, tw, echo, replay, expected, not failed)
        busy_before = load_before.split()[0] not in ("?",) and float(load_before.split()[0]) > 0.5
        print(f"load average before the run: {load_before}"
              + ("  (other work was running on this machine: the figures are noisy)" if busy_before else ""))
        if args.profile:
            print_profile(args.profile)
        finished = True
    finally:
        if failed or args.keep_db or not finished:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return exit_status(failed)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--officers", type=int, default=50, help="concurrent simulated officers (default 50)")
    parser.add_argument("--reports-each", type=int, default=4, help="complete reports per officer (default 4)")
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean seconds an officer takes between steps (default 0: back to back, a stress test)")
    parser.add_argument("--database-url", default="",
                        help="database to use (migrated, sample registry loaded; must be on this machine); "
                             "default: a fresh temporary SQLite file")
    parser.add_argument("--step-timeout", type=float, default=30.0, help="give up on one answer after this (s)")
    parser.add_argument("--max-seconds", type=float, default=240.0, help="give up on a phase after this (s)")
    parser.add_argument("--profile", metavar="FILE", default=None,
                        help="run the twinbot process under cProfile, write the stats to FILE and print a summary "
                             "(slows the bot: use for where-time-goes, not for the figures)")
    parser.add_argument("--keep-db", action="store_true", help="keep the work directory (SQLite file, bot logs)")
    # Internal: the bot processes.
    parser.add_argument("--child", choices=("twinbot", "echo", "replay"), help=argparse.SUPPRESS)
    parser.add_argument("--replay", help=argparse.SUPPRESS)
    parser.add_argument("--api-base", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.officers < 1 or args.reports_each < 1:
        parser.error("--officers and --reports-each must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child_main(args)
    install_loopback_guard()
    if args.profile:
        args.profile = str(Path(args.profile).resolve())
    return asyncio.run(bench(args))


if __name__ == "__main__":
    sys.exit(main())
