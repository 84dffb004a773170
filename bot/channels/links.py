"""Files by link, for messengers that cannot send files (Zalo): the file is kept in the database for a while
(``storage.shared_files``, 7 days by default) and offered as a link to the bot's public address
(``TWINBOT_PUBLIC_URL``), signed so that it opens that one file only, and only until it expires.

    https://bot.example.org/files/<id>/<name>?e=<expires, epoch seconds>&s=<HMAC-SHA256 of id and e>
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
from collections.abc import Callable
from urllib.parse import quote

from aiohttp import web

from handlers.events import OutFile
from storage import shared_files
from storage.db import Database

log = logging.getLogger(__name__)

ROUTE = "/files/{id}/{name}"


def signature(secret: bytes, file_id: str, expires: int) -> str:
    digest = hmac.new(secret, f"{file_id}:{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class FileLinks:
    def __init__(self, db: Database, public_url: str, secret: str, *, days: int = 7,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self.db = db
        self.public_url = public_url.rstrip("/")
        self.secret = secret.encode()
        self.days = days
        self.clock = clock

    async def link(self, file: OutFile) -> str:
        """Keep ``file`` and return the link that fetches it until it expires."""
        async with self.db.unit_of_work() as uow:
            kept = await shared_files.keep(uow.session, filename=file.filename, mime_type=file.mime_type,
                                           content=file.content, now=self.clock(), days=self.days)
            await uow.commit()
        expires = int(kept.expires_at.timestamp())
        name = quote(file.filename, safe="")
        return f"{self.public_url}/files/{kept.id}/{name}?e={expires}&s={signature(self.secret, kept.id, expires)}"

    async def serve(self, request: web.Request) -> web.Response:
        """``GET`` of a link: 403 for a signature that does not match, 410 once expired, else the file."""
        file_id = request.match_info["id"]
        try:
            expires = int(request.query.get("e", ""))
        except ValueError:
            return web.Response(status=403, text="forbidden")
        expected = signature(self.secret, file_id, expires)
        if not hmac.compare_digest(expected.encode(), request.query.get("s", "").encode()):
            return web.Response(status=403, text="forbidden")
        if expires < self.clock().timestamp():
            return web.Response(status=410, text="this link has expired")
        async with self.db.reader() as session:
            kept = await shared_files.get(session, file_id)
        if kept is None:
            return web.Response(status=404, text="not found")
        disposition = f"attachment; filename*=UTF-8''{quote(kept.filename, safe='')}"
        return web.Response(body=kept.content, content_type=kept.mime_type,
                            headers={"Content-Disposition": disposition, "Cache-Control": "private, max-age=3600"})

    def add_route(self, web_app: web.Application) -> None:
        web_app.router.add_get(ROUTE, self.serve)
