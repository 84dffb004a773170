"""Placeholder until the report flow engine lands."""

from __future__ import annotations

from handlers.context import Context


async def on_input(ctx: Context) -> bool:
    return False


async def reprompt(ctx: Context, *, stale: bool = False) -> None:
    return None
