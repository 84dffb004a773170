"""The media store: pictures that arrive as URLs (Zalo's expire) downloaded at once into a directory.

A stored file is named by its channel and message id, so a second download of the same message writes the
same file. The path kept with a report is relative to the store's directory (``zalo/<message id>.jpg``),
so the directory can move.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

log = logging.getLogger(__name__)

MAX_BYTES = 20 * 1024 * 1024
MAX_REDIRECTS = 3
ATTEMPTS = 3
RETRY_DELAYS = (0.5, 2.0)
# A CDN may say image/jpg; HEIC and WebP come from phones.
EXTENSIONS = {"image/jpeg": "jpg", "image/jpg": "jpg", "image/pjpeg": "jpg", "image/png": "png",
              "image/webp": "webp", "image/heic": "heic", "image/heif": "heif"}
_SAFE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


class MediaError(Exception):
    """The picture could not be stored; ``reason`` is one of expired, too_big, not_image, refused, failed."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class StoredFile:
    path: str  # relative to the store's directory
    size: int
    mime_type: str


class MediaStore:
    def __init__(self, directory: Path | str, *, attempts: int = ATTEMPTS,
                 retry_delays: tuple[float, ...] = RETRY_DELAYS, max_bytes: int = MAX_BYTES,
                 timeout: float = 20.0, allow_private_hosts: bool = False,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.directory = Path(directory)
        self.attempts = max(1, attempts)
        self.retry_delays = retry_delays
        self.max_bytes = max_bytes
        # The URL comes from a webhook body: never let it make us fetch from our own network.
        self.allow_private_hosts = allow_private_hosts
        # Redirects are followed by hand so that every hop is checked like the first URL.
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport, follow_redirects=False)

    async def close(self) -> None:
        await self._http.aclose()

    def absolute(self, stored: str) -> Path:
        return self.directory / stored

    async def fetch(self, url: str, *, channel: str, name: str) -> StoredFile:
        """Download ``url`` as ``<channel>/<name>.<ext>``; retried, then ``MediaError``."""
        self._check_url(url)
        last: MediaError | None = None
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(self.retry_delays[min(attempt - 1, len(self.retry_delays) - 1)]
                                    if self.retry_delays else 0)
            try:
                return await self._fetch_once(url, channel, name)
            except MediaError as exc:
                last = exc
                if exc.reason in ("too_big", "not_image", "refused"):
                    break  # the same answer again will not help
                log.info("download of %s/%s failed (attempt %d): %s", channel, name, attempt + 1, exc)
        assert last is not None
        raise last

    async def _fetch_once(self, url: str, channel: str, name: str) -> StoredFile:
        try:
            for _hop in range(MAX_REDIRECTS + 1):
                await self._check_host(url)
                async with self._http.stream("GET", url) as response:
                    if not response.is_redirect:
                        return await self._store(response, channel, name)
                    url = str(response.next_request.url) if response.next_request else ""
                    self._check_url(url)
            raise MediaError("failed", "too many redirects")
        except httpx.HTTPError as exc:
            raise MediaError("failed", type(exc).__name__) from None

    async def _check_host(self, url: str) -> None:
        """A name may resolve to our own network ("localtest.me", "2130706433"): check the addresses."""
        if self.allow_private_hosts:
            return
        host = urlsplit(url).hostname or ""
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None)
        except OSError:
            raise MediaError("failed", "host not found") from None
        for info in infos:
            if not ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_global:
                raise MediaError("refused", "a private address")

    async def _store(self, response: httpx.Response, channel: str, name: str) -> StoredFile:
        if response.status_code in (401, 403, 404, 410):
            raise MediaError("expired", f"HTTP {response.status_code}")
        if not response.is_success:
            raise MediaError("failed", f"HTTP {response.status_code}")
        mime = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if mime not in EXTENSIONS:
            raise MediaError("not_image", mime or "no content type")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise MediaError("too_big", declared)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise MediaError("too_big", f"over {self.max_bytes}")
            chunks.append(chunk)
        if not size:
            raise MediaError("failed", "empty body")
        relative = f"{channel}/{_safe(name)}.{EXTENSIONS[mime]}"
        await asyncio.to_thread(self._write, relative, b"".join(chunks))
        return StoredFile(relative, size, "image/jpeg" if EXTENSIONS[mime] == "jpg" else mime)

    def _write(self, relative: str, data: bytes) -> None:
        target = self.directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        partial.write_bytes(data)
        os.replace(partial, target)  # a reader never sees half a picture

    def _check_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise MediaError("refused", "not an http(s) URL")
        if self.allow_private_hosts:
            return
        host = parts.hostname
        if host == "localhost" or host.endswith(".localhost"):
            raise MediaError("refused", "a local address")
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return
        if not address.is_global:
            raise MediaError("refused", "a private address")


def _safe(name: str) -> str:
    return name if _SAFE_NAME.fullmatch(name) else hashlib.sha256(name.encode()).hexdigest()[:40]
