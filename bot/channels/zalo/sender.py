"""Digests and reminders through Zalo: the delivery worker's sender (see ``bot.delivery``)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import replace

from sqlalchemy import select

from bot.channels.links import FileLinks
from bot.channels.markup import plain_options, split_lines, to_plain
from bot.channels.zalo.adapter import CHANNEL, Piece, file_pieces
from bot.channels.zalo.client import TEXT_LIMIT, ZaloApiError, ZaloClient, ZaloError
from bot.delivery import Blocked, Part, PermanentFailure, RateLimiter, RetryAfter, TemporaryFailure
from handlers.events import Reply
from handlers.i18n import Translator
from storage import conversations
from storage.db import Database
from storage.models import Identity


class ZaloSender:
    """The delivery worker's sender for ``zalo:<chat id>`` recipients (see ``bot.delivery.Sender``).

    A text part longer than 2,000 characters goes out in pieces; the pieces already sent are remembered, so
    a 429 in the middle resumes after them instead of sending them twice. Files cannot be sent by a Zalo
    bot: each becomes a note, in the recipient's language, on how to get it. After a message with options
    (a reminder), the options are saved as the recipient's menu, so typing "1" answers it, unless they are
    in the middle of a report.
    """

    channel = CHANNEL

    def __init__(self, client: ZaloClient, db: Database, *, tz: dt.tzinfo, default_locale: str = "vi",
                 limiter: RateLimiter | None = None, quota_wait: float = 30.0, links: FileLinks | None = None) -> None:
        self.client = client
        self.links = links
        self.db = db
        self.tz = tz
        self.default_locale = default_locale
        self.limiter = limiter or RateLimiter(per_second=10.0)
        self.quota_wait = quota_wait
        self._sent_pieces: dict[tuple[str, str], int] = {}
        self._file_pieces: dict[tuple[str, str], list[Piece]] = {}

    async def send(self, chat_id: str, part: Part) -> None:
        if part.kind == "text":
            options = ""
            if part.reply is not None and part.reply.options:
                options = "\n" + plain_options(part.reply, Translator(await self._locale(chat_id), self.tz))
            pieces = [Piece(text) for text in split_lines(to_plain(part.text) + options, TEXT_LIMIT)]
            progress_key = (chat_id, hashlib.sha256("\x00".join(p.text for p in pieces).encode()).hexdigest())
        else:
            assert part.file is not None
            progress_key = (chat_id, hashlib.sha256(part.file.content).hexdigest())
            if progress_key not in self._file_pieces:
                # Made once per file and recipient: a retry sends the same link, not a new one.
                t = Translator(await self._locale(chat_id), self.tz)
                self._file_pieces[progress_key] = await file_pieces(t, replace(part.file, caption=part.text),
                                                                    self.links)
            pieces = self._file_pieces[progress_key]
        done = self._sent_pieces.get(progress_key, 0)
        for index in range(done, len(pieces)):
            await self.limiter.wait(chat_id)
            try:
                if pieces[index].photo_url is None:
                    await self.client.send_message(chat_id, pieces[index].text)
                else:
                    await self.client.send_photo(chat_id, str(pieces[index].photo_url), pieces[index].text)
            except ZaloApiError as exc:
                if exc.quota_exceeded:
                    self.limiter.pause(self.quota_wait)
                    raise RetryAfter(self.quota_wait) from None
                self._sent_pieces.pop(progress_key, None)
                if exc.code in (401, 408) or exc.temporary:
                    raise TemporaryFailure(str(exc)) from None
                if exc.code == 404:
                    raise Blocked(str(exc)) from None
                if exc.code == 403:
                    # Zalo documents 403 as an internal error, not as "the user blocked the bot".
                    raise TemporaryFailure(str(exc)) from None
                raise PermanentFailure(str(exc)) from None
            except ZaloError as exc:
                # It may have been delivered: do not repeat the pieces before it.
                raise TemporaryFailure(str(exc)) from None
            self._sent_pieces[progress_key] = index + 1
        self._sent_pieces.pop(progress_key, None)
        self._file_pieces.pop(progress_key, None)
        if part.kind == "text" and part.reply is not None and part.reply.options:
            await self._offer(chat_id, part.reply)

    async def _locale(self, chat_id: str) -> str:
        async with self.db.unit_of_work() as uow:
            identity = await uow.session.scalar(
                select(Identity).where(Identity.channel == CHANNEL, Identity.chat_id == chat_id))
            return (identity.person.locale if identity is not None else None) or self.default_locale

    async def _offer(self, chat_id: str, reply: Reply) -> None:
        """Save the options as the menu a typed number answers, as ``Context.say`` does for an answer."""
        async with self.db.unit_of_work() as uow:
            identity = await uow.session.scalar(
                select(Identity).where(Identity.channel == CHANNEL, Identity.chat_id == chat_id))
            if identity is None:
                return
            conversation = await conversations.lock(uow.session, CHANNEL, identity.external_id)
            if conversation.flow is not None:
                return
            conversation.seq += 1
            conversation.data = {**conversation.data, "menu": {
                "seq": conversation.seq, "free": reply.free_input,
                "options": [[o.value, o.label] for o in reply.options]}}
            await conversations.save(uow.session, conversation)
            await uow.commit()
