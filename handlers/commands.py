"""What a handler module offers the core: commands (``/name``), actions (option values ``prefix:ARG``),
flows (a conversation that takes typed answers) and inputs (what to do with text that is neither).

``@command`` and ``@action`` describe a function; they do not register it. Each handler module lists what
it offers, in order, in ``HANDLERS``, and ``handlers.registry`` collects those lists from one ordered list
of modules, refusing at start-up a name used twice or a described function left out of its list.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from handlers.context import Context

REPORTERS = frozenset({"officer", "coordinator", "admin"})
ADMINS = frozenset({"admin"})

Handler = Callable[[Context, str], Awaitable[None]]
# A tap on an older message of a current-only action: True if it was answered (a double tap on Submit).
StaleHandler = Callable[[Context, str, "int | None"], bool]
Reprompt = Callable[..., Awaitable[None]]
InputHandler = Callable[[Context], Awaitable[bool]]


@dataclass(frozen=True)
class Command:
    name: str
    description: str  # a message id, translated when the menu is built
    handler: Handler
    roles: frozenset[str] | None = None  # None: anyone, registered or not
    in_menu: bool = True
    in_groups: bool = False  # answered in a group chat too (everything else there is ignored)
    aside: bool = True  # in the middle of a flow, the flow's question is shown again after it


@dataclass(frozen=True)
class Action:
    prefix: str
    handler: Handler
    current_only: bool = False  # refuses taps on buttons of older messages
    roles: frozenset[str] | None = None  # None: anyone; button data can be forged, so roles matter here too
    aside: bool = True
    stale: StaleHandler | None = None


@dataclass(frozen=True)
class Flow:
    """A conversation in progress (``Conversation.flow``): how to show again where the user is."""

    name: str
    reprompt: Reprompt


@dataclass(frozen=True)
class Input:
    """Typed text or an attachment that is not a command nor a choice: tried in the registry's order until
    one returns True. ``last`` ones come after all others (the fallback answer)."""

    handler: InputHandler
    last: bool = False


def command(name: str, description: str, *, roles: frozenset[str] | None = None, in_menu: bool = True,
            in_groups: bool = False, aside: bool = True) -> Callable[[Handler], Handler]:
    def describe(handler: Handler) -> Handler:
        described(handler).append(Command(name, description, handler, roles, in_menu, in_groups, aside))
        return handler

    return describe


def action(prefix: str, *, current_only: bool = False, roles: frozenset[str] | None = None, aside: bool = True,
           stale: StaleHandler | None = None) -> Callable[[Handler], Handler]:
    """A button handler for option values ``prefix:ARG``."""

    def describe(handler: Handler) -> Handler:
        described(handler).append(Action(prefix, handler, current_only, roles, aside, stale))
        return handler

    return describe


def described(function: Any) -> list[Command | Action]:
    """What ``@command`` and ``@action`` said of ``function`` (one function may answer both)."""
    if "__handles__" not in function.__dict__:
        function.__handles__ = []
    return function.__handles__  # type: ignore[no-any-return]


def allowed(cmd: Command, role: str | None) -> bool:
    return cmd.roles is None or role in cmd.roles
