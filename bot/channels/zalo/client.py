"""A thin, typed client of the Zalo Bot API (https://bot.zapps.me/docs), on httpx.

What the docs and integrators disagree on is accepted both ways (see ../shared/zalo/zalo-bot-api.md):
updates wrapped in ``{"ok": true, "result": ...}`` or bare, the picture in ``photo_url`` or ``photo``, an
error as ``ok: false`` under any HTTP status. Ids are strings and ``date`` is in milliseconds. The token
sits in every URL, so no URL leaves this module: errors name the method, never the address.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import httpx

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://bot-api.zaloplatforms.com"
TEXT_LIMIT = 2000
POLL_TIMEOUT = 30
# The HTTP read timeout must outlast the long poll, or every quiet poll ends as a network error.
_READ_MARGIN = 10.0

# Documented event names; anything else (message.link.received, message.reaction.received …) is logged.
TEXT = "message.text.received"
IMAGE = "message.image.received"
STICKER = "message.sticker.received"
VOICE = "message.voice.received"
UNSUPPORTED = "message.unsupported.received"
KNOWN_EVENTS = frozenset({TEXT, IMAGE, STICKER, VOICE, UNSUPPORTED})


class ZaloError(Exception):
    """Anything that went wrong talking to the Zalo Bot API."""


class ZaloApiError(ZaloError):
    """The API answered ``ok: false`` (or an HTTP error): ``code`` is its ``error_code``, else the HTTP status."""

    def __init__(self, method: str, code: int, description: str) -> None:
        super().__init__(f"{method}: {code} {description}".strip())
        self.method = method
        self.code = code
        self.description = description

    @property
    def quota_exceeded(self) -> bool:
        return self.code == 429

    @property
    def temporary(self) -> bool:
        return self.code in (408, 425, 429) or self.code >= 500


class ZaloNetworkError(ZaloError):
    """No usable answer: connection refused, timeout, a body that is not JSON."""


class MalformedUpdate(ValueError):
    """A webhook or poll body that is not a Zalo update."""


# --- what the API returns ---------------------------------------------------------------------


@dataclass(frozen=True)
class BotInfo:
    id: str
    account_name: str = ""
    display_name: str = ""
    account_type: str = ""
    can_join_groups: bool = False


@dataclass(frozen=True)
class WebhookInfo:
    url: str
    updated_at: dt.datetime | None = None


@dataclass(frozen=True)
class Sent:
    message_id: str | None
    date: dt.datetime | None


@dataclass(frozen=True)
class ZaloUser:
    id: str
    display_name: str = ""
    is_bot: bool = False


@dataclass(frozen=True)
class ZaloMessage:
    message_id: str
    sender: ZaloUser
    chat_id: str
    chat_type: str  # PRIVATE | GROUP
    date: dt.datetime | None
    text: str | None = None
    photo_url: str | None = None
    caption: str | None = None
    sticker: str | None = None
    voice_url: str | None = None
    message_type: str | None = None


@dataclass(frozen=True)
class ZaloUpdate:
    event_name: str  # "" when the body had none
    message: ZaloMessage | None
    raw: dict[str, Any]

    @property
    def known(self) -> bool:
        return self.event_name in KNOWN_EVENTS or (not self.event_name and self.message is not None)


def from_millis(value: Any) -> dt.datetime | None:
    """``date`` is epoch milliseconds (an int, or a string of digits)."""
    try:
        millis = int(value)
    except (TypeError, ValueError):
        return None
    if millis <= 0:
        return None
    try:
        return dt.datetime.fromtimestamp(millis / 1000, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _id(value: Any) -> str | None:
    # Ids are strings; a number is accepted and kept as its digits, never as a float.
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def unwrap(body: Any) -> dict[str, Any]:
    """The update inside a body: ``{"ok": true, "result": {...}}`` (documented) or the bare event (observed)."""
    if not isinstance(body, dict):
        raise MalformedUpdate("the body is not a JSON object")
    if body.get("ok") is True and isinstance(body.get("result"), dict):
        return body["result"]
    if "ok" in body and "event_name" not in body and "message" not in body:
        raise MalformedUpdate("an API envelope without an update")
    return body


def parse_update(body: Any) -> ZaloUpdate:
    """One update from a webhook body or a getUpdates result. ``message`` may be absent (a protected
    sender's ``message.unsupported.received``); a ``message`` that is present must be well formed."""
    update = unwrap(body)
    event = update.get("event_name")
    if event is not None and not isinstance(event, str):
        raise MalformedUpdate("event_name is not a string")
    raw_message = update.get("message")
    if raw_message is None:
        if not event:
            raise MalformedUpdate("neither an event name nor a message")
        return ZaloUpdate(event, None, update)
    if not isinstance(raw_message, dict):
        raise MalformedUpdate("message is not an object")
    sender, chat = raw_message.get("from"), raw_message.get("chat")
    sender = sender if isinstance(sender, dict) else {}
    chat = chat if isinstance(chat, dict) else {}
    message_id = _id(raw_message.get("message_id"))
    sender_id = _id(sender.get("id"))
    # In a private chat chat.id == from.id (the docs' sample); a missing chat means the private one.
    chat_id = _id(chat.get("id")) or sender_id
    if message_id is None or sender_id is None or chat_id is None:
        raise MalformedUpdate("message without message_id, from.id or chat.id")
    name = _text(sender.get("display_name")) or " ".join(
        p for p in (_text(sender.get("first_name")), _text(sender.get("last_name"))) if p) or ""
    message = ZaloMessage(
        message_id=message_id,
        sender=ZaloUser(sender_id, name, sender.get("is_bot") is True),
        chat_id=chat_id,
        chat_type=(_text(chat.get("chat_type")) or "PRIVATE").upper(),
        date=from_millis(raw_message.get("date")),
        text=_text(raw_message.get("text")),
        photo_url=_text(raw_message.get("photo_url")) or _text(raw_message.get("photo")),
        caption=_text(raw_message.get("caption")),
        sticker=_text(raw_message.get("sticker")),
        voice_url=_text(raw_message.get("voice_url")),
        message_type=_text(raw_message.get("message_type")),
    )
    return ZaloUpdate(event or "", message, update)


# --- the client ---------------------------------------------------------------------------------


class ZaloClient:
    """One shared ``httpx.AsyncClient``; every method is a POST with a JSON body, as every integration does."""

    def __init__(self, token: str, api_base: str = DEFAULT_API_BASE, *, timeout: float = 15.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._token = token
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport, follow_redirects=False)
        # httpx logs every request line at INFO, and the token is in the path.
        logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger("httpx").level))

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ZaloClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def call(self, method: str, params: dict[str, Any] | None = None, *,
                   read_timeout: float | None = None) -> Any:
        """``result`` of a successful call (``None`` when there is none, as for sendChatAction)."""
        url = f"{self.api_base}/bot{self._token}/{method}"
        timeout = httpx.Timeout(self.timeout, read=read_timeout if read_timeout else self.timeout)
        try:
            response = await self._http.post(url, json=params or {}, timeout=timeout)
        except httpx.TimeoutException:
            raise ZaloNetworkError(f"{method}: timed out") from None
        except httpx.HTTPError as exc:
            raise ZaloNetworkError(f"{method}: {type(exc).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            if response.is_success:
                raise ZaloNetworkError(f"{method}: HTTP {response.status_code} without a JSON body") from None
            raise ZaloApiError(method, response.status_code, response.reason_phrase or "") from None
        if not isinstance(body, dict):
            raise ZaloNetworkError(f"{method}: HTTP {response.status_code}, a body that is not an object")
        if body.get("ok") is not True:
            code = body.get("error_code")
            code = code if isinstance(code, int) and code else response.status_code
            if code == 200:  # ok: false under HTTP 200 without a code of its own
                code = 400
            description = body.get("description")
            raise ZaloApiError(method, code, str(description)[:200] if description else "")
        return body.get("result")

    async def get_me(self) -> BotInfo:
        result = await self.call("getMe")
        if not isinstance(result, dict) or _id(result.get("id")) is None:
            raise ZaloNetworkError("getMe: no bot id in the answer")
        return BotInfo(id=str(_id(result.get("id"))), account_name=_text(result.get("account_name")) or "",
                       display_name=_text(result.get("display_name")) or "",
                       account_type=_text(result.get("account_type")) or "",
                       can_join_groups=result.get("can_join_groups") is True)

    async def get_updates(self, timeout: int = POLL_TIMEOUT) -> ZaloUpdate | None:  # noqa: ASYNC109 - the API's own
        """At most one update (Zalo returns one per call); ``None`` when the long poll ended empty (408)."""
        try:
            result = await self.call("getUpdates", {"timeout": str(timeout)}, read_timeout=timeout + _READ_MARGIN)
        except ZaloApiError as exc:
            if exc.code == 408:
                return None
            raise
        if isinstance(result, list):  # defensively, as GoClaw does: an array of one
            result = result[0] if result else None
        if not result:
            return None
        return parse_update(result)

    async def set_webhook(self, url: str, secret_token: str) -> WebhookInfo:
        result = await self.call("setWebhook", {"url": url, "secret_token": secret_token})
        return _webhook_info(result)

    async def delete_webhook(self) -> WebhookInfo:
        return _webhook_info(await self.call("deleteWebhook"))

    async def get_webhook_info(self) -> WebhookInfo:
        try:
            return _webhook_info(await self.call("getWebhookInfo"))
        except ZaloApiError as exc:
            if exc.code == 404:  # one integration sees 404 when no webhook is set
                return WebhookInfo("")
            raise

    async def send_message(self, chat_id: str, text: str) -> Sent:
        """Plain text: no ``parse_mode``, so what a user typed is shown as typed."""
        if not 1 <= len(text) <= TEXT_LIMIT:
            raise ValueError(f"Zalo texts are 1 to {TEXT_LIMIT} characters, not {len(text)}")
        return _sent(await self.call("sendMessage", {"chat_id": chat_id, "text": text}))

    async def send_photo(self, chat_id: str, photo: str, caption: str = "") -> Sent:
        """``photo`` is a public http(s) URL: the Bot API takes no uploads."""
        params: dict[str, Any] = {"chat_id": chat_id, "photo": photo}
        if caption:
            params["caption"] = caption[:TEXT_LIMIT]
        return _sent(await self.call("sendPhoto", params))

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> None:
        await self.call("sendChatAction", {"chat_id": chat_id, "action": action})


def _webhook_info(result: Any) -> WebhookInfo:
    result = result if isinstance(result, dict) else {}
    return WebhookInfo(url=_text(result.get("url")) or "", updated_at=from_millis(result.get("updated_at")))


def _sent(result: Any) -> Sent:
    result = result if isinstance(result, dict) else {}
    return Sent(message_id=_id(result.get("message_id")), date=from_millis(result.get("date")))
