"""Files kept for a while to be fetched by link (``bot.channels.links`` signs the links, the webhook server
serves them)."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SharedFile


async def keep(session: AsyncSession, *, filename: str, mime_type: str, content: bytes, now: dt.datetime,
               days: int) -> SharedFile:
    shared = SharedFile(id=secrets.token_urlsafe(18), filename=filename[:200], mime_type=mime_type, content=content,
                        created_at=now, expires_at=now + dt.timedelta(days=days))
    session.add(shared)
    await session.flush()
    return shared


async def get(session: AsyncSession, file_id: str) -> SharedFile | None:
    return await session.scalar(select(SharedFile).where(SharedFile.id == file_id))


async def forget_expired(session: AsyncSession, now: dt.datetime) -> int:
    result = await session.execute(delete(SharedFile).where(SharedFile.expires_at < now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
