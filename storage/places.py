"""Where a shared position is: the nearest unit of the registry, when one lies within a few kilometres.

Units carry an optional latitude and longitude (registry file ``lat``/``lon``). There are at most a few hundred,
so the distance to each is worked out here, without a spatial index and without any call outside.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Unit

NEAR_KM = 5.0
EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class Near:
    name: str
    km: float


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


async def nearest_unit(session: AsyncSession, lat: float, lon: float, *, within_km: float = NEAR_KM) -> Near | None:
    units = (await session.execute(select(Unit.name, Unit.latitude, Unit.longitude).where(
        Unit.active, Unit.latitude.is_not(None), Unit.longitude.is_not(None)))).all()
    found = [(distance_km(lat, lon, ulat, ulon), name) for name, ulat, ulon in units
             if ulat is not None and ulon is not None]
    if not found:
        return None
    km, name = min(found)
    return Near(name, round(km, 1)) if km <= within_km else None
