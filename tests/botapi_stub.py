"""Loopback stand-in for the Telegram Bot API, checked against the published method spec.

Point aiogram at it with ``TelegramAPIServer.from_base(stub.base_url)``. Every call is recorded in
``stub.calls``; anything real Telegram would refuse (unknown parameters, missing required ones, broken
HTML, over-long texts, bad callback_data, ...) is answered with the same kind of error *and* appended to
``stub.violations``, so a test can end with ``assert stub.violations == []``.

Deliberately stricter than Telegram in one place: a bare ``&`` or ``>`` in HTML text is refused, because
it means the bot forgot to escape something that will one day contain ``<``.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

from aiohttp import web

SPEC_ENV = "TWINBOT_BOTAPI_SPEC"
# The published Bot API spec (MIT, see data/telegram-bot-api.LICENSE), kept in the tree so a fresh clone
# tests offline; TWINBOT_BOTAPI_SPEC points at a newer copy.
DEFAULT_SPEC_PATH = Path(__file__).resolve().parent / "data" / "telegram-bot-api.min.json"

BOT_FIRST_NAME = "Twinbot"
BOT_USERNAME = "twinbot_test_bot"
DEFAULT_BOT_ID = 123456

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER = 200
MAX_COMMANDS = 100
MAX_COMMAND_DESCRIPTION = 256
MAX_DOWNLOAD = 20 * 1024 * 1024  # getFile refuses bigger files
MAX_UPLOAD = 50 * 1024 * 1024

HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")
_ENTITY_RE = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]+|#[xX][0-9a-fA-F]+);")
_START_TAG_RE = re.compile(r"<([^\s>]*)")
_END_TAG_RE = re.compile(r"</([^\s>]*)\s*>")
_ATTR_RE = re.compile(r"\s+([^\s=>]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?")
# Fields of InlineKeyboardButton that only decorate it; every other optional field is its action.
_BUTTON_DECORATIONS = frozenset({"text", "icon_custom_emoji_id", "style"})


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    token: str
    status: int = 200  # HTTP status the stub answered with


class Field(NamedTuple):
    types: tuple[str, ...]
    required: bool


class MethodSpec(NamedTuple):
    name: str
    fields: dict[str, Field]
    returns: tuple[str, ...]


class Spec(NamedTuple):
    methods: dict[str, MethodSpec]  # keyed by lower-cased name: Telegram matches case-insensitively
    button_actions: frozenset[str]


@lru_cache(maxsize=4)
def load_spec(path: Path) -> Spec:
    raw = json.loads(path.read_text(encoding="utf-8"))
    methods = {
        name.lower(): MethodSpec(
            name,
            {f["name"]: Field(tuple(f["types"]), bool(f["required"])) for f in m.get("fields", [])},
            tuple(m.get("returns", [])),
        )
        for name, m in raw["methods"].items()
    }
    button = {f["name"] for f in raw["types"]["InlineKeyboardButton"]["fields"]}
    return Spec(methods, frozenset(button - _BUTTON_DECORATIONS))


def spec_path() -> Path:
    return Path(os.environ.get(SPEC_ENV) or DEFAULT_SPEC_PATH)


class EntityParseError(ValueError):
    pass


def html_to_plain(text: str) -> str:
    """Return the text Telegram would show for ``parse_mode=HTML``, or raise EntityParseError."""

    def at(pos: int) -> str:
        return f"byte offset {len(text[:pos].encode())}"

    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "&":
            m = _ENTITY_RE.match(text, i)
            if m is None:
                raise EntityParseError(f'Unescaped "&" at {at(i)}')
            out.append(html.unescape(m.group()))
            i = m.end()
        elif ch == ">":
            raise EntityParseError(f'Unescaped ">" at {at(i)}')
        elif ch != "<":
            out.append(ch)
            i += 1
        elif text.startswith("</", i):
            end = _END_TAG_RE.match(text, i)
            if end is None:
                raise EntityParseError(f"Can't find end of tag at {at(i)}")
            name = end.group(1).lower()
            if not stack:
                raise EntityParseError(f"Unexpected end tag at {at(i)}")
            if name != stack[-1]:
                raise EntityParseError(
                    f'Unmatched end tag at {at(i)}, expected "</{stack[-1]}>", found "</{name}>"'
                )
            stack.pop()
            i = end.end()
        else:
            start = _START_TAG_RE.match(text, i)
            assert start is not None  # the pattern matches any "<"
            name = start.group(1).lower()
            if name not in HTML_TAGS:
                raise EntityParseError(f'Unsupported start tag "{name}" at {at(i)}')
            attrs: dict[str, str] = {}
            j = start.end()
            while (attr := _ATTR_RE.match(text, j)) is not None:
                value = attr.group(2) or ""
                if value[:1] in {'"', "'"}:
                    value = value[1:-1]
                attrs[attr.group(1).lower()] = html.unescape(value)
                j = attr.end()
            while j < len(text) and text[j].isspace():
                j += 1
            if j >= len(text) or text[j] != ">":
                raise EntityParseError(f"Unclosed start tag at {at(i)}")
            if name == "span" and attrs.get("class") != "tg-spoiler":
                raise EntityParseError('Tag "span" must have class "tg-spoiler"')
            if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
                raise EntityParseError('Tag "tg-emoji" must have a numeric "emoji-id"')
            stack.append(name)
            i = j + 1
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


class _Refusal(Exception):
    def __init__(self, status: int, description: str, *, violation: bool = True, detail: str = "") -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.violation = violation
        self.detail = detail


def _bad(description: str, detail: str = "") -> _Refusal:
    return _Refusal(400, f"Bad Request: {description}", detail=detail)


@dataclass
class _Fault:
    status: int
    description: str
    retry_after: int | None
    remaining: int


@dataclass
class _File:
    file_id: str
    file_unique_id: str
    size: int | None = None
    data: bytes | None = None
    filename: str = ""
    path: str | None = None


class BotApiStub:
    """``async with BotApiStub() as stub:`` serves the Bot API at ``stub.base_url`` until the block ends.

    Inspect with ``calls``, ``calls_of()``, ``sent_texts()``, ``violations``, ``wait_for_calls()``; feed
    long polling with ``push_update(make_message(...) / make_callback(...) / make_photo(...))``; script
    errors with ``fail_next()`` and answers for methods without a built-in one with ``set_result()``.
    """

    def __init__(self, spec_file: Path | str | None = None) -> None:
        self._spec = load_spec(Path(spec_file or spec_path()).resolve())
        self.calls: list[ApiCall] = []
        self.violations: list[str] = []
        self.webhook_url = ""
        self._updates: list[dict[str, Any]] = []
        self._faults: dict[str, list[_Fault]] = {}
        self._results: dict[str, Any] = {}
        self._files: dict[str, _File] = {}
        self._messages: dict[tuple[Any, int], dict[str, Any]] = {}
        self._update_ids = itertools.count(1)
        self._last_update_id = 0
        self._message_ids = itertools.count(1)
        self._seq = itertools.count(1)  # file ids, file paths, callback query ids, media groups
        # Replaced (after being set) on every change, so each waiter wakes exactly once per change.
        self._pushed = asyncio.Event()
        self._recorded = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_UPLOAD + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        # handler_cancellation lets a client that gives up on getUpdates end its long poll here too.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        self._closing = True
        self._wake_pollers()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiStub:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- inspection ------------------------------------------------------------------------------

    def calls_of(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def sent_texts(self, chat_id: int | str | None = None) -> list[str]:
        """Texts of accepted sendMessage/editMessageText calls, in call order."""
        return [
            c.params["text"]
            for c in self.calls
            if c.method in {"sendMessage", "editMessageText"}
            and c.status == 200
            and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))
        ]

    def clear(self) -> None:
        """Forget recorded calls and violations (queued updates, faults and files stay)."""
        self.calls.clear()
        self.violations.clear()

    async def wait_for_calls(
        self,
        method: str,
        count: int,
        timeout: float = 5,  # noqa: ASYNC109 - one deadline argument reads better in tests
    ) -> list[ApiCall]:
        try:
            async with asyncio.timeout(timeout):
                while len(found := self.calls_of(method)) < count:
                    await self._recorded.wait()
        except TimeoutError:
            seen = [c.method for c in self.calls]
            raise TimeoutError(f"wanted {count} x {method} within {timeout}s; calls so far: {seen}") from None
        return found

    # -- scripting -------------------------------------------------------------------------------

    def fail_next(
        self, method: str, status: int, description: str, *, retry_after: int | None = None, times: int = 1
    ) -> None:
        self._faults.setdefault(method.lower(), []).append(_Fault(status, description, retry_after, times))

    def set_result(self, method: str, result: Any | Callable[[ApiCall], Any]) -> None:
        """Answer `method` with this result (or result(call)) instead of the built-in one."""
        self._results[method.lower()] = result

    def add_file(self, file_id: str, data: bytes, *, filename: str = "") -> None:
        """Make `file_id` downloadable through getFile + the file URL."""
        f = self._file(file_id)
        f.data, f.size, f.filename = data, len(data), filename

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        # Telegram's update_ids only grow; offset-based confirmation depends on it.
        if int(update.get("update_id") or 0) <= self._last_update_id:
            update["update_id"] = self._next_update_id()
        self._last_update_id = update["update_id"]
        self._updates.append(update)
        self._wake_pollers()
        return update

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        return list(self._updates)

    # -- update builders -------------------------------------------------------------------------

    def make_message(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        date: int | None = None,
        language_code: str = "vi",
        first_name: str = "Test",
        **extra: Any,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": date if date is not None else int(time.time()),
            "chat": self._chat(chat_id if chat_id is not None else user_id, first_name),
            "from": _user(user_id, first_name, language_code),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
        message.update(extra)
        return {"update_id": self._next_update_id(), "message": message}

    def make_callback(
        self,
        user_id: int,
        data: str,
        *,
        message_id: int | None = None,
        chat_id: int | None = None,
        first_name: str = "Test",
        language_code: str = "vi",
    ) -> dict[str, Any]:
        """A button press; by default on the latest message the bot sent to that chat."""
        chat = chat_id if chat_id is not None else user_id
        if message_id is None:
            message_id = max((mid for c, mid in self._messages if c == chat), default=1)
        message = dict(self._messages.get((chat, message_id)) or {}) or {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self._chat(chat),
            "from": self._bot_user(""),
            "text": "...",
        }
        query = {
            "id": f"{user_id}{next(self._seq):06d}",
            "from": _user(user_id, first_name, language_code),
            "chat_instance": f"ci{chat}",
            "message": message,
            "data": data,
        }
        return {"update_id": self._next_update_id(), "callback_query": query}

    def make_photo(
        self,
        user_id: int,
        file_id: str,
        file_size: int,
        *,
        media_group_id: str | None = None,
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        f = self._file(file_id)
        f.size, f.filename = file_size, f.filename or "photo.jpg"
        update = self.make_message(user_id, "", chat_id=chat_id)
        message = update["message"]
        del message["text"]
        message["photo"] = _photo_sizes(f)
        if media_group_id is not None:
            message["media_group_id"] = media_group_id
        if caption is not None:
            message["caption"] = caption
        return update

    # -- HTTP ------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        token, name = request.match_info["token"], request.match_info["method"]
        if not _TOKEN_RE.fullmatch(token):
            return _error(401, "Unauthorized")
        raw, files = await _read_params(request)
        spec = self._spec.methods.get(name.lower())
        call = ApiCall(spec.name if spec else name, raw, token)
        self.calls.append(call)
        self._recorded.set()
        self._recorded = asyncio.Event()
        try:
            if spec is None:
                raise _Refusal(404, "Not Found: method not found")
            uploads = {key: self._upload(*file) for key, file in files.items()}
            self._decode(spec, call, uploads)
            self._check(spec.name, call.params)
            if fault := self._take_fault(spec.name):
                call.status = fault.status
                params = {"retry_after": fault.retry_after} if fault.retry_after is not None else None
                return _error(fault.status, fault.description, params)
            result = await self._result(spec, call)
        except _Refusal as refusal:
            call.status = refusal.status
            if refusal.violation:
                detail = f" ({refusal.detail})" if refusal.detail else ""
                self.violations.append(f"{call.method}: {refusal.description}{detail}")
            return _error(refusal.status, refusal.description)
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        for f in self._files.values():
            if f.path == path:
                return web.Response(body=f.data if f.data is not None else bytes(f.size or 0))
        return _error(404, "Not Found")

    # -- request checking ------------------------------------------------------------------------

    def _decode(self, spec: MethodSpec, call: ApiCall, uploads: dict[str, _File]) -> None:
        """Fill call.params with spec-typed values, then refuse the call if anything was off."""
        problems: list[_Refusal] = []
        params: dict[str, Any] = {}
        for key, value in call.params.items():
            fld = spec.fields.get(key)
            if fld is None:
                problems.append(_bad(f'unknown parameter "{key}"'))
            try:
                params[key] = _coerce(value, fld.types if fld else ("Unknown",))
            except ValueError:
                params[key] = value
                if fld is not None:
                    problems.append(_bad(f'can\'t parse parameter "{key}"', detail=repr(value)))
        used: set[str] = set()
        params = {key: self._attach(value, uploads, used, problems) for key, value in params.items()}
        for key, f in uploads.items():
            if key not in used:
                params[key] = _upload_info(f)
                if key not in spec.fields:
                    problems.append(
                        _bad(f'unknown parameter "{key}"', detail="upload not named by attach://")
                    )
        call.params = params
        for key, fld in spec.fields.items():
            if fld.required and key not in params:
                problems.append(_bad(f'parameter "{key}" is required'))
        if problems:
            raise problems[0]

    def _attach(self, value: Any, uploads: dict[str, _File], used: set[str], problems: list[_Refusal]) -> Any:
        if isinstance(value, str) and value.startswith("attach://"):
            key = value.removeprefix("attach://")
            if key not in uploads:
                problems.append(_bad(f"file {key} not found in the request"))
                return value
            used.add(key)
            return _upload_info(uploads[key])
        if isinstance(value, list):
            return [self._attach(v, uploads, used, problems) for v in value]
        if isinstance(value, dict):
            return {k: self._attach(v, uploads, used, problems) for k, v in value.items()}
        return value

    def _check(self, method: str, params: dict[str, Any]) -> None:
        mode = params.get("parse_mode")
        if method in {"sendMessage", "editMessageText"}:
            text = _formatted(params["text"], mode)
            if not text.strip():
                raise _bad("message text is empty")
            if len(text) > MAX_TEXT:
                raise _bad("message is too long", detail=f"{len(text)} characters")
        if "caption" in params:
            _check_caption(params["caption"], mode)
        for item in params.get("media") or []:
            if isinstance(item, dict) and "caption" in item:
                _check_caption(item["caption"], item.get("parse_mode"))
        if method == "answerCallbackQuery" and len(params.get("text", "")) > MAX_CALLBACK_ANSWER:
            raise _bad("MESSAGE_TOO_LONG", detail="callback answer text over 200 characters")
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            self._check_inline_keyboard(markup["inline_keyboard"])
        if method == "setMyCommands":
            _check_commands(params["commands"])

    def _check_inline_keyboard(self, rows: Any) -> None:
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad('can\'t parse inline keyboard button: field "inline_keyboard" must be an Array')
        for button in itertools.chain.from_iterable(rows):
            if not isinstance(button, dict) or not str(button.get("text") or ""):
                raise _bad("text must be non-empty", detail=f"inline button {button!r}")
            if not self._spec.button_actions & button.keys():
                raise _bad("text buttons are unallowed in the inline keyboard", detail=button["text"])
            if "callback_data" in button:
                size = len(str(button["callback_data"]).encode())
                if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    raise _bad("BUTTON_DATA_INVALID", detail=f"callback_data of {size} bytes")

    def _take_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method.lower())
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.pop(0)
        return fault

    # -- answers ---------------------------------------------------------------------------------

    async def _result(self, spec: MethodSpec, call: ApiCall) -> Any:
        params, name = call.params, spec.name
        if (custom := self._results.get(name.lower())) is not None:
            return custom(call) if callable(custom) else custom
        if name == "getUpdates":
            return await self._get_updates(params)
        if name == "getMe":
            return self._bot_user(call.token)
        if name == "getFile":
            return self._get_file(params["file_id"])
        if name in {"setWebhook", "deleteWebhook"}:
            self.webhook_url = params.get("url", "") if name == "setWebhook" else ""
            if params.get("drop_pending_updates"):
                self._updates.clear()
        if name == "getWebhookInfo":
            return {
                "url": self.webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
        if name == "sendMediaGroup":
            group = str(next(self._seq))
            return [self._message(call, item, media_group_id=group) for item in params["media"]]
        if spec.returns[:1] == ("Message",):
            if "inline_message_id" in params:
                return True
            return self._message(call, params)
        if spec.returns[:1] == ("MessageId",):
            return {"message_id": next(self._message_ids)}
        if spec.returns[:1] == ("Boolean",):
            return True
        raise _Refusal(
            500, f"Internal Server Error: stub has no answer for {name}; use set_result()", violation=False
        )

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise _Refusal(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = float(params.get("timeout") or 0)
        if not self._updates and timeout > 0 and not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._pushed.wait(), timeout)
        return self._updates[:limit]

    def _get_file(self, file_id: str) -> dict[str, Any]:
        f = self._file(file_id)
        if f.size is not None and f.size > MAX_DOWNLOAD:
            raise _Refusal(400, "Bad Request: file is too big", violation=False)
        f.path = f.path or f"files/file_{next(self._seq)}{Path(f.filename).suffix}"
        result: dict[str, Any] = {
            "file_id": f.file_id,
            "file_unique_id": f.file_unique_id,
            "file_path": f.path,
        }
        if f.size is not None:
            result["file_size"] = f.size
        return result

    def _message(self, call: ApiCall, source: dict[str, Any], **extra: Any) -> dict[str, Any]:
        params = call.params
        chat_id = params.get("chat_id", 0)
        editing = call.method.startswith("edit")
        message_id = int(params["message_id"]) if editing and "message_id" in params else None
        message: dict[str, Any] = dict(self._messages.get((chat_id, message_id or 0), {}))
        message.update(
            message_id=message_id or next(self._message_ids),
            date=message.get("date", int(time.time())),
            chat=self._chat(chat_id),
            **{"from": self._bot_user(call.token)},
            **extra,
        )
        if editing:
            message["edit_date"] = int(time.time())
            message.pop("reply_markup", None)  # an edit without reply_markup removes the keyboard
        mode = source.get("parse_mode")
        if "text" in source:
            message["text"] = _formatted(source["text"], mode)
        if "caption" in source:
            message["caption"] = _formatted(source["caption"], mode)
        kind = source.get("type") or call.method.removeprefix("send").lower()
        media = source.get("media") if "type" in source else source.get(kind)
        if kind == "photo" and media is not None:
            message["photo"] = _photo_sizes(self._media_file(media))
        elif kind == "document" and media is not None:
            f = self._media_file(media)
            document = {
                "file_id": f.file_id,
                "file_unique_id": f.file_unique_id,
                "file_name": f.filename,
                "file_size": f.size,
            }
            message["document"] = {k: v for k, v in document.items() if v}
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup  # only inline keyboards are attached to a Message
        self._messages[(chat_id, message["message_id"])] = message
        return message

    def _upload(self, filename: str, data: bytes) -> _File:
        f = self._file(f"stub-file-{next(self._seq)}")
        f.data, f.size, f.filename = data, len(data), filename
        return f

    def _media_file(self, media: Any) -> _File:
        if isinstance(media, dict):  # an upload, already registered under its new file_id
            return self._files[media["file_id"]]
        return self._file(str(media))

    # -- helpers ---------------------------------------------------------------------------------

    def _next_update_id(self) -> int:
        return next(self._update_ids)

    def _wake_pollers(self) -> None:
        self._pushed.set()
        self._pushed = asyncio.Event()

    def _file(self, file_id: str) -> _File:
        if file_id not in self._files:
            self._files[file_id] = _File(file_id, f"AQAD{next(self._seq):06d}")
        return self._files[file_id]

    def _bot_user(self, token: str) -> dict[str, Any]:
        head = token.split(":", 1)[0]
        return {
            "id": int(head) if head.isdigit() else DEFAULT_BOT_ID,
            "is_bot": True,
            "first_name": BOT_FIRST_NAME,
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @staticmethod
    def _chat(chat_id: Any, first_name: str = "Test") -> dict[str, Any]:
        if isinstance(chat_id, str):
            return {
                "id": -1001000000001,
                "type": "channel",
                "title": chat_id,
                "username": chat_id.lstrip("@"),
            }
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": first_name}
        kind = "supergroup" if chat_id <= -(10**12) else "group"
        return {"id": chat_id, "type": kind, "title": "Test group"}


def _user(user_id: int, first_name: str, language_code: str) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": language_code}


def _photo_sizes(f: _File) -> list[dict[str, Any]]:
    thumb = {"file_id": f"{f.file_id}-s", "file_unique_id": f"{f.file_unique_id}s", "width": 90, "height": 67}
    full = {"file_id": f.file_id, "file_unique_id": f.file_unique_id, "width": 1280, "height": 960}
    if f.size is not None:
        thumb["file_size"], full["file_size"] = min(f.size, 1500), f.size
    return [thumb, full]


def _upload_info(f: _File) -> dict[str, Any]:
    return {"filename": f.filename, "size": f.size, "file_id": f.file_id}


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _formatted(text: str, parse_mode: str | None) -> str:
    mode = (parse_mode or "").lower()
    if mode == "html":
        try:
            return html_to_plain(text)
        except EntityParseError as exc:
            raise _bad(f"can't parse entities: {exc}", detail=repr(text[:200])) from None
    if mode not in {"", "markdown", "markdownv2"}:
        raise _bad("unsupported parse_mode", detail=repr(parse_mode))
    return text


def _check_caption(caption: str, parse_mode: str | None) -> None:
    if len(_formatted(caption, parse_mode)) > MAX_CAPTION:
        raise _bad("message caption is too long")


def _check_commands(commands: Any) -> None:
    if not isinstance(commands, list) or not commands:
        raise _bad("commands must be a non-empty list")
    if len(commands) > MAX_COMMANDS:
        raise _bad("BOT_COMMANDS_TOO_MUCH", detail=f"{len(commands)} commands")
    for cmd in commands:
        name = str(cmd.get("command", "")) if isinstance(cmd, dict) else ""
        description = str(cmd.get("description", "")) if isinstance(cmd, dict) else ""
        if not _COMMAND_RE.fullmatch(name):
            raise _bad("BOT_COMMAND_INVALID", detail=repr(name))
        if not 1 <= len(description) <= MAX_COMMAND_DESCRIPTION:
            raise _bad("BOT_COMMAND_DESCRIPTION_INVALID", detail=f"/{name}: {len(description)} characters")


def _coerce(value: Any, types: tuple[str, ...]) -> Any:
    """Turn a form field back into what the spec says it is; raise ValueError if it can't be."""
    if not isinstance(value, str):
        return value  # JSON bodies arrive typed
    if "Integer" in types:
        try:
            return int(value)
        except ValueError:
            if "String" in types:
                return value
            raise
    if "Float" in types:
        return float(value)
    if "Boolean" in types:
        if value.lower() in {"true", "1"}:
            return True
        if value.lower() in {"false", "0"}:
            return False
        raise ValueError(value)
    if "String" in types or "InputFile" in types:
        return value
    if "Unknown" in types:  # not in the spec: decode JSON-looking values for the record only
        with contextlib.suppress(ValueError):
            return json.loads(value) if value[:1] in {"{", "["} else value
        return value
    return json.loads(value)


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    params: dict[str, Any] = dict(request.query)
    uploads: dict[str, tuple[str, bytes]] = {}
    if request.content_type == "application/json":
        body = await request.json() if request.can_read_body else {}
        params.update(body if isinstance(body, dict) else {})
    elif request.can_read_body:
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                uploads[key] = (value.filename or key, value.file.read())
            else:
                params[key] = value if isinstance(value, str) else bytes(value).decode()
    return params, uploads


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)
