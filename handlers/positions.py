"""A shared GPS position in words: the nearest unit of the registry when one is close, and a map link.

The link is an OpenStreetMap URL built here; nothing is asked of any outside service."""

from __future__ import annotations

import html
from typing import Any

from handlers.i18n import Translator

MAP_URL = "https://www.openstreetmap.org/?mlat={lat:.5f}&mlon={lon:.5f}#map=16/{lat:.5f}/{lon:.5f}"


def map_url(lat: float, lon: float) -> str:
    return MAP_URL.format(lat=lat, lon=lon)


def near_text(t: Translator, near: dict[str, Any] | None) -> str | None:
    """"near Đồn Biên phòng Pha Long (1.2 km)", as plain text; None when no unit is close."""
    if not near:
        return None
    return html.unescape(t("near {place} ({km} km)", place=near["name"], km=t.number(near["km"])))


def position_text(t: Translator, location: dict[str, Any]) -> str:
    """A position as plain text: where it is, then its map link (messengers make a link of it)."""
    lat, lon = float(location["lat"]), float(location["lon"])
    where = near_text(t, location.get("near")) or f"{lat:.5f}, {lon:.5f}"
    return f"{where} · {map_url(lat, lon)}"
