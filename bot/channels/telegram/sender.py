"""Digests and reminders through Telegram: the delivery worker's sender (see ``bot.delivery``)."""

from __future__ import annotations

from typing import Any

from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import BufferedInputFile

from bot.channels.telegram.client import keyboard
from bot.delivery import Blocked, Part, PermanentFailure, RateLimiter, RetryAfter, TemporaryFailure


class TelegramSender:
    channel = "telegram"

    def __init__(self, bot: Any, limiter: RateLimiter | None = None) -> None:
        self.bot = bot
        self.limiter = limiter or RateLimiter()

    async def send(self, chat_id: str, part: Part) -> None:
        await self.limiter.wait(chat_id)
        try:
            if part.kind == "text":
                markup = keyboard(part.reply) if part.reply is not None else None
                await self.bot.send_message(chat_id, part.text, reply_markup=markup)
            else:
                assert part.file is not None
                upload = BufferedInputFile(part.file.content, filename=part.file.filename)
                send = self.bot.send_photo if part.kind == "photo" else self.bot.send_document
                await send(chat_id, upload, caption=part.text or None)
        except TelegramRetryAfter as exc:
            self.limiter.pause(exc.retry_after)
            raise RetryAfter(exc.retry_after) from None
        except TelegramForbiddenError as exc:
            raise Blocked(exc.message) from None
        except TelegramBadRequest as exc:
            if "chat not found" in exc.message.lower():
                raise Blocked(exc.message) from None
            raise PermanentFailure(exc.message) from None
        except (TelegramNetworkError, TelegramServerError, TelegramNotFound, TelegramUnauthorizedError) as exc:
            raise TemporaryFailure(exc.message) from None
        except (OSError, TimeoutError) as exc:
            raise TemporaryFailure(str(exc) or type(exc).__name__) from None
