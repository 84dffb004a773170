"""The indicator file the half-year and annual tables use: the shipped default until an admin imports their own
(``twinbot indicators import``), then the latest imported. Checking a file is ``handlers.indicators``'; this
keeps the text as imported, comments and all, so an export gives the admin's own file back."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import IndicatorSet

DEFAULT_INDICATORS = Path(__file__).parent / "indicators" / "default.yaml"


def default_document() -> str:
    return DEFAULT_INDICATORS.read_text(encoding="utf-8")


async def save(session: AsyncSession, *, source: str, document: str, now: dt.datetime) -> IndicatorSet:
    row = IndicatorSet(source=source[:300], document=document, imported_at=now)
    session.add(row)
    await session.flush()
    return row


async def current(session: AsyncSession) -> tuple[str, str]:
    """(source, document) of the indicator file in use."""
    row = await session.scalar(select(IndicatorSet).order_by(IndicatorSet.id.desc()).limit(1))
    if row is None:
        return str(DEFAULT_INDICATORS), default_document()
    return row.source, row.document
