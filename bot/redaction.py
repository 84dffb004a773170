"""Logging that never shows a bot token or webhook secret, even inside a traceback."""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

# Telegram tokens are "<bot id>:<35 chars>"; Zalo's are "<bot id>:<secret>" too. An upstream error page or a
# URL may carry the colon percent-encoded ("123%3AAA…").
TOKEN_SHAPE = re.compile(r"\d{5,16}(?::|%3[aA])[A-Za-z0-9_-]{20,}")
MASK = "***"


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Each secret as it is, and as it appears inside a URL (percent-encoded, or "+" for spaces).
        forms = {form for s in secrets if s and len(s) >= 6
                 for form in (s, quote(s, safe=""), quote(s, safe="/:"), quote_plus(s))}
        self.secrets = sorted(forms, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return TOKEN_SHAPE.sub(MASK, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call ("%s %s" with one argument) must not crash its caller
            message = f"{record.msg!s} (log arguments: {record.args!r})"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = self.redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def setup_logging(level: str, secrets: Iterable[str] = ()) -> RedactingFilter:
    redactor = RedactingFilter(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(redactor)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic reports every plugin it loads at INFO; only its warnings matter to an operator.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
    return redactor
