"""What a messenger provides to be served: ``bot.channels.PLUGINS`` lists them, ``bot.serve`` serves every one
that is configured, through one runtime and one scheduler.

A plugin is connected before the app is built (its client, the bot's own name for invite links), then
gives a ``Service`` for the app: the runtime's ``Channel`` (how an update is read and a reply shown), the
delivery worker's ``Sender`` (digests, reminders), and how it receives, by long polling or on webhook
routes. Adding a messenger is a package under ``bot/channels/`` and one line in ``PLUGINS``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from aiohttp import web

if TYPE_CHECKING:
    from bot.app import App
    from bot.delivery import Sender
    from bot.runtime import Channel, Runtime
    from bot.settings import Settings


class Service(Protocol):
    @property
    def channel(self) -> Channel: ...

    @property
    def senders(self) -> Mapping[str, Sender]:
        """The delivery worker's senders, by channel name."""

    async def ready(self) -> None:
        """Before serving (Telegram sets the default command menus)."""

    async def poll(self, runtime: Runtime, stop: asyncio.Event) -> None:
        """Long polling, each update stored before the next is asked for, until ``stop``."""

    def routes(self, web_app: web.Application, runtime: Runtime) -> None:
        """The webhook endpoints, each storing an update before answering 200."""

    async def listening(self) -> None:
        """The webhook server accepts requests: tell the messenger where to post."""


class Connection(Protocol):
    username: str | None  # the bot's name, for invite links (t.me/<name>?start=CODE)

    def service(self, app: App) -> Service: ...

    async def close(self) -> None: ...


class Plugin(Protocol):
    name: str

    def configured(self, settings: Settings) -> bool:
        """Whether the settings ask for this messenger (its token is set)."""

    def check(self, settings: Settings, mode: str) -> None:
        """Raise ``SettingsError`` naming what ``mode`` (polling or webhook) still needs."""

    async def connect(self, settings: Settings) -> Connection: ...
