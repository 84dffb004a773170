"""Errors the command line reports as one line on stderr (exit 1). Kept apart from ``bot.cli``, which imports
the subcommand modules that raise them."""

from __future__ import annotations


class CliError(Exception):
    """A request that cannot be done as asked (an unknown cluster, a file with errors)."""
