"""How wide a button label is on a phone, and how buttons are laid out in rows so that none is cut.

Telegram draws inline buttons in the app's proportional font and cuts a label that does not fit with "…",
so counting characters is wrong both ways: "iiii" is narrow, "MMMM" and emoji are wide. ``width`` measures
in columns of an average lowercase letter, from the widths of a few classes of characters (Roboto and
San Francisco, the Android and iOS fonts, at the size Telegram uses for buttons); an upright phone's
keyboard row holds ``ROW`` of them. A label that fits here is shown whole.

Channels without buttons (Zalo, the console) show options as numbered lines and need none of this.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence

# Columns across an upright phone (360 dp wide, about 344 dp of buttons) in 14 sp text.
ROW = 40.0
# What one button takes besides its label (padding either side), and the gap between two buttons.
PADDING = 2.0
GAP = 1.0

_THIN = set("iljI.,:;!|'`")  # about half a column
_SLIM = set("ftr()[]{} -/\"*")  # about two thirds
_WIDE = set("mwMW@%")  # about one and a half
_ZERO = {"\u200d", "\ufe0f", "\ufe0e", "\u20e3"}  # joiners, variation selectors, the keycap mark


def char_width(ch: str) -> float:
    if ch in _ZERO or unicodedata.combining(ch):
        return 0.0
    if unicodedata.east_asian_width(ch) in ("W", "F") or _is_emoji(ch):
        return 2.0
    base = unicodedata.normalize("NFD", ch)[0]  # "ắ" is as wide as "a"
    if base in _THIN:
        return 0.5
    if base in _SLIM:
        return 0.65
    if base in _WIDE:
        return 1.5
    if base.isupper():
        return 1.2
    return 1.0


def _is_emoji(ch: str) -> bool:
    code = ord(ch)
    return (0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF or 0x2B00 <= code <= 0x2BFF
            or 0x2190 <= code <= 0x21FF or 0x2300 <= code <= 0x23FF)


@functools.lru_cache(maxsize=4096)
def width(label: str) -> float:
    """The label's width in columns, as a phone draws it. Remembered: laying out one keyboard measures each
    label once per row it might join, and most labels come back on every step."""
    return sum(char_width(ch) for ch in unicodedata.normalize("NFC", label))


def cell(per_row: int) -> float:
    """Room for a label in a row of ``per_row`` buttons."""
    return (ROW - GAP * (per_row - 1)) / per_row - PADDING


def fits(label: str, per_row: int = 1) -> bool:
    return width(label) <= cell(per_row)


def rows(labels: Sequence[str], columns: int) -> list[list[int]]:
    """Indexes of ``labels`` in rows of at most ``columns``, in order, a row taking one more button only while
    every label in it still fits: short options pair up, long ones get a row of their own."""
    laid: list[list[int]] = []
    for index in range(len(labels)):
        row = laid[-1] if laid else None
        if row is not None and len(row) < columns and all(fits(labels[i], len(row) + 1) for i in [*row, index]):
            row.append(index)
        else:
            laid.append([index])
    return laid


def shorten(label: str, per_row: int = 1) -> str:
    """The label made to fit ``per_row``: whole if it fits; else its last comma-separated parts dropped
    ("Bản Huội Pá, cụm bản Mường Dương, huyện Mường Quắn" → "Bản Huội Pá, cụm bản Mường Dương"), keeping a
    closing "(…)" if there is room; else cut at a word, with "…"."""
    if fits(label, per_row):
        return label
    head, tail = label, ""
    if label.endswith(")") and " (" in label:
        head, _, rest = label.rpartition(" (")
        tail = f" ({rest}"
    parts = head.split(", ")
    for count in range(len(parts) - 1, 0, -1):
        for suffix in (tail, ""):
            candidate = ", ".join(parts[:count]) + suffix
            if fits(candidate, per_row):
                return candidate
    room = cell(per_row) - width("…")
    cut = ""
    for word in head.split(" "):
        candidate = f"{cut} {word}" if cut else word
        if width(candidate) > room:
            break
        cut = candidate
    if not cut:  # one long word: cut inside it
        for ch in head:
            if width(cut + ch) > room:
                break
            cut += ch
    return f"{cut.rstrip(' ,;:–-')}…"
