"""Twinning pairs and their last activity: which have gone quiet for the rhythm the two sides agreed.

A pair may carry its agreed rhythm (registry file, ``rhythm:``): quarterly, six-monthly or yearly meetings.
It is overdue when its last reported activity, or its signing when none was reported, lies more than one
rhythm before the day asked about; a pair with a rhythm and neither is overdue too (nothing shows it met).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.folding import fold
from storage.models import Report, TwinningPair, Unit
from storage.periods import add_months
from storage.scope import Scope

RHYTHMS: dict[str, int] = {"quarterly": 3, "six_monthly": 6, "yearly": 12}  # months between meetings
# What an admin may write in the registry file for each (folded): English or Vietnamese.
RHYTHM_WORDS: dict[str, str] = {
    **{key: key for key in RHYTHMS}, "six monthly": "six_monthly", "half yearly": "six_monthly",
    "annual": "yearly", "annually": "yearly",
    "quy": "quarterly", "hang quy": "quarterly", "3 thang": "quarterly", "ba thang": "quarterly",
    "6 thang": "six_monthly", "sau thang": "six_monthly", "nua nam": "six_monthly",
    "nam": "yearly", "hang nam": "yearly", "12 thang": "yearly",
}


def rhythm_by_name(text: str) -> str | None:
    return RHYTHM_WORDS.get(fold(text).replace("_", " ")) or RHYTHM_WORDS.get(fold(text))


@dataclass(frozen=True)
class PairActivity:
    id: int
    code: str
    unit_id: int
    unit_code: str
    unit_name: str
    unit_kind: str
    province_code: str
    partner_name: str
    partner_country: str
    partner_province: str | None
    kind: str
    rhythm: str | None
    signed_on: dt.date | None
    last_activity: dt.date | None  # the latest submitted report with this pair, up to the day asked about

    def due(self) -> dt.date | None:
        """When the next meeting is due by the rhythm; None without a rhythm or anything to count from."""
        if self.rhythm not in RHYTHMS:
            return None
        since = self.last_activity or self.signed_on
        return add_months(since, RHYTHMS[self.rhythm]) if since else None

    def overdue(self, today: dt.date) -> bool:
        if self.rhythm not in RHYTHMS:
            return False
        due = self.due()
        return due is None or due < today


async def pair_activity(session: AsyncSession, scope: Scope, *, until: dt.date) -> list[PairActivity]:
    """The active pairs of active units in ``scope``, each with its last activity up to ``until``, ordered by
    province, unit and pair. One index lookup per pair (``ix_reports_pair_status_date``)."""
    last = (select(func.max(Report.activity_date))
            .where(Report.pair_id == TwinningPair.id, Report.status == "submitted", Report.activity_date <= until)
            .scalar_subquery())
    query: Any = (select(TwinningPair.id, TwinningPair.code, Unit.id, Unit.code, Unit.name, Unit.kind,
                         Unit.province_code, TwinningPair.partner_name, TwinningPair.partner_country,
                         TwinningPair.partner_province, TwinningPair.kind, TwinningPair.rhythm,
                         TwinningPair.signed_on, last)
                  .join(Unit, Unit.id == TwinningPair.unit_id)
                  .where(TwinningPair.active, Unit.active))
    rows = await session.execute(scope.units(query).order_by(Unit.province_code, Unit.name, TwinningPair.code))
    return [PairActivity(*row) for row in rows]
