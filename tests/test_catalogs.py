"""Every message the code can show has a Vietnamese and an English translation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"t": None, "plural": (1, 2), "N_": None}


def extracted() -> set[str]:
    ids: set[str] = set()
    for folder in ("bot", "handlers"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_catalog_translates_every_message(locale: str) -> None:
    with (ROOT / "locales" / locale / "LC_MESSAGES" / "twinbot.po").open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    missing = []
    for msgid in sorted(extracted()):
        message = catalog.get(msgid)
        strings = message.string if message else None
        if not message or not strings or (isinstance(strings, tuple) and not all(strings)) or message.fuzzy:
            missing.append(msgid)
    assert not missing, f"{locale} lacks {len(missing)} translation(s), e.g. {missing[:5]}"


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_translations_keep_their_placeholders(locale: str) -> None:
    import string

    with (ROOT / "locales" / locale / "LC_MESSAGES" / "twinbot.po").open("rb") as fh:
        catalog = read_po(fh, locale=locale)

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    wrong = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set().union(*(fields(i) for i in ids))
        for s in strings:
            if s and not fields(s) <= expected | {"n"}:
                wrong.append(message.id)
    assert not wrong, f"{locale}: translations with unknown placeholders: {wrong[:5]}"


def test_catalogs_compile() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from handlers.i18n import translations as t; t('vi'); t('en')"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
