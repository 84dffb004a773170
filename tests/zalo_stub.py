"""Loopback stand-in for the Zalo Bot API (modelled on the docs and on crabline's fake, see
../shared/zalo/zalo-bot-api.md §7), with the faults the real one is known or suspected to have.

``async with ZaloApiStub() as stub:`` serves ``/bot<token>/<method>`` at ``stub.base_url`` and pictures at
``stub.photo_url(name)``. Every call is recorded in ``stub.calls``; what the real API would refuse (texts
over 2,000 characters, a missing ``chat_id`` …) is answered with its error *and* recorded in
``stub.violations``. Knobs: ``fail_next`` (429 "Quota exceeded", 5xx, HTML bodies, ``ok: false`` under
HTTP 200), ``expire_photo`` (404 or 403 on download), ``push`` (queue an update for getUpdates).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "1459232241454765289:zalo-test-secret-not-real-01"  # not a real token, and not shaped like one
BOT_ID = "1459232241454765289"
MAX_TEXT = 2000
# A tiny valid JPEG (1x1 pixel).
JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a1f"
    "1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001000101011100ffc4001f0000"
    "010501010101010100000000000000000102030405060708090a0bffc400b5100002010303020403050504040000017d010203000411"
    "05122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445"
    "464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9"
    "aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100"
    "003f00fbd3ffd9"
)
METHODS = frozenset({"getMe", "getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo", "sendMessage",
                     "sendPhoto", "sendSticker", "sendChatAction", "sendVoice"})


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    status: int = 200


@dataclass
class _Fault:
    status: int
    description: str
    http_status: int | None = None  # None: the same as the error code
    body: str | None = None  # a raw body instead of JSON (an HTML error page)
    times: int = 1


@dataclass
class _Photo:
    data: bytes
    content_type: str = "image/jpeg"
    status: int = 200
    failures: list[int] = field(default_factory=list)  # statuses to answer before the picture


class ZaloApiStub:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[ApiCall] = []
        self.violations: list[str] = []
        self.webhook_url = ""
        self.webhook_secret = ""
        self.downloads: list[str] = []
        self._updates: list[dict[str, Any]] = []
        self._faults: dict[str, list[_Fault]] = {}
        self._photos: dict[str, _Photo] = {}
        self._pushed = asyncio.Event()
        self._recorded = asyncio.Event()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/photos/{name}", self._photo)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def close(self) -> None:
        self._wake()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ZaloApiStub:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- inspection --------------------------------------------------------------------------------

    def calls_of(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    def sent_texts(self, chat_id: str | None = None) -> list[str]:
        return [c.params["text"] for c in self.calls
                if c.method == "sendMessage" and c.status == 200
                and (chat_id is None or c.params.get("chat_id") == chat_id)]

    async def wait_for(self, method: str, count: int, timeout: float = 5) -> list[ApiCall]:  # noqa: ASYNC109
        try:
            async with asyncio.timeout(timeout):
                while len(found := [c for c in self.calls_of(method) if c.status == 200]) < count:
                    self._recorded.clear()
                    await self._recorded.wait()
        except TimeoutError:
            raise TimeoutError(f"wanted {count} x {method}; calls: {[c.method for c in self.calls]}") from None
        return found

    # -- scripting ---------------------------------------------------------------------------------

    def fail_next(self, method: str, code: int, description: str, *, http_status: int | None = None,
                  body: str | None = None, times: int = 1) -> None:
        self._faults.setdefault(method, []).append(_Fault(code, description, http_status, body, times))

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        self._updates.append(update)
        self._wake()
        return update

    @property
    def pending(self) -> list[dict[str, Any]]:
        return list(self._updates)

    def add_photo(self, name: str, data: bytes = JPEG, *, content_type: str = "image/jpeg",
                  fail_first: tuple[int, ...] = ()) -> str:
        self._photos[name] = _Photo(data, content_type, failures=list(fail_first))
        return self.photo_url(name)

    def expire_photo(self, name: str, status: int = 404) -> None:
        self._photos.setdefault(name, _Photo(JPEG)).status = status

    def photo_url(self, name: str) -> str:
        return f"{self.base_url}/photos/{name}"

    # -- update builders ---------------------------------------------------------------------------

    def message_id(self) -> str:
        return secrets.token_hex(10)

    def update(self, user_id: str, event_name: str, *, display_name: str = "Vàng A Chứ", wrapped: bool = True,
               chat_type: str = "PRIVATE", date: int | None = None, message_id: str | None = None,
               **fields: Any) -> dict[str, Any]:
        message = {
            "from": {"id": user_id, "display_name": display_name, "is_bot": False},
            "chat": {"id": user_id, "chat_type": chat_type},
            "message_id": message_id or self.message_id(),
            "date": date if date is not None else int(time.time() * 1000),
            **fields,
        }
        update = {"event_name": event_name, "message": message}
        return {"ok": True, "result": update} if wrapped else update

    def text(self, user_id: str, text: str, **kw: Any) -> dict[str, Any]:
        return self.update(user_id, "message.text.received", text=text, **kw)

    def image(self, user_id: str, url: str, *, field_name: str = "photo_url", caption: str | None = None,
              **kw: Any) -> dict[str, Any]:
        extra: dict[str, Any] = {field_name: url, "message_type": "CHAT_PHOTO"}
        if caption is not None:
            extra["caption"] = caption
        return self.update(user_id, "message.image.received", **extra, **kw)

    def sticker(self, user_id: str, **kw: Any) -> dict[str, Any]:
        return self.update(user_id, "message.sticker.received", sticker="0e078a2fb66a5f34067b",
                           url="https://stickers.zaloapp.com/0e078a2fb66a5f34067b.png", **kw)

    def voice(self, user_id: str, **kw: Any) -> dict[str, Any]:
        return self.update(user_id, "message.voice.received", voice_url="https://voice.zdn.vn/v/1.aac", **kw)

    # -- the API -----------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        raw = await request.read()
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                return self._error(method, params, 400, "Bad Request: can't parse JSON object")
            if isinstance(body, dict):
                params.update(body)
        if request.match_info["token"] != self.token:
            return self._error(method, params, 401, "Unauthorized", violation=True)
        if method not in METHODS:
            return self._error(method, params, 400, "Bad request - invalid API name", violation=True)
        fault = self._take_fault(method)
        if fault is not None:
            call = ApiCall(method, params, fault.http_status or fault.status)
            self._record(call)
            if fault.body is not None:
                return web.Response(status=call.status, text=fault.body, content_type="text/html")
            return web.json_response({"ok": False, "error_code": fault.status, "description": fault.description},
                                     status=call.status)
        try:
            result = await self._result(method, params)
        except _Refusal as refusal:
            return self._error(method, params, refusal.code, refusal.description, violation=refusal.violation)
        self._record(ApiCall(method, params))
        body_out: dict[str, Any] = {"ok": True}
        if result is not None:
            body_out["result"] = result
        return web.json_response(body_out)

    async def _result(self, method: str, params: dict[str, Any]) -> Any:
        now = int(time.time() * 1000)
        if method == "getMe":
            return {"id": BOT_ID, "account_name": "bot.fake", "account_type": "BASIC", "can_join_groups": False}
        if method == "getUpdates":
            if self.webhook_url:
                raise _Refusal(400, "Webhook is configured; delete it before using getUpdates")
            timeout = float(params.get("timeout") or 30)
            try:
                async with asyncio.timeout(min(timeout, 50)):
                    while not self._updates:
                        self._pushed.clear()
                        await self._pushed.wait()
            except TimeoutError:
                raise _Refusal(408, "Request timeout", violation=False) from None
            return self._updates.pop(0)["result"] if "result" in self._updates[0] else self._updates.pop(0)
        if method == "setWebhook":
            url, secret = params.get("url"), params.get("secret_token")
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise _Refusal(400, "Bad request: url")
            if not isinstance(secret, str) or not 8 <= len(secret) <= 256:
                raise _Refusal(400, "Bad request: secret_token must be 8-256 characters")
            self.webhook_url, self.webhook_secret = url, secret
            return {"url": url, "updated_at": now}
        if method == "deleteWebhook":
            self.webhook_url = self.webhook_secret = ""
            return {"url": "", "updated_at": now}
        if method == "getWebhookInfo":
            return {"url": self.webhook_url, "updated_at": now}
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, str) or not chat_id:
            raise _Refusal(400, "Bad request: chat_id is required (a string)")
        if method == "sendMessage":
            text = params.get("text")
            if not isinstance(text, str) or not 1 <= len(text) <= MAX_TEXT:
                raise _Refusal(400, f"Bad request: text must be 1-{MAX_TEXT} characters")
            if params.get("parse_mode") not in (None, "markdown", "html"):
                raise _Refusal(400, "Bad request: parse_mode")
        elif method == "sendPhoto":
            photo = params.get("photo")
            if not isinstance(photo, str) or not photo.startswith(("http://", "https://")):
                raise _Refusal(400, "Bad request: photo must be a public URL")
        elif method == "sendChatAction":
            if params.get("action") not in ("typing", "upload_photo"):
                raise _Refusal(400, "Bad request: action")
            return None
        return {"message_id": secrets.token_hex(10), "date": now}

    async def _photo(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.downloads.append(name)
        photo = self._photos.get(name)
        if photo is None:
            return web.Response(status=404, text="not found")
        if photo.failures:
            return web.Response(status=photo.failures.pop(0), text="try later")
        if photo.status != 200:
            return web.Response(status=photo.status, text="expired")
        return web.Response(body=photo.data, headers={"Content-Type": photo.content_type})

    def _take_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.times -= 1
        if fault.times <= 0:
            queue.pop(0)
        return fault

    def _error(self, method: str, params: dict[str, Any], code: int, description: str, *,
               violation: bool = True) -> web.Response:
        self._record(ApiCall(method, params, code))
        if violation:
            self.violations.append(f"{method}: {code} {description}")
        return web.json_response({"ok": False, "error_code": code, "description": description}, status=code)

    def _record(self, call: ApiCall) -> None:
        self.calls.append(call)
        self._recorded.set()

    def _wake(self) -> None:
        self._pushed.set()


class _Refusal(Exception):
    def __init__(self, code: int, description: str, *, violation: bool = True) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.violation = violation
