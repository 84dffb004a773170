"""The messengers twinbot serves, in one list: each is a package here with a ``PLUGIN`` (see ``plugin``).
A new messenger is one more package and one more line below; ``bot.serve`` serves every configured one."""

from __future__ import annotations

from bot.channels.plugin import Plugin


def plugins() -> tuple[Plugin, ...]:
    from bot.channels import telegram, zalo

    return (telegram.PLUGIN, zalo.PLUGIN)
