"""Accent-folding for matching what people type against names ("lao cai" finds "Lào Cai")."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^0-9a-z]+")
_PROVINCE_PREFIX = re.compile(r"^(tinh|thanh pho|tp)\s+")


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return _NON_WORD.sub(" ", bare).strip()


def fold_province(text: str) -> str:
    return _PROVINCE_PREFIX.sub("", fold(text))
