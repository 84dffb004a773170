"""Telegram, through aiogram: the bot and its replies (``client``), updates read and replies shown for the
runtime (``adapter``), long polling and the webhook route (``receiving``), digests and reminders
(``sender``); ``PLUGIN`` plugs it into serving (``bot.channels``)."""

from __future__ import annotations

from bot.channels.telegram.adapter import TelegramChannel, callback_incoming, message_incoming, received
from bot.channels.telegram.client import (
    CHANNEL,
    deliver,
    keyboard,
    make_bot,
    set_chat_commands,
    set_default_commands,
    stop_spinning,
)
from bot.channels.telegram.receiving import ALLOWED_UPDATES, SECRET_HEADER, WebhookRoute, poll
from bot.channels.telegram.sender import TelegramSender
from bot.channels.telegram.service import PLUGIN

__all__ = [
    "ALLOWED_UPDATES",
    "CHANNEL",
    "PLUGIN",
    "SECRET_HEADER",
    "TelegramChannel",
    "TelegramSender",
    "WebhookRoute",
    "callback_incoming",
    "deliver",
    "keyboard",
    "make_bot",
    "message_incoming",
    "poll",
    "received",
    "set_chat_commands",
    "set_default_commands",
    "stop_spinning",
]
