"""Zalo, through our own client of the Zalo Bot API (``client``): updates read and replies shown as plain
numbered texts for the runtime (``adapter``), long polling and the webhook route (``receiving``), digests
and reminders (``sender``), pictures kept before their links expire (``media``); ``PLUGIN`` plugs it into
serving (``bot.channels``)."""

from __future__ import annotations

from bot.channels.zalo.adapter import CHANNEL, ZaloChannel, incoming_from, received, render
from bot.channels.zalo.client import (
    TEXT_LIMIT,
    MalformedUpdate,
    ZaloApiError,
    ZaloClient,
    ZaloError,
    ZaloNetworkError,
    ZaloUpdate,
    parse_update,
)
from bot.channels.zalo.media import MediaError, MediaStore
from bot.channels.zalo.receiving import SECRET_HEADER, ZaloWebhookRoute, add_routes, poll, register_webhook
from bot.channels.zalo.sender import ZaloSender
from bot.channels.zalo.service import PLUGIN

__all__ = [
    "CHANNEL",
    "PLUGIN",
    "SECRET_HEADER",
    "TEXT_LIMIT",
    "MalformedUpdate",
    "MediaError",
    "MediaStore",
    "ZaloApiError",
    "ZaloChannel",
    "ZaloClient",
    "ZaloError",
    "ZaloNetworkError",
    "ZaloSender",
    "ZaloUpdate",
    "ZaloWebhookRoute",
    "add_routes",
    "incoming_from",
    "parse_update",
    "poll",
    "received",
    "register_webhook",
    "render",
]
