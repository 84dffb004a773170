"""Reply markup to what a channel can show: Telegram HTML, or plain text for the console and Zalo."""

from __future__ import annotations

import html
import re

from handlers.events import Reply
from handlers.i18n import Translator

_TAG = re.compile(r"</?(?:b|i|u|s|code|pre)>")


def to_plain(markup: str) -> str:
    return html.unescape(_TAG.sub("", markup))


def split_lines(text: str, limit: int, measure=len) -> list[str]:  # type: ignore[no-untyped-def]
    """Split at line breaks (tags never span lines), then at spaces, so every piece fits ``limit``."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while measure(line) > limit:
            cut = _cut_point(line, limit, measure)
            head, line = line[:cut].rstrip(), line[cut:].lstrip()
            if current:
                pieces.append(current)
                current = ""
            pieces.append(head)
        candidate = f"{current}\n{line}" if current else line
        if measure(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current.strip() or not pieces:
        pieces.append(current)
    return [p for p in pieces if p.strip()] or [text[:limit]]


def _cut_point(line: str, limit: int, measure) -> int:  # type: ignore[no-untyped-def]
    # Longest prefix that fits, preferably ending at a space and never inside an &entity; or <tag>.
    lo, hi = 1, len(line)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(line[:mid]) <= limit:
            lo = mid
        else:
            hi = mid - 1
    cut = lo
    space = line.rfind(" ", 0, cut)
    if space > cut // 2:
        cut = space
    amp, lt = line.rfind("&", 0, cut), line.rfind("<", 0, cut)
    if amp > line.rfind(";", 0, cut):
        cut = amp
    if lt > line.rfind(">", 0, cut):
        cut = lt
    return max(cut, 1)


def plain_options(reply: Reply, t: Translator) -> str:
    """Options where nothing can be tapped: numbered, with a word on how to answer; where the answer is
    typed (a number there would be read as the answer), as the words that choose them."""
    if not reply.options:
        return ""
    if reply.free_input:
        return t("Or type: {words}", words=" · ".join(f"“{o.word or typable(o.label)}”" for o in reply.options))
    numbered = [f"{n}. {o.label}" for n, o in enumerate(reply.options, 1)]
    return "\n".join([*numbered, t("Type the number of your choice.")])


def typable(label: str) -> str:
    """A label as one would type it: without the emoji or mark in front ("🗑 Remove this figure")."""
    return _MARKS.sub("", label) or label


_MARKS = re.compile(r"^[^\w(“\"]+")


def render_plain(reply: Reply, t: Translator) -> str:
    text = to_plain(reply.text)
    options = plain_options(reply, t)
    return f"{text}\n{options}" if options else text
