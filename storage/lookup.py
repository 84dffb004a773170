"""Finding reports for admins and coordinators: the latest, and full-text search."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import Integer, Select, column, func, literal_column, or_, select, table, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.folding import fold
from storage.models import Cluster, Province, Report, Unit
from storage.scope import Scope


def filtered(scope: Scope, *, kind: str | None = None, province: str | None = None, country: str | None = None,
             partner: str | None = None, since: dt.date | None = None, until: dt.date | None = None,
             unit_code: str | None = None, cluster: int | None = None) -> Select[Any]:
    query = select(Report)
    if kind:
        query = query.where(Report.kind == kind)
    if country:
        query = query.where(Report.partner_country == country)
    if partner:
        # Partner names are few per unit; a folded LIKE over them is cheap once the scope narrowed rows.
        pattern = f"%{_like(partner)}%"
        query = query.where(or_(func.lower(Report.partner_province).like(pattern, escape="\\"),
                                Report.search_text.like(pattern, escape="\\")))
    if since:
        query = query.where(Report.activity_date >= since)
    if until:
        query = query.where(Report.activity_date <= until)
    if province or unit_code or cluster is not None:
        units = select(Unit.id)
        if province:
            units = units.where(Unit.province_code == province)
        if unit_code:
            units = units.where(Unit.code == unit_code)
        if cluster is not None:
            units = units.join(Province, Province.code == Unit.province_code).where(
                Province.cluster_id.in_(select(Cluster.id).where(Cluster.number == cluster)))
        query = query.where(Report.unit_id.in_(units))
    return scope.reports(query)


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def recent(session: AsyncSession, query: Select[Any], *, limit: int, offset: int = 0) -> list[Report]:
    ordered = query.order_by(Report.activity_date.desc(), Report.id.desc()).limit(limit).offset(offset)
    return list((await session.scalars(ordered)).unique().all())


# The FTS5 table made in migration 0003 (SQLite only); not a model, since it mirrors `reports`.
REPORTS_FTS = table("reports_fts", column("rowid", Integer))


def search_terms(words: str) -> list[str]:
    """Folded words to search for; FTS syntax (quotes, *, NEAR, OR) becomes plain words."""
    return re.findall(r"[0-9a-z]+", fold(words))[:8]


async def search(session: AsyncSession, scope: Scope, words: str, *, limit: int = 10) -> list[Report]:
    """Reports matching every word (as a prefix), newest filed first."""
    terms = search_terms(words)
    if not terms:
        return []
    if session.bind.dialect.name == "sqlite":  # type: ignore[union-attr]
        # Every term quoted, so nothing the user types is read as FTS5 syntax. Walking the index in
        # rowid order and stopping at `limit` keeps a common word ("lao cai") as fast as a rare one.
        match = " ".join(f'"{term}"*' for term in terms)
        hits = (select(Report).join(REPORTS_FTS, REPORTS_FTS.c.rowid == Report.id)
                .where(text("reports_fts MATCH :match").bindparams(match=match)))
        query = scope.reports(hits).order_by(REPORTS_FTS.c.rowid.desc()).limit(limit)
    else:
        tsquery = " & ".join(f"{term}:*" for term in terms)
        condition = func.to_tsvector(literal_column("'simple'"), Report.search_text).op("@@")(
            func.to_tsquery(literal_column("'simple'"), tsquery))
        query = scope.reports(select(Report).where(condition)).order_by(Report.id.desc()).limit(limit)
    return list((await session.scalars(query)).unique().all())
