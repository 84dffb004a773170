"""The messengers twinbot serves: each is a package here with a ``PLUGIN`` (see ``plugin``), named once in
``BUILT_IN``. A new messenger is one more package and one more line there; ``bot.serve`` serves every one
that is configured.

A messenger kept in another distribution plugs in without touching this one, by the packaging convention
for plugins: an entry point in the group ``twinbot.channels`` naming its plugin object, e.g. in its
pyproject.toml ``[project.entry-points."twinbot.channels"] viber = "twinbot_viber:PLUGIN"``. ``register``
does the same from code (a test's toy messenger).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points

from bot.channels.plugin import Plugin

BUILT_IN = (
    "bot.channels.telegram",
    "bot.channels.zalo",
)
ENTRY_POINTS = "twinbot.channels"

_registered: list[Plugin] = []


class DuplicateChannel(Exception):
    """Two messengers under one name: their updates and recipients would be mixed up."""


def plugins() -> tuple[Plugin, ...]:
    found: list[Plugin] = [importlib.import_module(name).PLUGIN for name in BUILT_IN]
    found += [entry.load() for entry in entry_points(group=ENTRY_POINTS)]
    found += _registered
    seen: set[str] = set()
    for plugin in found:
        if plugin.name in seen:
            raise DuplicateChannel(f"two messengers are named {plugin.name!r}")
        seen.add(plugin.name)
    return tuple(found)


def register(plugin: Plugin) -> Callable[[], None]:
    """Serve ``plugin`` beside the built-in messengers; returns what takes it out again."""
    if any(p.name == plugin.name for p in plugins()):
        raise DuplicateChannel(f"a messenger named {plugin.name!r} is already there")
    _registered.append(plugin)
    return lambda: _registered.remove(plugin)
