"""The console channel: talk to the bot in a terminal; buttons become numbered lists, files are written to a
folder (their paths are printed), and a photo is given as the path of an image file."""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bot.channels.markup import render_plain
from handlers import jobs
from handlers.core import Core
from handlers.events import TYPED, Attachment, Incoming, OutFile, Reply, reply_of
from handlers.i18n import Translator
from storage import outbox

CHANNEL = "console"


class ConsoleChannel:
    def __init__(
        self,
        core: Core,
        *,
        user_id: str | None = None,
        display_name: str | None = None,
        language_code: str | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        files_dir: Path | None = None,
    ) -> None:
        self.core = core
        self.files_dir = files_dir
        self.user_id = user_id or getpass.getuser()
        self.display_name = display_name or self.user_id
        self.language_code = language_code
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.files: list[OutFile] = []  # the files of the latest answer (the terminal only names them)
        self.locale = core.config.default_locale  # of the latest answer

    def incoming(self, text: str | None = None, attachment: Attachment | None = None) -> Incoming:
        return Incoming(
            channel=CHANNEL,
            user_id=self.user_id,
            chat_id=self.user_id,
            sent_at=self.clock(),
            text=text,
            attachment=attachment,
            display_name=self.display_name,
            language_code=self.language_code,
            abilities=TYPED,
        )

    async def send(self, text: str | None = None, attachment: Attachment | None = None) -> str:
        """What the user sees after typing ``text``: every reply, as the terminal shows it."""
        replies, notice = await self.answer(text, attachment)
        t = Translator(self.locale, self.core.config.tz)
        shown = [render_plain(r, t) + "".join(f"\n[{f.filename}, {len(f.content):,} bytes]" for f in r.files)
                 for r in replies]
        if notice and not shown:
            shown.append(notice)
        self.files = [f for r in replies for f in r.files]
        return "\n\n".join(shown)

    async def answer(self, text: str | None = None, attachment: Attachment | None = None
                     ) -> tuple[list[Reply], str | None]:
        """The replies to ``text``, deferred work (an export) done there and then, and the passing notice."""
        outcome = await self.core.handle(self.incoming(text, attachment))
        self.locale = outcome.locale or self.locale
        replies: list[Reply] = []
        for owed in outcome.outgoing:
            if owed.channel != CHANNEL or owed.chat_id != self.user_id:
                continue  # another person's menu, say: the console has none
            for item in owed.items:
                if "reply" in item:
                    replies.append(reply_of(item))
                elif "job" in item:
                    replies += [reply async for reply in jobs.run(item, self.core.db, self.core.config)]
        if outcome.outgoing:
            async with self.core.db.unit_of_work() as uow:
                await outbox.done(uow.session, [(owed.id, owed.version) for owed in outcome.outgoing])
                await uow.commit()
        return replies, outcome.notice

    async def repl(self, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout, greeting: str = "") -> None:
        loop = asyncio.get_running_loop()
        if greeting:
            stdout.write(greeting + "\n")
        stdout.write(await self.send("/start") + "\n")
        while True:
            stdout.write("\n> ")
            stdout.flush()
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:
                break
            line = line.rstrip("\n")
            if line.strip() in ("/quit", "/exit"):
                break
            photo = photo_path(line)
            said = await (self.send(attachment=photo_attachment(photo)) if photo else self.send(line))
            stdout.write(said + "\n")
            for path in self.write_files():
                stdout.write(f"(saved {path})\n")

    def write_files(self) -> list[Path]:
        """Write the latest answer's files into ``files_dir`` (the terminal cannot show them)."""
        if self.files_dir is None or not self.files:
            return []
        self.files_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for file in self.files:
            path = self.files_dir / Path(file.filename).name
            path.write_bytes(file.content)
            written.append(path)
        return written


IMAGE_SUFFIXES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
                  ".heic": "image/heic"}


def photo_path(line: str) -> Path | None:
    """``/photo PATH``, or the path of an image file typed alone: a photo to attach."""
    text = line.strip()
    if text.startswith("/photo "):
        text = text.removeprefix("/photo ").strip()
    elif not text or (" " in text and not Path(text).exists()):
        return None
    path = Path(text.strip("'\"")).expanduser()
    return path if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file() else None


def photo_attachment(path: Path) -> Attachment:
    resolved = path.resolve()
    return Attachment("photo", file_id=str(resolved), file_unique_id=str(resolved), file_size=resolved.stat().st_size,
                      mime_type=IMAGE_SUFFIXES[resolved.suffix.lower()], path=str(resolved))
