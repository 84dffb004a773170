"""The command table: each command names the roles it needs; ``core`` enforces it in one place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handlers.context import Context

REPORTERS = frozenset({"officer", "coordinator", "admin"})
ADMINS = frozenset({"admin"})

Handler = Callable[[Context, str], Awaitable[None]]


@dataclass(frozen=True)
class Command:
    name: str
    description: str  # a message id, translated when the menu is built
    handler: Handler
    roles: frozenset[str] | None = None  # None: anyone, registered or not
    in_menu: bool = True


COMMANDS: dict[str, Command] = {}
ACTIONS: dict[str, Action] = {}


@dataclass(frozen=True)
class Action:
    handler: Handler
    current_only: bool = False
    roles: frozenset[str] | None = None  # None: anyone; button data can be forged, so roles matter here too


def command(name: str, description: str, *, roles: frozenset[str] | None = None,
            in_menu: bool = True) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        COMMANDS[name] = Command(name, description, handler, roles, in_menu)
        return handler

    return register


def action(prefix: str, *, current_only: bool = False,
           roles: frozenset[str] | None = None) -> Callable[[Handler], Handler]:
    """A button handler for option values ``prefix:ARG``. ``current_only`` refuses taps on older messages."""

    def register(handler: Handler) -> Handler:
        ACTIONS[prefix] = Action(handler, current_only, roles)
        return handler

    return register


def allowed(cmd: Command, role: str | None) -> bool:
    return cmd.roles is None or role in cmd.roles


def menu_for(role: str | None) -> list[Command]:
    return [c for c in COMMANDS.values() if c.in_menu and allowed(c, role)]
