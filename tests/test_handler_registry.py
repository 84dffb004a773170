"""Commands, buttons and flows are collected from each module's ``HANDLERS``: a name used twice or a handler
left out of its list stops the bot at start-up instead of answering "I don't know the command"."""

from __future__ import annotations

import types
from collections.abc import Awaitable, Callable

import pytest

from handlers.commands import Flow, Input, action, command
from handlers.context import Context
from handlers.registry import MODULES, RegistryError, build, current


def module(name: str, **attributes: object) -> types.ModuleType:
    made = types.ModuleType(name)
    for key, value in attributes.items():
        if callable(value) and hasattr(value, "__dict__"):
            value.__module__ = name
        setattr(made, key, value)
    return made


def fresh() -> Callable[[Context, str], Awaitable[None]]:
    """A new handler function each time: what ``@command`` says of one stays with it."""

    async def hello(ctx: Context, args: str) -> None:
        ctx.say("hello")

    return hello


def test_the_bots_registry_has_every_command_once_and_in_module_order() -> None:
    registry = build()
    assert list(registry.commands)[:3] == ["start", "help", "lang"]
    assert {"report", "digest", "export", "stats", "link", "void"} <= set(registry.commands)
    assert {"f", "rv", "menu", "qr"} <= set(registry.actions)
    assert set(registry.flows) == {"report", "correct"}
    assert registry.inputs[-1].last and not any(entry.last for entry in registry.inputs[:-1])
    assert registry.commands["digest"].in_groups and not registry.commands["report"].in_groups
    assert current() is current()
    assert len(MODULES) == len(set(MODULES))


def test_a_command_name_used_twice_fails_naming_both() -> None:
    first = module("first", greet=command("greet", "Greet")(fresh()))

    async def other(ctx: Context, args: str) -> None:
        return None

    second = module("second", greet2=command("greet", "Greet again")(other))
    first.HANDLERS = (first.greet,)  # type: ignore[attr-defined]
    second.HANDLERS = (second.greet2,)  # type: ignore[attr-defined]
    with pytest.raises(RegistryError, match=r"command /greet is registered twice .*second"):
        build([first, second])


def test_an_action_prefix_or_a_flow_used_twice_fails() -> None:
    async def tap(ctx: Context, arg: str) -> None:
        return None

    async def tap2(ctx: Context, arg: str) -> None:
        return None

    async def again(ctx: Context, **_: object) -> None:
        return None

    one = module("one", tap=action("x")(tap))
    two = module("two", tap2=action("x")(tap2))
    one.HANDLERS = (one.tap,)  # type: ignore[attr-defined]
    two.HANDLERS = (two.tap2,)  # type: ignore[attr-defined]
    with pytest.raises(RegistryError, match="action 'x' is registered twice"):
        build([one, two])
    flows = module("flows")
    flows.HANDLERS = (Flow("report", again), Flow("report", again))  # type: ignore[attr-defined]
    with pytest.raises(RegistryError, match="flow 'report' is registered twice"):
        build([flows])


def test_a_handler_left_out_of_its_list_fails_at_start_up() -> None:
    async def forgotten(ctx: Context, args: str) -> None:
        return None

    mod = module("mod", forgotten=command("forgotten", "Forgotten")(forgotten))
    mod.HANDLERS = ()  # type: ignore[attr-defined]
    with pytest.raises(RegistryError, match=r"mod\.forgotten is a handler but not in mod\.HANDLERS"):
        build([mod])


def test_a_new_module_is_served_once_listed_and_inputs_keep_their_order() -> None:
    async def early(ctx: Context) -> bool:
        return False

    async def fallback(ctx: Context) -> bool:
        return True

    hello = fresh()
    mod = module("mod", greet=command("greet", "Greet", in_groups=True)(hello))
    mod.HANDLERS = (Input(fallback, last=True), mod.greet, Input(early))  # type: ignore[attr-defined]
    registry = build([mod])
    assert registry.commands["greet"].handler is hello and registry.commands["greet"].in_groups
    assert [entry.handler for entry in registry.inputs] == [early, fallback]
    assert [c.name for c in registry.menu_for(None)] == ["greet"]
