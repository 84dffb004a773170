"""Every command, action, flow and input of the bot, collected from one ordered list of handler modules.

Each module in ``MODULES`` lists what it offers in ``HANDLERS``: functions described by ``@command`` or
``@action``, and ``Flow`` and ``Input`` entries. The order of ``MODULES`` is the order of the command menu
and of inputs. ``build`` refuses (at start-up, when ``handlers.core`` is imported) a command name or action
prefix used twice, a flow named twice, and a function described by ``@command``/``@action`` that its module
forgot to list, which would otherwise answer "I don't know the command".
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import TypeVar

from handlers.commands import Action, Command, Flow, Input, allowed, described

MODULES = (
    "handlers.onboarding",
    "handlers.quick_report",  # before the report flow: a later photo of an album joins the draft its caption made
    "handlers.flows",
    "handlers.report_view",
    "handlers.lookup",
    "handlers.figures",
    "handlers.export",
    "handlers.same_event",
    "handlers.annual",
    "handlers.twinning",
    "handlers.digest",
    "handlers.linking",
    "handlers.admin",
)


T = TypeVar("T")


class RegistryError(Exception):
    """Two handlers for one name, or a handler its module did not list."""


@dataclass
class Registry:
    commands: dict[str, Command] = field(default_factory=dict)
    actions: dict[str, Action] = field(default_factory=dict)
    flows: dict[str, Flow] = field(default_factory=dict)
    inputs: list[Input] = field(default_factory=list)

    def menu_for(self, role: str | None) -> list[Command]:
        return [c for c in self.commands.values() if c.in_menu and allowed(c, role)]

    def add(self, entry: Command | Action | Flow | Input, where: str) -> None:
        if isinstance(entry, Command):
            _once(self.commands, entry.name, entry, f"command /{entry.name}", where)
        elif isinstance(entry, Action):
            _once(self.actions, entry.prefix, entry, f"action {entry.prefix!r}", where)
        elif isinstance(entry, Flow):
            _once(self.flows, entry.name, entry, f"flow {entry.name!r}", where)
        else:
            self.inputs.append(entry)


def _once(table: dict[str, T], key: str, entry: T, what: str, where: str) -> None:
    if key in table:
        raise RegistryError(f"{what} is registered twice (again in {where})")
    table[key] = entry


def build(modules: Iterable[ModuleType | str] = MODULES) -> Registry:
    registry = Registry()
    for module in modules:
        if isinstance(module, str):
            module = importlib.import_module(module)
        listed = list(getattr(module, "HANDLERS", ()))
        for item in listed:
            entries = described(item) if callable(item) and not isinstance(item, (Flow, Input)) else [item]
            if not entries:
                raise RegistryError(f"{module.__name__}.HANDLERS lists {item!r}, which is not a handler")
            for entry in entries:
                registry.add(entry, module.__name__)
        for name, value in vars(module).items():
            if callable(value) and value.__dict__.get("__handles__") and value not in listed \
                    and getattr(value, "__module__", None) == module.__name__:
                raise RegistryError(f"{module.__name__}.{name} is a handler but not in {module.__name__}.HANDLERS")
    registry.inputs.sort(key=lambda entry: entry.last)  # stable: the module order otherwise
    return registry


_current: Registry | None = None


def current() -> Registry:
    """The bot's registry, built on first use (``handlers.core`` uses it at import: at start-up)."""
    global _current
    if _current is None:
        _current = build()
    return _current
